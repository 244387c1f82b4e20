"""The recall strategy of a case (21 CFR 7.42): class, depth, public warning, effectiveness-check
level, reason, health-hazard evaluation, product, response deadline, reminder cadence.

Invariant: a case cannot be activated without a strategy (``require`` is called by activation);
a closed or canceled case's strategy is frozen.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import Session

from lotline.errors import InvalidInput, InvalidStateTransition
from lotline.models import RecallCase, RecallStrategy
from lotline.recalls.completion_schemas import StrategyIn

# 21 CFR 7.42(b)(3): the share of consignees an effectiveness check reaches, per level.
LEVEL_SHARE: dict[str, Decimal | None] = {"A": Decimal(100), "C": Decimal(10), "D": Decimal(2), "E": Decimal(0)}

FIELDS = tuple(StrategyIn.model_fields)


def get(session: Session, case: RecallCase) -> RecallStrategy | None:
    return session.get(RecallStrategy, case.id)


def set_strategy(session: Session, case: RecallCase, data: StrategyIn) -> RecallStrategy:
    """Create or replace the case's strategy. Raises InvalidStateTransition once the case is over."""
    if case.status in ("closed", "canceled"):
        raise InvalidStateTransition(
            f"recall {case.recall_number} is {case.status}: its strategy can no longer change",
            recall_number=case.recall_number,
        )
    strategy = session.get(RecallStrategy, case.id)
    values = data.model_dump()
    if strategy is None:
        strategy = RecallStrategy(recall_case_id=case.id, **values)
        session.add(strategy)
    else:
        for name, value in values.items():
            setattr(strategy, name, value)
    session.flush()
    return strategy


def require(session: Session, case: RecallCase) -> RecallStrategy:
    """The strategy, or InvalidInput saying what is missing and how to set it."""
    strategy = session.get(RecallStrategy, case.id)
    if strategy is None:
        raise InvalidInput(
            f"recall {case.recall_number} has no strategy: set its FDA class, depth, public warning, "
            f"effectiveness-check level, reason, health-hazard evaluation, product description and "
            f"response deadline first (`lotline recall strategy {case.recall_number} …`)",
            recall_number=case.recall_number,
            missing="strategy",
        )
    return strategy


def check_share(strategy: RecallStrategy) -> Decimal:
    """Percentage of consignees an effectiveness check must reach."""
    if strategy.effectiveness_level == "B":
        assert strategy.effectiveness_pct is not None  # the table's CHECK guarantees it
        return Decimal(strategy.effectiveness_pct)
    share = LEVEL_SHARE[strategy.effectiveness_level]
    assert share is not None
    return share


def as_dict(strategy: RecallStrategy | None) -> dict | None:
    if strategy is None:
        return None
    out = {name: getattr(strategy, name) for name in FIELDS}
    out["check_share_pct"] = check_share(strategy)
    out["updated_at"] = strategy.updated_at
    return out


__all__ = ["LEVEL_SHARE", "as_dict", "check_share", "get", "require", "set_strategy"]
