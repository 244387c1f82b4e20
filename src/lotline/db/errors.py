"""Translation of database errors into domain errors — the one place SQLSTATEs are read."""

from __future__ import annotations

import sqlalchemy as sa

from lotline import errors

# Constraint name -> a human explanation. Unknown names fall back to the server's message.
CONSTRAINT_MESSAGES = {
    "items_sku_key": "an item with this SKU already exists",
    "locations_code_key": "a location with this code already exists",
    "vendors_code_key": "a vendor with this code already exists",
    "customers_code_key": "a customer with this code already exists",
    "idx_lots_item_code": "this item already has a lot with this code",
    "recall_cases_recall_number_key": "a recall case with this number already exists",
    "work_orders_number_key": "a work order with this number already exists",
    "sales_orders_number_key": "a sales order with this number already exists",
    "inventory_balances_lot_nonnegative": "a lot would go below zero at a location",
    "users_name_key": "a user with this name already exists",
    "user_roles_user_role_key": "the user already has this role",
}

RETRYABLE = {"40001", "40P01", "55P03"}  # serialization failure, deadlock, lock not available

# The server went away or cannot take the work: admin_shutdown (pg_terminate_backend, a fast
# shutdown), crash_shutdown, cannot_connect_now (starting up), connection exceptions (class 08),
# too_many_connections and the other insufficient-resources states (class 53).
UNAVAILABLE = {"57P01", "57P02", "57P03", "57P05"}
UNAVAILABLE_CLASSES = ("08", "53")
QUERY_CANCELED = "57014"  # statement_timeout, or a cancel request (the client went away)


def _unavailable(sqlstate: str | None, orig: BaseException | None) -> errors.LotlineError | None:
    first = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    if sqlstate == QUERY_CANCELED:
        return errors.TimedOut(f"the database statement was cancelled: {first}", sqlstate=sqlstate)
    if sqlstate in UNAVAILABLE or (sqlstate or "").startswith(UNAVAILABLE_CLASSES):
        return errors.Unavailable(f"the database connection was lost or refused: {first}", sqlstate=sqlstate)
    return None


def connection_lost(exc: sa.exc.DBAPIError) -> bool:
    """True when the connection itself is gone (terminated, shut down, broken): nothing to roll back."""
    sqlstate = getattr(exc.orig, "sqlstate", None)
    return exc.connection_invalidated or sqlstate in UNAVAILABLE or (sqlstate or "").startswith("08") or bool(
        getattr(getattr(exc.orig, "pgconn", None), "status", 0)  # psycopg: CONNECTION_BAD (1) once closed
    )


def translate(exc: sa.exc.DBAPIError) -> errors.LotlineError | None:
    """The domain error for a database error, or None when it is a bug to let through."""
    if exc.connection_invalidated or (
        isinstance(exc, sa.exc.OperationalError) and getattr(exc.orig, "sqlstate", None) is None
    ):
        unavailable = _unavailable(getattr(exc.orig, "sqlstate", None), exc.orig)
        return unavailable or errors.Unavailable(
            f"the database connection was lost: {str(exc.orig).strip().splitlines()[0]}"
        )
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None)
    unavailable = _unavailable(sqlstate, orig)
    if unavailable is not None:
        return unavailable
    diag = getattr(orig, "diag", None)
    constraint = getattr(diag, "constraint_name", None)
    detail = getattr(diag, "message_detail", None) or ""
    if sqlstate in RETRYABLE:
        return errors.ConcurrencyConflict(
            "the request collided with a concurrent one and was rolled back; retry it", sqlstate=sqlstate
        )
    if sqlstate == "23505":
        msg = CONSTRAINT_MESSAGES.get(constraint or "", "duplicate value")
        return errors.DuplicateKey(f"{msg} ({detail})" if detail else msg, constraint=constraint)
    if sqlstate == "23503":
        return errors.InvalidInput(
            f"reference to a record that does not exist ({detail})", constraint=constraint
        )
    if sqlstate in ("23514", "23502"):
        msg = CONSTRAINT_MESSAGES.get(constraint or "", f"value violates constraint {constraint}")
        return errors.RuleViolation(msg, constraint=constraint)
    if isinstance(exc, sa.exc.DataError) and sqlstate is None:
        # refused by the driver before it reached the server: a value PostgreSQL cannot hold
        # (a NUL byte in text, an integer beyond bigint) in a lookup or filter the schemas never saw
        return errors.InvalidInput(f"invalid value: {str(orig).strip().splitlines()[0]}")
    if sqlstate in ("22003", "22P02", "22007", "22008", "22001"):
        return errors.InvalidInput(f"invalid value: {str(orig).strip().splitlines()[0]}")
    if sqlstate == "42P01":
        return errors.Unavailable(
            f"the database has no lotline schema ({str(orig).strip().splitlines()[0]}); run `lotline db upgrade`"
        )
    if sqlstate == "25006":
        return errors.InvalidInput("this operation is read-only and cannot write")
    return None
