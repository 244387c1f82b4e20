"""Electronic signatures on the decisive steps (21 CFR 11.50, 11.70, 11.200).

Signed steps: activating and closing a recall, releasing a lot from quarantine or block to active,
publishing a KPI run. ``sign`` is called by the step's service *after* its change is flushed, in the
same transaction:

- the signer is the transaction's actor (``lotline.actor`` = ``user:NAME``): a signature is never
  given for someone else, and an OS login (the CLI without ``--as``) cannot sign;
- the signer's password is checked again (Argon2id, throttled like a sign-in — a token or session
  alone never signs); a wrong one raises SignatureRefused and the whole step is rolled back, with
  only the failed attempt audited;
- the record keeps the signer's name and full name, the meaning, the time, the signed record and
  the id of the change's audit entry, and a SHA-256 manifest over all of them (a signature copied
  onto another record or entry no longer matches its manifest: ``verify``).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lotline.audit import service as audit
from lotline.auth import service as auth_service
from lotline.auth.schemas import SignatureIn
from lotline.errors import InvalidInput, SignatureRefused
from lotline.vocab import SignedAction

ACTIONS = {
    SignedAction.RECALL_ACTIVATE: "activating a recall",
    SignedAction.RECALL_CLOSE: "closing a recall",
    SignedAction.LOT_RELEASE: "releasing a lot",
    SignedAction.KPI_PUBLISH: "publishing a KPI run",
}
REFUSED = "signature refused: the password is not that of the signer (or the account is locked or disabled)"


def require_signature(signature: SignatureIn | None, action: str, what: str) -> SignatureIn:
    """InvalidInput unless a signature (password + meaning) was given for ``action``."""
    if signature is None:
        raise InvalidInput(
            f"{what} needs an electronic signature: the signer's password again and a meaning "
            "(approved, reviewed or responsible)",
            field="signature",
            action=action,
        )
    return signature


def _signer(session: Session) -> str:
    actor = session.execute(sa.text("SELECT current_setting('lotline.actor', true)")).scalar() or ""
    kind, _, name = actor.partition(":")
    if kind != "user" or not name:
        raise SignatureRefused(
            "a signature needs a named lotline user as the actor (the CLI: --as NAME or LOTLINE_USER; "
            "the API: that user's own token or session)"
        )
    return name


def _manifest(name: str, meaning: str, action: str, table: str, record_id: str, audit_id: int, at: datetime) -> bytes:
    text = "\x1f".join([name, meaning, action, table, record_id, str(audit_id), at.astimezone(UTC).isoformat()])
    return hashlib.sha256(text.encode()).digest()


def sign(session: Session, signature: SignatureIn, action: str, table: str, record_id) -> dict:
    """Sign the change just flushed to ``table``/``record_id``; SignatureRefused on a wrong password."""
    assert action in ACTIONS, action
    name = _signer(session)
    user = auth_service.check_password(
        session, name, signature.password, event="signature_refused", message=REFUSED, error=SignatureRefused
    )
    audit_id = audit.latest_entry_id(session, table, record_id)
    if audit_id is None:  # a bug: the signed step did not change its record
        raise RuntimeError(f"no audit entry of {table} {record_id} in this transaction to sign")
    at = session.execute(sa.text("SELECT clock_timestamp()")).scalar_one()
    row = session.execute(
        sa.text(
            """
            INSERT INTO signatures (user_id, signer_name, signer_full_name, meaning, action, table_name,
                                    record_id, audit_id, signed_at, manifest)
            VALUES (:user_id, :name, :full_name, :meaning, :action, :table, :record_id, :audit_id, :at, :manifest)
            RETURNING id
            """
        ),
        {
            "user_id": user.id,
            "name": user.name,
            "full_name": user.full_name,
            "meaning": signature.meaning,
            "action": action,
            "table": table,
            "record_id": str(record_id),
            "audit_id": audit_id,
            "at": at,
            "manifest": _manifest(user.name, signature.meaning, action, table, str(record_id), audit_id, at),
        },
    ).scalar_one()
    return {"id": row, "signer": user.name, "full_name": user.full_name, "meaning": signature.meaning, "signed_at": at}


def signatures_of(session: Session, table: str, record_id) -> list[dict]:
    """The signatures of a record, oldest first, each with ``valid`` (its manifest still matches)."""
    rows = session.execute(
        sa.text(
            "SELECT id, signer_name, signer_full_name, meaning, action, table_name, record_id, audit_id,"
            "       signed_at, manifest FROM signatures WHERE table_name = :t AND record_id = :r ORDER BY signed_at"
        ),
        {"t": table, "r": str(record_id)},
    ).mappings()
    out = []
    for r in rows:
        expected = _manifest(
            r["signer_name"], r["meaning"], r["action"], r["table_name"], r["record_id"], r["audit_id"], r["signed_at"]
        )
        out.append(
            {
                "id": r["id"],
                "signer": r["signer_name"],
                "full_name": r["signer_full_name"],
                "meaning": r["meaning"],
                "action": r["action"],
                "signed_at": r["signed_at"],
                "audit_id": r["audit_id"],
                "valid": bytes(r["manifest"]) == expected,
            }
        )
    return out
