"""Cursor pagination of the listings that used to answer everything at once: users, tokens, KPI
runs and the nested recall lists (targets, runs, actions, notices, consignees, responses,
effectiveness checks, status reports).

Each listing, walked two items a page, gives every row of its service's listing exactly once and
in the order of the one-page answer; ``limit`` is bounded; a cursor it did not give is refused as
invalid input (422 problem+json), also one from another listing.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from lotline.api import pagination
from lotline.auth import service as auth_service
from lotline.kpis import service as kpis
from lotline.kpis.schemas import RunIn
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
}


def _key(row: dict) -> str:
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
        kpis.run_kpis(session, RunIn(window_start=end - timedelta(days=days), window_end=end))
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
    }
    return {name: (path.format(n=case.recall_number), [str(k) for k in expected[name]])
            for name, path in LISTINGS.items()}


def _walk(client, path: str, limit: int) -> list[str]:
    """Every key of a listing, page after page, checking each page's envelope and Link header."""
    keys, cursor, pages = [], None, 0
    while True:
        r = client.get(path, params={"limit": limit, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body) == {"items", "has_more", "next_cursor"}
        assert len(body["items"]) <= limit
        keys += [_key(x) for x in body["items"]]
        pages += 1
        assert pages < 100, "the cursor does not advance"
        if not body["has_more"]:
            assert body["next_cursor"] is None and "link" not in r.headers
            return keys
        assert len(body["items"]) == limit
        cursor = body["next_cursor"]
        assert r.headers["link"].endswith('>; rel="next"') and f"cursor={cursor}" in r.headers["link"]


# listings whose rows all differ in the service's sort key (the others tie on a creation time
# within one transaction, where the page order breaks the tie by id)
SERVICE_ORDER = {"users", "recall-targets", "recall-runs", "recall-actions", "recall-consignees", "recall-responses",
                 "recall-checks", "recall-status-reports"}


@pytest.mark.parametrize("listing", list(LISTINGS))
def test_pages_walk_the_whole_listing_exactly_once_in_order(client, listed, listing):
    path, expected = listed[listing]
    assert len(expected) >= 3, f"the world gives {listing} too few rows to need pages"
    whole = _walk(client, path, pagination.MAX_LIMIT)
    assert _walk(client, path, 2) == whole
    assert len(set(whole)) == len(whole)
    assert sorted(whole) == sorted(expected)
    if listing in SERVICE_ORDER:
        assert whole == expected
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
        r = client.get(LISTINGS[listing].format(n="RC-NONE"), params={"limit": limit})
        assert r.status_code == 422 and r.headers["content-type"].startswith(PROBLEM)
        assert r.json()["code"] == "invalid_input"


@pytest.mark.parametrize("listing", list(LISTINGS))
def test_a_cursor_the_listing_did_not_give_is_invalid_input(client, listing):
    path = LISTINGS[listing].format(n="RC-NONE")
    for bad in ("not-a-cursor", pagination.encode("stock", ["x"]), pagination.encode(listing, ["x"])[:-1]):
        _invalid_cursor(client.get(path, params={"cursor": bad}))


@pytest.mark.parametrize("listing", list(LISTINGS))
def test_a_well_formed_cursor_naming_no_position_is_invalid_input_not_a_500(client, session, listing):
    # the checksum guards against accidents, not forgery: these encode positions this listing
    # never gave (too many values; values of the wrong type)
    path = LISTINGS[listing].format(n=recalls.create_case(session, CaseIn(summary="paged")).recall_number)
    for forged in (pagination.encode(listing, ["a", "b", "c", "d", "e", "f"]), pagination.encode(listing, ["x"] * 5),
                   pagination.encode(listing, ["x"])):
        r = client.get(path, params={"cursor": forged})
        assert r.status_code in (200, 422), r.text
        if r.status_code == 422:
            assert r.json()["code"] == "invalid_input"
