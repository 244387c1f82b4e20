"""Reminders to consignees past the response deadline, then escalation, each sent exactly once
(real SMTP to a local server); and the worker that runs them, killed with SIGKILL mid-run."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from lotline.models import RecallReminder
from lotline.recalls import consignees
from lotline.recalls.completion_schemas import RecordedResponseIn
from lotline.recalls.flows import reminders
from lotline.types import utcnow
from tests.recalls.completion_support import active_recall, consignee


def _past_deadline(session, **kw):
    return active_recall(session, response_deadline=utcnow() - timedelta(hours=1), **kw)


def _to(inbox) -> list[str]:
    return sorted(m["To"] for m in inbox.messages)


def test_no_reminder_goes_out_before_the_deadline(session, world, smtp):
    active_recall(session)
    assert reminders.run_pass().reminders_sent == 0 and smtp.messages == []


def test_each_consignee_without_a_response_gets_one_reminder_per_interval_up_to_the_maximum(session, world, smtp):
    case, _ = _past_deadline(session, reminder_interval_hours=24, reminder_max=2)
    consignees.record_response(session, case, consignee(session, case, "BETA")["id"],
                               RecordedResponseIn(channel="phone", holds_product=False, responder="B"), recorded_by="qa")
    first = reminders.run_pass()
    assert first.reminders_sent == 2 and first.failed == []
    assert _to(smtp) == ["Alpha <alpha@example.com>", "Delta <delta@example.com>"]
    assert all(f"REMINDER 1: product recall {case.recall_number}" in m["Subject"] for m in smtp.messages)
    body = smtp.messages[0].get_payload(decode=True).decode()
    assert "/respond/" in body  # a fresh personal link
    # the same pass again, or before the interval: nothing more
    assert reminders.run_pass().reminders_sent == 0
    assert reminders.run_pass(now=utcnow() + timedelta(hours=23)).reminders_sent == 0
    second = reminders.run_pass(now=utcnow() + timedelta(hours=25))
    assert second.reminders_sent == 2 and len(smtp.messages) == 4
    # maximum reached: no third reminder, and one escalation per consignee to the coordinator
    later = reminders.run_pass(now=utcnow() + timedelta(hours=50))
    assert (later.reminders_sent, later.escalations_sent) == (0, 2)
    assert [m["To"] for m in smtp.messages[4:]] == ["Quality Manager <qa@bakery.example>"] * 2
    assert reminders.run_pass(now=utcnow() + timedelta(days=30)).escalations_sent == 0
    rows = session.execute(sa.select(RecallReminder.kind, sa.func.count()).group_by(RecallReminder.kind)).all()
    assert dict(rows) == {"reminder": 4, "escalation": 2}


def test_a_response_stops_the_reminders(session, world, smtp):
    case, _ = _past_deadline(session)
    assert reminders.run_pass().reminders_sent == 3
    for code in ("ALPHA", "BETA", "DELTA"):
        consignees.record_response(session, case, consignee(session, case, code)["id"],
                                   RecordedResponseIn(channel="email", holds_product=False, responder=code), recorded_by="qa")
    assert reminders.run_pass(now=utcnow() + timedelta(days=3)).reminders_sent == 0


def test_a_refused_reminder_is_reported_not_recorded_and_retried_while_the_others_go_out(session, world, smtp):
    _past_deadline(session)
    smtp.refuse.add("delta@example.com")
    result = reminders.run_pass()
    assert result.reminders_sent == 2 and len(result.failed) == 1 and "refused the recipient" in result.failed[0]
    assert session.scalar(sa.select(sa.func.count()).select_from(RecallReminder)) == 2
    smtp.refuse.clear()
    assert reminders.run_pass().reminders_sent == 1  # retried, and only that one


def test_a_reminder_header_never_carries_raw_control_characters(session, world, smtp):
    case, _ = _past_deadline(session)
    alpha = consignee(session, case, "ALPHA")
    session.execute(sa.text("UPDATE recall_consignees SET name = 'Evil\r\nBcc: all@example.com' WHERE id = :id"),
                    {"id": alpha["id"]})
    assert reminders.run_pass().reminders_sent == 3
    evil = next(m for m in smtp.messages if "alpha@example.com" in m["To"])
    assert "Bcc" not in evil


# --- the worker process ---------------------------------------------------------------------------

import asyncio  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from aiosmtpd.controller import Controller  # noqa: E402

from lotline import db  # noqa: E402
from tests.smtp import Inbox, free_port  # noqa: E402
from tests.worlds import build_world  # noqa: E402

LOTLINE = Path(sys.executable).with_name("lotline")


class SlowInbox(Inbox):
    """Takes a while to accept each message, so a kill can land in the middle of a batch; a message
    is kept only once it is accepted (as a real server keeps it only after its 250 reply).
    ``receiving`` is set while a message's DATA is being held: the worker sends one reminder at a
    time and starts the next SMTP conversation only after committing the previous reminder, so a
    kill while ``receiving`` comes after one commit and before the next acceptance."""

    receiving = False

    async def handle_DATA(self, server, session, envelope):
        self.receiving = True
        await asyncio.sleep(0.6)
        self.receiving = False
        return await super().handle_DATA(server, session, envelope)


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


@pytest.mark.concurrency
def test_a_worker_killed_mid_batch_loses_no_reminder_and_sends_none_twice(committed_engine, database_url, monkeypatch):
    with db.transaction() as s:
        build_world(s)
        # more consignees than one tick can mail: extra customers of F-1's flour
        from lotline.models import Item, Location
        from tests.builders import make_customer, order, ship

        flour, wh = s.query(Item).filter_by(sku="FLOUR").one(), s.query(Location).filter_by(code="WH1").one()
        for n in range(5):
            c = make_customer(s, f"EXTRA{n}")
            order(s, f"SO-X{n}", c, [(flour, 1, None)])
            ship(s, f"SO-X{n}", [(1, wh, 1, [("F-1", 1)])])
        case, _ = _past_deadline(s, reminder_max=1)
    inbox = SlowInbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    env = {**os.environ, "LOTLINE_DATABASE_URL": database_url, "LOTLINE_WORKER_TICK": "1",
           "LOTLINE_SMTP_HOST": "127.0.0.1", "LOTLINE_SMTP_PORT": str(port), "LOTLINE_SMTP_SECURITY": "none"}
    workers = []
    try:
        first = subprocess.Popen([str(LOTLINE), "worker"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        workers.append(first)
        _wait(lambda: len(inbox.messages) >= 1 and inbox.receiving, 60, "the first reminder and the next in DATA")
        first.send_signal(signal.SIGKILL)  # mid-batch: one reminder committed, the next not yet accepted
        first.wait(10)
        sent_before_restart = len(inbox.messages)
        assert sent_before_restart < 8, "the kill came too late to test anything"
        second = subprocess.Popen([str(LOTLINE), "worker"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        workers.append(second)
        _wait(lambda: len(inbox.messages) >= 8, 60, "every consignee's reminder")
        time.sleep(3)  # three more ticks: nothing else may arrive
        second.send_signal(signal.SIGTERM)
        second.wait(20)
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
                w.wait(10)
        controller.stop()
    recipients = [m["To"] for m in inbox.messages]
    assert len(recipients) == 8 and len(set(recipients)) == 8, recipients  # 3 + 5 consignees, once each
    with db.read_snapshot() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(RecallReminder)) == 8
