"""Every console route declares a permission from auth's table; no session means the sign-in page."""

from __future__ import annotations

from fastapi.routing import APIRoute

from lotline.api.app import create_app
from lotline.api.deps import declared_permission, walk_routes
from lotline.auth.permissions import PERMISSIONS, PUBLIC

PUBLIC_PAGES = {"/signin", "/respond/{token}"}  # sign-in; a consignee's recall response link (its token is the credential)


def test_every_console_route_declares_a_known_permission():
    console = [(path, route) for path, route, _ in walk_routes(create_app().routes)
               if isinstance(route, APIRoute) and not path.startswith("/api/")]
    assert len(console) > 30
    for path, route in console:
        permission = declared_permission(route)
        if path in PUBLIC_PAGES:
            assert permission == PUBLIC, path
        else:
            assert permission in PERMISSIONS, f"{route.methods} {path} declares {permission!r}"


def test_a_console_page_without_a_session_redirects_to_sign_in(client):
    response = client.get("http://testserver/lots", follow_redirects=False, headers={"Authorization": ""})
    assert response.status_code == 303 and response.headers["location"] == "/signin?next=/lots"


def test_a_post_without_a_session_writes_nothing_and_goes_to_sign_in(client):
    response = client.post("http://testserver/recalls", data={"summary": "x", "lot": "L"}, follow_redirects=False,
                           headers={"Authorization": ""})
    assert response.status_code == 303 and response.headers["location"] == "/signin"
