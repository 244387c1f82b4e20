"""Browser tests: Debian's chromium driven by Playwright against a live ``uvicorn`` on 127.0.0.1.

- One database per test session (``<test db>_web``) loaded by ``lotline demo`` in a subprocess, and
  one server process on it (real commits: background jobs and SMTP sending open their own
  transactions, as in production). Tests create what they change, so their order does not matter.
- A local SMTP server (aiosmtpd) receives the recall notices.
- Without /usr/bin/chromium the tests skip with a loud reason — except in CI (CI=true), where a
  missing browser fails them (.ci/run installs it).
- Every page a test opens is watched: a console error or an uncaught page error fails the test.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from tests.smtp import Inbox, free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
# the demo's users (public demo passwords) and an analyst the fixture adds
USERS = {"qa": ("quality-demo-password", "quality"), "viewer": ("viewer-demo-password", "viewer"),
         "admin": ("admin-demo-password", "admin"), "ana": ("analyst-pass-1", "analyst")}
LOGIN = {"qa": "quality"}  # test name -> user name


def _browser_or_skip() -> None:
    if os.path.exists(CHROMIUM):
        return
    message = f"{CHROMIUM} is missing: browser tests need Debian's chromium (apt-get install -y chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip("SKIPPED LOUDLY: " + message)


@pytest.fixture(scope="session")
def smtp_inbox():
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    inbox.port = port
    yield inbox
    controller.stop()


@pytest.fixture(scope="session")
def web_database(database_url):
    """A demo database beside the test database, loaded by ``lotline demo`` in its own process."""
    name = make_url(database_url).database + "_web"
    server = make_url(database_url).set(database="postgres").render_as_string(hide_password=False)
    env = {**os.environ, "LOTLINE_DATABASE_URL": server}
    lotline = Path(sys.executable).with_name("lotline")
    subprocess.run([str(lotline), "demo", "--database", name, "--json"], env=env, check=True,
                   stdout=subprocess.DEVNULL, cwd=REPO)
    url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    subprocess.run([str(lotline), "user", "add", "ana", "--role", "analyst", "--full-name", "Ana Analyst",
                    "--password-stdin"], env={**env, "LOTLINE_DATABASE_URL": url}, input=USERS["ana"][0] + "\n",
                   text=True, check=True, stdout=subprocess.DEVNULL, cwd=REPO)
    yield url
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(scope="session")
def live_server(web_database, smtp_inbox):
    """``uvicorn`` serving the app (API + console) on a free port of 127.0.0.1."""
    _browser_or_skip()
    port = free_port()
    env = {
        **os.environ,
        "LOTLINE_DATABASE_URL": web_database,
        "LOTLINE_SMTP_HOST": "127.0.0.1",
        "LOTLINE_SMTP_PORT": str(smtp_inbox.port),
        "LOTLINE_SMTP_SECURITY": "none",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "lotline.api.app:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"],
        env=env, cwd=REPO,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while True:
        try:
            urllib.request.urlopen(base + "/api/v1/health", timeout=1).read()
            break
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                raise RuntimeError("the console server did not start") from None
            time.sleep(0.1)
    yield base
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="session")
def browser(live_server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


class WatchedPage:
    """A page plus the console/page errors seen on it; ``sign_in`` as one of USERS."""

    def __init__(self, page, base: str):
        self.page, self.base, self.errors = page, base, []
        page.on("console", lambda m: self.errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))

    def go(self, path: str):
        response = self.page.goto(self.base + path)
        return response

    def sign_in(self, user: str):
        self.go("/signin")
        self.page.get_by_label("User name").fill(LOGIN.get(user, user))
        self.page.get_by_label("Password").fill(USERS[user][0])
        self.page.get_by_role("button", name="Sign in").click()
        self.page.wait_for_url(self.base + "/")
        return self


@pytest.fixture
def web(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=live_server)
    context.set_default_timeout(15_000)
    watched = WatchedPage(context.new_page(), live_server)
    yield watched
    context.close()
    assert watched.errors == [], f"browser console errors: {watched.errors}"


@pytest.fixture
def new_web(browser, live_server):
    """A second, separate browser (another user) in the same test."""
    contexts = []

    def make(width: int = 1280, height: int = 800) -> WatchedPage:
        context = browser.new_context(viewport={"width": width, "height": height}, base_url=live_server)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return WatchedPage(context.new_page(), live_server)

    yield make
    for c in contexts:
        c.close()
