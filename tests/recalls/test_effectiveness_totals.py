"""The status report's quantities read from lot_flow_totals equal those summed from every ledger row.

recalls/sql/effectiveness_quantities.sql reads a lot's impacted and returned quantities from the
derived totals when none of its rows is later than the run's as_of, and what the case's completed
actions moved from their movements; tests/recalls/sql/effectiveness_quantities_rows.sql is the
statement it replaced (every ledger row of every lot). Both run on the same parameters here: as of
now and as of a past time (lots read from their rows), with and without completed actions.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from lotline.db import sql
from lotline.inventory import service as inventory
from lotline.inventory.schemas import ReturnIn
from lotline.recalls import service as recalls
from lotline.recalls.runs import run_sets
from lotline.recalls.schemas import ActionIn, CaseIn, RunIn, TargetIn, TransitionIn
from tests.builders import at, sign
from tests.recalls.completion_support import with_strategy

_ROWS = (Path(__file__).parent / "sql" / "effectiveness_quantities_rows.sql").read_text(encoding="utf-8")


def _open_recall(session, *targets: TargetIn):
    case = recalls.create_case(session, CaseIn(severity="high", summary="effectiveness from totals"))
    for t in targets:
        recalls.add_target(session, case.id, t)
    with_strategy(session, case)
    recalls.activate(session, case.id, TransitionIn(signature=sign(session)))
    return case


def _both(session, case) -> tuple[list[tuple], list[tuple]]:
    """(from totals, from every ledger row) for the case's computed run, on the same parameters."""
    case = recalls.find_case(session, case.id)
    run = recalls.latest_run(session, case)
    sets = run_sets(session, run)
    params = {"case_id": case.id, "lot_ids": sets.recalled_lots, "shipment_ids": sets.shipments,
              "as_of": run.as_of, "since": case.initiated_at or run.as_of}  # fmt: skip
    new = sql.rows(session, sql.load_sql("lotline.recalls", "effectiveness_quantities"), params, kind="tuple")
    old = sql.rows(session, _ROWS, params, kind="tuple")
    return new, old


def _recover_some(session, case) -> None:
    """ALPHA returns 10 of B-1 into quarantine; B-1 is scrapped; C-1 quarantined (completed actions)."""
    inventory.return_goods(
        session,
        ReturnIn(
            customer="ALPHA",
            lines=[{"item": "BREAD", "location": "QA", "quantity": 10, "lots": [{"lot": "B-1", "quantity": 10}]}],
        ),
    )
    for action_type, lot in (("scrap_lot", "B-1"), ("quarantine_lot", "C-1")):
        action = recalls.plan_action(session, case.id, ActionIn(action_type=action_type, lot=lot))
        recalls.run_action(session, action.id)


def test_without_actions_the_totals_give_the_ledger_rows_quantities(session, world):
    case = _open_recall(session, TargetIn(lot="F-1"), TargetIn(lot="F-2"))
    recalls.compute_run(session, case.id)
    new, old = _both(session, case)
    assert new == old and new and any(r[1] > 0 for r in new)


def test_returns_scraps_and_quarantines_read_from_totals_and_actions_equal_the_ledger_rows(session, world):
    case = _open_recall(session, TargetIn(lot="F-1"))
    recalls.compute_run(session, case.id)
    _recover_some(session, case)
    new, old = _both(session, case)
    assert new == old
    ea = next(r for r in new if r[0] == "ea")
    # (impacted, quarantined, scrapped, returned, recovered): each path exercised, none zero
    assert ea[1:] == (Decimal(130), Decimal(30), Decimal(50), Decimal(10), Decimal(90))
    # a run computed after the recovery counts the same, from totals that now hold those movements
    recalls.compute_run(session, case.id)
    new, old = _both(session, case)
    assert new == old


def test_a_run_as_of_a_past_time_reads_the_later_lots_from_their_rows(session, world):
    case = _open_recall(session, TargetIn(lot="F-1"), TargetIn(lot="F-2"))
    recalls.compute_run(session, case.id)
    _recover_some(session, case)
    # as of day 2.5: lots moved on days 3 and 4 (and by the actions, now) have later rows
    recalls.compute_run(session, case.id, RunIn(as_of=at(2.5)))
    new, old = _both(session, case)
    assert new == old and new
    later = sql.scalar(
        session,
        "SELECT count(DISTINCT f.lot_id) FROM lot_flow_totals f WHERE f.lot_id = ANY(%(ids)s::uuid[])"
        " AND f.last_occurred_at > %(as_of)s::timestamptz",
        {"ids": run_sets(session, recalls.latest_run(session, recalls.find_case(session, case.id))).recalled_lots,
         "as_of": at(2.5)},
    )
    assert later > 0  # the rows path ran


def test_the_report_gathers_in_one_pipeline_what_each_function_gives_alone(session, world):
    from lotline.reports import recall_data

    case = _open_recall(session, TargetIn(lot="F-1"), TargetIn(item="SALT"))  # SALT: not lot-tracked
    recalls.compute_run(session, case.id)
    _recover_some(session, case)
    run = recalls.latest_run(session, recalls.find_case(session, case.id))
    data = recall_data.report_data(session, case.id)
    assert data["impacted_lots"] == recalls.run_lots(session, run.id) and data["impacted_lots"]
    alone = recalls.effectiveness(session, case.id)
    assert data["effectiveness"] == alone and alone["quantities"] and alone["customers_impacted"] > 0
    assert [c["customer_code"] for c in data["impacted_customers"]] == sorted(
        {s["customer_code"] for s in recalls.run_shipments(session, run.id)}
    )
