"""Shared steps for the recall-completion tests: a strategy, an active recall of F-1, its run."""

from __future__ import annotations

from lotline.recalls import consignees, strategy
from lotline.recalls import service as recalls
from lotline.recalls.schemas import CaseIn, TargetIn, TransitionIn
from tests.builders import sign, strategy_in


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
