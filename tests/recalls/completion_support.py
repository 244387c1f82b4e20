"""Shared steps for the recall-completion tests: a strategy, an active recall of F-1, its run."""

from __future__ import annotations

from datetime import timedelta

from lotline.recalls import consignees, strategy
from lotline.recalls import service as recalls
from lotline.recalls.completion_schemas import StrategyIn
from lotline.recalls.schemas import CaseIn, TargetIn, TransitionIn
from lotline.types import utcnow
from tests.builders import sign


def strategy_in(**kw) -> StrategyIn:
    values = dict(
        fda_class="II", depth="retail", public_warning="none", effectiveness_level="C",
        reason="Salmonella found in a retained sample of flour lot F-1",
        health_hazard="Remote probability of adverse health consequences",
        product_description="Wheat flour T55 and the breads and cakes made from it",
        response_deadline=utcnow() + timedelta(days=7), reminder_interval_hours=24, reminder_max=2,
        coordinator_name="Quality Manager", coordinator_email="qa@bakery.example",
    )
    values.update(kw)
    return StrategyIn(**values)


def active_recall(session, *, lot="F-1", **strategy_kw):
    """An active recall of ``lot`` with a strategy and a computed run (consignees synced)."""
    case = recalls.create_case(session, CaseIn(severity="high", summary=f"Salmonella in {lot}"))
    recalls.add_target(session, case.id, TargetIn(lot=lot))
    strategy.set_strategy(session, case, strategy_in(**strategy_kw))
    recalls.activate(session, case.id, TransitionIn(signature=sign(session)))
    run = recalls.compute_run(session, case.id)
    return case, run


def consignee(session, case, customer_code: str):
    return next(k for k in consignees.list_consignees(session, case) if k["customer"] == customer_code)


def with_strategy(session, case, **kw):
    """Give a case the standard test strategy (activation needs one)."""
    return strategy.set_strategy(session, case, strategy_in(**kw))
