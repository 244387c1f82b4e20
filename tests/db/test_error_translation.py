"""Database errors leave ``db.transaction()`` as domain errors naming what is wrong."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from lotline import db
from lotline.db import engine as engine_mod
from lotline.errors import DuplicateKey, InvalidInput, RuleViolation, Unavailable
from lotline.models import InventoryBalance, Lot
from tests.builders import make_item, make_location, make_vendor, receive
from tests.support import refused_without_writes


@pytest.fixture
def lot(session):
    flour, wh = make_item(session, "FLOUR"), make_location(session, "WH1")
    make_vendor(session)
    return receive(session, flour, wh, "F-1", 5)


def test_a_negative_lot_balance_is_a_rule_violation(session, lot):
    with refused_without_writes(
        session, RuleViolation, match="a lot would go below zero at a location"
    ) as tx:
        tx.execute(sa.update(InventoryBalance).where(InventoryBalance.lot_id == lot.id).values(quantity=-1))


def test_a_duplicate_lot_code_is_a_duplicate_key(session, lot):
    with refused_without_writes(
        session, DuplicateKey, match="this item already has a lot with this code"
    ) as tx:
        tx.add(Lot(item_id=lot.item_id, lot_code="F-1", status="active"))
        tx.flush()


def test_a_reference_to_a_missing_row_is_invalid_input(session, lot):
    with refused_without_writes(
        session, InvalidInput, match="reference to a record that does not exist"
    ) as tx:
        tx.add(Lot(item_id=uuid.uuid4(), lot_code="X", status="active"))
        tx.flush()


def test_an_out_of_range_number_is_invalid_input(session, lot):
    with refused_without_writes(session, InvalidInput, match="invalid value") as tx:
        tx.execute(sa.text("SELECT CAST('1e13' AS numeric(18,6))"))


def test_a_lot_status_outside_the_spec_is_a_rule_violation(session, lot):
    with refused_without_writes(session, RuleViolation, match="chk_lots_status") as tx:
        tx.execute(sa.update(Lot).where(Lot.id == lot.id).values(status="destroyed"))


def test_an_unreachable_server_is_unavailable_with_a_clear_message():
    with pytest.raises(
        Unavailable, match="cannot reach PostgreSQL at .*nobody@127.0.0.1:1/lotline.*Connection refused"
    ):
        engine_mod.create_engine(
            "postgresql://nobody@127.0.0.1:1/lotline", connect_args={"connect_timeout": 2}
        )


def test_a_database_url_that_is_not_postgresql_is_refused():
    with pytest.raises(Unavailable, match="must be a postgresql:// URL"):
        engine_mod.normalize_url("sqlite:///lotline.db")


def test_transaction_commits_on_success(session, lot):
    with db.transaction() as tx:
        tx.get(Lot, lot.id).notes = "checked"
    session.expire_all()
    assert session.get(Lot, lot.id).notes == "checked"


def test_a_nul_byte_in_a_lookup_is_invalid_input_not_a_driver_error(connection):
    with pytest.raises(InvalidInput, match="NUL"), db.transaction() as s:
        s.execute(sa.select(Lot).where(Lot.lot_code == "F\x00-1")).all()


def test_the_api_answers_422_for_a_nul_byte_in_a_path(client):
    r = client.get("/lots/F%00-1")
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "invalid_input"
    assert client.get("/lots").status_code == 200
