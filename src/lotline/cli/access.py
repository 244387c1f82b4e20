"""Who runs the CLI, and what each command needs.

The CLI talks to the database directly, so whoever runs it can already do anything; it is the
administrator's tool. Its actions are audited like all others. The actor is:

- a named lotline user — ``lotline --as NAME …`` or ``LOTLINE_USER=NAME`` — checked against that
  user's roles with the command's permission from ``COMMAND_PERMISSIONS`` (same table of
  permissions as the API); audit entries say ``user`` NAME;
- otherwise the operating system's login name, marked as such (audit entries say ``os`` LOGIN),
  with every permission.

Commands that act as the database owner rather than as a lotline user (``db``, ``demo``,
``generate``, ``serve``) have no permission (None) and never resolve a user.
"""

from __future__ import annotations

from lotline import db
from lotline.auth import service as auth_service
from lotline.auth.service import Principal

# Leaf command path -> permission (None: not an action of a lotline user). Group defaults follow.
_READ = "read"
COMMAND_PERMISSIONS: dict[tuple[str, ...], str | None] = {
    ("db",): None,
    ("demo",): None,
    ("generate",): None,
    ("serve",): None,
    ("worker",): None,  # a system process: its passes act as the OS login (see lotline.worker)
    ("receive",): "stock.post",
    ("transfer",): "stock.post",
    ("adjust",): "stock.post",
    ("scrap",): "stock.post",
    ("return",): "stock.post",
    ("stock",): _READ,
    ("lot", "status"): "lot.status",
    ("lot", "expire"): "lot.status",
    ("movement", "reverse"): "stock.reverse",
    ("item", "add"): "master_data.write",
    ("location", "add"): "master_data.write",
    ("vendor", "add"): "master_data.write",
    ("customer", "add"): "master_data.write",
    ("wo", "create"): "production.write",
    ("wo", "execute"): "production.write",
    ("wo", "close"): "production.write",
    ("so", "create"): "sales.write",
    ("so", "ship"): "sales.write",
    ("kpi", "run"): "kpi.run",
    ("kpi", "publish"): "kpi.run",
    ("kpi", "archive"): "kpi.run",
    ("user",): "users.manage",
    ("token",): "tokens.manage",
    ("audit",): "audit.read",
    # EPCIS capture and spreadsheet imports post through the posting services (and may create
    # master data when asked); reading, validating and exporting are reads.
    ("epcis",): _READ,
    ("epcis", "import"): "stock.post",
    ("epcis", "validate"): _READ,
    ("epcis", "job"): _READ,
    ("epcis", "export"): _READ,
    ("epcis", "id"): "master_data.write",  # assigns GTINs/GLNs to master data
    ("import",): "stock.post",
    ("import", "template"): None,  # writes a blank template file, touches no database
    ("import", "items"): "master_data.write",
    ("import", "locations"): "master_data.write",
    ("import", "vendors"): "master_data.write",
    ("import", "customers"): "master_data.write",
    ("import", "receipts"): "stock.post",
    ("import", "transfers"): "stock.post",
    ("import", "production"): "production.write",
    ("import", "shipments"): "sales.write",
    ("import", "batch"): "stock.post",
}
# Groups whose commands write unless they are one of READ_COMMANDS.
GROUP_WRITES = {"recall": "recall.write"}
READ_COMMANDS = frozenset(
    {"list", "show", "history", "impacted", "runs", "diff", "effectiveness", "export", "report",
     "compare", "series", "chart", "defs", "forward", "backward", "both", "consignees",
     "initial-report"}
)


def permission_for(path: tuple[str, ...]) -> str | None:
    """The permission of a command path such as ('recall', 'action', 'run'); KeyError if none."""
    for n in range(len(path), 0, -1):
        if path[:n] in COMMAND_PERMISSIONS:
            return COMMAND_PERMISSIONS[path[:n]]
    if path and path[-1] in READ_COMMANDS:
        return _READ
    if path and path[0] in GROUP_WRITES:
        return GROUP_WRITES[path[0]]
    raise KeyError(f"no permission declared for `lotline {' '.join(path)}`")


def command_path(root: object, argv: list[str]) -> tuple[str, ...]:
    """The subcommand names in ``argv`` (root options such as ``--as NAME`` skipped).

    ``root`` is the root click command; groups are told by their ``commands`` (typer >= 0.2x ships
    its own click, so no click class is named here).
    """
    path: list[str] = []
    group = root
    tokens = iter(argv)
    for token in tokens:
        if token == "--as":
            next(tokens, None)
            continue
        if token.startswith("-"):
            continue
        commands = getattr(group, "commands", None)
        if not commands or token not in commands:
            break
        path.append(token)
        group = commands[token]
    return tuple(path)


_principal: Principal | None = None
argv: list[str] = []  # the arguments of this invocation (set by cli.main)


def current() -> Principal:
    """The principal of the running command (the OS login when none was resolved)."""
    return _principal or auth_service.os_principal()


def establish(as_user: str | None, path: tuple[str, ...]) -> Principal | None:
    """Resolve the actor for ``path``, check its permission, make it every transaction's actor."""
    global _principal
    _principal = None
    db.set_actor(None)
    permission = permission_for(path) if path else None
    if permission is None:
        return None
    if as_user:
        with db.transaction() as session:
            principal = auth_service.cli_principal(session, as_user)
    else:
        principal = auth_service.os_principal()
    principal.require(permission)
    _principal = principal
    db.set_actor(principal.actor)
    return principal
