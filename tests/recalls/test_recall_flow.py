"""End to end on the hand-built world (see conftest): known lots, customers, stock and exports."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import openpyxl
import pytest
import sqlalchemy as sa

from lotline.errors import LotNotReleased
from lotline.lots import service as lots_service
from lotline.models import InventoryMovement, RecallAction, RecallCommunication, RecallTraceRun
from lotline.recalls import service as recalls
from lotline.recalls.schemas import (
    ActionIn,
    ActionRun,
    CaseIn,
    DraftIn,
    RecordIn,
    RunIn,
    TargetIn,
    TransitionIn,
)
from lotline.reports import recall_report
from tests.builders import at, ship, sign
from tests.recalls.completion_support import with_strategy
from tests.reports import fsma204_reference as fsma204


def _open_recall(session, *targets: TargetIn, severity="high"):
    case = recalls.create_case(session, CaseIn(severity=severity, summary="Salmonella in flour lot F-1"))
    for t in targets:
        recalls.add_target(session, case.id, t)
    with_strategy(session, case)
    recalls.activate(session, case.id, TransitionIn(signature=sign(session)))
    return case


def _customers(session, run_id) -> set[str]:
    return {s["customer_code"] for s in recalls.run_shipments(session, run_id)}


def _lots(session, run_id) -> set[tuple[str, str]]:
    return {(x["lot_code"], x["role"]) for x in recalls.run_lots(session, run_id)}


def _on_hand(session, lot) -> dict[str, Decimal]:
    return {r["location"]: r["quantity"] for r in lots_service.on_hand(session, lot_id=lot.id)}


def test_a_recall_of_a_raw_lot_reaches_exactly_the_customers_of_it_and_its_products(session, world):
    case = _open_recall(session, TargetIn(lot="F-1"))
    assert case.recall_number.startswith("RC-") and case.status == "active" and case.initiated_at
    run = recalls.compute_run(session, case.id)
    assert run.status == "computed"
    assert _lots(session, run.id) == {
        ("F-1", "target"),
        ("B-1", "downstream_finished"),
        ("C-1", "downstream_finished"),
    }
    assert _customers(session, run.id) == {"ALPHA", "BETA", "DELTA"}
    lines = recalls.shipment_lines(session, run.id)
    assert {(x["customer_code"], x["lot_code"], x["quantity"]) for x in lines} == {
        ("ALPHA", "B-1", Decimal(30)),
        ("BETA", "C-1", Decimal(20)),
        ("DELTA", "F-1", Decimal(5)),
    }

    assert recalls.plan_all(session, case.id) == 4
    actions = recalls.list_actions(session, case)
    assert sorted((a["action_type"], a["lot_code"] or "") for a in actions) == [
        ("customer_notify", ""),  # case level: one notice per impacted customer
        ("quarantine_lot", "B-1"),
        ("quarantine_lot", "C-1"),
        ("quarantine_lot", "F-1"),
    ]
    assert recalls.plan_all(session, case.id) == 0  # nothing planned twice

    for a in actions:
        recalls.run_action(session, a["id"], ActionRun(channel="phone"))
    for code, qty in (("F-1", 35), ("B-1", 50), ("C-1", 30)):
        lot = world.lots[code]
        session.refresh(lot)
        assert lot.status == "quarantine"
        assert _on_hand(session, lot) == {"QA": Decimal(qty)}
    comms = recalls.list_communications(session, case)
    assert sorted((c["customer_code"], c["channel"], c["status"]) for c in comms) == [
        ("ALPHA", "phone", "draft"),
        ("BETA", "phone", "draft"),
        ("DELTA", "phone", "draft"),
    ]
    beta = next(c for c in comms if c["customer_code"] == "BETA")
    body = session.get(RecallCommunication, beta["id"]).body
    assert "C-1" in body and "SO-2" in body and "20 ea" in body and "B-1" not in body
    for c in comms:
        recalls.record_communication(session, c["id"], RecordIn(status="sent", reference="spoke to buyer"))

    eff = recalls.effectiveness(session, case.id)
    assert (eff["customers_impacted"], eff["customers_notified"], eff["customers_failed"]) == (3, 3, 0)
    by_uom = {q["uom"]: q for q in eff["quantities"]}
    # kg: F-1 received 100, 60 consumed into B-1/C-1 (counted there) -> 35 on hand + 5 shipped
    assert (by_uom["kg"]["impacted"], by_uom["kg"]["quarantined"], by_uom["kg"]["recovered"]) == (40, 35, 35)
    assert (by_uom["ea"]["impacted"], by_uom["ea"]["quarantined"], by_uom["ea"]["recovered"]) == (130, 80, 80)
    assert eff["seconds_to_first_trace_run"] is not None and eff["seconds_to_last_notice"] is not None

    # FSMA 204 spreadsheet: receiving of F-1, three transformation rows, three shipments
    table = fsma204.rows(fsma204.fsma_events(session, case.id))
    kinds = [(r.event_type, r.traceability_lot_code, r.input_traceability_lot_code) for r in table]
    assert kinds == [
        ("Receiving", "F-1", None),
        ("Transformation", "B-1", "F-1"),
        ("Shipping", "B-1", None),
        ("Shipping", "F-1", None),
        ("Transformation", "C-1", "F-1"),
        ("Transformation", "C-1", "S-1"),
        ("Shipping", "C-1", None),
    ]
    receiving = table[0]
    assert (
        receiving.tlc_source_reference == "MILL-77" and receiving.previous_source_or_next_recipient == "Mill"
    )
    assert table[3].previous_source_or_next_recipient == "Delta (DELTA)"
    assert table[3].reference_document_number == "SO-4"
    parsed = list(csv.reader(io.StringIO(fsma204.to_csv(table))))
    assert parsed[0][0] == "Event type" and len(parsed) == 8
    wb = openpyxl.load_workbook(io.BytesIO(fsma204.to_xlsx(table)))
    assert wb.active.max_row == 8 and wb.active["D2"].value == "F-1"

    recalls.close(session, case.id, TransitionIn(reason="all recovered", signature=sign(session)))
    data = recalls.report_data(session, case.id)
    html = recall_report.to_html(data)
    assert case.recall_number in html and "Delta" in html and "quarantine_lot" in html
    doc = json.loads(recall_report.to_json(data))
    assert doc["case"]["status"] == "closed" and len(doc["impacted_lots"]) == 3
    assert [c["customer_code"] for c in doc["impacted_customers"]] == ["ALPHA", "BETA", "DELTA"]


def test_an_untracked_item_target_reaches_the_shipments_of_that_item(session, world):
    case = _open_recall(session, TargetIn(item="SALT"))
    run = recalls.compute_run(session, case.id)
    assert _customers(session, run.id) == {"GAMMA"}
    assert _lots(session, run.id) == set()
    lines = recalls.shipment_lines(session, run.id)
    assert [(x["sku"], x["lot_code"], x["quantity"], x["uom"]) for x in lines] == [
        ("SALT", None, Decimal(3), "kg")
    ]
    shipping = fsma204.rows(fsma204.fsma_events(session, case.id))
    assert [(r.event_type, r.sku, r.quantity) for r in shipping] == [("Shipping", "SALT", Decimal(3))]


def test_a_lot_tracked_item_target_covers_all_its_lots(session, world):
    case = _open_recall(session, TargetIn(item="BREAD"))
    run = recalls.compute_run(session, case.id)
    targets = {code for code, role in _lots(session, run.id) if role == "target"}
    assert targets == {"B-1", "B-2"}
    assert ("F-1", "upstream_component") in _lots(session, run.id)
    assert _customers(session, run.id) == {"ALPHA", "GAMMA"}  # DELTA got flour, not bread


def test_a_new_run_supersedes_the_old_one_and_the_diff_shows_what_became_impacted(session, world):
    case = _open_recall(session, TargetIn(lot="F-1"))
    first = recalls.compute_run(session, case.id, RunIn(as_of=at(2.5)))
    assert _lots(session, first.id) == {("F-1", "target"), ("B-1", "downstream_finished")}
    assert _customers(session, first.id) == {"ALPHA", "DELTA"}
    second = recalls.compute_run(session, case.id, RunIn(notes="after WO-2"))
    session.refresh(first)
    assert first.status == "superseded" and second.status == "computed"
    statuses = session.scalars(
        sa.select(RecallTraceRun.status).where(RecallTraceRun.recall_case_id == case.id)
    ).all()
    assert sorted(statuses) == ["computed", "superseded"]
    diff = recalls.diff_runs(session, first.id, second.id)
    assert [(d["change"], d["lot_code"], d["role"]) for d in diff["lots"]] == [
        ("added", "C-1", "downstream_finished")
    ]
    assert [(d["change"], d["customer_code"]) for d in diff["shipments"]] == [("added", "BETA")]
    back = recalls.diff_runs(session, second.id, first.id)
    assert [d["change"] for d in back["lots"] + back["shipments"]] == ["removed", "removed"]
    runs = recalls.list_runs(session, case)
    assert [(r["status"], r["lots"], r["customers"]) for r in runs] == [
        ("superseded", 2, 2),
        ("computed", 3, 3),
    ]


def test_quarantine_scrap_block_and_restock_really_move_stock(session, world):
    case = _open_recall(session, TargetIn(lot="F-1"))
    f1, b1, c1 = world.lots["F-1"], world.lots["B-1"], world.lots["C-1"]

    q = recalls.plan_action(session, case.id, ActionIn(action_type="quarantine_lot", lot="F-1"))
    recalls.start_action(session, q.id)
    q = recalls.run_action(session, q.id)
    assert q.status == "completed" and q.inventory_movement_id is not None
    movement = session.get(InventoryMovement, q.inventory_movement_id)
    assert movement.movement_type == "transfer"
    session.refresh(f1)
    assert f1.status == "quarantine" and _on_hand(session, f1) == {"QA": Decimal(35)}

    b = recalls.run_action(
        session, recalls.plan_action(session, case.id, ActionIn(action_type="block_lot", lot="B-1")).id
    )
    assert b.inventory_movement_id is None
    session.refresh(b1)
    assert b1.status == "blocked"
    from tests.builders import order

    order(session, "SO-9", world.customers["GAMMA"], [(world.items["BREAD"], 5, None)])
    with pytest.raises(LotNotReleased, match="B-1.*blocked"):
        ship(session, "SO-9", [(1, world.wh, 5, [("B-1", 5)])], when=at(5))
    shipped = ship(session, "SO-9", [(1, world.wh, 5, None)], when=at(5))  # allocation skips B-1
    assert [r.lot_id for rows in shipped.posted.lot_rows for r in rows] == [world.lots["B-2"].id]

    s = recalls.run_action(
        session, recalls.plan_action(session, case.id, ActionIn(action_type="scrap_lot", lot="C-1")).id
    )
    assert session.get(InventoryMovement, s.inventory_movement_id).movement_type == "scrap"
    session.refresh(c1)
    assert c1.status == "consumed" and _on_hand(session, c1) == {}

    r = recalls.run_action(
        session, recalls.plan_action(session, case.id, ActionIn(action_type="restock_lot", lot="F-1")).id
    )
    session.refresh(f1)
    assert f1.status == "active" and _on_hand(session, f1) == {"WH1": Decimal(35)}
    assert session.get(InventoryMovement, r.inventory_movement_id).movement_type == "transfer"

    eff = recalls.effectiveness(session, case.id)
    # no trace run computed: figures stay empty rather than invented
    assert eff["customers_impacted"] == 0 and eff["quantities"] == []
    assert (
        session.scalar(
            sa.select(sa.func.count()).select_from(RecallAction).where(RecallAction.status == "completed")
        )
        == 4
    )


def test_customer_notify_drafts_one_notice_per_customer_and_channel(session, world):
    case = _open_recall(session, TargetIn(lot="F-1"))
    recalls.compute_run(session, case.id)
    created = recalls.draft_communications(session, case.id, DraftIn(channel="email"))
    assert len(created) == 3
    assert recalls.draft_communications(session, case.id, DraftIn(channel="email")) == []
    letters = recalls.draft_communications(session, case.id, DraftIn(channel="letter", customers=["ALPHA"]))
    assert len(letters) == 1 and "URGENT" in letters[0].subject


def test_a_shipment_level_notify_action_drafts_a_notice_for_that_customer_only(session, world):
    case = _open_recall(session, TargetIn(lot="F-1"))
    run = recalls.compute_run(session, case.id)
    beta = next(s for s in recalls.run_shipments(session, run.id) if s["customer_code"] == "BETA")
    action = recalls.plan_action(
        session, case.id, ActionIn(action_type="customer_notify", shipment=str(beta["shipment_id"]))
    )
    recalls.run_action(session, action.id, ActionRun(channel="portal"))
    assert [(c["customer_code"], c["channel"]) for c in recalls.list_communications(session, case)] == [
        ("BETA", "portal")
    ]
    # the case-level notify planned afterwards adds the others, not BETA again
    assert recalls.plan_all(session, case.id) == 4
    notify = next(
        a
        for a in recalls.list_actions(session, case, status="planned")
        if a["action_type"] == "customer_notify"
    )
    recalls.run_action(session, notify["id"], ActionRun(channel="portal"))
    assert sorted(c["customer_code"] for c in recalls.list_communications(session, case)) == [
        "ALPHA",
        "BETA",
        "DELTA",
    ]


def test_effectiveness_counts_returns_and_scrap_without_counting_twice(session, world):
    from lotline.inventory import service as inventory
    from lotline.inventory.schemas import ReturnIn

    case = _open_recall(session, TargetIn(lot="F-1"))
    recalls.compute_run(session, case.id)
    # ALPHA sends back 10 of its 30 B-1 into quarantine; B-1's 50 at WH1 are scrapped; C-1 quarantined
    inventory.return_goods(
        session,
        ReturnIn(
            customer="ALPHA",
            lines=[
                {"item": "BREAD", "location": "QA", "quantity": 10, "lots": [{"lot": "B-1", "quantity": 10}]}
            ],
        ),
    )
    scrap = recalls.plan_action(session, case.id, ActionIn(action_type="scrap_lot", lot="B-1"))
    recalls.run_action(session, scrap.id)
    q = recalls.plan_action(session, case.id, ActionIn(action_type="quarantine_lot", lot="C-1"))
    recalls.run_action(session, q.id)
    by_uom = {x["uom"]: x for x in recalls.effectiveness(session, case.id)["quantities"]}
    ea = by_uom["ea"]
    # impacted: B-1 80 + C-1 50; scrapped outside quarantine: the 50 at WH1 (the 10 returned to QA
    # were scrapped too but are counted once, as returned); quarantined: C-1 30
    assert (ea["impacted"], ea["returned"], ea["scrapped"], ea["quarantined"]) == (130, 10, 50, 30)
    assert ea["recovered"] == 90 and ea["recovered_pct"] == Decimal("69.2")
    assert by_uom["kg"]["recovered"] == 0
