"""The trace engine against its previous version (tests/trace/reference, the oracle) on generated data.

Issue 11 rewrote how the engine fetches and unpacks its rows (fewer round trips, lot numbers
instead of UUIDs where the lots are already held). The answer must not change: for start lots of
every kind (the most-used raw lot, random lots, several lots at once, an unknown lot) in every
direction, as of now and as of a past time (statuses then from the audit trail), with and without
stock and a depth limit, the two results are equal field by field, every value of the same type,
and render to the same bytes (``to_json`` and the API's orjson document).
"""

from __future__ import annotations

import dataclasses
import json
import os
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from lotline.api.trace_document import render
from lotline.db.engine import create_engine
from lotline.errors import NotFound
from lotline.generate import loader
from lotline.trace import service as trace
from tests.trace.reference import engine as reference

LISTS = ("lots", "edges", "shipments", "receipts", "on_hand", "mass_balance", "cycles")


@pytest.fixture(scope="module")
def generated(database_url):
    """Scale 1 generated into a database of its own (the generator commits)."""
    name = f"lotline_trace_eq_{os.getpid()}"
    admin = sa.create_engine(database_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    loader.generate(url, 1, seed=11, check=False)
    eng = create_engine(url)
    yield eng
    eng.dispose()
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(scope="module")
def starts(generated) -> dict[str, list[uuid.UUID]]:
    with generated.connect() as conn:
        most = conn.execute(
            sa.text(
                "SELECT parent_lot_id FROM lot_genealogy_edges GROUP BY parent_lot_id"
                " ORDER BY count(*) DESC, parent_lot_id LIMIT 1"
            )
        ).scalar_one()
        # lots from every stage of the genealogy: raw (received), intermediate, finished (shipped)
        picked = conn.execute(
            sa.text(
                """
                (SELECT id FROM lots WHERE received_at IS NOT NULL ORDER BY md5(id::text) LIMIT 3)
                UNION ALL
                (SELECT l.id FROM lots l WHERE EXISTS (SELECT 1 FROM lot_genealogy_edges e WHERE e.child_lot_id = l.id)
                    AND EXISTS (SELECT 1 FROM lot_genealogy_edges e WHERE e.parent_lot_id = l.id)
                  ORDER BY md5(l.id::text) LIMIT 3)
                UNION ALL
                (SELECT DISTINCT lot_id FROM lot_shipments ORDER BY 1 LIMIT 2)
                """
            )
        ).scalars().all()
        # a lot whose status changed (as-of statuses come from the audit trail)
        changed = conn.execute(
            sa.text(
                "SELECT record_id::uuid FROM audit_log WHERE table_name = 'lots' AND operation = 'UPDATE'"
                " AND old_values ->> 'status' IS DISTINCT FROM new_values ->> 'status' ORDER BY id LIMIT 1"
            )
        ).scalars().all()
    out = {"most-used": [most], "several": picked[:3] + [most]}
    for i, lot_id in enumerate(picked + changed):
        out[f"lot{i}"] = [lot_id]
    return out


@pytest.fixture(scope="module")
def past(generated):
    """A time inside the data: edges, shipments and movements on both sides of it."""
    with generated.connect() as conn:
        return conn.execute(
            sa.text("SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY occurred_at) FROM lot_genealogy_edges")
        ).scalar_one()


def snapshot(eng) -> Session:
    s = Session(eng)
    s.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    s.execute(sa.text("SET TRANSACTION READ ONLY"))
    return s


def types(result) -> dict[str, list[tuple[str, ...]]]:
    """The type of every value of every row (equality alone would let 1.5 pass for Decimal('1.5'))."""
    return {name: [tuple(type(v).__name__ for v in row) for row in getattr(result, name)] for name in LISTS}


def both(eng, lot_ids, direction, as_of, max_depth, with_stock):
    with snapshot(eng) as s:
        old = reference.trace(s, lot_ids, direction, as_of, max_depth, with_stock=with_stock)
        new = trace.trace(s, lot_ids, direction, as_of, max_depth, with_stock=with_stock)
        s.rollback()
    if as_of is None:  # "now" is taken by each call: the rest must be the same
        new = dataclasses.replace(new, as_of=old.as_of)
    return old, new


@pytest.mark.parametrize("with_stock", [True, False], ids=["stock", "no-stock"])
@pytest.mark.parametrize("max_depth", [None, 2], ids=["unbounded", "depth2"])
@pytest.mark.parametrize("when", ["now", "past"])
@pytest.mark.parametrize("direction", ["forward", "backward", "both"])
def test_the_engine_answers_what_the_previous_engine_answered(
    generated, starts, past, direction, when, max_depth, with_stock
):
    as_of = None if when == "now" else past
    compared = 0
    for label, lot_ids in starts.items():
        old, new = both(generated, lot_ids, direction, as_of, max_depth, with_stock)
        assert new == old, label
        assert types(new) == types(old), label
        assert json.dumps(new.to_json()) == json.dumps(old.to_json()), label
        assert render(new) == render(old), label
        assert new.statements <= old.statements, label
        compared += len(old.lots) + len(old.edges) + len(old.shipments)
    assert compared > 0  # the comparison compared something


def test_the_most_used_lot_reaches_lots_shipments_and_stock(generated, starts):
    """The comparison above is not vacuous: the generated world has every section to compare."""
    old, _ = both(generated, starts["most-used"], "both", None, None, True)
    for name in LISTS[:-1]:
        assert getattr(old, name), name


def test_an_unknown_start_lot_is_refused_with_the_same_message(generated, starts):
    unknown = uuid.UUID(int=7)
    with snapshot(generated) as s:
        with pytest.raises(NotFound) as was:
            reference.trace(s, [starts["lot0"][0], unknown], "both")
        s.rollback()
    with snapshot(generated) as s:
        with pytest.raises(NotFound) as now:
            trace.trace(s, [starts["lot0"][0], unknown], "both")
        s.rollback()
    assert str(now.value) == str(was.value)
    assert now.value.details == was.value.details
