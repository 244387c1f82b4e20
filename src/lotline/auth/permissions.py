"""The one table of who may do what: permission -> roles.

Every API route (and console route) declares exactly one permission from ``PERMISSIONS`` through
``lotline.api.deps.require``; a test walks ``app.routes`` and fails on a route without one. A user
holds one or more roles; a role never implies another (give an operator "viewer" too is not needed:
every role includes ``read``). Changing who may do what is an edit of this table, nothing else.

    role      what it is for
    viewer    read everything (records, traces, reports, the audit trail)
    operator  postings: receipts, transfers, adjustments, production, shipments, returns, scrap;
              master data; work and sales orders
    quality   lot status and holds, recall cases, targets, runs, actions, notices, their signatures
    analyst   KPI runs (compute, publish with a signature, archive)
    admin     users, roles, tokens
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from lotline.errors import PermissionDenied

F = TypeVar("F", bound=Callable[..., Any])

ROLES = ("viewer", "operator", "quality", "analyst", "admin")

_ALL = frozenset(ROLES)

PERMISSIONS: dict[str, frozenset[str]] = {
    "read": _ALL,  # every GET of a record, trace, report or KPI
    "audit.read": _ALL,
    "self": _ALL,  # who am I, sign out
    "master_data.write": frozenset({"operator", "admin"}),
    "stock.post": frozenset({"operator"}),
    "stock.reverse": frozenset({"operator", "quality"}),
    # a batch may hold every kind of posting (stock, production, sales): the role that posts them all
    "postings.batch": frozenset({"operator"}),
    "production.write": frozenset({"operator"}),
    "sales.write": frozenset({"operator"}),
    "lot.status": frozenset({"quality"}),
    "recall.write": frozenset({"quality"}),
    "kpi.run": frozenset({"analyst"}),
    "users.manage": frozenset({"admin"}),
    "tokens.manage": frozenset({"admin"}),
}

# Routes that need no credential at all (health, sign-in, the OpenAPI document).
PUBLIC = "public"

# The attribute a route dependency carries naming the permission it checks (``declare``/``declared``).
_DECLARED = "permission"


def declare(dependency: F, permission: str) -> F:
    """Tag a route dependency with the permission it checks, for the tests that walk the routes."""
    setattr(dependency, _DECLARED, permission)
    return dependency


def declared(dependency: object) -> str | None:
    """The permission ``dependency`` was tagged with by ``declare`` (None: not a declaring one)."""
    return getattr(dependency, _DECLARED, None)


def allowed(roles: frozenset[str] | set[str], permission: str) -> bool:
    return bool(PERMISSIONS[permission] & set(roles))


def check(roles: frozenset[str] | set[str], permission: str, who: str) -> None:
    """PermissionDenied naming the missing permission and the roles that grant it."""
    if permission not in PERMISSIONS:
        raise KeyError(f"undeclared permission {permission!r}")  # a bug, not a domain error
    if not allowed(roles, permission):
        grant = ", ".join(sorted(PERMISSIONS[permission]))
        held = ", ".join(sorted(roles)) or "none"
        raise PermissionDenied(
            f"{who} lacks permission {permission!r} (granted to roles: {grant}; {who} has: {held})",
            permission=permission,
        )
