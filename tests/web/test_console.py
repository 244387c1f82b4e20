"""The console in a real browser: each test is the specification of a screen or a workflow."""

from __future__ import annotations

import csv
import io
import json
import re
import time
from pathlib import Path

import openpyxl
from playwright.sync_api import expect

from tests.web.conftest import DOCS, USERS


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
    web.page.get_by_label("User name").fill("quality")
    web.page.get_by_label("Password").fill("wrong password")
    web.page.get_by_role("button", name="Sign in").click()
    expect(web.page.get_by_role("alert")).to_contain_text("sign-in refused: unknown user, wrong password")
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
    web.page.locator("#h-graph").scroll_into_view_if_needed()
    web.page.screenshot(path=str(DOCS / "trace-view.png"), full_page=True)
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
        web.page.get_by_role("link", name="CSV", exact=True).click()
    assert download.value.suggested_filename == "trace-forward-F2411-A.csv"


def _graph_node_position(web, selector: str) -> dict:
    """Where a canvas-drawn node is on the page (cytoscape's rendered position inside #graph)."""
    return web.page.evaluate(
        "(sel) => { const n = window.lotlineGraph.nodes(sel)[0]; const p = n.renderedPosition();"
        " const r = document.getElementById('graph').getBoundingClientRect(); return {x: r.x + p.x, y: r.y + p.y}; }",
        selector,
    )


def test_above_its_node_budget_the_graph_groups_lots_by_item_and_depth_and_a_click_expands_a_group(web):
    web.sign_in("viewer")
    web.go("/trace/F2411-A?nodes=5")
    expect(web.page.locator("#graph[data-drawn]")).to_have_count(1)
    status = web.page.locator("#graph-status")
    expect(status).to_contain_text("4 nodes shown for 7 lots and 3 customers (grouped by item and depth above 5 nodes")
    web.page.wait_for_function("() => window.lotlineGraph.nodes(\"[kind = 'group']\").length === 2")
    drawn = web.page.locator("#graph").get_attribute("data-drawn")
    pos = _graph_node_position(web, "[id = 'g:BAGUETTE:2:downstream_finished']")
    web.page.mouse.click(pos["x"], pos["y"])
    # the server answers the graph with that group shown lot by lot; the other group stays grouped
    web.page.wait_for_function("() => window.lotlineGraph.nodes(\"[kind = 'lot'][sku = 'BAGUETTE']\").length === 3")
    expect(web.page.locator("#graph")).not_to_have_attribute("data-drawn", drawn)
    expect(status).to_contain_text("nodes shown for 7 lots and 3 customers")
    assert web.page.evaluate("() => window.lotlineGraph.nodes(\"[kind = 'group']\").map(n => n.id())") == [
        "g:DOUGH:1:downstream_finished"
    ]
    # a budget out of range is refused with the field's bounds, and no graph is drawn
    web.go("/trace/F2411-A?nodes=1")
    expect(web.page.get_by_role("alert")).to_contain_text("graph nodes must be a whole number from 5 to 2000, got '1'")
    expect(web.page.locator("#graph")).to_have_count(0)


def test_the_trace_view_downloads_the_fsma_204_spreadsheet_and_an_epcis_document(web, tmp_path):
    web.sign_in("viewer")
    web.go("/trace/F2411-A")
    with web.page.expect_download() as download:
        web.page.get_by_role("link", name="FSMA 204 CSV").click()
    assert download.value.suggested_filename == "trace-forward-F2411-A-fsma204.csv"
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8-sig"))))
    assert {r["Event type"] for r in rows} == {"Receiving", "Transformation", "Shipping"}
    assert [r["Traceability lot code"] for r in rows if r["Event type"] == "Receiving"] == ["F2411-A"]
    assert {r["Input traceability lot code"] for r in rows if r["Event type"] == "Transformation"} >= {"F2411-A"}
    with web.page.expect_download() as download:
        web.page.get_by_role("link", name="FSMA 204 XLSX").click()
    assert download.value.suggested_filename == "trace-forward-F2411-A-fsma204.xlsx"
    sheet = openpyxl.load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()), read_only=True).active
    assert sum(1 for _ in sheet.iter_rows(min_row=2)) == len(rows)
    with web.page.expect_download() as download:
        web.page.get_by_role("link", name="EPCIS 2.0").click()
    assert download.value.suggested_filename == "trace-forward-F2411-A-epcis.json"
    document = json.loads(Path(download.value.path()).read_text())
    assert document["type"] == "EPCISDocument" and document["schemaVersion"] == "2.0"
    steps = {e.get("bizStep") for e in document["epcisBody"]["eventList"]}
    assert {"receiving", "shipping"} <= steps
    assert any(e["type"] == "TransformationEvent" for e in document["epcisBody"]["eventList"])


def test_a_whole_recall_runs_to_closure_in_the_browser(web, smtp_inbox):
    """Create → activate (signed) → trace run → plan → actions into quarantine → notices sent → closed (signed)."""
    page = web.page
    before = len(smtp_inbox.messages)
    web.sign_in("qa")
    web.go("/recalls")
    new = page.get_by_role("region", name="New recall case")
    new.get_by_label("Summary").fill("Salmonella in flour F2411-A")
    new.get_by_label("Severity").select_option("high")
    new.get_by_label("Target lot (code)").fill("F2411-A")
    new.get_by_role("button", name="Create recall case").click()
    expect(page.get_by_role("heading", name=re.compile(r"Recall RC-\d{4}-\d{4}"))).to_be_visible()
    number = re.search(r"RC-\d{4}-\d{4}", page.url).group(0)
    expect(page.locator("#h-targets + table")).to_contain_text("F2411-A")

    # no recall starts without its strategy (21 CFR 7.42)
    page.get_by_label("Your password").fill(USERS["qa"][0])
    page.get_by_role("button", name="Activate (sign)").click()
    expect(page.get_by_role("alert").first).to_contain_text("has no strategy")
    page.get_by_label("FDA class").select_option("II")
    page.get_by_label("Reason for the recall").fill("Salmonella found in a retained sample")
    page.get_by_label("Health hazard evaluation").fill("remote probability of adverse health consequences")
    page.get_by_label("Product description").fill("Wheat flour T55, 25 kg bags, lot F2411-A")
    page.get_by_label("Response deadline (UTC)").fill("2030-01-15T12:00")
    page.get_by_role("button", name="Save strategy").click()
    expect(page.locator("#h-life ~ dl").nth(1)).to_contain_text("retail")

    # activation is signed: a wrong password is refused next to the field, nothing changes
    page.get_by_label("Your password").fill("not my password")
    page.get_by_role("button", name="Activate (sign)").click()
    expect(page.locator("#err-sig_password")).to_contain_text("signature refused")
    expect(page.locator("h1")).to_contain_text("draft")
    page.get_by_label("Your password").fill(USERS["qa"][0])
    page.get_by_role("button", name="Activate (sign)").click()
    expect(page.locator("h1")).to_contain_text("active")

    page.get_by_role("button", name="Run trace").click()
    _wait_for_job(web)
    expect(page.locator("#runs table")).to_contain_text("computed")
    page.get_by_role("button", name="Plan all actions").click()
    expect(page.locator("#actions table")).to_contain_text("quarantine lot")
    page.get_by_label("Quarantine location").select_option("QA-HOLD")
    page.get_by_role("button", name="Run all open actions").click()
    expect(page.locator("#actions .s-planned")).to_have_count(0)
    expect(page.locator("#actions .s-completed")).not_to_have_count(0)
    expect(page.locator("#notices")).to_contain_text(re.compile(r"[1-9]\d* draft"))

    page.get_by_role("button", name="Send draft emails").click()
    _wait_for_job(web)
    expect(page.locator("#notices")).to_contain_text(re.compile(r"0 draft, [1-9]\d* sent, 0 failed"))
    arrived = smtp_inbox.messages[before:]
    assert arrived and all(number in m["Subject"] for m in arrived)
    notified = int(page.get_by_test_id("notified").inner_text())
    assert notified == len(arrived)
    recovered = page.get_by_test_id("recovered-kg").inner_text()
    assert re.match(r"[1-9]", recovered), recovered  # the flour still on hand went into quarantine

    # each email carries a personal response link: a consignee answers on the public page
    body = arrived[0].get_payload(decode=True).decode()
    token = re.search(r"/respond/([A-Za-z0-9_-]{43})", body).group(1)
    web.go(f"/respond/{token}")
    page.get_by_label("Yes, we still hold some").check()
    page.get_by_label("Quantity still on hand").fill("3")
    page.get_by_label("Your name").fill("Store manager")
    page.get_by_role("button", name="Send our response").click()
    expect(page.get_by_role("status")).to_contain_text("your response was recorded")
    web.go(f"/recalls/{number}")
    expect(page.get_by_test_id("responding")).to_have_text("1")
    # another answers by phone; the quality user records it in the room, then issues a status report
    if len(arrived) > 1:
        room = page.locator("#consignees")
        room.get_by_text("Record a response taken by phone").click()
        room.get_by_label("Consignee").select_option(index=1)
        room.get_by_label("Who answered").fill("Chef on the phone")
        room.get_by_role("button", name="Record response").click()
        expect(page.get_by_test_id("responding")).to_have_text("2")
    page.locator("#consignees").get_by_role("button", name="Issue status report").click()
    expect(page.locator("#consignees")).to_contain_text("#1 issued")

    page.evaluate("() => window.scrollTo(0, 0)")
    page.screenshot(path=str(DOCS / "recall-room.png"), full_page=True)

    # stock really moved: the flour lot's stock sits in the quarantine cage
    web.go("/lots/F2411-A")
    expect(page.locator("#h-onhand + table")).to_contain_text("QA-HOLD")
    expect(page.locator("h1")).to_contain_text("quarantine")
    web.go("/")
    expect(page.locator("#h-recalls + table")).to_contain_text(number)
    page.screenshot(path=str(DOCS / "home.png"), full_page=False)

    # exports of the case
    web.go(f"/recalls/{number}")
    with page.expect_download() as download:
        page.get_by_role("link", name="FSMA 204 CSV").click()
    assert download.value.suggested_filename == f"{number}-fsma204.csv"

    page.get_by_label("Your password").fill(USERS["qa"][0])
    page.get_by_label("Meaning").select_option("responsible")
    page.get_by_label("Reason for closing").fill("every consignee answered; stock recovered")
    page.get_by_role("button", name="Close (sign)").click()
    expect(page.locator("h1")).to_contain_text("closed")


def test_a_viewer_sees_no_write_buttons_and_a_forged_post_is_refused(web, new_web):
    qa = new_web()
    qa.sign_in("qa")
    qa.go("/recalls")
    new = qa.page.get_by_role("region", name="New recall case")
    new.get_by_label("Target lot (code)").fill("S-0577")
    new.get_by_role("button", name="Create recall case").click()
    number = re.search(r"RC-\d{4}-\d{4}", qa.page.url).group(0)

    web.sign_in("viewer")
    for path in (f"/recalls/{number}", "/recalls", "/lots/S-0577", "/kpi"):
        web.go(path)
        expect(web.page.locator("main form[method=post]")).to_have_count(0)
        for name in ("Activate (sign)", "Run trace", "Change status", "Start a recall", "Create recall case", "Compute"):
            expect(web.page.get_by_role("button", name=name)).to_have_count(0)
    # the server refuses anyway: a POST carrying the viewer's own valid CSRF token, and one with none
    csrf = web.page.evaluate("() => JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token']")
    forged = web.page.request.post(f"{web.base}/recalls/{number}/activate",
                                   form={"csrf_token": csrf, "sig_password": USERS["viewer"][0]})
    assert forged.status == 403 and "recall.write" in forged.text()
    no_token = qa.page.request.post(f"{qa.base}/recalls/{number}/cancel", form={"reason": "forged"})
    assert no_token.status == 403 and "CSRF token" in no_token.text()
    web.go(f"/recalls/{number}")
    expect(web.page.locator("h1")).to_contain_text("draft")  # neither request changed anything


def test_a_kpi_run_is_computed_charted_and_published(web):
    web.sign_in("ana")
    web.go("/kpi")
    web.page.get_by_label("Notes").fill("browser test run")
    web.page.get_by_role("button", name="Compute").click()
    _wait_for_job(web)
    expect(web.page.locator("h1")).to_contain_text("computed")
    expect(web.page.locator("#bars[data-drawn]")).to_have_count(1)
    expect(web.page.locator("table tbody tr").first).to_be_visible()
    web.page.get_by_label("Your password").fill(USERS["ana"][0])
    web.page.get_by_role("button", name="Publish (sign)").click()
    expect(web.page.locator("h1")).to_contain_text("published")
    web.go("/")
    expect(web.page.locator("#h-kpi + p")).to_contain_text("Run of")


def test_bad_input_shows_the_services_message_next_to_the_field_and_writes_nothing(web, new_web):
    web.sign_in("qa")
    web.go("/recalls")
    before = web.page.locator("main table tbody tr").count()
    new = web.page.get_by_role("region", name="New recall case")
    new.get_by_label("Target lot (code)").fill("NO-SUCH-LOT")
    new.get_by_role("button", name="Create recall case").click()
    expect(web.page.locator("#err-lot")).to_contain_text("unknown lot 'NO-SUCH-LOT'")
    expect(web.page.locator("#f-lot")).to_have_attribute("aria-invalid", "true")
    web.go("/recalls")
    assert web.page.locator("main table tbody tr").count() == before  # no case was half-created
    ana = new_web().sign_in("ana")
    ana.go("/kpi")
    runs = ana.page.locator("main table tbody tr").count()
    ana.page.get_by_label("Window start (UTC)").fill("2026-11-20T10:00")
    ana.page.get_by_label("Window end (UTC, excluded)").fill("2026-11-10T10:00")
    ana.page.get_by_role("button", name="Compute").click()
    expect(ana.page.get_by_role("alert")).to_contain_text("must be after window_start")
    assert ana.page.locator("main table tbody tr").count() == runs
    assert ana.errors == []


def test_pages_are_readable_on_a_tablet_and_work_from_the_keyboard(new_web):
    tablet = new_web(768, 1024)
    tablet.sign_in("qa")
    for path in ("/", "/lots/F2411-A", "/recalls", "/kpi", "/trace/F2411-A"):
        tablet.go(path)
        width = tablet.page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 768, f"{path} scrolls sideways on a tablet ({width} px)"
    tablet.go("/lots")
    # the search box takes the focus by itself (autofocus); wait for it, a loaded machine is slow
    expect(tablet.page.locator("#lot-q")).to_be_focused()
    tablet.page.keyboard.type("F2411")
    expect(tablet.page.locator("#results")).to_contain_text("F2411-A")
    for _ in range(40):
        tablet.page.keyboard.press("Tab")
        if tablet.page.evaluate("() => document.activeElement.textContent") == "F2411-A":
            break
    tablet.page.keyboard.press("Enter")
    expect(tablet.page.get_by_role("heading", name=re.compile("Lot F2411-A"))).to_be_visible()
    assert tablet.errors == []


def test_the_audit_trail_shows_who_changed_a_lot_and_admin_manages_users_and_tokens(web, new_web):
    qa = new_web().sign_in("qa")
    qa.go("/lots/Y-1203")
    qa.page.get_by_label("New status").select_option("blocked")
    qa.page.get_by_label("Reason").fill("supplier notice 42")
    qa.page.get_by_role("button", name="Change status").click()
    expect(qa.page.locator("h1")).to_contain_text("blocked")
    expect(qa.page.locator("#h-details ~ table")).to_contain_text("supplier notice 42")
    qa.go("/audit?lot=Y-1203&user=quality")
    expect(qa.page.locator("main table")).to_contain_text("status: active → blocked")
    assert qa.errors == []

    web.sign_in("admin")
    web.go("/admin")
    add = web.page.get_by_role("region", name="Add a user")
    add.get_by_label("User name").fill("newqa")
    add.get_by_label("Full name (shown on signatures)").fill("New Quality")
    add.get_by_label("quality").check()
    add.get_by_label("Password").fill("a-long-enough-password-1")
    add.get_by_role("button", name="Add user").click()
    expect(web.page.locator("main table").first).to_contain_text("New Quality")
    token = web.page.get_by_role("region", name="Create a token")
    token.get_by_label("For user").fill("newqa")
    token.get_by_label("Token name").fill("scanner")
    token.get_by_role("button", name="Create token").click()
    assert web.page.locator(".error").count() == 0, web.page.locator(".error").all_inner_texts()
    secret = web.page.get_by_test_id("new-token").inner_text()
    assert secret.startswith("llt_")
    web.page.get_by_role("button", name=re.compile(r"Revoke llt_")).last.click()
    expect(web.page.locator("main").get_by_text("revoked")).to_be_visible()
