"""Sending recall notices by email over SMTP (smtplib, settings from ``config.smtp_settings()``).

This is an entry-point-level use case: it runs its own short transactions (``db.transaction()``)
around the SMTP conversation so that no database lock is held while talking to the mail server:

1. claim (short transaction, row locked FOR UPDATE): the notice must be an email of an active recall,
   in status draft or failed, and not claimed by another sender. A Message-ID is generated and the
   claim ``sending <Message-ID> since <time>`` is written to ``external_ref``;
2. SMTP delivery, no transaction open;
3. record (short transaction, row locked again): accepted by the server -> status ``sent``,
   ``sent_at`` = now, ``external_ref`` = the Message-ID; refused or unreachable -> status ``failed``
   and ``external_ref`` = ``failed: <reason>`` (the reason is kept there because the schema has no
   other column for it; the body stays the notice as drafted).

Nothing is sent twice by accident: a sent notice is refused, and a claim left by a sender that died
between 1 and 3 (when nobody knows whether the server accepted the message) blocks further sends
until someone checks the mail log and resends with ``force=True``. A failed notice may be resent.
Status ``sent`` is only ever written after the server accepted the message.

Names and numbers are data, not headers: every header value is made one line (``one_line``), and a
notice whose customer has no contact email, or one that is not a single valid address, is marked
failed at the claim with that reason; ``send_pending`` goes on with the next notice.

Raises: NotFound, InvalidInput (not an email notice, bad SMTP settings), InvalidStateTransition
(already sent, recall not active), Conflict (another sender holds the claim).
"""

from __future__ import annotations

import re
import smtplib
import socket
import ssl
import uuid
from dataclasses import dataclass
from datetime import datetime
from email import errors
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import sqlalchemy as sa

from lotline import config
from lotline.db import transaction
from lotline.errors import Conflict, InvalidInput, InvalidStateTransition
from lotline.models import Customer, RecallCommunication
from lotline.recalls import consignees
from lotline.recalls.cases import find_case
from lotline.recalls.communications import find_communication
from lotline.types import utcnow
from lotline.vocab import NoticeStatus, RecallStatus

CLAIM = "sending "
FAILED = "failed: "
SECURITY = ("none", "starttls", "tls")


@dataclass(frozen=True)
class SendResult:
    communication_id: uuid.UUID
    customer_code: str | None
    recipient: str | None
    status: str  # sent | failed
    message_id: str | None
    sent_at: datetime | None
    error: str | None


# Line breaks and other control characters (C0, DEL, C1, Unicode line/paragraph separators): a name
# or number holding one would end the header and start another (header injection).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def one_line(text: str) -> str:
    """``text`` fit for a header: every run of control characters becomes one space."""
    return " ".join(_CONTROL.sub(" ", text).split())


def recipient(customer: Customer) -> Address:
    """The To address of a customer; InvalidInput names a contact email that is not one address."""
    addr = (customer.contact_email or "").strip()
    try:
        if _CONTROL.search(addr):
            raise ValueError("it contains a line break or control character")
        return Address(display_name=one_line(customer.name or ""), addr_spec=addr)
    except (ValueError, IndexError, errors.HeaderParseError, errors.HeaderDefect) as exc:
        raise InvalidInput(
            f"customer {customer.code}'s contact email {addr!r} is not a valid email address ({exc})"
        ) from None


def build_message(
    settings: config.SmtpSettings,
    comm: RecallCommunication,
    customer: Customer,
    recall_number: str,
    message_id: str,
    response_link: str | None = None,
) -> EmailMessage:
    """The notice as an email; every header value is made one line (names and numbers are data).

    Raises InvalidInput when the customer's contact email is not a valid address.
    """
    msg = EmailMessage()  # email.policy.default: RFC 2047-encodes non-ASCII names and subjects
    msg["From"] = settings.sender
    msg["To"] = recipient(customer)
    msg["Subject"] = one_line(comm.subject or f"Product recall {recall_number}")
    msg["Date"] = format_datetime(utcnow())
    msg["Message-ID"] = message_id
    msg["X-Lotline-Recall"] = one_line(recall_number)
    body = comm.body or ""
    if response_link:
        # personal and secret: added to the message only, never stored in the notice's body
        body += f"\n\nPlease tell us whether you still hold the product, and how much you returned or destroyed:\n{response_link}\n"
    msg.set_content(body)
    return msg


def tls_context(settings: config.SmtpSettings) -> ssl.SSLContext | None:
    """The TLS context the settings ask for (None without TLS); InvalidInput names a bad setting.

    Called before a notice is claimed, so bad settings never leave a notice claimed but unsent.
    Certificates are verified (host name included) against the system's CAs, or only against
    LOTLINE_SMTP_CA_FILE when it is set.
    """
    if settings.security not in SECURITY:
        raise InvalidInput(
            f"LOTLINE_SMTP_SECURITY must be one of {', '.join(SECURITY)}, not {settings.security!r}"
        )
    if settings.security == "none":
        return None
    try:
        return ssl.create_default_context(cafile=settings.ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise InvalidInput(
            f"LOTLINE_SMTP_CA_FILE {settings.ca_file!r} cannot be read as PEM CA certificates: {exc}"
        ) from exc


def deliver(
    settings: config.SmtpSettings, msg: EmailMessage, context: ssl.SSLContext | None, *, timeout: float = 30
) -> None:
    """Hand one message to the SMTP server; raises smtplib.SMTPException or OSError when refused.

    ``context``: from ``tls_context(settings)``.
    """
    if settings.security == "tls":
        client: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.port, timeout=timeout, context=context)
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=timeout)
    with client:
        client.ehlo()
        if settings.security == "starttls":
            client.starttls(context=context)
            client.ehlo()
        if settings.username:
            client.login(settings.username, settings.password or "")
        refused = client.send_message(msg)
    if refused:  # some recipients refused (we send to one, so this is the whole message)
        raise smtplib.SMTPRecipientsRefused(refused)


def describe(exc: BaseException, settings: config.SmtpSettings) -> str:
    where = f"{settings.host}:{settings.port}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        parts = [
            f"{rcpt}: {code} {msg.decode(errors='replace') if isinstance(msg, bytes) else msg}"
            for rcpt, (code, msg) in exc.recipients.items()
        ]
        return f"SMTP server {where} refused the recipient ({'; '.join(parts)})"
    if isinstance(exc, smtplib.SMTPResponseException):
        text = (
            exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        )
        return f"SMTP server {where} answered {exc.smtp_code} {text}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (
            f"the TLS certificate of SMTP server {where} is not trusted ({exc.verify_message}); "
            "for a relay with a private CA set LOTLINE_SMTP_CA_FILE"
        )
    if isinstance(exc, (ConnectionError, socket.timeout, socket.gaierror)):
        return f"cannot reach SMTP server {where}: {exc}"
    return f"SMTP delivery via {where} failed: {exc.__class__.__name__}: {exc}"


def _fail_early(s, comm: RecallCommunication, code: str | None, reason: str) -> SendResult:
    """Mark a notice failed before any SMTP conversation (it cannot be sent as it stands)."""
    comm.status = NoticeStatus.FAILED
    comm.external_ref = f"{FAILED}{reason}"[:2000]
    s.flush()
    return SendResult(comm.id, code, None, NoticeStatus.FAILED, None, None, reason)


def _claim(comm_id, force: bool, settings: config.SmtpSettings):
    with transaction() as s:
        comm = find_communication(s, comm_id, lock=True)
        case = find_case(s, comm.recall_case_id)
        if comm.channel != "email":
            raise InvalidInput(
                f"notice {comm.id} goes by {comm.channel}; record its outcome with `lotline recall notice record`"
            )
        if case.status != RecallStatus.ACTIVE:
            raise InvalidStateTransition(
                f"recall {case.recall_number} is {case.status}; notices are sent only while it is active"
            )
        if comm.status == NoticeStatus.SENT:
            raise InvalidStateTransition(
                f"notice {comm.id} was already sent on {comm.sent_at:%Y-%m-%d %H:%M} UTC "
                f"(Message-ID {comm.external_ref}); it is not sent again"
            )
        if comm.external_ref and comm.external_ref.startswith(CLAIM) and not force:
            raise Conflict(
                f"notice {comm.id} is {comm.external_ref}; if that sender died, check the mail server's log "
                "and resend with --force only if the message never left",
                communication_id=str(comm.id),
            )
        customer = s.get(Customer, comm.customer_id) if comm.customer_id else None
        code = customer.code if customer else None
        if customer is None or not customer.contact_email:
            return None, _fail_early(s, comm, code, f"customer {code or '(none)'} has no contact email")
        domain = settings.sender.rpartition("@")[2] or "lotline.invalid"
        message_id = make_msgid(domain=domain)
        try:
            msg = build_message(settings, comm, customer, case.recall_number, message_id,
                                consignees.response_link_for(s, case, customer.id))
        except InvalidInput as exc:  # this notice cannot be sent; the batch goes on
            return None, _fail_early(s, comm, code, str(exc))
        claim = f"{CLAIM}{message_id} since {utcnow().isoformat(timespec='seconds')}"
        comm.external_ref = claim
        s.flush()
        return (msg, claim, code, customer.contact_email), None


def send_email(
    comm_id,
    *,
    force: bool = False,
    settings: config.SmtpSettings | None = None,
    context: ssl.SSLContext | None = None,
) -> SendResult:
    """Send one email notice (see module doc); a refused or failed delivery returns status failed.

    ``context``: a TLS context from ``tls_context(settings)`` to reuse (batches); made here if None.
    """
    settings = settings or config.smtp_settings()
    if context is None:
        context = tls_context(settings)
    claimed, early = _claim(comm_id, force, settings)
    if early is not None:
        return early
    msg, claim, code, recipient = claimed
    error = None
    accepted_at = None
    try:
        deliver(settings, msg, context)
        accepted_at = utcnow()
    except (smtplib.SMTPException, OSError, ValueError) as exc:
        # ValueError: e.g. a UnicodeError while smtplib encodes; recorded, never a claim left behind
        error = describe(exc, settings)
    with transaction() as s:
        comm = find_communication(s, comm_id, lock=True)
        if comm.external_ref != claim or comm.status == NoticeStatus.SENT:
            # Someone forced a resend meanwhile; keep their outcome, report ours.
            raise Conflict(f"notice {comm.id} was claimed by another sender while this one was delivering")
        if error is None:
            comm.status = NoticeStatus.SENT
            comm.sent_at = accepted_at
            comm.external_ref = msg["Message-ID"]
        else:
            comm.status = NoticeStatus.FAILED
            comm.external_ref = f"{FAILED}{error}"[:2000]
        s.flush()
        return SendResult(
            comm.id,
            code,
            recipient,
            comm.status,
            msg["Message-ID"] if error is None else None,
            comm.sent_at,
            error,
        )


def pending_statuses(include_failed: bool = False) -> tuple[NoticeStatus, ...]:
    """The statuses of the email notices ``send_pending`` sends."""
    return (NoticeStatus.DRAFT, NoticeStatus.FAILED) if include_failed else (NoticeStatus.DRAFT,)


def send_pending(
    case_ref, *, include_failed: bool = False, settings: config.SmtpSettings | None = None, on_result=None
) -> list[SendResult]:
    """Send every draft email notice of a case (and failed ones when ``include_failed``)."""
    statuses = list(pending_statuses(include_failed))
    settings = settings or config.smtp_settings()
    # once per batch: loading the CA certificates for every one of thousands of notices adds up
    context = tls_context(settings)
    with transaction() as s:
        case = find_case(s, case_ref)
        ids = list(
            s.scalars(
                sa.select(RecallCommunication.id)
                .outerjoin(Customer, Customer.id == RecallCommunication.customer_id)
                .where(
                    RecallCommunication.recall_case_id == case.id,
                    RecallCommunication.channel == "email",
                    RecallCommunication.status.in_(statuses),
                    # claimed by a sender that may still be delivering: left for that sender / --force
                    sa.or_(
                        RecallCommunication.external_ref.is_(None),
                        sa.not_(RecallCommunication.external_ref.startswith(CLAIM)),
                    ),
                )
                .order_by(Customer.code, RecallCommunication.id)
            )
        )
    results = []
    for cid in ids:
        try:
            result = send_email(cid, settings=settings, context=context)
        except (Conflict, InvalidStateTransition):
            continue  # a concurrent batch got to this notice first
        results.append(result)
        if on_result:
            on_result(result)
    return results
