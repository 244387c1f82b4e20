"""Every route of the app declares the permission it needs, and the role matrix holds."""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute

from lotline.api.app import create_app
from lotline.api.deps import declared_permission, walk_routes
from lotline.auth.permissions import PERMISSIONS, PUBLIC, ROLES

# Routes FastAPI adds itself; public by design (the OpenAPI document and its docs page).
FRAMEWORK_ROUTES = {"/api/v1/openapi.json", "/api/v1/docs", "/docs/oauth2-redirect", "/static"}  # /static: the console's files
# The recall response page is public by design too: its unguessable link token is the credential.
PUBLIC_ROUTES = {("GET", "/api/v1/health"), ("POST", "/api/v1/auth/sign-in"), ("GET", "/signin"), ("POST", "/signin"),
                 ("GET", "/respond/{token}"), ("POST", "/respond/{token}")}


def _routes():
    for path, route, inherited in walk_routes(create_app().routes):
        for method in sorted(getattr(route, "methods", None) or {"GET"}):
            yield method, path, route, inherited


def test_every_route_declares_a_known_permission():
    undeclared, unknown, public = [], [], set()
    seen = 0
    for method, path, route, inherited in _routes():
        if not isinstance(route, APIRoute):
            assert path in FRAMEWORK_ROUTES, f"{path} is neither an API route nor a framework route"
            continue
        seen += 1
        permission = declared_permission(route, inherited)
        if permission is None:
            undeclared.append(f"{method} {path}")
        elif permission == PUBLIC:
            public.add((method, path))
        elif permission not in PERMISSIONS:
            unknown.append(f"{method} {path}: {permission}")
    assert seen > 80  # the walk reached the included routers
    assert undeclared == [], "routes without a declared permission (add dependencies=[require(...)])"
    assert unknown == []
    assert public == PUBLIC_ROUTES


def test_every_permission_is_granted_to_some_role_and_only_to_known_roles():
    for permission, roles in PERMISSIONS.items():
        assert roles, permission
        assert roles <= set(ROLES), permission


# (method, path, body) -> the roles that may call it; everyone else gets 403 naming the permission.
MATRIX = [
    ("GET", "/lots", None, "read", set(ROLES)),
    ("GET", "/audit", None, "audit.read", set(ROLES)),
    ("POST", "/items", {"sku": "X-1", "name": "x", "uom": "kg"}, "master_data.write", {"operator", "admin"}),
    ("POST", "/receipts", {}, "stock.post", {"operator"}),
    ("POST", "/movements/batch", {}, "postings.batch", {"operator"}),
    ("POST", "/lots/NOPE/status", {"status": "blocked", "reason": "r"}, "lot.status", {"quality"}),
    ("POST", "/recalls", {}, "recall.write", {"quality"}),
    ("POST", "/kpi/runs", {}, "kpi.run", {"analyst"}),
    ("GET", "/users", None, "users.manage", {"admin"}),
    ("POST", "/tokens", {}, "tokens.manage", {"admin"}),
]


@pytest.mark.parametrize("role", ROLES)
def test_the_role_matrix_over_representative_routes(client_as, role):
    client = client_as(role)
    for method, path, body, permission, allowed in MATRIX:
        response = client.request(method, path, json=body)
        if role in allowed:
            assert response.status_code not in (401, 403), (role, method, path, response.text)
        else:
            assert response.status_code == 403, (role, method, path, response.text)
            problem = response.json()
            assert response.headers["content-type"].startswith("application/problem+json")
            assert problem["code"] == "permission_denied"
            assert f"'{permission}'" in problem["detail"] and role in problem["detail"]


def test_a_viewer_is_refused_a_posting_and_nothing_is_written(client_as, session):
    import sqlalchemy as sa

    viewer = client_as("viewer")
    before = session.execute(sa.text("SELECT count(*) FROM items")).scalar()
    response = viewer.post("/items", json={"sku": "V-1", "name": "v", "uom": "kg"})
    assert response.status_code == 403
    assert "master_data.write" in response.json()["detail"]
    assert session.execute(sa.text("SELECT count(*) FROM items")).scalar() == before
