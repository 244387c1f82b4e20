"""``lotline worker``: scheduled work on a PostgreSQL-backed job queue (procrastinate).

Every scheduled job is a flow that is idempotent, so a worker killed at any point and started again
neither loses nor repeats an effect:

- ``recall_reminders``  reminders to consignees past their response deadline, then escalation to the
                        case's coordinator (recalls/flows/reminders.py: exactly-once rows, see there);
- ``recall_status_reports``  issues the 21 CFR 7.53 status report of each active case whose cadence
                        (strategy.status_report_interval_days) says one is due (locked per case);
- ``expire_lots``       marks lots whose expiry has passed as expired (one UPDATE; repeatable);
- ``drill_reminder``    once a year, reminds the QA contact (LOTLINE_QA_EMAIL) to run a mock-recall
                        drill if none was run in the last 365 days (BRCGS/SQF expect one a year).

The jobs are deferred by procrastinate's periodic scheduler every LOTLINE_WORKER_TICK seconds
(default 60): a periodic job is deferred once per tick even with several workers (procrastinate's
periodic lock), and each pass finds its work again from the database, so a lost pass costs one tick.
``lotline worker --once`` runs one pass of every job in-process (cron without a daemon).
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import procrastinate
import sqlalchemy as sa

from lotline import config, db
from lotline.auth import service as auth_service
from lotline.db import engine as engine_mod
from lotline.db import sql
from lotline.lots import service as lots_service
from lotline.models import RecallCase
from lotline.recalls import status_reports
from lotline.recalls.flows import notify, reminders
from lotline.recalls.flows.reminders import plain_message
from lotline.types import utcnow
from lotline.vocab import RecallStatus

log = logging.getLogger("lotline.worker")

DRILL_EVERY = timedelta(days=365)
DRILL_REMINDER_EVERY = timedelta(days=30)


def _conninfo() -> str:
    url = config.database_url()
    server = engine_mod.normalize_url(url) if url else engine_mod.embedded_url()
    # procrastinate speaks psycopg directly: a libpq URL without SQLAlchemy's driver suffix
    return sa.engine.make_url(server).set(drivername="postgresql").render_as_string(hide_password=False)


# --- the passes (plain functions: the jobs call them, and so do --once and the tests) -------------


def reminders_pass() -> dict[str, Any]:
    result = reminders.run_pass()
    return {"reminders_sent": result.reminders_sent, "escalations_sent": result.escalations_sent,
            "failed": result.failed}


def status_reports_pass() -> dict[str, Any]:
    issued = []
    with db.read_snapshot() as s:
        active = list(s.scalars(sa.select(RecallCase.id).where(RecallCase.status == RecallStatus.ACTIVE)))
    for case_id in active:
        with db.transaction() as s:
            case = s.scalar(sa.select(RecallCase).where(RecallCase.id == case_id).with_for_update(skip_locked=True))
            if case is None or not status_reports.due(s, case):
                continue
            report = status_reports.issue(s, case, issued_by="lotline worker")
            issued.append(f"{case.recall_number} #{report.seq}")
    return {"status_reports_issued": issued}


def expire_pass() -> dict[str, Any]:
    with db.transaction() as s:
        return {"lots_expired": lots_service.expire_due(s, utcnow())}


def drill_pass() -> dict[str, Any]:
    to = config.qa_email()
    if to is None:
        return {"drill_reminder": "LOTLINE_QA_EMAIL not set"}
    now = utcnow()
    with db.transaction() as s:
        # one reminder per DRILL_REMINDER_EVERY, across workers: the lock serialises the check
        sql.execute(s, "SELECT pg_advisory_xact_lock(hashtext('lotline.drill_reminder'))", {})
        last_drill = sql.scalar(s, "SELECT max(created_at) FROM recall_cases WHERE notes LIKE 'mock recall drill%%'", {})
        last_reminder = sql.scalar(s, "SELECT max(ran_at) FROM lotline_job_runs WHERE job = 'drill_reminder'", {})
        if last_drill is not None and last_drill > now - DRILL_EVERY:
            return {"drill_reminder": f"last drill {last_drill:%Y-%m-%d}: none due"}
        if last_reminder is not None and last_reminder > now - DRILL_REMINDER_EVERY:
            return {"drill_reminder": f"reminded on {last_reminder:%Y-%m-%d}"}
        settings = config.smtp_settings()

        since = f"the last one was on {last_drill:%Y-%m-%d}" if last_drill else "none has been run yet"
        msg = plain_message(settings, "Quality assurance", to, "Mock recall drill due",
                       f"A mock recall drill is due: {since}.\nRun: lotline recall mock --lot <a much-used raw lot>\n")
        sql.execute(s, "INSERT INTO lotline_job_runs (job, detail) VALUES ('drill_reminder', %(d)s::jsonb)",
                    {"d": json.dumps({"to": to})})
        notify.deliver(settings, msg, notify.tls_context(settings))
    return {"drill_reminder": f"sent to {to}"}


PASSES = {
    "expire_lots": expire_pass,
    "recall_reminders": reminders_pass,
    "recall_status_reports": status_reports_pass,
    "drill_reminder": drill_pass,
}


def _act_as_worker() -> None:
    """Every transaction of a pass acts as the OS login running the worker (audited as ``os``)."""
    db.set_actor(auth_service.os_principal().actor)


def run_once() -> dict[str, Any]:
    """One pass of every job, in order; a failing job is reported and the others still run."""
    _act_as_worker()
    out: dict[str, Any] = {}
    for name, fn in PASSES.items():
        try:
            out[name] = fn()
        except Exception as exc:  # noqa: BLE001 — report and go on: each job is independent
            log.exception("job %s failed", name)
            out[name] = {"error": f"{type(exc).__name__}: {exc}"}
    return out


# --- the procrastinate app -------------------------------------------------------------------------


def make_app() -> procrastinate.App:
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=_conninfo()))
    tick = config.worker_tick_seconds()
    cron = f"* * * * * */{tick}" if tick < 60 else f"*/{max(tick // 60, 1)} * * * *"
    for name, fn in PASSES.items():
        def job(timestamp: int, _fn=fn, _name=name) -> None:
            _act_as_worker()  # jobs run in worker threads: the context is set in each
            log.info("%s: %s", _name, _fn())

        job.__name__ = name
        task = app.task(name=name, queue="lotline", queueing_lock=name, pass_context=False)(job)
        app.periodic(cron=cron, periodic_id=name)(task)
    return app


def run_worker() -> None:
    """Run the worker until interrupted (SIGINT/SIGTERM stop it gracefully)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    make_app().run_worker(queues=["lotline"], wait=True, install_signal_handlers=True)
