"""Bad input is refused at the edge by the pydantic schemas, with an error naming the field.

NaN/Infinity, quantities beyond numeric(18,6), more than 6 decimals, zero and negative quantities,
empty or over-long strings, unknown fields and unknown enum values.
"""

from __future__ import annotations

from decimal import Decimal

import pydantic
import pytest

from lotline.catalog.schemas import ItemIn, LocationIn, PartyIn
from lotline.inventory.schemas import AdjustmentIn, ReceiptIn, ReversalIn, ScrapIn, TransferIn
from lotline.lots.schemas import LotStatusChange
from lotline.production.schemas import ExecutionIn, WorkOrderIn
from lotline.sales.schemas import SalesOrderIn, ShipmentIn

BAD_QUANTITIES = [
    float("nan"),
    "NaN",
    "sNaN",
    float("inf"),
    "Infinity",
    "-Infinity",
    Decimal("1e12"),
    "1000000000000.5",
    "0.0000001",
    "1.1234567",
    0,
    "0.000000",
    -1,
    "-0.5",
    "twelve",
    None,
]


def refused(model, data: dict, loc: tuple) -> pydantic.ValidationError:
    with pytest.raises(pydantic.ValidationError) as info:
        model.model_validate(data)
    locs = [e["loc"] for e in info.value.errors()]
    assert loc in locs, f"expected an error at {loc}, got {locs}"
    assert str(loc[-1]) in str(info.value)
    return info.value


def transfer(**kw):
    return {"item": "FLOUR", "from_location": "WH1", "to_location": "WH2", "quantity": "1", **kw}


def receipt(line=None, lot=None, **kw):
    lot = {"lot_code": "F-1", "quantity": "1", **(lot or {})}
    line = {"item": "FLOUR", "location": "WH1", "quantity": "1", "lots": [lot], **(line or {})}
    return {"vendor": "MILL", "lines": [line], **kw}


def test_the_valid_examples_are_accepted():
    TransferIn.model_validate(transfer())
    ReceiptIn.model_validate(receipt())
    assert TransferIn.model_validate(transfer(quantity="999999999999.999999")).quantity == Decimal(
        "999999999999.999999"
    )
    assert TransferIn.model_validate(transfer(quantity="0.000001")).quantity == Decimal("0.000001")


@pytest.mark.parametrize("value", BAD_QUANTITIES, ids=repr)
def test_a_bad_unsigned_quantity_is_refused(value):
    refused(TransferIn, transfer(quantity=value), ("quantity",))


@pytest.mark.parametrize("value", BAD_QUANTITIES, ids=repr)
def test_a_bad_nested_lot_quantity_is_refused_naming_its_path(value):
    refused(ReceiptIn, receipt(lot={"quantity": value}), ("lines", 0, "lots", 0, "quantity"))


@pytest.mark.parametrize("value", [float("nan"), "Infinity", "-1e12", "0.0000001", 0, "-0.0"], ids=repr)
def test_a_bad_signed_adjustment_quantity_is_refused(value):
    data = {"reason": "count", "lines": [{"item": "FLOUR", "location": "WH1", "quantity": value}]}
    refused(AdjustmentIn, data, ("lines", 0, "quantity"))


def test_a_negative_adjustment_quantity_is_accepted():
    data = {"reason": "count", "lines": [{"item": "FLOUR", "location": "WH1", "quantity": "-2.5"}]}
    assert AdjustmentIn.model_validate(data).lines[0].quantity == Decimal("-2.5")


def test_nan_in_json_is_refused():
    with pytest.raises(pydantic.ValidationError, match="quantity"):
        TransferIn.model_validate_json(
            '{"item":"FLOUR","from_location":"WH1","to_location":"WH2","quantity":NaN}'
        )
    with pytest.raises(pydantic.ValidationError, match="quantity"):
        TransferIn.model_validate_json(
            '{"item":"FLOUR","from_location":"WH1","to_location":"WH2","quantity":1e12}'
        )


@pytest.mark.parametrize(
    ("model", "data", "loc"),
    [
        (ItemIn, {"sku": "", "name": "Flour"}, ("sku",)),
        (ItemIn, {"sku": "   ", "name": "Flour"}, ("sku",)),
        (ItemIn, {"sku": "x" * 65, "name": "Flour"}, ("sku",)),
        (ItemIn, {"sku": "F", "name": ""}, ("name",)),
        (ItemIn, {"sku": "F", "name": "n" * 201}, ("name",)),
        (ItemIn, {"sku": "F", "name": "Flour", "uom": ""}, ("uom",)),
        (ItemIn, {"sku": "F", "name": "Flour", "uom": "u" * 17}, ("uom",)),
        (LocationIn, {"code": "", "name": "Main"}, ("code",)),
        (PartyIn, {"code": "V", "name": "Vendor", "contact_email": "not-an-email"}, ("contact_email",)),
        (TransferIn, transfer(item=""), ("item",)),
        (TransferIn, transfer(item="i" * 201), ("item",)),
        (TransferIn, transfer(external_ref=""), ("external_ref",)),
        (TransferIn, transfer(external_ref="r" * 201), ("external_ref",)),
        (TransferIn, transfer(to_location="c" * 65), ("to_location",)),
        (ReceiptIn, receipt(lot={"lot_code": ""}), ("lines", 0, "lots", 0, "lot_code")),
        (ReceiptIn, receipt(lot={"lot_code": "l" * 65}), ("lines", 0, "lots", 0, "lot_code")),
        (ReceiptIn, receipt(vendor=""), ("vendor",)),
        (ReversalIn, {"reason": ""}, ("reason",)),
        (ReversalIn, {"reason": "r" * 10_001}, ("reason",)),
        (WorkOrderIn, {"number": "", "item": "BREAD", "planned_quantity": "1"}, ("number",)),
        (
            SalesOrderIn,
            {
                "number": "S" * 65,
                "customer": "SHOP",
                "lines": [{"item": "B", "quantity": 1, "due_date": "2026-01-20"}],
            },
            ("number",),
        ),
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else None,
)
def test_an_empty_or_over_long_string_is_refused(model, data, loc):
    refused(model, data, loc)


@pytest.mark.parametrize(
    ("model", "data", "loc"),
    [
        (ItemIn, {"sku": "F", "name": "Flour", "colour": "white"}, ("colour",)),
        (TransferIn, transfer(qty="1"), ("qty",)),
        (ReceiptIn, receipt(line={"lot": "F-1"}), ("lines", 0, "lot")),
        (ReceiptIn, receipt(lot={"status": "blocked"}), ("lines", 0, "lots", 0, "status")),
        (
            ShipmentIn,
            {"lines": [{"line_no": 1, "location": "WH1", "quantity": 1, "sku": "B"}]},
            ("lines", 0, "sku"),
        ),
        (
            ExecutionIn,
            {"produce": [{"location": "WH1", "quantity": 1, "lot_code": "B-1"}], "inputs": []},
            ("inputs",),
        ),
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else None,
)
def test_an_unknown_field_is_refused_not_dropped(model, data, loc):
    err = refused(model, data, loc)
    assert any(e["type"] == "extra_forbidden" for e in err.errors())


@pytest.mark.parametrize(
    ("model", "data", "loc"),
    [
        (LocationIn, {"code": "A", "name": "Attic", "kind": "attic"}, ("kind",)),
        (LocationIn, {"code": "A", "name": "Attic", "kind": "STORAGE"}, ("kind",)),
        (LotStatusChange, {"status": "destroyed"}, ("status",)),
        (LotStatusChange, {"status": ""}, ("status",)),
    ],
)
def test_an_unknown_enum_value_is_refused(model, data, loc):
    err = refused(model, data, loc)
    assert err.errors()[0]["type"] == "enum"


@pytest.mark.parametrize(
    ("model", "data", "loc"),
    [
        (ItemIn, {"sku": "F", "name": "F", "shelf_life_days": 0}, ("shelf_life_days",)),
        (ItemIn, {"sku": "F", "name": "F", "shelf_life_days": 36_501}, ("shelf_life_days",)),
        (ItemIn, {"sku": "F", "name": "F", "standard_cost": "-0.01"}, ("standard_cost",)),
        (ItemIn, {"sku": "F", "name": "F", "standard_cost": "NaN"}, ("standard_cost",)),
        (ReceiptIn, receipt(line={"unit_cost": "-1"}), ("lines", 0, "unit_cost")),
        (ReceiptIn, receipt(line={"unit_cost": "1e12"}), ("lines", 0, "unit_cost")),
        (ReceiptIn, {"vendor": "MILL", "lines": []}, ("lines",)),
        (ShipmentIn, {"lines": [{"line_no": 0, "location": "WH1", "quantity": 1}]}, ("lines", 0, "line_no")),
        (
            ShipmentIn,
            {"lines": [{"line_no": "one", "location": "WH1", "quantity": 1}]},
            ("lines", 0, "line_no"),
        ),
        (ExecutionIn, {"produce": []}, ("produce",)),
        (TransferIn, transfer(occurred_at="yesterday"), ("occurred_at",)),
        (
            ScrapIn,
            {"item": "F", "location": "WH1", "quantity": "1", "lots": [{"lot": "F-1", "quantity": 0}]},
            ("lots", 0, "quantity"),
        ),
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else None,
)
def test_other_out_of_range_values_are_refused(model, data, loc):
    refused(model, data, loc)


def test_inputs_are_frozen():
    t = TransferIn.model_validate(transfer())
    with pytest.raises(pydantic.ValidationError):
        t.quantity = Decimal(5)
