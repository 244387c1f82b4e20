"""Property: over any sequence of receipts, shipments and transfers, the balance table equals the sum of
the ledger's lot rows, no lot balance is ever negative, and a posting is refused exactly when the
stock it needs is not there."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lotline.errors import InsufficientQuantity
from lotline.inventory import service as inventory
from lotline.inventory.schemas import ReceiptIn, TransferIn
from lotline.models import Lot
from lotline.sales import service as sales
from lotline.sales.schemas import ShipmentIn
from tests.builders import at, order

ITEMS = ["FLOUR", "MILK"]
LOCS = ["WH1", "WH2"]

qty = st.one_of(
    st.integers(1, 20).map(Decimal),
    st.decimals(min_value=Decimal("0.000001"), max_value=Decimal(20), places=6),
)
ops = st.lists(
    st.one_of(
        st.tuples(st.just("receive"), st.sampled_from(ITEMS), st.sampled_from(LOCS), qty),
        st.tuples(st.just("ship"), st.sampled_from(ITEMS), st.sampled_from(LOCS), qty, st.integers(-1, 5)),
        st.tuples(st.just("transfer"), st.sampled_from(ITEMS), st.sampled_from(LOCS), qty),
    ),
    min_size=1,
    max_size=12,
)

# Balance rows vs. the ledger's lot rows, for every key present on either side.
MISMATCHES = sa.text(
    """
    WITH ledger AS (
        SELECT l.item_id, l.location_id, ml.lot_id, sum(ml.quantity_delta) AS q
          FROM inventory_movement_lots ml
          JOIN inventory_movement_lines l ON l.id = ml.inventory_movement_line_id
         GROUP BY 1, 2, 3
    )
    SELECT coalesce(b.lot_id, g.lot_id) AS lot_id, b.quantity, g.q
      FROM (SELECT * FROM inventory_balances WHERE lot_id IS NOT NULL) b
      FULL JOIN ledger g USING (item_id, location_id, lot_id)
     WHERE b.quantity IS DISTINCT FROM g.q
    """
)


def test_balances_equal_the_ledger_and_never_go_negative(session, w):
    order(session, "SO-BIG", w.customer, [(w.flour, 10**9, None), (w.milk, 10**9, None)])
    session.flush()
    line_no = {"FLOUR": 1, "MILK": 2}

    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(sequence=ops)
    def check(sequence):
        example = session.begin_nested()
        try:
            model: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
            lots_of: dict[str, list[str]] = defaultdict(list)
            codes = {}
            for n, op in enumerate(sequence):
                kind, sku, loc, q = op[:4]
                if kind == "receive":
                    code = f"{sku[0]}-{n}"
                    with session.begin_nested():
                        inventory.receive(
                            session,
                            ReceiptIn(
                                vendor="MILL",
                                occurred_at=at(),
                                lines=[
                                    {
                                        "item": sku,
                                        "location": loc,
                                        "quantity": q,
                                        "lots": [{"lot_code": code, "quantity": q}],
                                    }
                                ],
                            ),
                        )
                    model[(sku, loc, code)] += q
                    lots_of[sku].append(code)
                    continue
                named = None
                if kind == "ship" and op[4] >= 0 and lots_of[sku]:
                    named = lots_of[sku][op[4] % len(lots_of[sku])]
                have = (
                    model[(sku, loc, named)]
                    if named
                    else sum(v for k, v in model.items() if k[:2] == (sku, loc))
                )
                try:
                    with session.begin_nested():
                        if kind == "ship":
                            posted = sales.ship(
                                session,
                                "SO-BIG",
                                ShipmentIn(
                                    shipped_at=at(1),
                                    lines=[
                                        {
                                            "line_no": line_no[sku],
                                            "location": loc,
                                            "quantity": q,
                                            "lots": [{"lot": named, "quantity": q}] if named else None,
                                        }
                                    ],
                                ),
                            ).posted
                        else:
                            other = LOCS[1 - LOCS.index(loc)]
                            posted = inventory.transfer(
                                session,
                                TransferIn(
                                    item=sku,
                                    from_location=loc,
                                    to_location=other,
                                    quantity=q,
                                    occurred_at=at(1),
                                ),
                            )
                except InsufficientQuantity:
                    assert have < q, f"{op} refused although {have} was there"
                    continue
                assert have >= q, f"{op} posted although only {have} was there"
                line_locs = {ln.id: ln.location_id for ln in posted.lines}
                loc_code = {w.wh1.id: "WH1", w.wh2.id: "WH2"}
                for rows in posted.lot_rows:
                    for r in rows:
                        if r.lot_id not in codes:
                            codes[r.lot_id] = session.get(Lot, r.lot_id).lot_code
                        key = (sku, loc_code[line_locs[r.inventory_movement_line_id]], codes[r.lot_id])
                        model[key] += r.quantity_delta

            assert session.execute(MISMATCHES).all() == []
            negative = session.scalar(
                sa.text("SELECT count(*) FROM inventory_balances WHERE lot_id IS NOT NULL AND quantity < 0")
            )
            assert negative == 0
            actual = {
                (r.sku, r.code, r.lot_code): r.quantity
                for r in session.execute(
                    sa.text(
                        "SELECT i.sku, l.code, t.lot_code, b.quantity FROM inventory_balances b "
                        "JOIN items i ON i.id = b.item_id JOIN locations l ON l.id = b.location_id "
                        "JOIN lots t ON t.id = b.lot_id WHERE b.quantity <> 0"
                    )
                )
            }
            assert actual == {k: v for k, v in model.items() if v != 0}
            assert all(v >= 0 for v in model.values())
        finally:
            example.rollback()

    check()
