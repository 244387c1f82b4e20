"""Consignee figures and effectiveness checks (21 CFR 7.53, 7.42(b)(3)).

``consignee_figures`` adds to the 7.53 status figures what the consignees said: how many respond
and how many do not, and the quantities they report on hand, returned and destroyed (each
consignee's latest response counts once). ``draw_sample`` picks the consignees an effectiveness
check must reach for the strategy's level (A 100 %, B the set share, C 10 %, D 2 %, E none): the
draw is seeded and stored, so it is reproducible and never silently redrawn.
"""

from __future__ import annotations

import math
import random
import secrets
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lotline.db import pages, sql
from lotline.errors import InvalidInput, InvalidStateTransition, NotFound
from lotline.models import RecallCase, RecallConsignee, RecallEffectivenessCheck
from lotline.recalls import strategy as strategy_mod
from lotline.recalls.completion_schemas import CheckResultIn
from lotline.types import utcnow
from lotline.vocab import RecallStatus


def consignee_figures(session: Session, case: RecallCase) -> dict[str, Any]:
    strat = strategy_mod.get(session, case)
    session.flush()
    out = sql.one(session, sql.load_sql("lotline.recalls", "consignee_figures"),
                  {"case_id": case.id, "deadline": strat.response_deadline if strat else None}, kind="dict")
    if strat is None:
        out["overdue"] = None
    out["response_rate_pct"] = (
        (Decimal(out["responding"]) * 100 / out["consignees"]).quantize(Decimal("0.1")) if out["consignees"] else None
    )
    checks = session.execute(
        sa.select(RecallEffectivenessCheck.result, sa.func.count())
        .where(RecallEffectivenessCheck.recall_case_id == case.id)
        .group_by(RecallEffectivenessCheck.result)
    ).all()
    by_result = {r: n for r, n in checks}
    drawn = sum(by_result.values())
    out["effectiveness_checks"] = {
        "level": strat.effectiveness_level if strat else None,
        "required_pct": strategy_mod.check_share(strat) if strat else None,
        "drawn": drawn,
        "done": drawn - by_result.get(None, 0),
        "effective": by_result.get("effective", 0),
        "ineffective": by_result.get("ineffective", 0),
        "unreachable": by_result.get("unreachable", 0),
    }
    out["effectiveness_met"] = effectiveness_met(out["effectiveness_checks"])
    return out


def effectiveness_met(checks: dict[str, Any]) -> bool | None:
    """Level E needs no check; otherwise every drawn check done and found effective."""
    if checks["level"] is None:
        return None
    if checks["level"] == "E":
        return True
    return checks["drawn"] > 0 and checks["done"] == checks["drawn"] and checks["effective"] == checks["drawn"]


def sample_size(share_pct: Decimal, population: int) -> int:
    """Consignees to check: the share of the population, rounded up, at least one when any exist."""
    if population == 0 or share_pct == 0:
        return 0
    return min(population, max(1, math.ceil(population * share_pct / 100)))


def draw_sample(session: Session, case: RecallCase, *, seed: int | None = None) -> list[dict[str, Any]]:
    """Draw (once) and store the consignees an effectiveness check must reach; returns the sample.

    The draw orders the current consignees by id and samples with ``random.Random(seed)``, so the
    same seed over the same consignees gives the same sample. Raises InvalidStateTransition if a
    sample was already drawn (it is never redrawn) and InvalidInput for level E or no consignees.
    """
    if case.status != RecallStatus.ACTIVE:
        raise InvalidStateTransition(f"recall {case.recall_number} is {case.status}: draw the sample on an active recall")
    strat = strategy_mod.require(session, case)
    share = strategy_mod.check_share(strat)
    if share == 0:
        raise InvalidInput(f"recall {case.recall_number} has effectiveness level E: no checks to draw")
    existing = session.scalar(
        sa.select(sa.func.count()).select_from(RecallEffectivenessCheck).where(RecallEffectivenessCheck.recall_case_id == case.id)
    )
    if existing:
        raise InvalidStateTransition(
            f"recall {case.recall_number} already has its effectiveness sample ({existing} consignees); it is never redrawn"
        )
    population = list(
        session.scalars(
            sa.select(RecallConsignee.id)
            .where(RecallConsignee.recall_case_id == case.id, RecallConsignee.retired_at.is_(None))
            .order_by(RecallConsignee.id)
        )
    )
    if not population:
        raise InvalidInput(f"recall {case.recall_number} has no consignees yet: compute a trace run first")
    seed = secrets.randbits(62) if seed is None else seed
    if not 0 <= seed < 2**63:
        raise InvalidInput("seed must be a non-negative integer below 2**63")
    chosen = random.Random(seed).sample(population, sample_size(share, len(population)))
    for cid in sorted(chosen):
        session.add(RecallEffectivenessCheck(recall_case_id=case.id, consignee_id=cid, seed=seed))
    session.flush()
    return list_checks(session, case)


def _checks_query(case: RecallCase) -> sa.Select:
    return (
        sa.select(RecallEffectivenessCheck, RecallConsignee.name, RecallConsignee.depth)
        .join(RecallConsignee, RecallConsignee.id == RecallEffectivenessCheck.consignee_id)
        .where(RecallEffectivenessCheck.recall_case_id == case.id)
        .order_by(RecallConsignee.depth, RecallConsignee.name, RecallConsignee.id)
    )


def check_dict(c: RecallEffectivenessCheck, name: str, depth: int) -> dict[str, Any]:
    """A check as the API and CLI print it, with its consignee's name and depth."""
    return {"id": c.id, "consignee_id": c.consignee_id, "consignee": name, "depth": depth, "seed": c.seed,
            "drawn_at": c.drawn_at, "result": c.result, "checked_at": c.checked_at, "checked_by": c.checked_by,
            "notes": c.notes}


def list_checks(session: Session, case: RecallCase) -> list[dict[str, Any]]:
    return [check_dict(c, name, depth) for c, name, depth in session.execute(_checks_query(case)).all()]


def checks_page(session: Session, case: RecallCase, *, after: Sequence[str] | None, limit: int) -> pages.Page:
    """One page of (check, consignee name, depth) rows, by the consignee's depth, name and id."""
    # one check per consignee (drawn once), so the consignee's id identifies the row
    return pages.page(session, _checks_query(case), [RecallConsignee.depth, RecallConsignee.name, RecallConsignee.id],
                      lambda r: (r[2], r[1], r[0].consignee_id), after=after, limit=limit)


def record_check(session: Session, case: RecallCase, check_id, data: CheckResultIn, *, checked_by: str | None) -> dict:
    """Record one effectiveness check's result (once; a drawn check is done exactly once)."""
    check = session.scalar(
        sa.select(RecallEffectivenessCheck)
        .where(RecallEffectivenessCheck.id == check_id, RecallEffectivenessCheck.recall_case_id == case.id)
        .with_for_update()
    )
    if check is None:
        raise NotFound(f"recall {case.recall_number} has no effectiveness check {check_id}", kind="effectiveness_check")
    if check.result is not None:
        raise InvalidStateTransition(f"effectiveness check {check_id} was already recorded as {check.result}")
    check.result = data.result
    check.notes = data.notes
    check.checked_by = checked_by
    check.checked_at = utcnow()
    session.flush()
    return next(c for c in list_checks(session, case) if c["id"] == check.id)
