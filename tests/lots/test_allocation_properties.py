"""Properties of the FEFO allocation policy (a pure function: no database)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lotline.errors import InsufficientQuantity
from lotline.lots.allocation import Candidate, allocate, fefo_key

T0 = datetime(2026, 1, 1, tzinfo=UTC)
FAR = datetime.max.replace(tzinfo=None)

quantities = st.decimals(
    min_value=Decimal("0.000001"), max_value=Decimal("1000"), places=6, allow_nan=False, allow_infinity=False
)
# A few days only, so that equal expiries (ties) are common.
moments = st.one_of(st.none(), st.integers(0, 5).map(lambda d: T0 + timedelta(days=d)))


@st.composite
def candidate_lists(draw):
    n = draw(st.integers(0, 8))
    codes = draw(st.lists(st.text("ABCDEFG", min_size=1, max_size=3), min_size=n, max_size=n, unique=True))
    return [
        Candidate(
            lot_id=uuid.uuid4(),
            lot_code=code,
            # Zero or negative balances can be listed; they must never be taken.
            available=draw(st.one_of(quantities, st.sampled_from([Decimal(0), Decimal("-1")]))),
            expires_at=draw(moments),
            received_at=draw(moments),
        )
        for code in codes
    ]


def _exp(c: Candidate):
    return c.expires_at.replace(tzinfo=None) if c.expires_at else FAR


@settings(max_examples=300, deadline=None)
@given(quantity=quantities, candidates=candidate_lists())
def test_allocation_sums_exactly_to_the_request_or_raises(quantity, candidates):
    usable = sum((c.available for c in candidates if c.available > 0), Decimal(0))
    try:
        chosen = allocate(quantity, candidates)
    except InsufficientQuantity as exc:
        assert usable < quantity
        assert exc.details == {"available": str(usable), "requested": str(quantity)}
        return
    assert usable >= quantity
    assert sum((a.quantity for a in chosen), Decimal(0)) == quantity


@settings(max_examples=300, deadline=None)
@given(quantity=quantities, candidates=candidate_lists())
def test_allocation_never_takes_more_than_a_lot_has(quantity, candidates):
    try:
        chosen = allocate(quantity, candidates)
    except InsufficientQuantity:
        return
    by_id = {c.lot_id: c for c in candidates}
    assert len({a.lot_id for a in chosen}) == len(chosen), "a lot is allocated twice"
    for a in chosen:
        c = by_id[a.lot_id]
        assert Decimal(0) < a.quantity <= c.available
        assert a.lot_code == c.lot_code


@settings(max_examples=300, deadline=None)
@given(quantity=quantities, candidates=candidate_lists())
def test_allocation_follows_first_expiry_first_out(quantity, candidates):
    try:
        chosen = allocate(quantity, candidates)
    except InsufficientQuantity:
        return
    usable = sorted((c for c in candidates if c.available > 0), key=fefo_key)
    taken = {a.lot_id: a.quantity for a in chosen}
    # Allocations come in FEFO order and form a prefix of the FEFO-sorted usable lots ...
    assert [a.lot_id for a in chosen] == [c.lot_id for c in usable[: len(chosen)]]
    # ... every lot but the last is emptied completely ...
    for c in usable[: len(chosen) - 1]:
        assert taken[c.lot_id] == c.available
    # ... and no untaken lot expires before a taken one (lots without expiry count as last).
    untaken = [c for c in usable if c.lot_id not in taken]
    if untaken and chosen:
        latest_taken = max(_exp(c) for c in usable if c.lot_id in taken)
        assert all(_exp(u) >= latest_taken for u in untaken)


def test_fefo_puts_lots_without_expiry_last_and_breaks_ties_by_receipt_then_code():
    a = Candidate(uuid.uuid4(), "A", Decimal(1), expires_at=None, received_at=T0)
    b = Candidate(
        uuid.uuid4(), "B", Decimal(1), expires_at=T0 + timedelta(days=3), received_at=T0 + timedelta(days=1)
    )
    c = Candidate(uuid.uuid4(), "C", Decimal(1), expires_at=T0 + timedelta(days=3), received_at=T0)
    d = Candidate(uuid.uuid4(), "D", Decimal(1), expires_at=T0 + timedelta(days=3), received_at=T0)
    chosen = allocate(Decimal(4), [a, b, d, c])
    assert [x.lot_code for x in chosen] == ["C", "D", "B", "A"]


def test_allocating_nothing_is_a_bug_not_a_domain_error():
    with pytest.raises(ValueError):
        allocate(Decimal(0), [])
