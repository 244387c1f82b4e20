"""Reminders and escalation for consignees who have not responded (a flow: own transactions).

A consignee of an active recall with a strategy is *due a reminder* when it has an email, has not
responded, the response deadline has passed, fewer than ``reminder_max`` reminders were sent, and
the last one (or the deadline) is at least ``reminder_interval_hours`` ago. Once every reminder was
sent and another interval passed without a response, the case's coordinator is alerted once per
consignee (*escalation*).

Exactly once: each reminder is one ``recall_reminders`` row keyed (consignee, seq, kind). It is
inserted, the mail handed to the SMTP server and the transaction committed while the consignee's
row is locked (``FOR UPDATE SKIP LOCKED``, so two workers never work on the same consignee). A
worker killed before the commit leaves no row — the reminder is still due and the next pass sends
it; once committed it is never due again. The one window left is between the server's acceptance
and the commit (microseconds): a kill exactly there resends that one reminder; the alternative, a
claim that blocks resending, would lose it instead. A delivery failure rolls the row back, so the
reminder is retried on the next pass.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid

import sqlalchemy as sa

from lotline import config, db
from lotline.db import sql
from lotline.models import RecallCase, RecallConsignee, RecallReminder
from lotline.recalls import consignees as consignees_mod
from lotline.recalls import strategy as strategy_mod
from lotline.recalls.flows import notify
from lotline.types import utcnow
from lotline.vocab import ReminderStatus


@dataclass
class PassResult:
    reminders_sent: int = 0
    escalations_sent: int = 0
    failed: list[str] = field(default_factory=list)
    skipped_locked: int = 0


def due(session, now: datetime, only: uuid.UUID | None = None) -> list[tuple[uuid.UUID, uuid.UUID, str, int]]:
    rows = sql.rows(session, sql.load_sql("lotline.recalls", "reminders_due"), {"now": now, "only": only})
    return [(r.consignee_id, r.case_id, r.kind, r.seq) for r in rows]


def _header_text(value: str) -> str:
    """Names and subjects come from records; a CR/LF there must not start a header of its own."""
    return re.sub(r"[\x00-\x1f\x7f]+", " ", value).strip()


def plain_message(settings: config.SmtpSettings, to_name: str, to_addr: str, subject: str, body: str) -> EmailMessage:
    """A plain-text email whose headers are built safely from record data (reminders, alerts)."""
    msg = EmailMessage()
    msg["From"] = settings.sender
    msg["To"] = formataddr((_header_text(to_name), _header_text(to_addr)))
    msg["Subject"] = _header_text(subject)
    msg["Date"] = format_datetime(utcnow())
    msg["Message-ID"] = make_msgid(domain="lotline.invalid")
    msg.set_content(body)
    return msg


def _reminder(session, case: RecallCase, consignee: RecallConsignee, seq: int, settings) -> EmailMessage:
    token = consignees_mod.issue_link(session, case, consignee)
    strat = strategy_mod.require(session, case)
    body = (
        f"Reminder {seq}: product recall {case.recall_number}.\n\n"
        f"We have not yet heard from you. {strat.product_description}\n\n"
        f"Reason: {strat.reason}\n\n"
        f"Please tell us whether you still hold the product, and how much you returned or destroyed:\n"
        f"{consignees_mod.link_url(token)}\n\n"
        f"If you forwarded the products to your own customers, name them on the same page.\n"
    )
    subject = f"REMINDER {seq}: product recall {case.recall_number} - response needed"
    return plain_message(settings, consignee.name, consignee.email or "", subject, body)


def _escalation(session, case: RecallCase, consignee: RecallConsignee, settings) -> EmailMessage:
    strat = strategy_mod.require(session, case)
    body = (
        f"Recall {case.recall_number}: consignee {consignee.name} "
        f"({consignee.email or consignee.phone or 'no contact'}) has not responded after "
        f"{strat.reminder_max} reminder(s) since the deadline {strat.response_deadline:%Y-%m-%d %H:%M} UTC.\n"
        f"Contact them by phone or letter and record the response: "
        f"lotline recall response record {case.recall_number} {consignee.id} ...\n"
    )
    subject = f"Recall {case.recall_number}: no response from {consignee.name}"
    return plain_message(settings, strat.coordinator_name or "Recall coordinator", strat.coordinator_email or "", subject, body)


def _send_one(consignee_id: uuid.UUID, kind: str, seq: int, now: datetime, settings, context) -> str:
    """'sent', 'skipped' (locked elsewhere or no longer due); raises on delivery failure."""
    with db.transaction() as s:
        consignee = s.scalar(
            sa.select(RecallConsignee).where(RecallConsignee.id == consignee_id).with_for_update(skip_locked=True)
        )
        if consignee is None:
            return "skipped"
        if (consignee_id, consignee.recall_case_id, kind, seq) not in due(s, now, only=consignee_id):
            return "skipped"  # answered, retired or already reminded since the list was read
        case = s.get(RecallCase, consignee.recall_case_id)
        assert case is not None
        msg = _reminder(s, case, consignee, seq, settings) if kind == "reminder" else _escalation(s, case, consignee, settings)
        s.add(RecallReminder(consignee_id=consignee.id, seq=seq, kind=kind, status=ReminderStatus.SENT, message_id=msg["Message-ID"]))
        s.flush()
        notify.deliver(settings, msg, context)
    return "sent"


def run_pass(now: datetime | None = None) -> PassResult:
    """Send every reminder and escalation due now; safe to run from several workers at once."""
    now = now or utcnow()
    settings = config.smtp_settings()
    context = notify.tls_context(settings)
    with db.read_snapshot() as s:
        todo = due(s, now)
    result = PassResult()
    for consignee_id, _case_id, kind, seq in todo:
        try:
            outcome = _send_one(consignee_id, kind, seq, now, settings, context)
        except Exception as exc:  # noqa: BLE001 — one consignee's failure must not stop the pass
            result.failed.append(f"{consignee_id} {kind} {seq}: {notify.describe(exc, settings)}")
            continue
        if outcome == "skipped":
            result.skipped_locked += 1
        elif kind == "reminder":
            result.reminders_sent += 1
        else:
            result.escalations_sent += 1
    return result
