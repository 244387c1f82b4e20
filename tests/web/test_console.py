"""The console in a real browser: each test is the specification of a screen or a workflow."""

from __future__ import annotations

import re
import time

from playwright.sync_api import expect

from tests.web.conftest import DOCS


def _wait_for_job(web, timeout: float = 60.0) -> None:
    """A console job's progress box polls until the job ends, then the page reloads with the result."""
    page = web.page
    deadline = time.time() + timeout
    while time.time() < deadline:
        box = page.locator(".job")
        if box.count() and box.first.get_attribute("data-job-status") in ("completed", "failed"):
            assert box.first.get_attribute("data-job-status") == "completed", box.first.inner_text()
            return
        page.wait_for_timeout(200)
    raise AssertionError("the job did not finish")


def test_signing_in_shows_the_home_page_and_signing_out_ends_the_session(web):
    web.go("/")
    assert "/signin" in web.page.url  # not signed in: sent to the sign-in form
    web.page.get_by_label("User name").fill("qa")
    web.page.get_by_label("Password").fill("wrong password")
    web.page.get_by_role("button", name="Sign in").click()
    expect(web.page.get_by_role("alert")).to_contain_text("unknown user or wrong password")
    web.sign_in("qa")
    expect(web.page.get_by_role("heading", name="Home")).to_be_visible()
    expect(web.page.get_by_role("heading", name="Lots on hold")).to_be_visible()
    cookie = next(c for c in web.page.context.cookies() if c["name"] == "lotline_session")
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
    web.page.get_by_role("button", name="Sign out").click()
    web.go("/lots")
    assert "/signin" in web.page.url


def test_a_lot_is_found_by_its_vendor_lot_code_as_you_type(web):
    web.sign_in("viewer")
    web.go("/lots")
    web.page.get_by_label(re.compile("^Lot code, vendor lot code")).press_sequentially("MV-8812", delay=30)
    row = web.page.locator("#results tr", has_text="F2411-A")
    expect(row).to_be_visible()
    expect(row).to_contain_text("vendor lot code")
    row.get_by_role("link", name="F2411-A").click()
    expect(web.page.get_by_role("heading", name=re.compile("Lot F2411-A"))).to_be_visible()
    expect(web.page.get_by_role("heading", name="Mass balance")).to_be_visible()
    expect(web.page.locator("#ledger tbody tr").first).to_be_visible()


def test_the_trace_view_draws_the_genealogy_graph_and_a_click_opens_a_lot(web):
    web.sign_in("viewer")
    web.go("/lots/F2411-A")
    web.page.get_by_role("link", name="Trace this lot").click()
    expect(web.page.locator("#graph[data-drawn]")).to_have_count(1)
    expect(web.page.locator("#graph-status")).to_contain_text("nodes shown")
    web.page.screenshot(path=str(DOCS / "trace-view.png"), full_page=False)
    # the graph's nodes are canvas-drawn: click the target lot through cytoscape's own position
    pos = web.page.evaluate(
        "() => { const cy = window.lotlineGraph;"
        " const n = cy.nodes(\"[role = 'target']\")[0]; const p = n.renderedPosition();"
        " const r = document.getElementById('graph').getBoundingClientRect(); return {x: r.x + p.x, y: r.y + p.y}; }"
    )
    web.page.mouse.click(pos["x"], pos["y"])
    web.page.wait_for_url(re.compile(r"/lots/[0-9a-f-]{36}$"))
    expect(web.page.get_by_role("heading", name=re.compile("Lot F2411-A"))).to_be_visible()
    # tables and downloads of the same trace
    web.go("/trace/F2411-A?tab=customers")
    expect(web.page.get_by_role("link", name=re.compile(r"Customers \(\d+\)"))).to_be_visible()
    with web.page.expect_download() as download:
        web.page.get_by_role("link", name="CSV").click()
    assert download.value.suggested_filename == "trace-forward-F2411-A.csv"
