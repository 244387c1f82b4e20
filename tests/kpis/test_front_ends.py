"""CLI and HTTP front ends of KPI runs, and the SVG charts."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from lotline.kpis import charts
from tests.builders import make_item, make_location, make_vendor, receive
from tests.conftest import SIGNED

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def stock(session):
    wh = make_location(session, "WH1")
    make_vendor(session)
    flour = make_item(session, "FLOUR", standard_cost=Decimal(2))
    salt = make_item(session, "SALT", standard_cost=Decimal(1))
    receive(session, flour, wh, "F-1", 100, when=datetime(2026, 1, 11, tzinfo=UTC))
    receive(session, salt, wh, "S-1", 50, when=datetime(2026, 1, 21, tzinfo=UTC))
    session.commit()  # the savepoint; the outer test transaction still rolls everything back
    return flour, wh


def test_cli_runs_publishes_shows_compares_charts_and_exports(cli, signed_cli, stock, tmp_path):
    jan = cli("kpi", "run", "--start", "2026-01-01", "--end", "2026-02-01", "--json")
    assert jan.code == 0, jan.err
    jan_id = jan.json()["id"]
    assert jan.json()["status"] == "computed"
    feb = signed_cli("kpi", "run", "--start", "2026-02-01", "--end", "2026-03-01", "--publish", "--json").json()
    assert feb["status"] == "published"

    shown = cli(
        "kpi", "show", jan_id, "--kpi", "avg_on_hand_qty", "--item", "FLOUR", "--level", "item", "--json"
    )
    assert shown.code == 0, shown.err
    (row,) = shown.json()["snapshots"]
    assert row["label"] == "FLOUR" and Decimal(row["value"]) == round(Decimal(2100) / 31, 6)

    table = cli("kpi", "show", jan_id, "--level", "overall")
    assert "turns_qty" in table.out and "days_of_inventory_qty" in table.out

    unsigned = cli("kpi", "publish", jan_id)
    assert unsigned.code == 2 and "electronic signature" in unsigned.err
    assert signed_cli("kpi", "publish", jan_id).code == 0
    again = cli("kpi", "publish", jan_id)
    assert again.code == 5 and "is published and cannot become published" in again.err

    listed = cli("kpi", "list", "--json").json()
    assert {r["id"] for r in listed} == {jan_id, feb["id"]}

    diff = cli("kpi", "compare", jan_id, feb["id"], "--kpi", "avg_on_hand_qty", "--json").json()
    assert len(diff) == 1 and Decimal(diff[0]["value_b"]) == 150

    series = cli("kpi", "series", "avg_on_hand_qty", "--item", "FLOUR", "--json").json()
    assert [Decimal(p["value"]) for p in series][1] == 100

    out = tmp_path / "flour.svg"
    assert cli("kpi", "chart", "avg_on_hand_qty", "--item", "FLOUR", "--out", str(out)).code == 0
    root = ET.fromstring(out.read_text())
    assert root.tag == f"{SVG}svg" and "FLOUR" in root.find(f"{SVG}title").text
    bars = tmp_path / "bars.svg"
    assert (
        cli("kpi", "chart", "avg_on_hand_value", "--run", jan_id, "--by", "item", "--out", str(bars)).code
        == 0
    )
    assert len(ET.fromstring(bars.read_text()).findall(f"{SVG}rect")) == 3  # background + 2 bars
    png = cli("kpi", "chart", "turns_qty", "--out", str(tmp_path / "x.png"))
    assert png.code == 2 and "SVG" in png.err

    csv_file = tmp_path / "jan.csv"
    assert cli("kpi", "export", jan_id, "--out", str(csv_file)).code == 0
    assert csv_file.read_text().splitlines()[0].startswith("run_id,kpi,item_id,sku")

    assert cli("kpi", "archive", jan_id).code == 0
    assert {r["id"] for r in cli("kpi", "list", "--json").json()} == {feb["id"]}
    assert "avg_on_hand_qty" in cli("kpi", "defs").out


def test_cli_bad_input_gives_clear_errors_and_exit_codes(cli, stock):
    bad = cli("kpi", "run", "--start", "2026-02-01", "--end", "2026-01-01")
    assert bad.code == 2 and "must be after window_start" in bad.err
    run_id = cli("kpi", "run", "--start", "2026-01-01", "--end", "2026-02-01", "--json").json()["id"]
    unknown = cli("kpi", "show", run_id, "--kpi", "turnz")
    assert unknown.code == 2 and "unknown KPI 'turnz'" in unknown.err
    draft_missing = cli("kpi", "publish", "00000000-0000-0000-0000-000000000000")
    assert draft_missing.code == 4 and "unknown KPI run" in draft_missing.err


def test_http_api_lifecycle_queries_csv_and_svg(client, stock):
    r = client.post(
        "/kpi/runs", json={"window_start": "2026-01-01T00:00:00Z", "window_end": "2026-02-01T00:00:00Z"}
    )
    assert r.status_code == 201, r.text
    run_id = r.json()["id"]
    snaps = client.get(f"/kpi/runs/{run_id}/snapshots", params={"kpi": "avg_on_hand_qty", "item": "FLOUR"})
    assert snaps.status_code == 200 and len(snaps.json()["items"]) == 2  # item and item x location
    draft_publish = client.post(f"/kpi/runs/{run_id}/publish", json=SIGNED["signature"])
    assert draft_publish.status_code == 200 and draft_publish.json()["status"] == "published"
    [signed] = client.get(f"/kpi/runs/{run_id}").json()["signatures"]
    assert (signed["signer"], signed["full_name"], signed["meaning"], signed["valid"]) == ("tester", "Test User", "approved", True)
    again = client.post(f"/kpi/runs/{run_id}/publish")
    assert again.status_code == 409 and "published" in again.json()["detail"]
    csv = client.get(f"/kpi/runs/{run_id}/export.csv", params={"level": "overall"})
    assert csv.headers["content-type"].startswith("text/csv") and csv.text.count("\n") == 1 + 20
    svg = client.get("/kpi/series/avg_on_hand_qty/chart.svg", params={"item": "FLOUR"})
    assert svg.headers["content-type"] == "image/svg+xml"
    ET.fromstring(svg.text)
    bars = client.get(f"/kpi/runs/{run_id}/chart.svg", params={"kpi": "turns_qty", "by": "location"})
    assert bars.status_code == 200
    assert client.get(f"/kpi/runs/{run_id}/snapshots", params={"kpi": "nope"}).status_code == 422
    bad = client.post(
        "/kpi/runs", json={"window_start": "2026-02-01T00:00:00Z", "window_end": "2026-01-01T00:00:00Z"}
    )
    assert bad.status_code == 422 and "window_end" in bad.text
    assert client.get("/kpi/runs/not-a-run").status_code == 404
    assert len(client.get("/kpi/definitions").json()) == 20


def test_charts_are_valid_svg_and_mark_null_values():
    line = charts.line_chart(
        "turns <&> test",
        [
            charts.Point("Jan", Decimal("1.5")),
            charts.Point("Feb", None, "no stock and no outflow"),
            charts.Point("Mar", 2),
        ],
        units="turns",
    )
    root = ET.fromstring(line)
    assert root.find(f"{SVG}title").text == "turns <&> test"
    titles = [t.text for t in root.iter(f"{SVG}title")]
    assert "Feb: no value (no stock and no outflow)" in titles
    assert root.findall(f"{SVG}polyline") == []  # the NULL splits the line into single points
    bars = ET.fromstring(charts.bar_chart("x", [charts.Point("A", -3), charts.Point("B", None, "why")]))
    assert any("null: why" in (t.text or "") for t in bars.iter(f"{SVG}text"))
    ET.fromstring(charts.line_chart("empty", []))
    ET.fromstring(charts.bar_chart("empty", []))
