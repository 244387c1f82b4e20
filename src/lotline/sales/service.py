"""Sales orders and shipments.

A shipment posts one shipment movement (each movement line fills one order line), records which
order line each shipped quantity fills, and links every shipped lot row to the shipment
(``shipment_lot_links``) — the edge from lots to customers that recalls follow — plus the derived
``lot_shipments`` row per (lot, shipment) that traces read, and refreshes the derived fill state
of the lines it ships (``sales_order_line_fills``, read by fill-rate KPIs). Shipping more than
an order line's open quantity is refused; the order is locked so two shipments cannot both take
the last open quantity. An order whose lines are all shipped in full is closed.

Raises: NotFound, OverShipment, InvalidStateTransition, and everything the posting service raises.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

import sqlalchemy as sa
from psycopg import sql as pgsql
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.util import identity_key

from lotline.catalog import service as catalog
from lotline.db import pages, sql
from lotline.errors import InvalidInput, InvalidStateTransition, NotFound, OverShipment
from lotline.inventory import refs
from lotline.inventory import service as inventory
from lotline.models import (
    Customer,
    Item,
    Location,
    SalesOrder,
    SalesOrderLine,
    SalesOrderShipment,
    SalesOrderShipmentLine,
)
from lotline.sales.schemas import SalesOrderIn, ShipmentIn
from lotline.types import fmt_qty, utcnow


@dataclass
class Shipped:
    shipment: SalesOrderShipment
    posted: inventory.Posted
    replayed: bool = False


def create_order(session: Session, data: SalesOrderIn, *, refresh_fills: bool = True) -> SalesOrder:
    """A new open sales order with its lines.

    ``refresh_fills=False``: the caller ships the order in the same transaction right away, and
    the shipment derives the lines' fill state (an order is never left without it).
    """
    records = refs.resolve_all(
        session, {Customer: [data.customer], Item: [x.item for x in data.lines]}, context="sales order"
    )
    customer, items = records[Customer][data.customer], records[Item]
    order = SalesOrder(
        id=uuid.uuid4(),
        number=data.number,
        customer_id=customer.id,
        status="open",
        ordered_at=data.ordered_at or utcnow(),
        notes=data.notes,
    )
    lines = [
        SalesOrderLine(
            id=uuid.uuid4(),
            sales_order_id=order.id,
            line_no=n,
            item_id=items[ln.item].id,
            uom=items[ln.item].uom,
            quantity_ordered=ln.quantity,
            due_date=ln.due_date,
            promised_date=ln.promised_date,
            unit_price=ln.unit_price,
        )
        for n, ln in enumerate(data.lines, start=1)
    ]
    # order and lines in one statement, the fill state after it in the same pipeline (one wait)
    session.flush()  # pending records (a customer or item made in this transaction) first
    statements: list[tuple[str, dict]] = [(sql.load_sql("lotline.sales", "insert_order"), {
        "id": order.id,
        "number": order.number,
        "customer_id": order.customer_id,
        "ordered_at": order.ordered_at,
        "notes": order.notes,
        "line_ids": [x.id for x in lines],
        "line_nos": [x.line_no for x in lines],
        "items": [x.item_id for x in lines],
        "uoms": [x.uom for x in lines],
        "quantities": [x.quantity_ordered for x in lines],
        "due_dates": [x.due_date for x in lines],
        "promised_dates": [x.promised_date for x in lines],
        "unit_prices": [x.unit_price for x in lines],
    })]
    if refresh_fills and not _deferred_fills(session, order.id):
        statements.append((sql.load_sql("lotline.sales", "refresh_line_fills"), {"order_ids": [order.id]}))
    sql.execute_all(session, statements)
    # persistent from here on, as if loaded: columns the database filled (created_at) load on access
    for obj in (order, *lines):
        make_transient_to_detached(obj)
    session.add_all([order, *lines])
    return order


def refresh_line_fills(session: Session, order_ids: list[uuid.UUID]) -> None:
    """Re-derive the fill state (sales_order_line_fills) of these orders' lines; call after a flush."""
    sql.execute(session, sql.load_sql("lotline.sales", "refresh_line_fills"), {"order_ids": order_ids})


_DEFERRED_FILLS = "lotline.sales.deferred_fills"


def defer_line_fills(session: Session) -> None:
    """Orders created or shipped from now on get their fill state re-derived once, by
    ``refresh_deferred_line_fills``, instead of at each document (a batch of postings).

    Why: the fill state's monthly sums (kpi_*_fill_months, migration 0032) keep one row per
    customer and month, locked by each refresh until commit; refreshed at each document, a batch
    held its customer's row for its whole length and concurrent batches for that customer queued
    behind it. Refreshed last, the row is held only for the last statement and the commit."""
    session.info.setdefault(_DEFERRED_FILLS, {})


def refresh_deferred_line_fills(session: Session) -> None:
    """Re-derive the fill state of every order ``defer_line_fills`` collected, in one statement.

    Also orders whose document was rolled back since (a refused document of a batch): the fill
    state is re-derived from the lines as they are, so theirs stays what it was."""
    pending = session.info.pop(_DEFERRED_FILLS, None)
    if pending:
        refresh_line_fills(session, sorted(pending))


def forget_deferred_line_fills(session: Session) -> None:
    """End the deferral without refreshing (the batch failed: its transaction rolls back)."""
    session.info.pop(_DEFERRED_FILLS, None)


def _deferred_fills(session: Session, order_id: uuid.UUID) -> bool:
    """True (and the order remembered) when fill refreshes are deferred in this session."""
    pending = session.info.get(_DEFERRED_FILLS)
    if pending is None:
        return False
    pending[order_id] = None
    return True


def find_order(session: Session, ref: str | uuid.UUID, *, lock: bool = False) -> SalesOrder:
    order_id = catalog.as_uuid(ref)
    query = sa.select(SalesOrder).where(
        SalesOrder.id == order_id if order_id else SalesOrder.number == str(ref)
    )
    order = session.scalar(query.with_for_update() if lock else query)
    if order is None:
        raise NotFound(f"unknown sales order {str(ref)!r}", kind="sales_order", ref=str(ref))
    return order


def order_lines(session: Session, order: SalesOrder) -> list[dict]:
    """Order lines with shipped and open quantities.

    The shipped total is a correlated sum over this order's own lines (index on
    sales_order_line_id), never a GROUP BY over every shipment line ever posted.
    """
    shipped = (
        sa.select(sa.func.coalesce(sa.func.sum(SalesOrderShipmentLine.quantity), 0))
        .where(SalesOrderShipmentLine.sales_order_line_id == SalesOrderLine.id)
        .correlate(SalesOrderLine)
        .scalar_subquery()
    )
    rows = session.execute(
        sa.select(SalesOrderLine, Item, shipped.label("shipped"))
        .join(Item, Item.id == SalesOrderLine.item_id)
        .where(SalesOrderLine.sales_order_id == order.id)
        .order_by(SalesOrderLine.line_no)
    ).all()
    return [
        {
            "line": line,
            "item": item,
            "sku": item.sku,
            "shipped": qty,
            "open": line.quantity_ordered - qty,
        }
        for line, item, qty in rows
    ]


class _Order(NamedTuple):
    id: uuid.UUID
    number: str
    customer_id: uuid.UUID
    status: str


class _OpenLine(NamedTuple):
    id: uuid.UUID
    line_no: int
    item_id: uuid.UUID
    quantity_ordered: Decimal
    open: Decimal  # ordered less shipped


# (the order by id or by number: {match} is "o.id = %(order)s::uuid" or "o.number = %(order)s::text")
_LOCK_ORDER = "SELECT o.id, o.number, o.customer_id, o.status FROM sales_orders o WHERE {match} FOR UPDATE"
# The shipped total is a correlated sum over the order's own lines (index on sales_order_line_id).
_OPEN_LINES = """
SELECT l.id, l.line_no, l.item_id, l.quantity_ordered,
       l.quantity_ordered - (SELECT coalesce(sum(x.quantity), 0) FROM sales_order_shipment_lines x
                              WHERE x.sales_order_line_id = l.id) AS open
  FROM sales_orders o JOIN sales_order_lines l ON l.sales_order_id = o.id
 WHERE {match}
 ORDER BY l.line_no
"""
_LINE_ITEMS = """
SELECT {columns} FROM items i
 WHERE i.id IN (SELECT l.item_id FROM sales_orders o JOIN sales_order_lines l ON l.sales_order_id = o.id WHERE {match})
"""
_MATCH = {True: pgsql.SQL("o.id = %(order)s::uuid"), False: pgsql.SQL("o.number = %(order)s::text")}
_ITEM_COLUMNS = pgsql.SQL(", ").join(pgsql.Identifier("i", c.name) for c in Item.__table__.columns)


def _shipping_reads(
    session: Session, order_ref: str | uuid.UUID, data: ShipmentIn
) -> tuple[_Order, dict[int, _OpenLine], dict[uuid.UUID, Item], dict | None]:
    """The order locked FOR UPDATE, its lines with open quantities (by line number) and their
    items (by id), and the shipment's locations (by reference; None when one is unknown): one
    pipeline (see ``ship``)."""
    order_id = catalog.as_uuid(order_ref)
    match = _MATCH[order_id is not None]
    params = {"order": order_id if order_id is not None else str(order_ref)}
    wanted = list(dict.fromkeys(x.location for x in data.lines))
    location_ids = [i for i in (catalog.as_uuid(r) for r in wanted) if i is not None]
    session.flush()  # (as the ORM's autoflush would)
    with sql.pipelined_many(session, [
        (pgsql.SQL(_LOCK_ORDER).format(match=match), params),
        (pgsql.SQL(_OPEN_LINES).format(match=match), params),
        (pgsql.SQL(_LINE_ITEMS).format(columns=_ITEM_COLUMNS, match=match), params),
        catalog.lookup(Location, location_ids, [str(r) for r in wanted]),
    ], kind="dict") as (order_rows, line_rows, item_rows, location_rows):
        found, line_found, item_found, location_found = order_rows(), line_rows(), item_rows(), location_rows()
    if not found:
        raise NotFound(f"unknown sales order {str(order_ref)!r}", kind="sales_order", ref=str(order_ref))
    order = _Order(**found[0])
    lines = {r["line_no"]: _OpenLine(**r) for r in line_found}
    items = dict(zip([r["id"] for r in item_found], catalog.records(session, Item, item_found), strict=True))
    located = catalog.records(session, Location, location_found)
    by_id = {x.id: x for x in located}
    by_code = {x.code: x for x in located}
    locations = {}
    for ref in wanted:
        rid = catalog.as_uuid(ref)
        location = (by_id.get(rid) if rid is not None else None) or by_code.get(str(ref))
        if location is None:  # unknown: refused by the catalog, with its message, after the order's checks
            return order, lines, items, None
        locations[ref] = location
    return order, lines, items, locations


def ship(session: Session, order_ref: str | uuid.UUID, data: ShipmentIn) -> Shipped:
    """Ship order lines from locations, lots named or allocated FEFO; refuses over-shipping."""
    if data.external_ref:
        found = inventory.claim_external_ref(session, data.external_ref, kind="shipment")
        if found is not None:
            existing = session.get_one(SalesOrderShipment, found[0])
            posted = inventory.get_movement(session, existing.inventory_movement_id)
            return Shipped(existing, posted, replayed=True)
    # The order lock serialises shipments of one order: open quantities cannot be double-shipped.
    # Lock, the order's lines with their items and the locations go in one pipeline: the lines are
    # read by a statement that starts after the lock is granted, so they see every shipment of
    # the order that committed before it (as find_order + order_lines, one round trip instead of three).
    order, lines_by_no, items, locations = _shipping_reads(session, order_ref, data)
    if order.status != "open":
        raise InvalidStateTransition(f"sales order {order.number} is {order.status}; only open orders ship")
    shipped_at = data.shipped_at or utcnow()
    if locations is None:
        locations = catalog.resolve_many(session, Location, [x.location for x in data.lines], context="shipment")

    wanted: dict[int, Decimal] = defaultdict(Decimal)
    for ln in data.lines:
        if ln.line_no not in lines_by_no:
            raise InvalidInput(f"sales order {order.number} has no line {ln.line_no}")
        wanted[ln.line_no] += ln.quantity
    for line_no, qty in wanted.items():
        info = lines_by_no[line_no]
        if qty > info.open:
            raise OverShipment(
                f"sales order {order.number} line {line_no} ({items[info.item_id].sku}): {fmt_qty(qty)} requested "
                f"but only {fmt_qty(info.open)} of {fmt_qty(info.quantity_ordered)} remain to ship",
                line_no=line_no,
                requested=str(qty),
                open=str(info.open),
            )

    stock = inventory.lock_stock(
        session,
        [(lines_by_no[ln.line_no].item_id, locations[ln.location].id) for ln in data.lines],
    )
    lines = []
    for n, ln in enumerate(data.lines, start=1):
        order_line = lines_by_no[ln.line_no]
        item, location = items[order_line.item_id], locations[ln.location]
        taken = inventory.outbound_lots(
            session, item, location, ln.quantity, ln.lots, shipped_at, context=f"shipment line {n}", stock=stock
        )
        lines.append(inventory.Line(item, location, -ln.quantity, taken))
    shipment = SalesOrderShipment(
        id=uuid.uuid4(),
        sales_order_id=order.id,
        customer_id=order.customer_id,
        shipped_at=shipped_at,
        external_ref=data.external_ref,
    )
    closes = all(info.open - wanted.get(no, 0) == 0 for no, info in lines_by_no.items())

    # shipment, lines, lot links, the order's status and fill state: in the movement's pipeline
    posted = inventory.post_movement(
        session, "shipment", shipped_at, lines, customer_id=order.customer_id, notes=order.number, locked=stock,
        then=lambda posted: _shipment_records(session, shipment, order, data, lines_by_no, posted, closes=closes),
    )
    if closes and (loaded := session.identity_map.get(identity_key(SalesOrder, order.id))) is not None:
        session.expire(loaded, ["status", "updated_at"])  # the session's order object reads the closing
    make_transient_to_detached(shipment)
    session.add(shipment)
    return Shipped(shipment, posted)


def _shipment_records(
    session: Session,
    shipment: SalesOrderShipment,
    order: _Order,
    data: ShipmentIn,
    lines_by_no: dict[int, _OpenLine],
    posted: inventory.Posted,
    *,
    closes: bool,
) -> list[tuple[str, dict]]:
    """The statements that record a posted shipment: ``insert_shipment.sql``, closing, fill state."""
    shipment.inventory_movement_id = posted.movement.id
    shipped_per_lot: dict[uuid.UUID, Decimal] = defaultdict(Decimal)
    for rows in posted.lot_rows:
        for r in rows:
            shipped_per_lot[r.lot_id] -= r.quantity_delta
    link_rows = [r.id for rows in posted.lot_rows for r in rows]
    out = [(sql.load_sql("lotline.sales", "insert_shipment"), {
        "id": shipment.id,
        "sales_order_id": order.id,
        "customer_id": order.customer_id,
        "shipped_at": shipment.shipped_at,
        "movement_id": posted.movement.id,
        "external_ref": data.external_ref,
        "order_number": order.number,
        "line_ids": [uuid.uuid4() for _ in data.lines],
        "order_lines": [lines_by_no[ln.line_no].id for ln in data.lines],
        "movement_lines": [x.id for x in posted.lines],
        "quantities": [ln.quantity for ln in data.lines],
        "link_ids": [uuid.uuid4() for _ in link_rows],
        "link_rows": link_rows,
        "lots": list(shipped_per_lot),
        "lot_quantities": list(shipped_per_lot.values()),
    })]
    if closes:
        out.append((_CLOSE_ORDER, {"id": order.id}))
    if not _deferred_fills(session, order.id):
        # the fill state reads the shipment lines written just before it in the pipeline
        out.append((sql.load_sql("lotline.sales", "refresh_line_fills"), {"order_ids": [order.id]}))
    return out


_CLOSE_ORDER = "UPDATE sales_orders SET status = 'closed', updated_at = now() WHERE id = %(id)s::uuid"


def orders_page(session: Session, *, after: Sequence[str] | None, limit: int) -> pages.Page:
    """One page of (order, customer code) rows, newest first (by order time, then number)."""
    query = sa.select(SalesOrder, Customer.code).join(Customer, Customer.id == SalesOrder.customer_id)
    return pages.page(session, query, [SalesOrder.ordered_at, SalesOrder.number],
                      lambda r: (r[0].ordered_at, r[0].number), after=after, limit=limit, descending=True)


def list_orders(session: Session, *, limit: int = 200):
    return session.execute(
        sa.select(SalesOrder, Customer.code)
        .join(Customer, Customer.id == SalesOrder.customer_id)
        .order_by(SalesOrder.ordered_at.desc())
        .limit(limit)
    ).all()
