"""Effectiveness samples (reproducible, stored, never redrawn), 7.53 status reports (immutable, with
changes), the 7.46 initial report, and inbound recall notices matched to our receipts."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
import sqlalchemy as sa
from pydantic import ValidationError

from lotline.errors import DuplicateKey, InvalidInput, InvalidStateTransition, NotFound
from lotline.recalls import checks, consignees, inbound, status_reports
from lotline.recalls import service as recalls
from lotline.recalls.completion_schemas import CheckResultIn, InboundNoticeIn, RecordedResponseIn
from lotline.reports import initial_report
from tests.recalls.completion_support import active_recall, consignee


@pytest.mark.parametrize(("share", "population", "size"), [
    (Decimal(100), 7, 7), (Decimal(10), 7, 1), (Decimal(10), 50, 5), (Decimal(2), 50, 1), (Decimal(2), 151, 4),
    (Decimal("33.5"), 10, 4), (Decimal(0), 10, 0), (Decimal(10), 0, 0),
])
def test_the_sample_size_is_the_levels_share_rounded_up(share, population, size):
    assert checks.sample_size(share, population) == size


def test_a_sample_is_reproducible_from_its_seed_stored_and_never_redrawn(session, world):
    case, _ = active_recall(session, effectiveness_level="B", effectiveness_pct=Decimal(50))
    drawn = checks.draw_sample(session, case, seed=1234)
    assert len(drawn) == 2 and {c["seed"] for c in drawn} == {1234}  # 50 % of 3, rounded up
    with pytest.raises(InvalidStateTransition, match="never redrawn"):
        checks.draw_sample(session, case, seed=1234)
    # the same seed over the same consignees draws the same ones (in another case)
    other, _ = active_recall(session, effectiveness_level="B", effectiveness_pct=Decimal(50))
    ids = sorted(k["id"] for k in consignees.list_consignees(session, other))
    import random

    expected = sorted(random.Random(1234).sample(ids, 2))
    assert sorted(c["consignee_id"] for c in checks.draw_sample(session, other, seed=1234)) == expected


def test_level_e_draws_nothing_and_counts_as_met(session, world):
    case, _ = active_recall(session, effectiveness_level="E")
    with pytest.raises(InvalidInput, match="level E"):
        checks.draw_sample(session, case)
    assert checks.consignee_figures(session, case)["effectiveness_met"] is True


def test_effectiveness_is_met_when_every_drawn_check_is_done_and_effective(session, world):
    case, _ = active_recall(session, effectiveness_level="A")
    drawn = checks.draw_sample(session, case, seed=7)
    assert len(drawn) == 3
    assert checks.consignee_figures(session, case)["effectiveness_met"] is False
    for c in drawn:
        checks.record_check(session, case, c["id"], CheckResultIn(result="effective"), checked_by="qa")
    figures = checks.consignee_figures(session, case)
    assert figures["effectiveness_checks"]["done"] == 3 and figures["effectiveness_met"] is True
    with pytest.raises(InvalidStateTransition, match="already recorded"):
        checks.record_check(session, case, drawn[0]["id"], CheckResultIn(result="ineffective"), checked_by="qa")


def test_consignee_figures_count_responding_and_reported_quantities(session, world):
    case, _ = active_recall(session)
    beta = consignee(session, case, "BETA")
    consignees.record_response(session, case, beta["id"], RecordedResponseIn(
        channel="phone", holds_product=True, quantity_on_hand=Decimal(5), quantity_returned=Decimal(15),
        responder="B"), recorded_by="qa")
    f = checks.consignee_figures(session, case)
    assert (f["consignees"], f["responding"], f["not_responding"], f["still_holding"]) == (3, 1, 2, 1)
    assert (f["reported_on_hand"], f["reported_returned"]) == (Decimal(5), Decimal(15))
    assert f["overdue"] == 0  # the deadline is a week away


def test_status_reports_are_numbered_immutable_and_list_what_changed(session, world):
    case, _ = active_recall(session)
    first = status_reports.issue(session, case, issued_by="qa")
    assert first.seq == 1 and first.changes == {}
    consignees.record_response(session, case, consignee(session, case, "ALPHA")["id"], RecordedResponseIn(
        channel="email", holds_product=False, responder="A"), recorded_by="qa")
    second = status_reports.issue(session, case, issued_by="qa")
    assert second.seq == 2
    assert second.changes["consignees.responding"] == {"before": 0, "after": 1, "delta": "1"}
    assert status_reports.get(session, case, 1)["figures"]["consignees"]["responding"] == 0  # as issued
    session.flush()
    with pytest.raises(sa.exc.DBAPIError, match="never changed"), session.begin_nested():
        session.execute(sa.text("UPDATE recall_status_reports SET issued_by = 'x'"))
    with pytest.raises(NotFound, match="no status report #9"):
        status_reports.get(session, case, 9)


def test_a_status_report_is_due_on_the_cases_cadence_only(session, world):
    case, _ = active_recall(session)
    assert not status_reports.due(session, case)  # no cadence set
    case2, _ = active_recall(session, status_report_interval_days=7)
    assert status_reports.due(session, case2)
    status_reports.issue(session, case2, issued_by="worker")
    assert not status_reports.due(session, case2)


def test_the_initial_report_states_products_amounts_accounts_strategy_and_contact(session, world):
    case, _ = active_recall(session)
    recalls.draft_communications(session, case.id, _draft())
    report = initial_report.data(session, case)
    by_lot = {p["lot_code"]: p for p in report["products"]}
    assert set(by_lot) == {"F-1", "B-1", "C-1"}
    assert (by_lot["F-1"]["produced"], by_lot["F-1"]["distributed"]) == (Decimal(100), Decimal(5))
    assert (by_lot["B-1"]["produced"], by_lot["B-1"]["distributed"]) == (Decimal(80), Decimal(30))
    assert report["distribution"]["direct_accounts"] == 3
    assert report["strategy"]["fda_class"] == "II" and report["contact"]["email"] == "qa@bakery.example"
    assert report["notice"]["subject"].startswith("URGENT product recall")
    html = initial_report.to_html(report)
    assert "Health hazard evaluation" in html and "Salmonella found in a retained sample" in html
    sheet = openpyxl.load_workbook(io.BytesIO(initial_report.accounts_xlsx(report))).active
    assert sorted(r[0] for r in sheet.iter_rows(min_row=2, values_only=True)) == ["Alpha", "Beta", "Delta"]


def _draft():
    from lotline.recalls.schemas import DraftIn

    return DraftIn()


def test_an_inbound_notice_opens_a_draft_case_on_the_lots_received_with_those_vendor_lot_codes(session, world):
    opened = inbound.open_case(session, InboundNoticeIn(vendor="MILL", vendor_lot_codes=["MILL-77"],
                                                         summary="Mill recalls lot MILL-77: Salmonella"))
    assert [r["lot_code"] for r in opened["lots"]] == ["F-1"]
    case = recalls.find_case(session, opened["recall_number"])
    assert case.status == "draft" and "MILL-77" in case.notes
    assert [t["lot_code"] for t in recalls.list_targets(session, case)] == ["F-1"]
    with pytest.raises(DuplicateKey, match=f"{case.recall_number} .draft. already targets all 1"):
        inbound.open_case(session, InboundNoticeIn(vendor="MILL", vendor_lot_codes=["MILL-77"], summary="again"))


def test_an_inbound_notice_by_item_and_dates_and_one_that_matches_nothing(session, world):
    today = date.today()
    found = inbound.match(session, InboundNoticeIn(vendor="MILL", items=["FLOUR"], received_from=today.replace(year=today.year - 1),
                                                    summary="all flour"))
    assert {r["lot_code"] for r in found} == {"F-1", "F-2"}
    with pytest.raises(NotFound, match="no lot received from vendor 'MILL' matches"):
        inbound.open_case(session, InboundNoticeIn(vendor="MILL", vendor_lot_codes=["NOPE"], summary="x"))
    with pytest.raises(NotFound):
        inbound.match(session, InboundNoticeIn(vendor="NOBODY", vendor_lot_codes=["MILL-77"], summary="x"))
    with pytest.raises(ValidationError, match="names vendor lot codes, items or a date range"):
        InboundNoticeIn(vendor="MILL", summary="x")
    with pytest.raises(ValidationError, match="received_to is before received_from"):
        InboundNoticeIn(vendor="MILL", received_from=today, received_to=today.replace(year=today.year - 1), summary="x")
