"""21 CFR 7.42 strategy before activation; consignees follow the trace runs; responses (7.49)
through personal links and as recorded by quality users, append-only; sub-recalls."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from pydantic import ValidationError

from lotline.errors import InvalidInput, InvalidStateTransition, NotFound
from lotline.models import RecallResponse, RecallResponseLink
from lotline.recalls import consignees, strategy
from lotline.recalls import service as recalls
from lotline.recalls.completion_schemas import RecordedResponseIn, ResponseIn
from lotline.recalls.schemas import CaseIn, TargetIn, TransitionIn
from lotline.types import utcnow
from tests.builders import sign, strategy_in
from tests.recalls.completion_support import active_recall, consignee


def test_a_recall_without_a_strategy_cannot_be_activated_and_the_error_says_what_is_missing(session, world):
    case = recalls.create_case(session, CaseIn(summary="flour"))
    recalls.add_target(session, case.id, TargetIn(lot="F-1"))
    with pytest.raises(InvalidInput, match="no strategy: set its FDA class, depth, public warning") as err:
        recalls.activate(session, case.id)
    assert err.value.details["missing"] == "strategy"
    assert recalls.find_case(session, case.id).status == "draft"
    strategy.set_strategy(session, case, strategy_in())
    assert recalls.activate(session, case.id, TransitionIn(signature=sign(session))).status == "active"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"effectiveness_level": "B"}, "level B needs effectiveness_pct"),
        ({"effectiveness_level": "C", "effectiveness_pct": Decimal(50)}, "applies to level B only"),
        ({"effectiveness_level": "B", "effectiveness_pct": Decimal(5)}, "greater than 10"),
        ({"fda_class": "IV"}, "'I', 'II' or 'III'"),
        ({"reason": "  "}, "at least 1 character"),
        ({"coordinator_email": "qa@x\r\nBcc: all@x"}, "pattern"),
        ({"reminder_max": 21}, "less than or equal to 20"),
    ],
)
def test_a_strategy_with_bad_fields_is_refused_naming_the_field(change, message):
    with pytest.raises(ValidationError, match=message):
        strategy_in(**change)


def test_a_closed_recall_keeps_its_strategy(session, world):
    case, _run = active_recall(session)
    session.flush()
    recalls.cancel(session, case.id, TransitionIn(reason="test"))
    with pytest.raises(InvalidStateTransition, match="can no longer change"):
        strategy.set_strategy(session, case, strategy_in(fda_class="I"))


def test_the_impacted_customers_of_the_run_become_the_consignees(session, world):
    case, _run = active_recall(session)
    rows = consignees.list_consignees(session, case)
    assert {(k["customer"], k["depth"]) for k in rows} == {("ALPHA", 1), ("BETA", 1), ("DELTA", 1)}
    assert all(k["responded_at"] is None for k in rows)


def test_a_new_run_retires_consignees_no_longer_impacted_and_keeps_their_responses(session, world):
    case, run = active_recall(session)
    delta = consignee(session, case, "DELTA")
    consignees.record_response(
        session, case, delta["id"],
        RecordedResponseIn(channel="phone", holds_product=False, responder="Mme Delta"), recorded_by="qa",
    )
    # a narrower run (downstream products only) no longer reaches DELTA, who got raw flour
    target = recalls.list_targets(session, case)[0]
    recalls.remove_target(session, case.id, target["id"], "wrong lot")
    recalls.add_target(session, case.id, TargetIn(lot="B-1"))
    recalls.compute_run(session, case.id)
    current = {k["customer"] for k in consignees.list_consignees(session, case)}
    assert current == {"ALPHA"}
    everyone = {k["customer"]: k for k in consignees.list_consignees(session, case, include_retired=True)}
    assert everyone["DELTA"]["retired_at"] is not None
    assert everyone["DELTA"]["responded_at"] is not None  # the phone response is still there
    # and a later run that reaches DELTA again revives the same consignee
    recalls.add_target(session, case.id, TargetIn(lot="F-1"))
    recalls.compute_run(session, case.id)
    revived = consignee(session, case, "DELTA")
    assert revived["id"] == delta["id"] and revived["retired_at"] is None


def test_a_response_link_records_a_response_and_stores_only_a_hash_of_the_token(session, world):
    case, _ = active_recall(session)
    alpha = consignees.find(session, case, consignee(session, case, "ALPHA")["id"])
    token = consignees.issue_link(session, case, alpha)
    assert len(token) >= 43  # 32 random bytes, base64url
    stored = session.scalars(sa.select(RecallResponseLink.token_hash)).all()
    assert stored and all(token.encode() not in h for h in stored)
    target = consignees.resolve_link(session, token)
    assert target.consignee.id == alpha.id
    assert [r["lot_code"] for r in consignees.received_by(session, case, alpha)] == ["B-1"]
    response, added = consignees.respond_by_link(
        session, token, ResponseIn(holds_product=True, quantity_on_hand=Decimal(12), responder="Alpha manager")
    )
    assert response.channel == "link" and added == []
    assert consignee(session, case, "ALPHA")["quantity_on_hand"] == Decimal(12)


def test_a_forged_token_is_not_found_and_an_expired_one_is_refused(session, world):
    case, _ = active_recall(session)
    alpha = consignees.find(session, case, consignee(session, case, "ALPHA")["id"])
    with pytest.raises(NotFound, match="not valid"):
        consignees.resolve_link(session, "x" * 43)
    with pytest.raises(NotFound, match="not valid"):
        consignees.resolve_link(session, "\x00../etc")
    token = consignees.issue_link(session, case, alpha)
    link = session.scalar(sa.select(RecallResponseLink).where(RecallResponseLink.consignee_id == alpha.id))
    with pytest.raises(InvalidStateTransition, match="expired"):
        consignees.resolve_link(session, token, now=link.expires_at + timedelta(seconds=1))
    with pytest.raises(InvalidStateTransition, match="expired"):
        consignees.respond_by_link(session, token, ResponseIn(holds_product=False, responder="x"),
                                   now=link.expires_at)
    assert session.scalar(sa.select(sa.func.count()).select_from(RecallResponse)) == 0


def test_a_reused_link_appends_a_correction_and_never_edits_the_first_response(session, world):
    case, _ = active_recall(session)
    beta = consignees.find(session, case, consignee(session, case, "BETA")["id"])
    token = consignees.issue_link(session, case, beta)
    consignees.respond_by_link(session, token, ResponseIn(holds_product=True, quantity_on_hand=Decimal(20), responder="B"))
    consignees.respond_by_link(session, token, ResponseIn(holds_product=True, quantity_on_hand=Decimal(18),
                                                          quantity_destroyed=Decimal(2), responder="B", notes="recount"))
    history = consignees.responses(session, case, beta.id)
    assert [r["quantity_on_hand"] for r in history] == [Decimal(20), Decimal(18)]
    assert consignee(session, case, "BETA")["quantity_on_hand"] == Decimal(18)  # the latest counts


def test_responses_are_append_only_in_the_database(session, world):
    case, _ = active_recall(session)
    beta = consignee(session, case, "BETA")
    consignees.record_response(session, case, beta["id"],
                               RecordedResponseIn(channel="letter", holds_product=False, responder="B"), recorded_by="qa")
    session.flush()
    for statement in ("UPDATE recall_responses SET holds_product = true", "DELETE FROM recall_responses"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), session.begin_nested():
            session.execute(sa.text(statement))


def test_a_link_of_a_closed_recall_takes_no_more_responses(session, world):
    case, _ = active_recall(session)
    alpha = consignees.find(session, case, consignee(session, case, "ALPHA")["id"])
    token = consignees.issue_link(session, case, alpha)
    recalls.cancel(session, case.id, TransitionIn(reason="test"))
    with pytest.raises(InvalidStateTransition, match="canceled"):
        consignees.resolve_link(session, token)


def test_a_sub_recall_reaches_two_depths_down_and_each_level_answers_through_its_own_link(session, world):
    case, _ = active_recall(session)
    alpha = consignees.find(session, case, consignee(session, case, "ALPHA")["id"])
    _, (shop,) = consignees.respond_by_link(
        session, consignees.issue_link(session, case, alpha),
        ResponseIn(holds_product=False, forwarded=True, responder="Alpha",
                   sub_accounts=[{"name": "Corner Shop", "email": "shop@corner.example"}]),
    )
    assert (shop.depth, shop.parent_consignee_id) == (2, alpha.id)
    _, (kiosk,) = consignees.respond_by_link(
        session, consignees.issue_link(session, case, shop),
        ResponseIn(holds_product=True, quantity_on_hand=Decimal(3), forwarded=True, responder="Corner Shop",
                   sub_accounts=[{"name": "Station Kiosk", "phone": "+33 1 00 00 00 00"}]),
    )
    assert kiosk.depth == 3
    consignees.respond_by_link(session, consignees.issue_link(session, case, kiosk),
                               ResponseIn(holds_product=False, quantity_destroyed=Decimal(1), responder="Kiosk"))
    rows = {k["name"]: k for k in consignees.list_consignees(session, case)}
    assert rows["Station Kiosk"]["forwarded_by"] == "Corner Shop" and rows["Station Kiosk"]["depth"] == 3
    assert rows["Corner Shop"]["quantity_on_hand"] == Decimal(3)
    # the sub-account's page shows nothing of what the direct customer received
    assert consignees.received_by(session, case, shop) == []


def test_naming_the_same_sub_account_again_in_a_correction_adds_no_second_consignee(session, world):
    case, _ = active_recall(session)
    alpha = consignees.find(session, case, consignee(session, case, "ALPHA")["id"])
    token = consignees.issue_link(session, case, alpha)
    sub = {"name": "Corner Shop", "email": "shop@corner.example"}
    consignees.respond_by_link(session, token, ResponseIn(holds_product=False, forwarded=True, responder="A", sub_accounts=[sub]))
    _, added = consignees.respond_by_link(session, token, ResponseIn(holds_product=False, forwarded=True, responder="A", sub_accounts=[sub]))
    assert added == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"holds_product": False, "quantity_on_hand": Decimal(1)}, "must be 0 when holds_product is false"),
        ({"holds_product": True, "sub_accounts": [{"name": "X", "email": "x@y.z"}]}, "set forwarded"),
        ({"holds_product": True, "forwarded": True, "sub_accounts": [{"name": "X"}]}, "email or a phone"),
        ({"holds_product": True, "quantity_returned": Decimal("-1")}, "greater than or equal to 0"),
        ({"holds_product": True, "quantity_returned": Decimal("NaN")}, "finite"),
        ({"holds_product": True, "quantity_on_hand": Decimal("1e15")}, "numeric"),
    ],
)
def test_a_bad_response_is_refused_naming_the_problem(fields, message):
    with pytest.raises(ValidationError, match=message):
        ResponseIn(responder="someone", **fields)


def test_a_response_recorded_for_an_unknown_consignee_is_not_found_and_writes_nothing(session, world):
    case, _ = active_recall(session)
    import uuid

    with pytest.raises(NotFound, match="has no consignee"):
        consignees.record_response(session, case, uuid.uuid4(),
                                   RecordedResponseIn(channel="phone", holds_product=False, responder="?"), recorded_by="qa")
    with pytest.raises(InvalidInput, match="not a UUID"):
        consignees.record_response(session, case, "nope",
                                   RecordedResponseIn(channel="phone", holds_product=False, responder="?"), recorded_by="qa")
    with pytest.raises(InvalidInput, match="future"):
        consignees.record_response(session, case, consignee(session, case, "BETA")["id"],
                                   RecordedResponseIn(channel="phone", holds_product=False, responder="?",
                                                      received_at=utcnow() + timedelta(days=1)), recorded_by="qa")
    assert session.scalar(sa.select(sa.func.count()).select_from(RecallResponse)) == 0
