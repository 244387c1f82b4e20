"""Checks on what a trace is asked for: direction, start lots, as_of, max_depth.

Each refuses bad input with InvalidInput naming the bad value, before any statement runs.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from lotline.errors import InvalidInput
from lotline.types import utcnow
from lotline.vocab import Direction

DIRECTIONS = tuple(Direction)
MAX_DEPTH_LIMIT = 10_000
# as_of may be a little ahead of this host's clock (another host's clock, request latency).
FUTURE_TOLERANCE = timedelta(minutes=5)


def validate_direction(direction: str) -> str:
    if direction not in DIRECTIONS:
        raise InvalidInput(f"direction must be one of {', '.join(DIRECTIONS)}, got {direction!r}")
    return direction


def validate_as_of(as_of: datetime | None, *, now: datetime | None = None) -> datetime | None:
    """None stays None; naive means UTC; a time in the future is refused (InvalidInput)."""
    if as_of is None:
        return None
    if not isinstance(as_of, datetime):
        raise InvalidInput(f"as_of must be a timestamp, got {as_of!r}")
    if as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=UTC)
    now = now or utcnow()
    if as_of > now + FUTURE_TOLERANCE:
        raise InvalidInput(
            f"as_of {as_of.isoformat()} is in the future (now is {now.isoformat(timespec='seconds')}); "
            "a trace can only be taken as of a past time"
        )
    return as_of


def parse_as_of(text: str | None) -> datetime | None:
    """Parse an ISO 8601 timestamp typed by a user (date alone = start of that day, UTC)."""
    if text is None or text.strip() == "":
        return None
    raw = text.strip()
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00") if raw.endswith("Z") else raw)
    except ValueError:
        raise InvalidInput(
            f"as_of {text!r} is not an ISO 8601 timestamp (e.g. 2026-03-01 or 2026-03-01T12:00:00Z)"
        ) from None
    return validate_as_of(value)


def validate_max_depth(max_depth: int | None) -> int | None:
    if max_depth is None:
        return None
    if isinstance(max_depth, bool) or not isinstance(max_depth, int):
        raise InvalidInput(f"max_depth must be a whole number, got {max_depth!r}")
    if max_depth < 0:
        raise InvalidInput(f"max_depth must be 0 or more, got {max_depth}")
    if max_depth > MAX_DEPTH_LIMIT:
        raise InvalidInput(
            f"max_depth must be at most {MAX_DEPTH_LIMIT}, got {max_depth}; omit it for no limit"
        )
    return max_depth


def validate_lot_ids(start_lot_ids: Sequence[uuid.UUID | str] | uuid.UUID | str) -> tuple[uuid.UUID, ...]:
    """The start lots as UUIDs, duplicates dropped, first-seen order kept; at least one."""
    if isinstance(start_lot_ids, (uuid.UUID, str)):
        start_lot_ids = [start_lot_ids]
    out: list[uuid.UUID] = []
    for x in start_lot_ids:
        if isinstance(x, uuid.UUID):
            out.append(x)
            continue
        try:
            out.append(uuid.UUID(str(x)))
        except ValueError:
            raise InvalidInput(f"lot id {x!r} is not a UUID") from None
    if not out:
        raise InvalidInput("a trace needs at least one start lot")
    return tuple(dict.fromkeys(out))
