"""Settings read from the environment.

Everything configurable lives here so the rest of the code never reads os.environ directly.

  LOTLINE_DATABASE_URL   any PostgreSQL >= 15 (postgresql://user@host:port/db); unset = embedded server
  LOTLINE_DATA_DIR       where the embedded server keeps its data (default: the user's data dir)
  LOTLINE_DATABASE       database name on the embedded server (default: lotline)
  LOTLINE_SMTP_*         outgoing mail for recall notices (HOST, PORT, SECURITY=none|starttls|tls,
                         USERNAME, PASSWORD, FROM, CA_FILE = PEM certificates to trust instead of the
                         system's, for a relay with a private CA)
  LOTLINE_PUBLIC_URL     base URL recipients use to reach `lotline serve` (recall response links;
                         default http://localhost:8000)
  LOTLINE_WORKER_TICK    seconds between the worker's scheduled passes (default 60)

The HTTP server (`lotline serve`; each of its ``--workers`` processes has its own limits and pool):

  LOTLINE_API_CONCURRENCY     requests handled at once (default 16). A request holds at most two
                              database connections (its transaction, and one a flow may open beside
                              it), so the pool is sized from this: pool 16 + overflow 16 by default,
                              and the AnyIO thread pool that runs the sync endpoints gets
                              2 × concurrency + 8 threads (40). With this bound nobody waits for a
                              pooled connection while holding a thread, the stall of issue 10.
  LOTLINE_API_QUEUE           requests that may wait for a free slot (default 1024); one more is
                              answered 503 problem+json with Retry-After at once
  LOTLINE_API_QUEUE_TIMEOUT   seconds a request may wait for a slot before a 503 (default 10)
  LOTLINE_DB_POOL_SIZE, LOTLINE_DB_MAX_OVERFLOW   override the pool sizes derived above
  LOTLINE_DB_POOL_TIMEOUT     seconds to wait for a pooled connection before a 503 (default 10)
  LOTLINE_MAX_BODY_BYTES      largest request body (default 10 MiB, i.e. 10485760); larger: 413
  LOTLINE_MAX_CAPTURE_BYTES   largest EPCIS capture document (POST /epcis/capture, spooled to disk;
                              default 1 GiB)
  LOTLINE_STATEMENT_TIMEOUT   PostgreSQL statement_timeout of every transaction an HTTP request
                              opens (default 60s; PostgreSQL units ms, s, min; 0 = none). A statement
                              that runs longer is cancelled and the request answers 503 problem+json
                              (code timed_out, Retry-After); 503 rather than 504, as no gateway is
                              involved: the server itself refused to spend longer on it.
  LOTLINE_LOCK_TIMEOUT        PostgreSQL lock_timeout likewise (default 10s). A lock wait that
                              times out is a concurrency conflict: retried at the entrypoint like a
                              deadlock, then 409 concurrency_conflict.
The CLI and the worker set no timeouts (a KPI run or an import may rightly take minutes).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from lotline.errors import InvalidInput


def data_dir() -> Path:
    """Directory for lotline's own files (embedded database, exports)."""
    configured = os.environ.get("LOTLINE_DATA_DIR")
    path = Path(configured) if configured else Path(platformdirs.user_data_dir("lotline"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url() -> str | None:
    """The external database URL, or None to use the embedded server."""
    url = os.environ.get("LOTLINE_DATABASE_URL", "").strip()
    return url or None


def embedded_database() -> str:
    """Name of the database lotline uses on the embedded server."""
    return os.environ.get("LOTLINE_DATABASE", "").strip() or "lotline"


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str  # none | starttls | tls
    username: str | None
    password: str | None
    sender: str
    ca_file: str | None = None  # trust these CA certificates (PEM) instead of the system's


def smtp_settings() -> SmtpSettings:
    security = os.environ.get("LOTLINE_SMTP_SECURITY", "none").lower()
    default_port = {"tls": 465, "starttls": 587}.get(security, 25)
    port_text = os.environ.get("LOTLINE_SMTP_PORT", "").strip() or str(default_port)
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise InvalidInput(f"LOTLINE_SMTP_PORT must be a port number (1-65535), not {port_text!r}")
    return SmtpSettings(
        host=os.environ.get("LOTLINE_SMTP_HOST", "localhost"),
        port=int(port_text),
        security=security,
        username=os.environ.get("LOTLINE_SMTP_USERNAME") or None,
        password=os.environ.get("LOTLINE_SMTP_PASSWORD") or None,
        sender=os.environ.get("LOTLINE_SMTP_FROM", "recalls@lotline.invalid"),
        ca_file=os.environ.get("LOTLINE_SMTP_CA_FILE") or None,
    )


def public_url() -> str:
    """Base URL at which recipients reach ``lotline serve`` (response links in recall emails)."""
    url = os.environ.get("LOTLINE_PUBLIC_URL", "").strip().rstrip("/") or "http://localhost:8000"
    if not url.startswith(("http://", "https://")) or any(c in url for c in "\r\n\x00 "):
        raise InvalidInput(f"LOTLINE_PUBLIC_URL must be an http(s) URL, not {url!r}")
    return url


def worker_tick_seconds() -> int:
    text = os.environ.get("LOTLINE_WORKER_TICK", "").strip() or "60"
    if not text.isdigit() or not 1 <= int(text) <= 3600:
        raise InvalidInput(f"LOTLINE_WORKER_TICK must be a whole number of seconds from 1 to 3600, not {text!r}")
    return int(text)


def qa_email() -> str | None:
    """LOTLINE_QA_EMAIL: who is reminded of the yearly mock-recall drill (unset: no reminder)."""
    value = os.environ.get("LOTLINE_QA_EMAIL", "").strip()
    if not value:
        return None
    if "@" not in value or any(c in value for c in "\r\n\x00 <>,"):
        raise InvalidInput(f"LOTLINE_QA_EMAIL must be one email address, not {value!r}")
    return value


def _whole(name: str, default: int, low: int, high: int) -> int:
    text = os.environ.get(name, "").strip() or str(default)
    if not text.isdigit() or not low <= int(text) <= high:
        raise InvalidInput(f"{name} must be a whole number from {low} to {high}, not {text!r}")
    return int(text)


_DURATION = re.compile(r"\d{1,9}(ms|s|min)?")


def _duration(name: str, default: str) -> str:
    text = os.environ.get(name, "").strip().replace(" ", "") or default
    if not _DURATION.fullmatch(text):
        raise InvalidInput(f"{name} must be a PostgreSQL duration such as 500ms, 30s or 2min (0 = none), not {text!r}")
    return text


@dataclass(frozen=True)
class ApiLimits:
    """How much one HTTP server process takes on at once (see the module docstring)."""

    concurrency: int
    queue: int
    queue_timeout: float
    threads: int
    max_body_bytes: int
    max_capture_bytes: int
    statement_timeout: str
    lock_timeout: str


def api_limits() -> ApiLimits:
    concurrency = _whole("LOTLINE_API_CONCURRENCY", 16, 1, 1000)
    return ApiLimits(
        concurrency=concurrency,
        queue=_whole("LOTLINE_API_QUEUE", 1024, 0, 1_000_000),
        queue_timeout=float(_whole("LOTLINE_API_QUEUE_TIMEOUT", 10, 0, 3600)),
        threads=2 * concurrency + 8,
        max_body_bytes=_whole("LOTLINE_MAX_BODY_BYTES", 10 << 20, 0, 1 << 40),
        max_capture_bytes=_whole("LOTLINE_MAX_CAPTURE_BYTES", 1 << 30, 0, 1 << 40),
        statement_timeout=_duration("LOTLINE_STATEMENT_TIMEOUT", "60s"),
        lock_timeout=_duration("LOTLINE_LOCK_TIMEOUT", "10s"),
    )


@dataclass(frozen=True)
class PoolSettings:
    pool_size: int
    max_overflow: int
    pool_timeout: float


def pool_settings() -> PoolSettings:
    """The connection pool of this process, sized for LOTLINE_API_CONCURRENCY requests."""
    concurrency = api_limits().concurrency
    return PoolSettings(
        pool_size=_whole("LOTLINE_DB_POOL_SIZE", concurrency, 1, 1000),
        max_overflow=_whole("LOTLINE_DB_MAX_OVERFLOW", concurrency, 0, 1000),
        pool_timeout=float(_whole("LOTLINE_DB_POOL_TIMEOUT", 10, 1, 3600)),
    )
