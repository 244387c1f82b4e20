"""Consignees of a recall and their responses (21 CFR 7.49 "a ready means" to report).

- Consignees at depth 1 are the impacted customers of the case's computed trace run; each new run
  adds the newly impacted and retires those no longer impacted (``sync_from_run``, set-based).
  Responses already given are never lost: rows are retired, not deleted.
- A consignee that forwarded the recall names its sub-accounts, who become consignees at the next
  depth (sub-recall) and can be notified and answer the same way.
- Each consignee can answer through a personal response link: an unguessable token (256 bits) of
  which only a SHA-256 hash is stored, valid until it expires. A link may be used again until then:
  every submission is a new, append-only response (a correction), never an edit.
- Responses recorded by a quality user (phone, letter, email, portal) are the same append-only rows.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lotline import config
from lotline.db import pages, sql
from lotline.errors import InvalidInput, InvalidStateTransition, NotFound
from lotline.models import (
    Customer,
    RecallCase,
    RecallConsignee,
    RecallResponse,
    RecallResponseLink,
    RecallTraceRun,
)
from lotline.recalls import strategy as strategy_mod
from lotline.recalls.completion_schemas import RecordedResponseIn, ResponseIn
from lotline.types import utcnow
from lotline.vocab import RecallStatus

LINK_GRACE = timedelta(days=30)  # a link outlives the response deadline by this much


def _q(name: str) -> str:
    return sql.load_sql("lotline.recalls", name)


def sync_from_run(session: Session, case: RecallCase, run: RecallTraceRun) -> dict[str, int]:
    """Make the case's depth-1 consignees the run's impacted customers (adds, retires, revives)."""
    session.flush()  # the run's impacted rows may still be pending ORM inserts
    params = {"case_id": case.id, "run_id": run.id}
    added = sql.execute(session, _q("consignees_add"), params)
    retired = sql.execute(session, _q("consignees_retire"), params)
    return {"added_or_revived": added, "retired": retired}


def find(session: Session, case: RecallCase, consignee_id: uuid.UUID | str, *, lock: bool = False) -> RecallConsignee:
    try:
        cid = uuid.UUID(str(consignee_id))
    except ValueError:
        raise InvalidInput(f"consignee id {str(consignee_id)!r} is not a UUID") from None
    query = sa.select(RecallConsignee).where(RecallConsignee.id == cid, RecallConsignee.recall_case_id == case.id)
    if lock:
        query = query.with_for_update()
    consignee = session.scalar(query)
    if consignee is None:
        raise NotFound(
            f"recall {case.recall_number} has no consignee {cid}; list them with `lotline recall consignees {case.recall_number}`",
            kind="consignee",
            ref=str(cid),
        )
    return consignee


def for_customer(session: Session, case: RecallCase, customer_id: uuid.UUID) -> RecallConsignee | None:
    return session.scalar(
        sa.select(RecallConsignee).where(
            RecallConsignee.recall_case_id == case.id, RecallConsignee.customer_id == customer_id
        )
    )




def list_consignees(session: Session, case: RecallCase, *, include_retired: bool = False) -> list[dict[str, Any]]:
    """Every consignee with its latest response, reminders sent and effectiveness-check result."""
    session.flush()
    params = {"case_id": case.id, "include_retired": include_retired, "after_depth": None, "after_name": None,
              "after_id": None, "row_limit": None}
    return sql.rows(session, _q("consignees_list"), params, kind="dict")


def consignees_page(
    session: Session, case: RecallCase, *, include_retired: bool = False, after: Sequence[str] | None, limit: int
) -> pages.Page:
    """One page of ``list_consignees`` (by depth, name, id); ``after`` is (depth, name, id)."""
    if after is not None and len(after) != 3:
        raise InvalidInput(f"a cursor of the consignee listing names 3 values, not {len(after)}", parameter="cursor")
    session.flush()
    depth, name, cid = after if after is not None else (None, None, None)
    params = {"case_id": case.id, "include_retired": include_retired, "after_depth": depth, "after_name": name,
              "after_id": cid, "row_limit": limit + 1}
    rows = sql.rows(session, _q("consignees_list"), params, kind="dict")
    if len(rows) <= limit:
        return pages.Page(rows, None)
    last = rows[limit - 1]
    return pages.Page(rows[:limit], (str(last["depth"]), last["name"], str(last["id"])))


# --- response links ------------------------------------------------------------------------------


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def issue_link(session: Session, case: RecallCase, consignee: RecallConsignee, *, now: datetime | None = None) -> str:
    """A new personal response token for the consignee (returned once; only its hash is kept)."""
    now = now or utcnow()
    strat = strategy_mod.require(session, case)
    token = secrets.token_urlsafe(32)
    session.add(
        RecallResponseLink(
            consignee_id=consignee.id,
            token_hash=_hash(token),
            expires_at=max(strat.response_deadline, now) + LINK_GRACE,
        )
    )
    session.flush()
    return token


def link_url(token: str) -> str:
    return f"{config.public_url()}/respond/{token}"


def response_link_for(session: Session, case: RecallCase, customer_id: uuid.UUID) -> str | None:
    """A fresh response link for the customer's consignee, for its notice (None when the case has
    no strategy or the customer is not a consignee of the computed run)."""
    if strategy_mod.get(session, case) is None:
        return None
    consignee = for_customer(session, case, customer_id)
    if consignee is None or consignee.retired_at is not None:
        return None
    return link_url(issue_link(session, case, consignee))


@dataclass(frozen=True)
class LinkTarget:
    link: RecallResponseLink
    consignee: RecallConsignee
    case: RecallCase


def resolve_link(session: Session, token: str, *, now: datetime | None = None) -> LinkTarget:
    """The consignee a token belongs to. NotFound for an unknown (forged) token, InvalidStateTransition
    for an expired one or one whose recall is over — the same words whatever the reason for unknown."""
    now = now or utcnow()
    if not token or len(token) > 200 or not token.isascii():
        raise NotFound("this response link is not valid; use the link from your most recent recall email")
    link = session.scalar(sa.select(RecallResponseLink).where(RecallResponseLink.token_hash == _hash(token)))
    if link is None:
        raise NotFound("this response link is not valid; use the link from your most recent recall email")
    consignee = session.get(RecallConsignee, link.consignee_id)
    assert consignee is not None  # FK
    case = session.get(RecallCase, consignee.recall_case_id)
    assert case is not None
    if link.expires_at <= now:
        raise InvalidStateTransition(
            f"this response link expired on {link.expires_at:%Y-%m-%d}; please reply to the recall email or call us",
            expired=True,
        )
    if case.status != RecallStatus.ACTIVE:
        raise InvalidStateTransition(f"recall {case.recall_number} is {case.status}; no more responses are taken here")
    return LinkTarget(link, consignee, case)


def received_by(session: Session, case: RecallCase, consignee: RecallConsignee) -> list[dict[str, Any]]:
    """What this consignee received of the recalled products (for its response page, nothing more)."""
    if consignee.customer_id is None:
        return []
    return sql.rows(session, _q("consignee_received"), {"case_id": case.id, "customer_id": consignee.customer_id},
                    kind="dict")


# --- responses -----------------------------------------------------------------------------------


def _record(
    session: Session,
    case: RecallCase,
    consignee: RecallConsignee,
    data: ResponseIn,
    *,
    channel: str,
    recorded_by: str | None,
    received_at: datetime | None,
) -> tuple[RecallResponse, list[RecallConsignee]]:
    if consignee.retired_at is not None:
        raise InvalidStateTransition(
            f"consignee {consignee.name} is no longer impacted (retired by a newer trace run); its responses are closed"
        )
    response = RecallResponse(
        consignee_id=consignee.id,
        channel=channel,
        responder=data.responder,
        recorded_by=recorded_by,
        acknowledged=data.acknowledged,
        holds_product=data.holds_product,
        quantity_on_hand=data.quantity_on_hand,
        quantity_returned=data.quantity_returned,
        quantity_destroyed=data.quantity_destroyed,
        forwarded=data.forwarded,
        notes=data.notes,
    )
    if received_at is not None:
        response.received_at = received_at
    session.add(response)
    added: list[RecallConsignee] = []
    if data.sub_accounts:
        known = {
            (k.name.casefold(), (k.email or "").casefold())
            for k in session.scalars(
                sa.select(RecallConsignee).where(RecallConsignee.parent_consignee_id == consignee.id)
            )
        }
        for sub in data.sub_accounts:
            key = (sub.name.casefold(), (sub.email or "").casefold())
            if key in known:
                continue  # named again in a correction: already a consignee
            known.add(key)
            child = RecallConsignee(
                recall_case_id=case.id,
                parent_consignee_id=consignee.id,
                depth=consignee.depth + 1,
                name=sub.name,
                email=sub.email,
                phone=sub.phone,
            )
            session.add(child)
            added.append(child)
    session.flush()
    return response, added


def respond_by_link(session: Session, token: str, data: ResponseIn, *, now: datetime | None = None):
    """A response submitted through the public page. Raises what ``resolve_link`` raises."""
    target = resolve_link(session, token, now=now)
    # lock the consignee so two submissions of one link are two ordered responses
    session.execute(sa.select(RecallConsignee.id).where(RecallConsignee.id == target.consignee.id).with_for_update())
    target.link.last_used_at = sa.func.now()
    return _record(session, target.case, target.consignee, data, channel="link", recorded_by=None, received_at=None)


def record_response(session: Session, case: RecallCase, consignee_id, data: RecordedResponseIn, *, recorded_by: str | None):
    """A response taken by phone, letter, email or portal, recorded by a quality user."""
    if case.status != RecallStatus.ACTIVE:
        raise InvalidStateTransition(f"recall {case.recall_number} is {case.status}: responses are recorded on active recalls")
    consignee = find(session, case, consignee_id, lock=True)
    if data.received_at is not None and data.received_at > utcnow() + timedelta(minutes=5):
        raise InvalidInput("received_at is in the future")
    return _record(session, case, consignee, data, channel=data.channel, recorded_by=recorded_by,
                   received_at=data.received_at)


def _responses_query(session: Session, case: RecallCase, consignee_id=None) -> sa.Select:
    query = (
        sa.select(RecallResponse, RecallConsignee.name)
        .join(RecallConsignee, RecallConsignee.id == RecallResponse.consignee_id)
        .where(RecallConsignee.recall_case_id == case.id)
        .order_by(RecallResponse.received_at, RecallResponse.id)
    )
    if consignee_id is not None:
        query = query.where(RecallConsignee.id == find(session, case, consignee_id).id)
    return query


def response_dict(resp: RecallResponse, name: str) -> dict[str, Any]:
    """A response as the API and CLI print it (``name``: its consignee's)."""
    return {
        "id": resp.id, "consignee_id": resp.consignee_id, "consignee": name, "received_at": resp.received_at,
        "channel": resp.channel, "responder": resp.responder, "recorded_by": resp.recorded_by,
        "acknowledged": resp.acknowledged, "holds_product": resp.holds_product,
        "quantity_on_hand": resp.quantity_on_hand, "quantity_returned": resp.quantity_returned,
        "quantity_destroyed": resp.quantity_destroyed, "forwarded": resp.forwarded, "notes": resp.notes,
    }


def responses(session: Session, case: RecallCase, consignee_id=None) -> list[dict[str, Any]]:
    """The case's responses (or one consignee's), oldest first."""
    return [response_dict(resp, name) for resp, name in session.execute(_responses_query(session, case, consignee_id))]


def responses_page(session: Session, case: RecallCase, *, after: Sequence[str] | None, limit: int) -> pages.Page:
    """One page of (response, consignee name) rows, oldest first."""
    return pages.page(session, _responses_query(session, case), [RecallResponse.received_at, RecallResponse.id],
                      lambda r: (r[0].received_at, r[0].id), after=after, limit=limit)


def customer_name(session: Session, consignee: RecallConsignee) -> str:
    if consignee.customer_id is None:
        return consignee.name
    customer = session.get(Customer, consignee.customer_id)
    return customer.name if customer else consignee.name
