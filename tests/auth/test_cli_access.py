"""`lotline user|token` commands, `--as` / LOTLINE_USER, and `lotline serve` on a database without users."""

from __future__ import annotations

import io

import sqlalchemy as sa
import typer.main

from lotline.cli import access
from lotline.cli.main import app
from tests.conftest import TEST_PASSWORD


def _stdin(monkeypatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def test_the_first_admin_is_created_with_the_password_from_stdin(cli, monkeypatch, session):
    _stdin(monkeypatch, "first admin password\n")
    result = cli("user", "add", "root", "--role", "admin", "--full-name", "Rita Root", "--password-stdin")
    assert result.code == 0, result.err
    listed = cli("user", "list", "--json").json()
    assert [(u["name"], u["roles"], u["has_password"]) for u in listed] == [("root", ["admin"], True)]
    stored = session.execute(sa.text("SELECT password_hash FROM users WHERE name = 'root'")).scalar()
    assert stored.startswith("$argon2id$")


def test_without_a_terminal_or_stdin_flag_the_password_is_refused_not_read_from_an_argument(cli, monkeypatch):
    _stdin(monkeypatch, "")
    result = cli("user", "add", "root", "--role", "admin")
    assert result.code == 2 and "--password-stdin" in result.err


def test_tokens_are_created_listed_and_revoked_from_the_cli(cli, make_user, anonymous_client):
    make_user("erp", "operator", password=None)
    created = cli("token", "create", "--user", "erp", "--name", "ERP integration", "--days", "30", "--json")
    assert created.code == 0, created.err
    secret = created.json()["token"]
    assert anonymous_client.get("/lots", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    listed = cli("token", "list", "--json").json()
    assert [(t["prefix"], t["state"]) for t in listed] == [(secret[:12], "active")]
    assert secret not in cli("token", "list").out
    assert cli("token", "revoke", secret[:12]).code == 0
    assert anonymous_client.get("/lots", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_roles_are_shown_and_replaced(cli, make_user):
    make_user("val", "viewer")
    assert cli("user", "roles", "val").out.strip() == "val: viewer"
    assert cli("user", "roles", "val", "quality", "viewer").code == 0
    assert cli("user", "roles", "val", "--json").json()["roles"] == ["quality", "viewer"]
    bad = cli("user", "roles", "val", "wizard")
    assert bad.code == 2 and "roles" in bad.err and "'analyst'" in bad.err


def test_as_a_named_user_the_cli_checks_their_roles_and_audits_their_name(cli, make_user, session):
    make_user("vic", "viewer")
    make_user("ops", "operator")
    refused = cli("--as", "vic", "item", "add", "FLOUR", "--name", "Flour", "--uom", "kg")
    assert refused.code == 8 and "master_data.write" in refused.err
    assert cli("--as", "vic", "item", "list").code == 0
    made = cli("--as", "ops", "item", "add", "FLOUR", "--name", "Flour", "--uom", "kg")
    assert made.code == 0, made.err
    entry = session.execute(
        sa.text("SELECT actor, actor_kind FROM audit_log WHERE table_name = 'items' AND operation = 'INSERT'"
                " AND txid = pg_current_xact_id()::text::bigint")
    ).one()
    assert tuple(entry) == ("ops", "user")


def test_lotline_user_names_the_actor_and_an_unknown_one_is_refused(cli, make_user, monkeypatch):
    make_user("ops", "operator")
    monkeypatch.setenv("LOTLINE_USER", "ghost")
    result = cli("item", "list")
    assert result.code == 3 and "ghost" in result.err


def test_without_a_user_the_cli_acts_as_the_os_login_marked_as_such(cli, session):
    import getpass

    assert cli("location", "add", "WH", "--kind", "storage").code == 0
    entry = session.execute(
        sa.text("SELECT actor, actor_kind FROM audit_log WHERE table_name = 'locations'"
                " AND txid = pg_current_xact_id()::text::bigint")
    ).one()
    assert tuple(entry) == (getpass.getuser(), "os")


def test_serve_on_a_database_without_users_says_how_to_create_the_first_admin(cli, session):
    # With users present `serve` would start a server and never return: fail at once instead.
    assert not session.scalar(sa.text("SELECT EXISTS (SELECT 1 FROM users)")), "an earlier test left users committed"
    result = cli("serve")
    assert result.code == 5
    assert "no users" in result.err and "lotline user add NAME --role admin" in result.err


def test_serve_refuses_a_bad_server_setting_before_it_starts(cli, monkeypatch):
    monkeypatch.setenv("LOTLINE_API_CONCURRENCY", "lots")
    result = cli("serve")
    assert result.code == 2
    assert "LOTLINE_API_CONCURRENCY" in result.err and "'lots'" in result.err


def test_serve_refuses_a_bad_statement_timeout_before_it_starts(cli, monkeypatch):
    monkeypatch.setenv("LOTLINE_STATEMENT_TIMEOUT", "soon")
    result = cli("serve")
    assert result.code == 2
    assert "LOTLINE_STATEMENT_TIMEOUT" in result.err


def test_every_cli_command_has_a_permission_entry():
    root = typer.main.get_command(app)

    def leaves(command, path=()):
        if hasattr(command, "commands"):
            for name, sub in command.commands.items():
                yield from leaves(sub, (*path, name))
        else:
            yield path

    paths = list(leaves(root))
    assert len(paths) > 60
    for path in paths:
        access.permission_for(path)  # KeyError names a command without one


def test_disabling_a_user_from_the_cli(cli, make_user):
    make_user("temp", "viewer", password=TEST_PASSWORD)
    result = cli("user", "disable", "temp", "--json")
    assert result.code == 0 and result.json()[0]["active"] is False
