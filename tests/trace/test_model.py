"""Result types and input checks of the trace, without a database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from lotline.errors import InvalidInput
from lotline.trace import validate
from lotline.trace.model import MassBalance, TraceCycle, TracedShipment, TraceResult, checked, format_quantity
from lotline.trace.stock import STOCK_COLUMNS, LotInfo, build_stock

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
SHIPMENT = (uuid.uuid4(), uuid.uuid4(), "SO-1", uuid.uuid4(), "SHOP", "Shop", T0, uuid.uuid4(), uuid.uuid4())


def test_building_a_row_type_from_too_few_or_too_many_values_is_refused():
    row = (*SHIPMENT, "BREAD", Decimal("3"), "ea")
    assert TracedShipment._make(row).uom == "ea"
    with pytest.raises(TypeError):
        TracedShipment._make(row[:-1])
    with pytest.raises(TypeError):
        TracedShipment._make((*row, "extra"))


def test_a_list_of_rows_built_with_the_wrong_number_of_values_is_refused():
    row = (*SHIPMENT, "BREAD", Decimal("3"), "ea")
    good = [tuple.__new__(TracedShipment, row)]
    assert checked(TracedShipment, good) is good
    assert checked(TracedShipment, []) == []
    for values in (row[:-1], (*row, "extra")):
        with pytest.raises(TypeError, match="TracedShipment has 12 fields"):
            checked(TracedShipment, [tuple.__new__(TracedShipment, values)])


def test_the_json_document_has_objects_for_rows_and_plain_quantities():
    shipment = TracedShipment._make((*SHIPMENT, "BREAD", Decimal("3.500000"), "ea"))
    result = TraceResult(
        start_lot_ids=(shipment.lot_id,), direction="forward", as_of=T0, max_depth=None, lots=[],
        edges=[], shipments=[shipment], receipts=[], on_hand=[], mass_balance=[],
        cycles=[TraceCycle((shipment.lot_id,), ("B-1",))],
    )  # fmt: skip
    doc = result.to_json()
    assert doc["shipments"][0]["quantity"] == "3.5"
    assert doc["shipments"][0]["lot_id"] == str(shipment.lot_id)
    assert doc["shipments"][0]["shipped_at"] == T0.isoformat()
    assert doc["cycles"] == [{"lot_ids": [str(shipment.lot_id)], "lot_codes": ["B-1"]}]
    assert doc["summary"]["customers"] == 1


@pytest.mark.parametrize(
    ("value", "text"),
    [("12.500000", "12.5"), ("40.000000", "40"), ("-0.000000", "0"), ("0", "0"), ("1E+3", "1000")],
)
def test_quantities_print_without_trailing_zeros_or_exponents(value, text):
    assert format_quantity(Decimal(value)) == text


def test_bad_trace_requests_are_refused_naming_the_value():
    with pytest.raises(InvalidInput, match="sideways"):
        validate.validate_direction("sideways")
    with pytest.raises(InvalidInput, match="'nope' is not a UUID"):
        validate.validate_lot_ids(["nope"])
    with pytest.raises(InvalidInput, match="at least one"):
        validate.validate_lot_ids([])
    with pytest.raises(InvalidInput, match="-1"):
        validate.validate_max_depth(-1)
    with pytest.raises(InvalidInput, match="whole number"):
        validate.validate_max_depth(True)
    with pytest.raises(InvalidInput, match="in the future"):
        validate.validate_as_of(T0 + timedelta(hours=1), now=T0)
    with pytest.raises(InvalidInput, match="ISO 8601"):
        validate.parse_as_of("yesterday")


def test_start_lots_keep_their_order_without_duplicates():
    a, b = uuid.uuid4(), uuid.uuid4()
    assert validate.validate_lot_ids([b, str(a), b]) == (b, a)
    assert validate.parse_as_of("2026-01-05") == datetime(2026, 1, 5, tzinfo=UTC)


def _stock_row(kind, lot_no, location, **values):
    row = dict.fromkeys(STOCK_COLUMNS)
    row.update(kind=kind, lot_no=lot_no, location_id=location, location_code=f"L-{kind}", location_kind="storage")
    row.update(values)
    return tuple(row.values())


def test_mass_balance_shows_the_imbalance_between_ledger_and_balance_table():
    lot_id, wh = uuid.uuid4(), uuid.uuid4()
    flows = dict.fromkeys(STOCK_COLUMNS[5:15], Decimal(0))
    rows = [
        _stock_row("ledger", 1, wh, **{**flows, "received": Decimal(100), "shipped": Decimal(30)}, on_hand=Decimal(70)),
        _stock_row("receipt", 1, wh, on_hand=Decimal(100), movement_id=uuid.uuid4(), movement_type="receipt",
                   occurred_at=T0, vendor_code="MILL"),
        _stock_row("balance", 1, wh, on_hand=Decimal(65)),  # drifted from the ledger
    ]  # fmt: skip
    lots = [LotInfo(lot_id, "F-1", "FLOUR", "active", "kg", "MV-1")]
    now = build_stock(rows, lots, as_of_requested=False)
    [balance] = now.mass_balance
    assert isinstance(balance, MassBalance)
    assert (balance.total_in, balance.total_out, balance.on_hand, balance.imbalance) == (100, 30, 65, 5)
    assert not balance.balanced
    assert [(h.quantity, h.lot_code) for h in now.on_hand] == [(Decimal(65), "F-1")]
    assert [(r.vendor_code, r.vendor_lot_code, r.quantity) for r in now.receipts] == [("MILL", "MV-1", 100)]
    # as of a requested time, on hand is the ledger's: balanced
    then = build_stock(rows, lots, as_of_requested=True)
    assert then.mass_balance[0].balanced
    assert [h.quantity for h in then.on_hand] == [Decimal(70)]
