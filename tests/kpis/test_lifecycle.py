"""Run lifecycle, immutability, queries (containment, compare, time series, CSV) and bad input."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from pydantic import ValidationError

from lotline.errors import InvalidInput, InvalidStateTransition, NotFound
from lotline.kpis import service as kpis
from lotline.kpis.schemas import RunIn
from lotline.models import KpiRollupInput, KpiSnapshot
from tests.builders import make_item, make_location, make_vendor, receive, sign

JAN = datetime(2026, 1, 1, tzinfo=UTC)
FEB = datetime(2026, 2, 1, tzinfo=UTC)
MAR = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def stock(session):
    wh = make_location(session, "WH1")
    make_vendor(session)
    flour = make_item(session, "FLOUR", standard_cost=Decimal(2))
    receive(session, flour, wh, "F-1", 100, when=datetime(2026, 1, 11, tzinfo=UTC))
    return flour, wh


def _count(session, model, run_id):
    return session.scalar(sa.select(sa.func.count()).select_from(model).where(model.kpi_run_id == run_id))


def test_a_run_goes_draft_computed_published_archived(session, stock):
    run = kpis.create_run(session, RunIn(window_start=JAN, window_end=FEB, notes="January"))
    assert run.status == "draft" and run.as_of is not None
    assert _count(session, KpiSnapshot, run.id) == 0
    kpis.compute_run(session, run.id)
    assert run.status == "computed"
    n = _count(session, KpiSnapshot, run.id)
    assert n > 0 and _count(session, KpiRollupInput, run.id) == n
    assert kpis.publish_run(session, run.id, sign(session)).status == "published"
    assert kpis.archive_run(session, run.id).status == "archived"


def test_publishing_a_draft_is_refused_with_a_hint(session, stock):
    run = kpis.create_run(session, RunIn(window_start=JAN, window_end=FEB))
    with pytest.raises(
        InvalidStateTransition, match="is draft and cannot become published: compute it first"
    ):
        kpis.publish_run(session, run.id, sign(session))


def test_a_published_run_is_immutable_and_recomputing_means_a_new_run(session, stock):
    run = kpis.run_kpis(session, RunIn(window_start=JAN, window_end=FEB))
    kpis.publish_run(session, run.id, sign(session))
    before = [(r.kpi_name, r.dimensions, r.value) for r in kpis.snapshots(session, run.id)]
    with pytest.raises(InvalidStateTransition, match="published runs are immutable; create a new run"):
        kpis.compute_run(session, run.id)
    with pytest.raises(InvalidStateTransition, match="immutable"):
        kpis.set_notes(session, run.id, "edited")
    with pytest.raises(InvalidStateTransition):
        kpis.publish_run(session, run.id, sign(session))
    assert [(r.kpi_name, r.dimensions, r.value) for r in kpis.snapshots(session, run.id)] == before
    again = kpis.run_kpis(session, RunIn(window_start=JAN, window_end=FEB, as_of=run.as_of))
    assert again.id != run.id
    assert [(r.kpi_name, r.dimensions, r.value) for r in kpis.snapshots(session, again.id)] == before


def test_a_computed_run_is_not_computed_twice_and_archiving_needs_publishing(session, stock):
    run = kpis.run_kpis(session, RunIn(window_start=JAN, window_end=FEB))
    with pytest.raises(InvalidStateTransition, match="computed once"):
        kpis.compute_run(session, run.id)
    with pytest.raises(InvalidStateTransition, match="publish it first"):
        kpis.archive_run(session, run.id)
    assert kpis.set_notes(session, run.id, "checked").notes == "checked"


def test_archived_runs_are_hidden_unless_asked_for(session, stock):
    a = kpis.run_kpis(session, RunIn(window_start=JAN, window_end=FEB))
    b = kpis.run_kpis(session, RunIn(window_start=FEB, window_end=MAR))
    kpis.publish_run(session, a.id, sign(session))
    kpis.archive_run(session, a.id)
    assert [r.id for r in kpis.list_runs(session)] == [b.id]
    assert {r.id for r in kpis.list_runs(session, include_archived=True)} == {a.id, b.id}
    assert [r.id for r in kpis.list_runs(session, status="archived")] == [a.id]


def test_snapshot_filters_use_containment_and_levels(session, stock):
    flour, wh = stock
    run = kpis.run_kpis(session, RunIn(window_start=JAN, window_end=FEB))
    dims = kpis.dimensions_for(session, item="FLOUR")
    rows = kpis.snapshots(session, run.id, kpi="avg_on_hand_qty", dimensions=dims)
    assert {tuple(sorted(r.dimensions)) for r in rows} == {("item_id",), ("item_id", "location_id")}
    only = kpis.snapshots(session, run.id, kpi="avg_on_hand_qty", dimensions=dims, level="item")
    assert len(only) == 1 and only[0].sku == "FLOUR" and only[0].label == "FLOUR"
    # 100 kg from Jan 11 00:00 to Feb 1: 21 of 31 days
    assert only[0].value == kpis.round_ratio(Decimal(2100), Decimal(31))
    # With few rows the planner prefers a scan; forbid it to see that the GIN index serves @>.
    session.execute(sa.text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(
        session.execute(
            sa.text("EXPLAIN SELECT * FROM kpi_snapshots WHERE dimensions @> CAST(:d AS jsonb)"),
            {"d": json.dumps({"item_id": str(flour.id)})},
        ).scalars()
    )
    session.execute(sa.text("SET LOCAL enable_seqscan = on"))
    assert "idx_kpi_snapshots_dimensions_gin" in plan


def test_compare_series_and_csv(session, stock):
    flour, wh = stock
    jan = kpis.run_kpis(session, RunIn(window_start=JAN, window_end=FEB))
    feb = kpis.run_kpis(session, RunIn(window_start=FEB, window_end=MAR))
    diff = kpis.compare(session, jan.id, feb.id, kpi="avg_on_hand_qty", level="item")
    assert len(diff) == 1
    assert diff[0].value_b == 100 and diff[0].delta == 100 - diff[0].value_a
    dims = {"item_id": str(flour.id)}
    assert kpis.time_series(session, "avg_on_hand_qty", dimensions=dims) == []  # nothing published yet
    kpis.publish_run(session, feb.id, sign(session))
    kpis.publish_run(session, jan.id, sign(session))
    points = kpis.time_series(session, "avg_on_hand_qty", dimensions=dims)
    assert [p.window_start for p in points] == [JAN, FEB]
    assert points[1].value == 100
    text = kpis.to_csv(jan.id, kpis.snapshots(session, jan.id, kpi="days_of_inventory_qty", level="item"))
    header, line = text.splitlines()
    assert header.startswith("run_id,kpi,item_id,sku")
    assert ",FLOUR," in line and line.endswith(",days,stock but no usage,2100.000000,0.000000")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"window_start": FEB, "window_end": JAN}, "must be after window_start"),
        ({"window_start": JAN, "window_end": JAN}, "must be after window_start"),
        ({"window_start": JAN, "window_end": datetime.now(UTC) + timedelta(days=2)}, "in the future"),
        (
            {"window_start": JAN, "window_end": FEB, "as_of": datetime.now(UTC) + timedelta(hours=1)},
            "as_of .* is in the future",
        ),
        ({"window_start": JAN, "window_end": MAR, "as_of": FEB}, "is after as_of"),
        ({"window_start": JAN, "window_end": FEB, "colour": "red"}, "colour"),
    ],
)
def test_bad_run_input_is_refused_with_a_message(kwargs, message):
    with pytest.raises(ValidationError, match=message):
        RunIn(**kwargs)


def test_unknown_kpi_level_dimension_or_run_are_clear_errors(session, stock):
    run = kpis.run_kpis(session, RunIn(window_start=JAN, window_end=FEB))
    with pytest.raises(InvalidInput, match="unknown KPI 'turnz'; known KPIs: avg_on_hand_qty"):
        kpis.snapshots(session, run.id, kpi="turnz")
    with pytest.raises(InvalidInput, match="unknown dimension level 'sku'"):
        kpis.snapshots(session, run.id, level="sku")
    with pytest.raises(InvalidInput, match="unknown dimension key 'sku'"):
        kpis.snapshots(session, run.id, dimensions={"sku": "FLOUR"})
    with pytest.raises(InvalidInput, match="item_id must be a UUID"):
        kpis.snapshots(session, run.id, dimensions={"item_id": "FLOUR"})
    with pytest.raises(NotFound, match="unknown KPI run nope"):
        kpis.publish_run(session, "nope", sign(session))
    with pytest.raises(NotFound, match="unknown KPI run"):
        kpis.get_run(session, "00000000-0000-0000-0000-000000000000")
    with pytest.raises(NotFound):
        kpis.dimensions_for(session, item="NOSUCH")
    with pytest.raises(InvalidInput, match="unknown KPI"):
        kpis.time_series(session, "nope")
