"""Long console work (trace runs, sending notices, KPI runs) off the request, with pollable progress.

A job runs a function on a small thread pool; the function opens its own transactions through the
same boundary and services the CLI uses, so its result is the record the CLI would have written.
Pages show a progress partial that htmx polls (``/jobs/{id}``) until the job ends. Jobs live in
process memory: they are progress reports, not the record — a restart loses the report, never data
(a trace run is one transaction; notices are claimed → sent → recorded one by one).
"""

from __future__ import annotations

import contextvars
import dataclasses
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from lotline.errors import LotlineError

_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="lotline-console-job")
_lock = threading.Lock()
_jobs: dict[str, Job] = {}
KEEP_SECONDS = 3600


@dataclass
class Job:
    id: str
    label: str
    owner: str
    done_url: str  # where the page goes when the job has finished
    status: str = "running"  # running | completed | failed
    done: int = 0
    total: int | None = None
    message: str = ""
    error: str | None = None
    started: float = field(default_factory=time.time)
    ended: float | None = None

    def progress(self, done: int, total: int | None = None, message: str = "") -> None:
        self.done, self.message = done, message
        if total is not None:
            self.total = total


def start(label: str, owner: str, done_url: str, work: Callable[[Job], str | None]) -> Job:
    """Run ``work(job)`` in the background; it returns a closing message (or raises)."""
    job = Job(secrets.token_urlsafe(12), label, owner, done_url)
    with _lock:
        cutoff = time.time() - KEEP_SECONDS
        for key in [k for k, j in _jobs.items() if j.ended and j.ended < cutoff]:
            del _jobs[key]
        _jobs[job.id] = job

    def run() -> None:
        try:
            job.message = work(job) or "done"
            job.status = "completed"
        except LotlineError as exc:
            job.error, job.status = exc.message, "failed"
        except Exception as exc:  # a bug: report it on the page rather than lose it silently
            job.error, job.status = f"{type(exc).__name__}: {exc}", "failed"
        finally:
            job.ended = time.time()

    # the request's context goes with the job: its transactions act as the same user (lotline.actor)
    _pool.submit(contextvars.copy_context().run, run)
    return job


def get(job_id: str) -> Job | None:
    """A copy of the job as it is now (pages render it after reading data: it must not change meanwhile)."""
    with _lock:
        job = _jobs.get(job_id)
        return dataclasses.replace(job) if job is not None else None


def wait_all(timeout: float = 30.0) -> None:
    """Tests and shutdown: wait until no job is running."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        with _lock:
            if all(j.status != "running" for j in _jobs.values()):
                return
        time.sleep(0.05)
