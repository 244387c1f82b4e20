"""Every console route declares the permission it needs (no browser needed)."""

from __future__ import annotations

from fastapi.routing import APIRoute

from lotline.api.app import create_app
from lotline.web import session as web_session

PUBLIC = {"/signin"}


def _console_routes():
    create_app()  # installs (imports) every console route module
    from lotline.web.routes import home, kpis, lots, recalls, signin, trace

    for module in (signin, home, lots, trace, recalls, kpis):
        yield from (r for r in module.router.routes if isinstance(r, APIRoute))


def test_every_console_route_declares_a_known_permission():
    known = set().union(*web_session.ROLE_PERMISSIONS.values())
    routes = list(_console_routes())
    assert len(routes) > 30
    for route in routes:
        declared = [getattr(d.call, "permission", None) for d in route.dependant.dependencies]
        declared = [p for p in declared if p]
        if route.path in PUBLIC:
            assert not declared, route.path
            continue
        assert len(declared) == 1 and declared[0] in known, f"{route.methods} {route.path} declares {declared}"


def test_a_console_page_without_a_session_redirects_to_sign_in(client):
    response = client.get("http://testserver/lots", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/signin?next=/lots"


def test_a_post_without_a_session_writes_nothing_and_goes_to_sign_in(client):
    response = client.post("http://testserver/recalls", data={"summary": "x", "lot": "L"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/signin"
