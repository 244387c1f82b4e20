"""Recall communications: drafting customer notices from the computed run, recording manual ones.

Invariants kept here:
- One notice per (case, customer, channel); drafting skips customers already drafted on a channel
  and only reaches customers impacted by the case's computed trace run.
- Email notices are sent by ``recalls.flows.notify`` (its own transactions around SMTP); phone,
  letter and portal notices are recorded here by hand, inside the recall's window.

Raises: NotFound, InvalidInput, InvalidStateTransition.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from functools import cache

import jinja2
import sqlalchemy as sa
from sqlalchemy.orm import Session

from lotline.catalog import service as catalog
from lotline.db import pages
from lotline.errors import InvalidInput, InvalidStateTransition, NotFound
from lotline.models import Customer, RecallCase, RecallCommunication
from lotline.recalls.cases import find_case
from lotline.recalls.common import check_window, not_future, require_status
from lotline.recalls.runs import latest_run, run_shipments, shipment_lines
from lotline.recalls.schemas import DraftIn, RecordIn
from lotline.serialize import decimal_text
from lotline.types import utcnow
from lotline.vocab import Channel, NoticeStatus, RecallStatus


@cache
def _templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("lotline.recalls", "templates"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["qty"] = lambda q: decimal_text(Decimal(q))
    return env


def render_notice(
    case: RecallCase, customer: dict, lines: list[dict], instructions: str | None
) -> tuple[str, str]:
    """Subject and plain-text body of a customer notice."""
    severity = (case.severity or "").upper()
    subject = (
        f"{'URGENT ' if case.severity in ('high', 'critical') else ''}product recall {case.recall_number}"
    )
    if severity:
        subject += f" ({severity})"
    subject += f" - {customer['customer_name']}"
    body = (
        _templates()
        .get_template("notice.txt.j2")
        .render(case=case, customer=customer, lines=lines, instructions=instructions)
    )
    return subject, body


def draft_communications(
    session: Session, ref: str | uuid.UUID, data: DraftIn, *, customer_ids: list[uuid.UUID] | None = None
) -> list[RecallCommunication]:
    """Draft one notice per impacted customer (of the computed run) and channel not yet drafted."""
    case = find_case(session, ref, lock="update")
    require_status(case, (RecallStatus.DRAFT, RecallStatus.ACTIVE), "draft notices")
    run = latest_run(session, case)
    lines = shipment_lines(session, run)
    by_customer: dict[uuid.UUID, list[dict]] = defaultdict(list)
    for row in lines:
        by_customer[row["customer_id"]].append(row)
    # Impacted shipments with no listed line (e.g. only upstream lots) still reach their customer.
    for row in run_shipments(session, run.id):
        by_customer.setdefault(row["customer_id"], [])
    wanted = set(by_customer)
    if data.customers:
        named = catalog.resolve_many(session, Customer, data.customers, context="notice")
        for c in named.values():
            if c.id not in by_customer:
                raise InvalidInput(
                    f"customer {c.code} is not impacted by recall {case.recall_number}'s trace run"
                )
        wanted = {c.id for c in named.values()}
    if customer_ids is not None:
        wanted &= set(customer_ids)
    existing = set(
        session.scalars(
            sa.select(RecallCommunication.customer_id).where(
                RecallCommunication.recall_case_id == case.id, RecallCommunication.channel == data.channel
            )
        )
    )
    customers = {
        c.id: c for c in session.scalars(sa.select(Customer).where(Customer.id.in_(list(wanted - existing))))
    }
    created = []
    for cid in sorted(customers, key=lambda x: customers[x].code):
        c = customers[cid]
        info = {
            "customer_code": c.code,
            "customer_name": c.name,
            "contact_email": c.contact_email,
            "address": c.address,
        }
        subject, body = render_notice(case, info, by_customer[cid], data.instructions)
        created.append(
            RecallCommunication(
                recall_case_id=case.id,
                customer_id=cid,
                channel=data.channel,
                status=NoticeStatus.DRAFT,
                subject=subject,
                body=body,
            )
        )
    session.add_all(created)
    session.flush()
    return created


def find_communication(session: Session, comm_id, *, lock: bool = False) -> RecallCommunication:
    """A notice by id (``lock``: FOR UPDATE); NotFound otherwise."""
    cid = catalog.as_uuid(comm_id)
    comm = None
    if cid:
        query = sa.select(RecallCommunication).where(RecallCommunication.id == cid)
        if lock:
            query = query.with_for_update()
        comm = session.scalar(query.execution_options(populate_existing=True))
    if comm is None:
        raise NotFound(
            f"unknown recall communication {comm_id}", kind="recall_communication", ref=str(comm_id)
        )
    return comm


def record_communication(session: Session, comm_id, data: RecordIn) -> RecallCommunication:
    """Record the outcome of a phone call, letter or portal notice done by hand."""
    comm = find_communication(session, comm_id, lock=True)
    case = find_case(session, comm.recall_case_id)
    require_status(case, (RecallStatus.ACTIVE,), "record notices")
    if comm.channel == Channel.EMAIL:
        raise InvalidInput(
            "email notices are sent over SMTP with `lotline recall notice send`, not recorded by hand"
        )
    if comm.status == NoticeStatus.SENT:
        raise InvalidStateTransition(f"{comm.channel} notice {comm.id} is already recorded as sent")
    comm.status = data.status
    if data.status == "sent":  # RecordIn.status: "sent" or "failed"
        sent_at = not_future(data.sent_at or utcnow(), "sent_at")
        check_window(case, sent_at)
        comm.sent_at = sent_at
        comm.external_ref = data.reference
    else:
        comm.external_ref = f"failed: {data.reference or 'no reason given'}"
    session.flush()
    return comm


def _communications_query(case: RecallCase, status: str | None) -> sa.Select:
    query = (
        sa.select(
            RecallCommunication.id,
            RecallCommunication.channel,
            RecallCommunication.status,
            Customer.code.label("customer_code"),
            Customer.name.label("customer_name"),
            Customer.contact_email,
            RecallCommunication.subject,
            RecallCommunication.sent_at,
            RecallCommunication.external_ref,
            RecallCommunication.created_at,
        )
        .outerjoin(Customer, Customer.id == RecallCommunication.customer_id)
        .where(RecallCommunication.recall_case_id == case.id)
        .order_by(Customer.code, RecallCommunication.channel)
    )
    if status:
        query = query.where(RecallCommunication.status == status)
    return query


def list_communications(session: Session, case: RecallCase, *, status: str | None = None) -> list[dict]:
    """The case's notices with their customer, by customer code and channel."""
    return [dict(r._mapping) for r in session.execute(_communications_query(case, status))]


def communications_page(
    session: Session, case: RecallCase, *, status: str | None = None, after: Sequence[str] | None, limit: int
) -> pages.Page:
    """One page of ``list_communications``, by customer code, channel and id."""
    keys = [sa.func.coalesce(Customer.code, ""), RecallCommunication.channel, RecallCommunication.id]
    return pages.page(session, _communications_query(case, status), keys,
                      lambda r: (r.customer_code or "", r.channel, r.id), after=after, limit=limit)
