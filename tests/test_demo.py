"""The Quick start's main job, end to end: `lotline demo` as a user runs it (a real process).

The demo database it builds is then held to every invariant of the generator's checker — a world
built through the services must pass the same checks as generated data.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from lotline.generate import checker

LOTLINE = Path(sys.executable).with_name("lotline")


def _run_demo(database_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "LOTLINE_DATABASE_URL": database_url, "COLUMNS": "200"}
    return subprocess.run([str(LOTLINE), "demo", *args], env=env, capture_output=True, text=True, timeout=300)


def _drop(database_url: str, name: str) -> None:
    admin = sa.create_engine(make_url(database_url).set(database="postgres"), isolation_level="AUTOCOMMIT",
                             poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def test_the_demo_posts_a_fortnight_refuses_five_postings_and_leaves_a_clean_ledger(database_url):
    name = f"lotline_demo_test_{os.getpid()}"
    try:
        done = _run_demo(database_url, "--json", "--database", name)
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        assert make_url(report["database_url"]).database == name
        assert len(report["refused"]) == 5
        # every refusal names a rule of the error tree, not a crash
        assert {code for _attempt, code, _msg in report["refused"]} <= {
            "insufficient_quantity", "lot_not_released", "allocation_mismatch", "wrong_lot_item",
            "over_shipment", "invalid_input", "invalid_state_transition", "not_found", "duplicate_key",
        }
        assert {lot["sku"] for lot in report["lots"]} >= {"FLOUR-T55", "DOUGH", "BAGUETTE"}
        assert any(row["lot_status"] == "blocked" for row in report["on_hand"])
        conninfo = make_url(report["database_url"]).set(drivername="postgresql").render_as_string(hide_password=False)
        failed = [(r.name, r.violations, r.sample) for r in checker.run_checks(conninfo) if not r.ok]
        assert failed == []
    finally:
        _drop(database_url, name)


def test_the_demo_prints_tables_and_how_to_explore(database_url):
    name = f"lotline_demo_test_{os.getpid()}_tty"
    try:
        done = _run_demo(database_url, "--database", name)
        assert done.returncode == 0, done.stderr
        assert "Refused postings" in done.stdout and "On hand by lot and location" in done.stdout
        assert "explore it:" in done.stdout
    finally:
        _drop(database_url, name)


def test_a_demo_database_name_that_is_not_an_identifier_is_refused(database_url):
    done = _run_demo(database_url, "--json", "--database", 'x"; DROP DATABASE postgres; --')
    assert done.returncode == 2
    assert "demo database name" in done.stderr
    assert "Traceback" not in done.stderr
