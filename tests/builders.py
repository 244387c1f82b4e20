"""Builders for tests: add + flush through the real services, never commit."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lotline.catalog import service as catalog
from lotline.catalog.schemas import ItemIn, LocationIn, PartyIn
from lotline.inventory import service as inventory
from lotline.inventory.schemas import ReceiptIn
from lotline.production import service as production
from lotline.production.schemas import ExecutionIn, WorkOrderIn
from lotline.recalls.completion_schemas import StrategyIn
from lotline.sales import service as sales
from lotline.sales.schemas import SalesOrderIn, ShipmentIn
from lotline.types import utcnow

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def at(days: float = 0, hours: float = 0) -> datetime:
    """A fixed point in time: T0 + days/hours (tests never depend on the clock)."""
    return T0 + timedelta(days=days, hours=hours)


def make_item(session: Session, sku: str = "FLOUR", **kw):
    kw.setdefault("name", sku.title())
    kw.setdefault("uom", "kg")
    return catalog.create_item(session, ItemIn(sku=sku, **kw))


def make_location(session: Session, code: str = "WH1", kind: str = "storage"):
    return catalog.create_location(session, LocationIn(code=code, name=code, kind=kind))


def make_vendor(session: Session, code: str = "MILL"):
    return catalog.create_vendor(
        session, PartyIn(code=code, name=code.title(), contact_email=f"{code.lower()}@example.com")
    )


def make_customer(session: Session, code: str = "SHOP", email: str | None = None):
    return catalog.create_customer(
        session, PartyIn(code=code, name=code.title(), contact_email=email or f"{code.lower()}@example.com")
    )


def receive(session: Session, item, location, lot_code: str, qty, *, vendor="MILL", when=None, **lot_kw):
    """Receive ``qty`` of ``item`` into a new lot ``lot_code``; returns the Lot."""
    posted = inventory.receive(
        session,
        ReceiptIn(
            vendor=vendor,
            occurred_at=when or at(),
            lines=[
                {
                    "item": item.sku,
                    "location": location.code,
                    "quantity": Decimal(str(qty)),
                    "lots": [{"lot_code": lot_code, "quantity": Decimal(str(qty)), **lot_kw}],
                }
            ],
        ),
    )
    from lotline.models import Lot

    return session.get(Lot, posted.lot_rows[0][0].lot_id)


def execute(session: Session, wo_number: str, item, consume, produce, *, when=None, create=True):
    """Run a work order: consume = [(item, location, qty, [(lot_code, qty)])], produce = [(location, qty, lot_code)]."""
    if create:
        production.create_work_order(
            session, WorkOrderIn(number=wo_number, item=item.sku, planned_quantity=Decimal(1))
        )
    return production.execute(
        session,
        wo_number,
        ExecutionIn(
            occurred_at=when or at(1),
            consume=[
                {
                    "item": i.sku,
                    "location": loc.code,
                    "quantity": Decimal(str(q)),
                    "lots": [{"lot": c, "quantity": Decimal(str(lq))} for c, lq in lots]
                    if lots is not None
                    else None,
                }
                for i, loc, q, lots in consume
            ],
            produce=[
                {
                    "location": loc.code,
                    "quantity": Decimal(str(q)),
                    "lot_code": code,
                    "item": (it.sku if it else None),
                }
                for loc, q, code, *rest in produce
                for it in [rest[0] if rest else None]
            ],
        ),
    )


def order(session: Session, number: str, customer, lines, *, when=None):
    """lines = [(item, qty, due_date)]"""
    return sales.create_order(
        session,
        SalesOrderIn(
            number=number,
            customer=customer.code,
            ordered_at=when or at(),
            lines=[
                {"item": i.sku, "quantity": Decimal(str(q)), "due_date": d or date(2026, 1, 20)}
                for i, q, d in lines
            ],
        ),
    )


def ship(session: Session, number: str, lines, *, when=None, external_ref=None):
    """lines = [(line_no, location, qty, [(lot_code, qty)] | None)]"""
    return sales.ship(
        session,
        number,
        ShipmentIn(
            shipped_at=when or at(2),
            external_ref=external_ref,
            lines=[
                {
                    "line_no": no,
                    "location": loc.code,
                    "quantity": Decimal(str(q)),
                    "lots": [{"lot": c, "quantity": Decimal(str(lq))} for c, lq in lots]
                    if lots is not None
                    else None,
                }
                for no, loc, q, lots in lines
            ],
        ),
    )


SIGNER_PASSWORD = "correct horse battery staple"


def sign(session, meaning: str = "approved"):
    """An electronic signature of the user ``signer`` (created on first use, every role), who
    becomes the actor of the test's transaction: for service-level calls of signed steps."""
    from lotline.auth import service as auth_service
    from lotline.auth.models import User
    from lotline.auth.schemas import SignatureIn, UserIn

    if session.scalar(sa.select(User.id).where(User.name == "signer")) is None:
        auth_service.add_user(
            session,
            UserIn(
                name="signer",
                full_name="Sam Signer",
                roles=["viewer", "operator", "quality", "analyst", "admin"],
                password=SIGNER_PASSWORD,
            ),
        )
    session.execute(sa.text("SELECT set_config('lotline.actor', 'user:signer', true)"))
    return SignatureIn(password=SIGNER_PASSWORD, meaning=meaning)


def strategy_in(**kw) -> StrategyIn:
    """A recall strategy (21 CFR 7.42) for tests: class II, retail depth, level C; ``kw`` overrides."""
    values = dict(
        fda_class="II", depth="retail", public_warning="none", effectiveness_level="C",
        reason="Salmonella found in a retained sample of flour lot F-1",
        health_hazard="Remote probability of adverse health consequences",
        product_description="Wheat flour T55 and the breads and cakes made from it",
        response_deadline=utcnow() + timedelta(days=7), reminder_interval_hours=24, reminder_max=2,
        coordinator_name="Quality Manager", coordinator_email="qa@bakery.example",
    )
    values.update(kw)
    return StrategyIn(**values)
