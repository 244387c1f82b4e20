"""Every illegal transition and bad input is refused with an error naming what is wrong."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from pydantic import ValidationError

from lotline.errors import Conflict, DuplicateKey, InvalidInput, InvalidStateTransition, NotFound
from lotline.recalls import service as recalls
from lotline.recalls.schemas import ActionIn, ActionRun, CaseIn, DraftIn, RunIn, TargetIn, TransitionIn
from lotline.types import utcnow
from tests.builders import at, make_location, sign
from tests.recalls.completion_support import with_strategy


def _active(session, lot="F-1"):
    case = recalls.create_case(session, CaseIn(severity="medium"))
    recalls.add_target(session, case.id, TargetIn(lot=lot))
    with_strategy(session, case)
    return recalls.activate(session, case.id, TransitionIn(signature=sign(session)))


def test_recall_numbers_are_generated_in_sequence_and_unique(session):
    a = recalls.create_case(session, CaseIn())
    b = recalls.create_case(session, CaseIn())
    year = utcnow().year
    assert a.recall_number == f"RC-{year}-0001" and b.recall_number == f"RC-{year}-0002"
    recalls.create_case(session, CaseIn(recall_number="FDA-123"))
    with pytest.raises(DuplicateKey, match="FDA-123"):
        recalls.create_case(session, CaseIn(recall_number="FDA-123"))
    assert recalls.find_case(session, "FDA-123").status == "draft"
    with pytest.raises(NotFound, match="RC-1999-0001"):
        recalls.find_case(session, "RC-1999-0001")


def test_case_lifecycle_refuses_every_other_transition(session, world):
    case = recalls.create_case(session, CaseIn())
    with pytest.raises(InvalidStateTransition, match="from draft to closed"):
        recalls.close(session, case.id)
    with pytest.raises(InvalidInput, match="no targets"):
        recalls.activate(session, case.id)
    recalls.add_target(session, case.id, TargetIn(lot="F-1"))
    with pytest.raises(InvalidInput, match="no strategy"):
        recalls.activate(session, case.id)
    with_strategy(session, case)
    with pytest.raises(InvalidInput, match="in the future"):
        recalls.activate(session, case.id, TransitionIn(at=utcnow() + timedelta(days=1)))
    with pytest.raises(InvalidInput, match="needs an electronic signature"):
        recalls.activate(session, case.id, TransitionIn(at=at(10)))
    recalls.activate(session, case.id, TransitionIn(at=at(10), signature=sign(session)))
    with pytest.raises(InvalidStateTransition, match="from active to active"):
        recalls.activate(session, case.id)
    with pytest.raises(InvalidInput, match="before the recall was initiated"):
        recalls.close(session, case.id, TransitionIn(at=at(9)))
    with pytest.raises(InvalidInput, match="needs a reason"):
        recalls.close(session, case.id, TransitionIn(signature=sign(session)))
    with pytest.raises(InvalidInput, match="needs an electronic signature"):
        recalls.close(session, case.id, TransitionIn(reason="done"))
    recalls.close(session, case.id, TransitionIn(reason="done", signature=sign(session)))
    for step in (recalls.activate, recalls.close, recalls.cancel):
        with pytest.raises(InvalidStateTransition, match=r"closed to .* \(allowed: none"):
            step(session, case.id)
    with pytest.raises(InvalidStateTransition, match="closed; only draft or active"):
        recalls.add_target(session, case.id, TargetIn(lot="F-2"))
    with pytest.raises(InvalidStateTransition, match="closed; only draft or active cases can be traced"):
        recalls.compute_run(session, case.id)

    draft = recalls.create_case(session, CaseIn())
    recalls.cancel(session, draft.id, TransitionIn(reason="opened by mistake"))
    assert draft.status == "canceled" and "mistake" in draft.notes
    with pytest.raises(InvalidStateTransition, match="canceled to active"):
        recalls.activate(session, draft.id)


def test_duplicate_targets_are_refused_even_with_null_columns(session, world):
    case = recalls.create_case(session, CaseIn())
    recalls.add_target(session, case.id, TargetIn(lot="F-1"))
    with pytest.raises(DuplicateKey, match="already targets lot F-1"):
        recalls.add_target(session, case.id, TargetIn(lot=str(world.lots["F-1"].id)))
    recalls.add_target(session, case.id, TargetIn(item="SALT"))
    with pytest.raises(DuplicateKey, match=r"already targets item SALT \(kg\)"):
        recalls.add_target(session, case.id, TargetIn(item="SALT", uom="kg"))
    with pytest.raises(InvalidInput, match="SALT is stocked and shipped in kg, not lb"):
        recalls.add_target(session, case.id, TargetIn(item="SALT", uom="lb"))
    with pytest.raises(NotFound, match="unknown lot 'NOPE'"):
        recalls.add_target(session, case.id, TargetIn(lot="NOPE"))
    with pytest.raises(NotFound, match="unknown item 'NOPE'"):
        recalls.add_target(session, case.id, TargetIn(item="NOPE"))
    with pytest.raises(ValidationError, match="needs a lot or an item"):
        TargetIn()
    with pytest.raises(ValidationError, match="uom applies to item targets only"):
        TargetIn(lot="F-1", uom="kg")
    assert len(recalls.list_targets(session, case)) == 2


def test_runs_refuse_bad_input(session, world):
    case = recalls.create_case(session, CaseIn())
    with pytest.raises(InvalidInput, match="no targets"):
        recalls.compute_run(session, case.id)
    recalls.add_target(session, case.id, TargetIn(lot="F-1"))
    with pytest.raises(InvalidInput, match="as_of .* is in the future"):
        recalls.compute_run(session, case.id, RunIn(as_of=utcnow() + timedelta(hours=1)))
    with pytest.raises(ValidationError):
        RunIn(direction="sideways")
    with pytest.raises(ValidationError):
        RunIn(max_depth=-1)
    with pytest.raises(InvalidInput, match="no computed trace run"):
        recalls.draft_communications(session, case.id, DraftIn())
    run = recalls.compute_run(session, case.id)  # a draft case may be traced before it is initiated
    with pytest.raises(NotFound, match="unknown trace run"):
        recalls.diff_runs(session, run.id, uuid.uuid4())


def test_actions_need_an_active_case_and_follow_their_lifecycle(session, world):
    draft = recalls.create_case(session, CaseIn())
    recalls.add_target(session, draft.id, TargetIn(lot="F-1"))
    with pytest.raises(InvalidStateTransition, match="draft; only active cases can plan actions"):
        recalls.plan_action(session, draft.id, ActionIn(action_type="block_lot", lot="F-1"))
    with pytest.raises(InvalidStateTransition, match="only active"):
        recalls.plan_all(session, draft.id)

    case = _active(session)
    with pytest.raises(InvalidInput, match="no computed trace run"):
        recalls.plan_all(session, case.id)
    a = recalls.plan_action(session, case.id, ActionIn(action_type="block_lot", lot="F-1"))
    with pytest.raises(Conflict, match="already has an open block_lot action for lot F-1"):
        recalls.plan_action(session, case.id, ActionIn(action_type="block_lot", lot="F-1"))
    with pytest.raises(InvalidInput, match="outside recall .*'s window"):
        recalls.run_action(session, a.id, ActionRun(occurred_at=at(0)))
    with pytest.raises(InvalidInput, match="in the future|outside"):
        recalls.run_action(session, a.id, ActionRun(occurred_at=utcnow() + timedelta(days=2)))
    recalls.run_action(session, a.id)
    with pytest.raises(InvalidStateTransition, match="from completed to completed"):
        recalls.run_action(session, a.id)
    with pytest.raises(InvalidStateTransition, match="from completed to canceled"):
        recalls.cancel_action(session, a.id, "too late")
    b = recalls.plan_action(session, case.id, ActionIn(action_type="scrap_lot", lot="F-2"))
    recalls.start_action(session, b.id)
    with pytest.raises(InvalidStateTransition, match="from in_progress to in_progress"):
        recalls.start_action(session, b.id)
    with pytest.raises(InvalidStateTransition, match=r"open actions \(1 in_progress\)"):
        recalls.close(session, case.id)
    recalls.cancel_action(session, b.id, "wrong lot")
    assert b.status == "canceled" and "wrong lot" in b.notes
    recalls.close(session, case.id, TransitionIn(reason="done", signature=sign(session)))
    with pytest.raises(InvalidStateTransition, match="closed; only active"):
        recalls.plan_action(session, case.id, ActionIn(action_type="block_lot", lot="F-2"))
    with pytest.raises(NotFound, match="unknown recall action"):
        recalls.run_action(session, uuid.uuid4())


def test_action_inputs_are_checked(session, world):
    for bad in (
        {"action_type": "block_lot"},
        {"action_type": "customer_notify", "lot": "F-1"},
        {"action_type": "scrap_lot", "lot": "F-1", "shipment": "x"},
        {"action_type": "burn_lot", "lot": "F-1"},
    ):
        with pytest.raises(ValidationError):
            ActionIn(**bad)
    case = _active(session)
    with pytest.raises(NotFound, match="unknown shipment"):
        recalls.plan_action(session, case.id, ActionIn(action_type="customer_notify", shipment="nope"))
    restock = recalls.plan_action(session, case.id, ActionIn(action_type="restock_lot", lot="F-1"))
    with pytest.raises(InvalidStateTransition, match="lot F-1 is active; only quarantined or blocked"):
        recalls.run_action(session, restock.id)
    q = recalls.plan_action(session, case.id, ActionIn(action_type="quarantine_lot", lot="F-1"))
    with pytest.raises(
        InvalidInput, match="WH1 is a storage location; quarantine lot F-1 needs a quarantine one"
    ):
        recalls.run_action(session, q.id, ActionRun(location="WH1"))
    make_location(session, "QA2", kind="quarantine")
    with pytest.raises(
        InvalidInput, match=r"several quarantine locations \(QA, QA2\); name one with --location"
    ):
        recalls.run_action(session, q.id)
    done = recalls.run_action(session, q.id, ActionRun(location="QA2"))
    assert done.status == "completed"


def test_quarantine_without_a_quarantine_location_is_refused_clearly(session):
    from tests.builders import make_item, make_vendor, receive

    flour = make_item(session, "FLOUR")
    wh = make_location(session, "WH1")
    make_vendor(session)
    receive(session, flour, wh, "F-1", 10)
    case = _active(session)
    q = recalls.plan_action(session, case.id, ActionIn(action_type="quarantine_lot", lot="F-1"))
    with pytest.raises(InvalidInput, match="no quarantine location exists"):
        recalls.run_action(session, q.id)
