"""The one domain error tree.

    LotlineError                      code            HTTP  CLI exit
    ├── NotFound                      not_found        404     4
    ├── InvalidInput                  invalid_input    422     2
    ├── Conflict                      conflict         409     5
    │   ├── DuplicateKey              duplicate_key
    │   ├── InvalidStateTransition    invalid_state_transition
    │   └── ConcurrencyConflict       concurrency_conflict   (safe to retry)
    ├── RuleViolation                 rule_violation   422     6
    │   ├── AllocationMismatch        allocation_mismatch
    │   ├── InsufficientQuantity      insufficient_quantity
    │   ├── LotNotReleased            lot_not_released
    │   ├── WrongLotItem              wrong_lot_item
    │   ├── OverShipment              over_shipment
    │   └── OverReturn                over_return   (more back than the customer was shipped)
    ├── Unavailable                   unavailable      503     7   (database unreachable, SMTP down, server busy)
    │   └── TimedOut                  timed_out              (a statement ran past its timeout or was cancelled)
    ├── Unauthenticated               unauthenticated  401     3   (no, bad, expired or revoked credential)
    └── PermissionDenied              permission_denied 403    8   (the actor lacks the route's permission)
        ├── CsrfRejected              csrf_rejected          (cookie-authenticated write without its token)
        └── SignatureRefused          signature_refused      (wrong password / not the signer's own)

Every error carries a stable machine ``code`` and a message naming the offending thing (movement
line, lot code, SKU). An error may carry ``after_rollback``: a callable the transaction boundary
runs in a fresh transaction once the failed one is rolled back — how a refused sign-in or signature
leaves exactly the audit of the failed attempt and nothing else. HTTP (api/problems.py ``STATUS``)
and CLI (cli/common.py ``EXIT_CODES``) map the classes in one table
each; database errors are translated in db/errors.py. Bugs are not domain errors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class LotlineError(Exception):
    code = "lotline_error"

    after_rollback: Callable[[Any], object] | None = None  # its result is ignored

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def __str__(self) -> str:
        return self.message


class NotFound(LotlineError):
    code = "not_found"


class InvalidInput(LotlineError):
    code = "invalid_input"


class Conflict(LotlineError):
    code = "conflict"


class DuplicateKey(Conflict):
    code = "duplicate_key"


class InvalidStateTransition(Conflict):
    code = "invalid_state_transition"


class ConcurrencyConflict(Conflict):
    code = "concurrency_conflict"


class RuleViolation(LotlineError):
    code = "rule_violation"


class AllocationMismatch(RuleViolation):
    code = "allocation_mismatch"


class InsufficientQuantity(RuleViolation):
    code = "insufficient_quantity"


class LotNotReleased(RuleViolation):
    code = "lot_not_released"


class WrongLotItem(RuleViolation):
    code = "wrong_lot_item"


class OverShipment(RuleViolation):
    code = "over_shipment"


class OverReturn(RuleViolation):
    code = "over_return"


class Unavailable(LotlineError):
    code = "unavailable"


class TimedOut(Unavailable):
    code = "timed_out"


class Unauthenticated(LotlineError):
    code = "unauthenticated"


class PermissionDenied(LotlineError):
    code = "permission_denied"


class CsrfRejected(PermissionDenied):
    code = "csrf_rejected"


class SignatureRefused(PermissionDenied):
    code = "signature_refused"
