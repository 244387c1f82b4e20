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
"""

from __future__ import annotations

import os
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
