"""The API contract, checked by Schemathesis against a live server on real PostgreSQL.

A demo database (``lotline demo``) is served by ``uvicorn`` in its own process; the run signs in
with a real token of a user holding every role, and runs every phase Schemathesis has (examples,
coverage, fuzzing, stateful) with every check but one, deterministically (``--generation-
deterministic``: the same cases every run, so it cannot flake) and with a bounded number of
examples per operation. It passes only with 0 failures: no 5xx, no undocumented status or
content type, no response that does not match its schema, no Allow header that lies, no
schema-valid request refused as malformed (``schemathesis_hooks.py``).

Left out, and why:
- ``negative_data_rejection`` (schema-violating requests must be refused): validation is lenient
  by design where it is harmless (``"5"`` for an integer, surrounding spaces that are stripped);
  the contract is that what the schema allows is accepted, and never a 5xx.
- the operations that would revoke the run's own credential (disable a user, change roles,
  revoke a token): tests/auth covers them.

Figures (operations, cases, failures) are printed with ``-s``; ``ST_EXAMPLES`` changes the
bound (default 5 per operation).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
BIN = Path(sys.executable).parent
EXAMPLES = os.environ.get("ST_EXAMPLES", "5")
EXCLUDED = r"/users/\{name\}/(disable|roles)|/tokens/\{ref\}/revoke"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _lotline(*args: str, env: dict, stdin: str | None = None) -> str:
    done = subprocess.run([str(BIN / "lotline"), *args], env=env, input=stdin, text=True, capture_output=True,
                          cwd=REPO, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def contract_server(database_url):
    """(base URL, token): uvicorn on a demo database, and a token of a user with every role."""
    name = make_url(database_url).database + "_contract"
    server = make_url(database_url).set(database="postgres").render_as_string(hide_password=False)
    url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    env = {**os.environ, "LOTLINE_DATABASE_URL": server}
    _lotline("demo", "--database", name, "--json", env=env)
    env["LOTLINE_DATABASE_URL"] = url
    _lotline("user", "add", "contract", "--role", "viewer", "--role", "operator", "--role", "quality",
             "--role", "analyst", "--role", "admin", "--password-stdin", env=env, stdin="contract-password-1\n")
    token = re.search(r'"token": "([^"]+)"', _lotline("token", "create", "--user", "contract", "--name", "st",
                                                      "--json", env=env)).group(1)
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "lotline.api.app:create_app", "--factory", "--host",
                             "127.0.0.1", "--port", str(port), "--log-level", "warning"], env=env, cwd=REPO)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while True:
        try:
            urllib.request.urlopen(base + "/api/v1/health", timeout=1).read()
            break
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                raise RuntimeError("the API server did not start") from None
            time.sleep(0.1)
    yield base, token
    proc.terminate()
    proc.wait(timeout=10)
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def test_schemathesis_finds_no_contract_failure(contract_server, tmp_path):
    base, token = contract_server
    # One worker: with two, Schemathesis's threads call ast.parse (through Hypothesis's lambda
    # descriptions) at once, and CPython 3.11.7 (this machine's) then raises "AST constructor
    # recursion depth mismatch" now and then (CPython gh-106905) — a crash of the tool, not a finding.
    command = [
        str(BIN / "st"), "--config-file", str(HERE / "schemathesis.toml"), "run", f"{base}/api/v1/openapi.json",
        "--checks", "all", "--exclude-checks", "negative_data_rejection",
        "--max-examples", EXAMPLES, "--generation-deterministic", "--workers", "1",
        "--header", f"Authorization: Bearer {token}", "--exclude-path-regex", EXCLUDED, "--no-color",
    ]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.api.schemathesis_hooks", "PYTHONPATH": str(REPO)}
    done = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=900, check=False)
    summary = done.stdout[done.stdout.find("SUMMARY"):] if "SUMMARY" in done.stdout else done.stdout[-3000:]
    print(summary)
    assert done.returncode == 0, done.stdout[-20000:] + done.stderr[-3000:]
