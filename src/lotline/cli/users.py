"""``lotline user add|list|disable|roles|password`` and ``lotline token create|list|revoke``.

A fresh database has no users: ``lotline user add NAME --role admin`` creates the first admin
(password prompted twice, or read from stdin with ``--password-stdin``). Passwords are never
accepted as command-line arguments (they would land in the shell history and process list).
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta

import typer

from lotline import errors
from lotline.auth import service
from lotline.auth.schemas import RolesIn, TokenIn, UserIn
from lotline.cli.common import JsonOpt, console, emit, err_console, print_json
from lotline.db import read_snapshot, transaction
from lotline.types import utcnow

user_app = typer.Typer(help="Users and their roles (viewer, operator, quality, analyst, admin).", no_args_is_help=True)
token_app = typer.Typer(help="API tokens (Authorization: Bearer …).", no_args_is_help=True)

USER_COLUMNS = ["name", "full_name", "email", "roles", "active", "has_password", "locked_until", "created_at", "disabled_at"]
TOKEN_COLUMNS = ["prefix", "name", "user", "state", "created_at", "expires_at", "revoked_at", "last_used_at"]

RoleOpt = typer.Option(..., "--role", help="Role (repeat for several): viewer, operator, quality, analyst, admin.")


def read_password(from_stdin: bool, prompt: str = "Password", *, confirm: bool = True) -> str:
    """A password from stdin (first line) or an interactive prompt asked twice; never echoed."""
    if from_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise errors.InvalidInput("--password-stdin: stdin held no password")
        return password
    if not sys.stdin.isatty():
        raise errors.InvalidInput("no terminal to prompt for the password: use --password-stdin")
    return typer.prompt(prompt, hide_input=True, confirmation_prompt=confirm)


def _user_rows(rows: list[dict]) -> list[dict]:
    return [{**r, "roles": ",".join(r["roles"])} for r in rows]


@user_app.command("add")
def user_add(
    name: str,
    role: list[str] = RoleOpt,
    full_name: str | None = typer.Option(None, help="Full name, as shown on signatures (default: NAME)."),
    email: str | None = typer.Option(None),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from stdin."),
    no_password: bool = typer.Option(False, "--no-password", help="No password: the user signs in only with tokens (integrations)."),
    as_json: bool = JsonOpt,
) -> None:
    """Add a user (the first admin: `lotline user add NAME --role admin`)."""
    password = None if no_password else read_password(password_stdin)
    data = UserIn(name=name, full_name=full_name or name, email=email, roles=role, password=password)
    with transaction() as s:
        row = service.user_row(s, service.add_user(s, data))
    emit(_user_rows([row]), USER_COLUMNS, as_json=as_json)


@user_app.command("list")
def user_list(as_json: bool = JsonOpt) -> None:
    """List users and their roles."""
    with read_snapshot() as s:
        rows = service.list_users(s)
    emit(rows if as_json else _user_rows(rows), USER_COLUMNS, as_json=as_json, title="Users")


@user_app.command("disable")
def user_disable(name: str, as_json: bool = JsonOpt) -> None:
    """Disable a user: their tokens and sessions stop working (users are never deleted)."""
    with transaction() as s:
        row = service.user_row(s, service.disable_user(s, name))
    emit(_user_rows([row]), USER_COLUMNS, as_json=as_json)


@user_app.command("roles")
def user_roles(
    name: str,
    roles: list[str] = typer.Argument(None, help="The new role set (omit to show the current one)."),
    as_json: bool = JsonOpt,
) -> None:
    """Show a user's roles, or replace them: `lotline user roles alice quality viewer`."""
    if roles:
        wanted = RolesIn(roles=roles)
        with transaction() as s:
            row = service.user_row(s, service.set_roles(s, name, wanted.roles))
    else:
        with read_snapshot() as s:
            row = service.user_row(s, service.find_user(s, name))
    if as_json:
        print_json(row)
    else:
        console.print(f"{row['name']}: {', '.join(row['roles'])}")


@user_app.command("password")
def user_password(
    name: str,
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from stdin."),
) -> None:
    """Set a user's password (also unlocks an account locked by failed sign-ins)."""
    password = read_password(password_stdin, "New password")
    with transaction() as s:
        service.set_password(s, name, password)
    console.print(f"password of {name} set")


@token_app.command("create")
def token_create(
    user: str = typer.Option(..., "--user", help="Whose token (the actor of everything done with it)."),
    name: str = typer.Option(..., "--name", help="What it is for, e.g. 'ERP integration'."),
    expires: datetime | None = typer.Option(None, help="Expiry time (ISO 8601)."),
    days: int | None = typer.Option(None, min=1, help="Expires after this many days."),
    as_json: bool = JsonOpt,
) -> None:
    """Create an API token; it is printed this once and only its hash is kept."""
    if expires is not None and days is not None:
        raise errors.InvalidInput("give --expires or --days, not both")
    expires_at = utcnow() + timedelta(days=days) if days else expires
    data = TokenIn(user=user, name=name, expires_at=expires_at)
    with transaction() as s:
        new = service.create_token(s, data)
        row = service.token_row(new.token, data.user)
    if as_json:
        print_json({**row, "token": new.secret})
        return
    emit([row], TOKEN_COLUMNS, as_json=False)
    err_console.print("[yellow]This is the only time the token is shown; store it now:[/]")
    console.print(new.secret, highlight=False, soft_wrap=True)


@token_app.command("list")
def token_list(user: str | None = typer.Option(None, "--user"), as_json: bool = JsonOpt) -> None:
    """List tokens (prefix, state, last use); never the secrets."""
    with read_snapshot() as s:
        rows = service.list_tokens(s, user)
    emit(rows, TOKEN_COLUMNS, as_json=as_json, title="API tokens")


@token_app.command("revoke")
def token_revoke(ref: str = typer.Argument(..., help="Token id or prefix (llt_xxxxxxxx)."), as_json: bool = JsonOpt) -> None:
    """Revoke a token: it stops working at once."""
    with transaction() as s:
        row = service.revoke_token(s, ref)
    emit([row], TOKEN_COLUMNS, as_json=as_json)
