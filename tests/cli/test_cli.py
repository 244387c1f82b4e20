"""The CLI: happy paths print tables or JSON; each error class has its own exit code and a message."""

import pytest


@pytest.fixture
def master(cli):
    assert cli("item", "add", "FLOUR", "--name", "Flour", "--uom", "kg", "--shelf-life-days", "90").code == 0
    assert cli("item", "add", "WATER", "--name", "Water", "--uom", "l", "--untracked").code == 0
    assert cli("location", "add", "WH", "--kind", "storage").code == 0
    assert cli("location", "add", "QA", "--kind", "quarantine").code == 0
    assert cli("vendor", "add", "MILL", "--name", "Mill").code == 0
    assert cli("customer", "add", "SHOP", "--name", "Shop", "--email", "shop@example.com").code == 0


def test_listings_print_json_with_all_fields(cli, master):
    items = cli("item", "list", "--json").json()
    assert [i["sku"] for i in items] == ["FLOUR", "WATER"]
    assert items[0]["lot_tracked"] is True and items[1]["lot_tracked"] is False
    assert [x["code"] for x in cli("location", "list", "--json").json()] == ["QA", "WH"]
    assert cli("customer", "list", "--json").json()[0]["contact_email"] == "shop@example.com"


def test_receive_then_stock_shows_the_lot_at_its_location(cli, master):
    r = cli("receive", "--vendor", "MILL", "--item", "FLOUR", "--location", "WH", "--qty", "100", "--lot", "F-1",
            "--at", "2026-01-05T08:00:00+00:00")
    assert r.code == 0, r.err
    stock = cli("stock", "--json").json()
    assert [(s["sku"], s["lot_code"], s["location"], s["quantity"]) for s in stock] == [("FLOUR", "F-1", "WH", "100")]
    lot = cli("lot", "show", "F-1", "--json").json()
    assert lot["expires_at"].startswith("2026-04-05")  # received + 90 days shelf life


def test_production_and_shipment_through_the_cli(cli, master):
    cli("item", "add", "BREAD", "--name", "Bread", "--uom", "ea")
    cli("receive", "--vendor", "MILL", "--item", "FLOUR", "--location", "WH", "--qty", "100", "--lot", "F-1",
        "--at", "2026-01-05T08:00:00+00:00")
    assert cli("wo", "create", "WO-1", "--item", "BREAD", "--qty", "50").code == 0
    r = cli("wo", "execute", "WO-1", "--consume", "FLOUR:WH:40", "--produce", "WH:50:B-1", "--at", "2026-01-06T08:00:00+00:00", "--json")
    assert r.code == 0, r.err
    kinds = [m["movement_type"] for m in r.json()["movements"]]
    assert kinds == ["production_consume", "production_produce"]
    assert cli("so", "create", "SO-1", "--customer", "SHOP", "--line", "BREAD:30:2026-01-10").code == 0
    r = cli("so", "ship", "SO-1", "--line", "1:WH:30", "--at", "2026-01-07T08:00:00+00:00", "--json")
    assert r.code == 0, r.err
    assert r.json()["movement"]["lines"][0]["lot_code"] == "B-1"
    order = cli("so", "show", "SO-1", "--json").json()
    assert order["status"] == "closed" and order["lines"][0]["open"] == "0"


def test_unknown_reference_exits_4_and_names_it(cli, master):
    r = cli("receive", "--vendor", "NOPE", "--item", "FLOUR", "--location", "WH", "--qty", "1", "--lot", "X")
    assert r.code == 4
    assert "unknown vendor 'NOPE'" in r.err


def test_invalid_quantity_exits_2_naming_the_field(cli, master):
    r = cli("receive", "--vendor", "MILL", "--item", "FLOUR", "--location", "WH", "--qty", "NaN", "--lot", "X")
    assert r.code == 2
    assert "lines.0.quantity" in r.err
    r = cli("receive", "--vendor", "MILL", "--item", "FLOUR", "--location", "WH", "--qty", "1e13", "--lot", "X")
    assert r.code == 2 and "at most 12 digits before the point" in r.err and "no exponent" in r.err


def test_missing_flags_exit_2_and_say_which(cli, master):
    r = cli("transfer", "--item", "FLOUR")
    assert r.code == 2
    assert "--from" in r.err and "--qty" in r.err


def test_duplicate_code_exits_5(cli, master):
    r = cli("item", "add", "FLOUR", "--name", "Again")
    assert r.code == 5
    assert "SKU already exists" in r.err


def test_rule_violation_exits_6_and_writes_nothing(cli, master):
    cli("receive", "--vendor", "MILL", "--item", "FLOUR", "--location", "WH", "--qty", "10", "--lot", "F-1",
        "--at", "2026-01-05T08:00:00+00:00")
    r = cli("transfer", "--item", "FLOUR", "--from", "WH", "--to", "QA", "--qty", "11", "--lot", "F-1:11")
    assert r.code == 6
    assert "lot F-1 of FLOUR has 10 kg at WH, 11 requested" in r.err
    assert len(cli("movement", "list", "--json").json()) == 1


def test_illegal_lot_status_change_exits_5(cli, master):
    cli("receive", "--vendor", "MILL", "--item", "FLOUR", "--location", "WH", "--qty", "10", "--lot", "F-1",
        "--at", "2026-01-05T08:00:00+00:00")
    assert cli("lot", "status", "F-1", "expired", "--reason", "past date").code == 0
    r = cli("lot", "status", "F-1", "active")
    assert r.code == 5
    assert "cannot go from expired to active" in r.err


def test_db_current_reports_head(cli):
    r = cli("db", "current")
    assert r.code == 0
    assert "up to date" in r.out


def test_lot_history_lists_movements_with_a_running_total(cli, master):
    cli("receive", "--vendor", "MILL", "--item", "FLOUR", "--location", "WH", "--qty", "10", "--lot", "F-1",
        "--at", "2026-01-05T08:00:00+00:00")
    cli("transfer", "--item", "FLOUR", "--from", "WH", "--to", "QA", "--qty", "4", "--lot", "F-1:4",
        "--at", "2026-01-06T08:00:00+00:00")
    cli("scrap", "--item", "FLOUR", "--location", "QA", "--qty", "4", "--lot", "F-1:4", "--at", "2026-01-07T08:00:00+00:00")
    rows = cli("lot", "history", "F-1", "--json").json()
    assert [(r["movement_type"], r["location"], r["quantity_delta"]) for r in rows] == [
        ("receipt", "WH", "10"),
        ("transfer", "WH", "-4"),
        ("transfer", "QA", "4"),
        ("scrap", "QA", "-4"),
    ]
    assert [r["running_total"] for r in rows] == ["10", "6", "10", "6"]
