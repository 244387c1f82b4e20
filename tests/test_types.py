"""Input that would poison later reads is refused at the edge (issue 10).

A timestamp outside what the stack can read back (``0001-01-01T00:00:00+14:00`` is year 0 in UTC)
used to be stored, and from then on every listing that met it failed with a 500; NUL bytes reached
PostgreSQL (500); control characters reached codes and names. Each case is a clean 422 / exit 2
naming the field and the rule, and nothing is written.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime

import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lotline import types
from lotline.catalog.schemas import ItemIn, PartyIn
from lotline.inventory.schemas import AdjustmentIn, ReceiptIn
from lotline.kpis.schemas import RunIn
from lotline.recalls.schemas import TransitionIn
from lotline.sales.schemas import SalesOrderIn


def receipt(**changes) -> dict:
    body = {
        "vendor": "MILL",
        "occurred_at": "2026-01-05T08:00:00Z",
        "lines": [{"item": "FLOUR", "location": "WH", "quantity": "5", "lots": [{"lot_code": "F-1", "quantity": "5"}]}],
    }
    body.update(changes)
    return body


def lot(**changes) -> dict:
    body = receipt()
    body["lines"][0]["lots"][0].update(changes)
    return body


def refusal(model, data) -> str:
    with pytest.raises(pydantic.ValidationError) as info:
        model.model_validate(data)
    return str(info.value)


# --- timestamps and dates --------------------------------------------------------------------------

OUT_OF_RANGE_TIMESTAMPS = [
    "0001-01-01T00:00:00+14:00",  # year 0 in UTC: PostgreSQL stores it, Python cannot read it back
    "0001-01-01T00:00:00Z",
    "1899-12-31T23:59:59.999999Z",
    "9900-01-01T00:00:00Z",
    "9999-12-31T23:00:00-05:00",  # year 10000 in UTC
    "9999-12-31T23:59:59Z",
]


@pytest.mark.parametrize("when", OUT_OF_RANGE_TIMESTAMPS)
def test_a_timestamp_outside_the_readable_range_is_refused_saying_the_range(when):
    message = refusal(ReceiptIn, receipt(occurred_at=when))
    assert "occurred_at" in message
    assert "1900-01-01T00:00:00Z up to (not including) 9900-01-01T00:00:00Z" in message


@pytest.mark.parametrize("when", ["1900-01-01T00:00:00Z", "1899-12-31T23:30:00-01:00", "9899-12-31T23:59:59Z"])
def test_the_edges_of_the_range_are_accepted(when):
    assert ReceiptIn.model_validate(receipt(occurred_at=when)).occurred_at.tzinfo is not None


def test_a_naive_timestamp_is_taken_as_utc():
    assert ReceiptIn.model_validate(receipt(occurred_at="2026-01-05T08:00:00")).occurred_at == datetime(
        2026, 1, 5, 8, tzinfo=UTC
    )


@pytest.mark.parametrize(
    "model,data,field",
    [
        (ReceiptIn, lot(expires_at="9999-12-31"), "expires_at"),
        (ReceiptIn, lot(manufactured_at="0001-01-01T00:00:00+14:00"), "manufactured_at"),
        (RunIn, {"window_start": "0001-01-01T00:00:00+14:00", "window_end": "2026-01-01"}, "window_start"),
        (TransitionIn, {"at": "9999-12-31T23:00:00-05:00"}, "at"),
    ],
)
def test_every_schema_bounds_its_timestamps(model, data, field):
    message = refusal(model, data)
    assert field in message and "out of range" in message


@pytest.mark.parametrize("due", ["0001-01-01", "1899-12-31", "9900-01-01", "9999-12-31"])
def test_a_date_outside_the_range_is_refused_even_in_a_plain_date_field(due):
    data = {"number": "SO-1", "customer": "SHOP", "lines": [{"item": "BREAD", "quantity": "1", "due_date": due}]}
    message = refusal(SalesOrderIn, data)
    assert "due_date" in message and "dates must lie from 1900-01-01 up to 9900-01-01" in message


def test_a_date_past_9999_is_refused():
    data = {"number": "SO-1", "customer": "SHOP", "lines": [{"item": "BREAD", "quantity": "1", "due_date": "10000-01-01"}]}
    assert "due_date" in refusal(SalesOrderIn, data)


def test_check_timestamp_and_check_date_serve_hand_parsed_inputs():
    assert types.check_timestamp(datetime(2026, 1, 1)) == datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="out of range"):
        types.check_timestamp(datetime(1, 1, 1, tzinfo=UTC))
    assert types.check_date(date(2026, 1, 1)) == date(2026, 1, 1)
    with pytest.raises(ValueError, match="out of range"):
        types.check_date(date(9999, 12, 31))


# --- NUL bytes and control characters --------------------------------------------------------------


@pytest.mark.parametrize(
    "model,data,field",
    [
        (ReceiptIn, lot(lot_code="F\x001"), "lot_code"),
        (ReceiptIn, receipt(notes="ok\x00"), "notes"),
        (ReceiptIn, receipt(external_ref="PO\x00"), "external_ref"),
        (AdjustmentIn, {"reason": "count\x00", "lines": [{"item": "X", "location": "WH", "quantity": "1"}]}, "reason"),
        (PartyIn, {"code": "C", "name": "C", "contact_email": "a\x00@b.c"}, "contact_email"),
    ],
)
def test_a_nul_byte_in_any_string_field_is_refused(model, data, field):
    message = refusal(model, data)
    assert field in message and "U+0000" in message


@pytest.mark.parametrize("ch", ["\r", "\n", "\t", "\x00", "\x1b", "\x7f", "\x85", "\u2028", "\u2029"])
@pytest.mark.parametrize("field", ["sku", "name", "uom"])
def test_codes_names_and_units_are_one_line_without_control_characters(field, ch):
    data = {"sku": "SKU-1", "name": "Flour", "uom": "kg"}
    data[field] = data[field][:1] + ch + data[field][1:]
    message = refusal(ItemIn, data)
    assert field in message and f"U+{ord(ch):04X}" in message


def test_references_and_lot_codes_are_one_line_too():
    assert "vendor" in refusal(ReceiptIn, receipt(vendor="MILL\r\nX-Injected: 1"))
    assert "lot_code" in refusal(ReceiptIn, lot(lot_code="F-1\nF-2"))


def test_free_text_keeps_newlines_and_tabs_but_no_other_control_character():
    assert ReceiptIn.model_validate(receipt(notes="line one\r\nline two\n\tindented")).notes.count("\n") == 2
    message = refusal(ReceiptIn, receipt(notes="bell\x07"))
    assert "notes" in message and "U+0007" in message


def test_unicode_letters_and_joiners_in_names_are_kept():
    name = "Café Müller \u200cنان\u200d"  # ZWNJ / ZWJ belong to scripts, they are not control characters
    assert PartyIn.model_validate({"code": "C", "name": name}).name == name


# --- end to end: the API answers 422 and every read keeps working ----------------------------------


@pytest.fixture
def master(client):
    for path, body in [
        ("/items", {"sku": "FLOUR", "name": "Flour", "uom": "kg"}),
        ("/locations", {"code": "WH", "name": "Warehouse"}),
        ("/vendors", {"code": "MILL", "name": "Mill"}),
    ]:
        assert client.post(path, json=body).status_code == 201


@pytest.mark.parametrize(
    "body",
    [
        receipt(occurred_at="0001-01-01T00:00:00+14:00"),
        receipt(occurred_at="9999-12-31T23:00:00-05:00"),
        lot(expires_at="10000-01-01T00:00:00Z"),
        lot(lot_code="F\x00-1"),
        receipt(notes="\x00"),
        lot(lot_code="F-1\r\nF-2"),
    ],
)
def test_a_poisonous_receipt_is_422_and_every_read_still_works(client, master, body):
    r = client.post("/receipts", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "invalid_input"
    for path in ("/lots", "/movements", "/stock"):
        assert client.get(path).status_code == 200, path
    assert client.get("/movements").json()["items"] == []


def test_the_cli_refuses_an_out_of_range_time_with_a_clean_message(cli, client, master):
    r = cli("receive", "--vendor", "MILL", "--item", "FLOUR", "--location", "WH", "--qty", "5", "--lot", "F-1",
            "--at", "0001-01-01T00:00:00")
    assert r.code == 2, r.err
    assert "Traceback" not in r.err + r.out
    assert cli("lot", "list").code == 0


def _one_line_by_character(value: str) -> bool:
    return all(unicodedata.category(ch) not in ("Cc", "Zl", "Zp") for ch in value)


@settings(max_examples=400, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=20))
def test_the_printable_fast_path_accepts_and_refuses_exactly_as_the_character_rule(value):
    # _one_line / _free_text skip the per-character loop for printable strings: same verdicts
    try:
        types._one_line(value)
        one_line = True
    except ValueError:
        one_line = False
    assert one_line == _one_line_by_character(value)
    try:
        types._free_text(value)
        free = True
    except ValueError:
        free = False
    assert free == all(ch in "\n\r\t" or unicodedata.category(ch) != "Cc" for ch in value)
