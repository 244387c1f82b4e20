"""Cursor pagination of the listings that used to answer everything at once: users, tokens, KPI
runs and snapshots, a lot's history and the nested recall lists (targets, runs, actions, notices,
consignees, responses, effectiveness checks, status reports).

Each listing, walked two items a page, gives every row of its service's listing exactly once and
in the order of the one-page answer; ``limit`` is bounded; a cursor it did not give is refused as
invalid input (422 problem+json), also one from another listing.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from lotline.api import pagination
from lotline.auth import service as auth_service
from lotline.inventory import queries
from lotline.kpis import service as kpis
from lotline.kpis.schemas import RunIn
from lotline.lots import service as lots_service
from lotline.recalls import checks, consignees, status_reports
from lotline.recalls import service as recalls
from lotline.recalls.completion_schemas import RecordedResponseIn
from lotline.recalls.schemas import CaseIn, DraftIn, TargetIn
from lotline.types import utcnow
from tests.recalls.completion_support import active_recall
from tests.worlds import build_world

PROBLEM = "application/problem+json"

# listing name (as its cursors say) -> path ({n}: the recall number)
LISTINGS = {
    "users": "/users",
    "tokens": "/tokens",
    "kpi-runs": "/kpi/runs",
    "recall-targets": "/recalls/{n}/targets",
    "recall-runs": "/recalls/{n}/runs",
    "recall-actions": "/recalls/{n}/actions",
    "recall-notices": "/recalls/{n}/communications",
    "recall-consignees": "/recalls/{n}/consignees",
    "recall-responses": "/recalls/{n}/responses",
    "recall-checks": "/recalls/{n}/effectiveness-checks",
    "recall-status-reports": "/recalls/{n}/status-reports",
    "kpi-snapshots": "/kpi/runs/{run}/snapshots",
    "lot-history": "/lots/F-1/history",
}


def _key(row: dict) -> str:
    if "kpi" in row:  # a snapshot: one per KPI and dimension
        return f"{row['kpi']}|{row['label']}"
    if "running_total" in row:  # a lot's movement line
        return f"{row['movement_id']}|{row['line_no']}"
    return str(row["id"] if "id" in row else row["seq"])


@pytest.fixture
def listed(session, client, make_user, token_for):
    """A world where every listing has at least three rows; maps listing -> (path, service's keys)."""
    build_world(session)
    case, _run = active_recall(session, effectiveness_level="A")
    for target in (TargetIn(lot="F-2"), TargetIn(lot="S-1"), TargetIn(item="SALT")):
        recalls.add_target(session, case.id, target)
    recalls.compute_run(session, case.id)
    recalls.compute_run(session, case.id)
    recalls.plan_all(session, case.id)
    recalls.draft_communications(session, case.id, DraftIn())
    for k in consignees.list_consignees(session, case):
        consignees.record_response(
            session, case, k["id"], RecordedResponseIn(channel="phone", holds_product=False, responder=k["name"]),
            recorded_by="pager",
        )
    checks.draw_sample(session, case, seed=7)
    for _ in range(3):
        status_reports.issue(session, case, issued_by="pager")
    for name in ("ursula", "victor", "wanda"):
        token_for(make_user(name, "viewer"))
    end = utcnow().replace(microsecond=0)
    for days in (7, 14, 21):
        run = kpis.run_kpis(session, RunIn(window_start=end - timedelta(days=days), window_end=end))
    f1 = lots_service.find_lot(session, "F-1").id
    expected = {
        "users": [r["id"] for r in auth_service.list_users(session)],
        "tokens": [r["id"] for r in auth_service.list_tokens(session)],
        "kpi-runs": [r.id for r in kpis.list_runs(session)],
        "recall-targets": [r["id"] for r in recalls.list_targets(session, case)],
        "recall-runs": [r["id"] for r in recalls.list_runs(session, case)],
        "recall-actions": [r["id"] for r in recalls.list_actions(session, case)],
        "recall-notices": [r["id"] for r in recalls.list_communications(session, case)],
        "recall-consignees": [r["id"] for r in consignees.list_consignees(session, case)],
        "recall-responses": [r["id"] for r in consignees.responses(session, case)],
        "recall-checks": [r["id"] for r in checks.list_checks(session, case)],
        "recall-status-reports": [r["seq"] for r in status_reports.list_reports(session, case)],
        "kpi-snapshots": [f"{r.kpi_name}|{r.label}" for r in kpis.snapshots(session, run.id)],
        "lot-history": [f"{r['movement_id']}|{r['line_no']}" for r in queries.lot_history(session, f1)],
    }
    return {name: (path.format(n=case.recall_number, run=run.id), [str(k) for k in expected[name]])
            for name, path in LISTINGS.items()}


def _walk(client, path: str, limit: int) -> list[str]:
    """Every key of a listing, page after page, checking each page's envelope and Link header."""
    return [_key(x) for x in _walk_rows(client, path, limit)]


def _walk_rows(client, path: str, limit: int) -> list[dict]:
    rows, cursor, pages = [], None, 0
    while True:
        r = client.get(path, params={"limit": limit, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body) == {"items", "has_more", "next_cursor"}
        assert len(body["items"]) <= limit
        rows += body["items"]
        pages += 1
        assert pages <= 200, "the cursor does not advance"
        if not body["has_more"]:
            assert body["next_cursor"] is None and "link" not in r.headers
            return rows
        assert len(body["items"]) == limit
        cursor = body["next_cursor"]
        assert r.headers["link"].endswith('>; rel="next"') and f"cursor={cursor}" in r.headers["link"]


# listings whose rows all differ in the service's sort key (the others tie on a creation time
# within one transaction, where the page order breaks the tie by id)
SERVICE_ORDER = {"users", "recall-targets", "recall-runs", "recall-actions", "recall-consignees", "recall-responses",
                 "recall-checks", "recall-status-reports", "kpi-snapshots", "lot-history"}


@pytest.mark.parametrize("listing", list(LISTINGS))
def test_pages_walk_the_whole_listing_exactly_once_in_order(client, listed, listing):
    path, expected = listed[listing]
    assert len(expected) >= 3, f"the world gives {listing} too few rows to need pages"
    small = max(2, len(expected) // 10)  # a dozen pages at most, more than one always
    whole = _walk(client, path, pagination.MAX_LIMIT)
    assert _walk(client, path, small) == whole
    assert len(set(whole)) == len(whole)
    assert sorted(whole) == sorted(expected)
    if listing in SERVICE_ORDER:
        assert whole == expected
    assert _walk_rows(client, path, small) == _walk_rows(client, path, pagination.MAX_LIMIT)  # e.g. running totals
    first = client.get(path, params={"limit": 1}).json()["next_cursor"]
    altered = first[:-2] + ("yy" if first.endswith("xx") else "xx")
    _invalid_cursor(client.get(path, params={"cursor": altered}))


def _invalid_cursor(r):
    assert r.status_code == 422 and r.headers["content-type"].startswith(PROBLEM), r.text
    body = r.json()
    assert body["code"] == "invalid_input" and "cursor" in body["detail"]


@pytest.mark.parametrize("listing", list(LISTINGS))
def test_a_page_size_is_bounded_on_every_listing(client, listing):
    for limit in (0, pagination.MAX_LIMIT + 1):
        r = client.get(LISTINGS[listing].format(n="RC-NONE", run="no-run"), params={"limit": limit})
        assert r.status_code == 422 and r.headers["content-type"].startswith(PROBLEM)
        assert r.json()["code"] == "invalid_input"


@pytest.mark.parametrize("listing", list(LISTINGS))
def test_a_cursor_the_listing_did_not_give_is_invalid_input(client, listing):
    path = LISTINGS[listing].format(n="RC-NONE", run="no-run")
    for bad in ("not-a-cursor", pagination.encode("stock", ["x"]), pagination.encode(listing, ["x"])[:-1]):
        _invalid_cursor(client.get(path, params={"cursor": bad}))


@pytest.mark.parametrize("listing", list(LISTINGS))
def test_a_well_formed_cursor_naming_no_position_is_invalid_input_not_a_500(client, session, listing):
    # the checksum guards against accidents, not forgery: these encode positions this listing
    # never gave (too many values; values of the wrong type)
    build_world(session)
    end = utcnow().replace(microsecond=0)
    run = kpis.run_kpis(session, RunIn(window_start=end - timedelta(days=7), window_end=end))
    number = recalls.create_case(session, CaseIn(summary="paged")).recall_number
    path = LISTINGS[listing].format(n=number, run=run.id)
    for forged in (pagination.encode(listing, ["a", "b", "c", "d", "e", "f"]), pagination.encode(listing, ["x"] * 5),
                   pagination.encode(listing, ["x"])):
        r = client.get(path, params={"cursor": forged})
        assert r.status_code in (200, 422), r.text
        if r.status_code == 422:
            assert r.json()["code"] == "invalid_input"
