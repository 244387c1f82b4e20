"""Balance rows: locking them in one global order, the no-lot-below-zero rule in time, writing them.

Invariants:
- Every posting locks the ``inventory_balances`` rows it reads or changes FOR UPDATE ordered by
  (item_id, location_id, lot_id) — the one global lock order. Multi-line postings that pick lots
  (FEFO) lock the stocked rows of every (item, location) they touch up front with ``lock_stock``,
  sources and destinations alike, so two postings over the same places in opposite directions
  queue instead of deadlocking. Only rows with stock are locked up front (a busy item has
  thousands of empty rows at a location); the keys a posting takes from are locked, in the same
  order, when the balances are applied, and the keys it only adds to by the write itself. What this cannot order (a row that gains stock between the two
  steps) is left to the entrypoint's retry (``lotline.db.retry``).
- No lot goes below zero at any location at any instant. The ledger is read per instant, as the
  generator's checker replays it: the stock at t is what every movement up to and including t
  leaves (movements at one instant have no order among themselves). A posting at t must leave the
  lot's stock non-negative at t and at every later instant of its ledger at that location.
  ``last_occurred_at`` on the balance row is the latest ledger time of that (item, location, lot):
  a posting at or after it (the common case, "now") has nothing later and checks the balance
  alone, as cheaply as before; a back-dated one (or a row whose time is unknown, NULL, as in
  bulk-loaded data) reads that lot's later ledger at that location (``sql/later_ledger.sql``).
  The row lock is taken before the ledger is read, in a later statement, so the ledger read sees
  every posting that committed before us on that key.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy.orm import Session

from lotline.db import sql
from lotline.errors import InsufficientQuantity
from lotline.inventory import held
from lotline.types import fmt_qty

Key = held.Key


class Stocked(NamedTuple):
    """A locked balance row with stock, joined to its lot (for FEFO picking without another query).

    A named tuple: one is made per stocked row of every place a posting picks from."""

    item_id: uuid.UUID
    location_id: uuid.UUID
    lot_id: uuid.UUID | None
    quantity: Decimal
    last_occurred_at: datetime | None
    lot_code: str | None
    status: str | None
    expires_at: datetime | None
    received_at: datetime | None


# Rows with stock (and the untracked row, which may be negative) of the given (item, location)
# pairs locked in the global order; those of the ``wanted`` pairs come back with their lots (every
# locked row is scanned, so every one is locked: the outer filter only drops what is sent). Each
# row names its pair by its position in the arrays (k.n), grouped by it: the pair's own ids are
# not sent back and decoded again for every row.
_LOCK_STOCK = """
WITH locked AS MATERIALIZED (
    SELECT k.n, k.wanted, b.lot_id, b.quantity, b.last_occurred_at
      FROM unnest(%(items)s::uuid[], %(locations)s::uuid[], %(wanted)s::bool[])
           WITH ORDINALITY AS k(item_id, location_id, wanted, n)
      JOIN inventory_balances b ON b.item_id = k.item_id AND b.location_id = k.location_id
     WHERE b.quantity <> 0 OR b.lot_id IS NULL
     ORDER BY b.item_id, b.location_id, b.lot_id
       FOR UPDATE OF b
)
SELECT x.n, x.lot_id, x.quantity, x.last_occurred_at, l.lot_code, l.status, l.expires_at, l.received_at
  FROM locked x LEFT JOIN lots l ON l.id = x.lot_id
 WHERE x.wanted
 ORDER BY x.n, x.lot_id
"""

_LOCK_BALANCES = """
    SELECT b.item_id, b.location_id, b.lot_id, b.quantity, b.last_occurred_at
      FROM inventory_balances b
      JOIN unnest(%(items)s::uuid[], %(locations)s::uuid[], %(lots)s::uuid[])
           AS k(item_id, location_id, lot_id)
        ON b.item_id = k.item_id AND b.location_id = k.location_id
       AND b.lot_id IS NOT DISTINCT FROM k.lot_id
     ORDER BY b.item_id, b.location_id, b.lot_id
       FOR UPDATE OF b
"""

# One statement writes every changed key: rows that were locked are updated (a CHECK is evaluated
# on an INSERT's proposed row before conflict arbitration, so rows a lot is taken from cannot go
# through ON CONFLICT); keys not locked before — rows only added to, untracked rows (no CHECK),
# keys without a row — are inserted, ON CONFLICT merging into the row that exists (the merge
# locks it, in key order). No lot is taken from through it (a lot's decreases are locked and
# checked first), so the merged row's time stays exact with greatest(); NULL stays unknown.
# The two key sets are disjoint, so no row is touched twice.
_WRITE_BALANCES = """
WITH updated AS (
    UPDATE inventory_balances b
       SET quantity = b.quantity + k.quantity, last_occurred_at = k.last_occurred_at, updated_at = now()
      FROM unnest(%(u_items)s::uuid[], %(u_locations)s::uuid[], %(u_lots)s::uuid[],
                  %(u_quantities)s::numeric[], %(u_lasts)s::timestamptz[])
           AS k(item_id, location_id, lot_id, quantity, last_occurred_at)
     WHERE b.item_id = k.item_id AND b.location_id = k.location_id
       AND b.lot_id IS NOT DISTINCT FROM k.lot_id
    RETURNING 1
)
INSERT INTO inventory_balances (item_id, location_id, lot_id, quantity, last_occurred_at, updated_at)
SELECT k.item_id, k.location_id, k.lot_id, k.quantity, k.last_occurred_at, now()
  FROM unnest(%(i_items)s::uuid[], %(i_locations)s::uuid[], %(i_lots)s::uuid[],
              %(i_quantities)s::numeric[], %(i_lasts)s::timestamptz[])
       AS k(item_id, location_id, lot_id, quantity, last_occurred_at)
 ORDER BY k.item_id, k.location_id, k.lot_id
ON CONFLICT ON CONSTRAINT inventory_balances_key
DO UPDATE SET quantity = inventory_balances.quantity + EXCLUDED.quantity,
              last_occurred_at = CASE WHEN inventory_balances.last_occurred_at IS NULL THEN NULL
                                      ELSE greatest(inventory_balances.last_occurred_at,
                                                    EXCLUDED.last_occurred_at) END,
              updated_at = now()
"""


def lock_stock(
    session: Session,
    pairs: Sequence[tuple[uuid.UUID, uuid.UUID]],
    *,
    fresh: bool = False,
    unread: Collection[tuple[uuid.UUID, uuid.UUID]] = (),
) -> dict[tuple, list[Stocked]]:
    """Lock the stocked balance rows of several (item, location) pairs at once, in the global order.

    Returns them per pair (FEFO picks from these without another query). Postings that pick lots
    line by line would otherwise lock each line's stock in line order, and two postings listing
    the same places in opposite orders deadlock. Pairs this transaction already locked are
    answered from what it holds (``held``) unless ``fresh``. ``unread``: pairs only put into (a
    transfer's destination) are locked all the same but their rows are not sent back (nor held:
    a later pick from them reads them); they come back empty unless held already.
    """
    keys = sorted(set(pairs))
    known = held.of(session)
    out: dict[tuple, list[Stocked]] = {k: [] for k in keys}
    cached = [] if fresh else [k for k in keys if k in known.pairs]
    if cached:
        from_held = _held_stock(known, set(cached))
        if from_held is None:
            cached = []
        else:
            out.update(from_held)
    todo = [k for k in keys if k not in cached]
    if todo:
        rows = sql.rows(session, _LOCK_STOCK, {
            "items": [k[0] for k in todo], "locations": [k[1] for k in todo], "wanted": [k not in unread for k in todo]
        }, kind="tuple")
        balances, lot_info = known.balances, known.lot_info
        n_at = 0
        for n, lot_id, quantity, last, lot_code, status, expires_at, received_at in rows:
            if n != n_at:  # rows come grouped by pair (the lock order)
                n_at = n
                item_id, location_id = pair = todo[n - 1]
                stocked = out[pair]
            stocked.append(
                Stocked(item_id, location_id, lot_id, quantity, last, lot_code, status, expires_at, received_at)
            )
            balances[(item_id, location_id, lot_id)] = held.Row(quantity, last)
            if lot_id is not None:
                lot_info[lot_id] = held.LotInfo(lot_code, status, expires_at, received_at)
        known.pairs.update(k for k in todo if k not in unread)
    return out


def _held_stock(known: held.Held, pairs: set[tuple]) -> dict[tuple, list[Stocked]] | None:
    """The held stocked rows of fully locked pairs, in the global order; None if a lot is not known."""
    out: dict[tuple, list[Stocked]] = {k: [] for k in pairs}
    for key in sorted((k for k in known.balances if (k[0], k[1]) in pairs), key=_order):
        row = known.balances[key]
        if row.quantity == 0 and key[2] is not None:
            continue
        if key[2] is None:
            out[(key[0], key[1])].append(Stocked(*key, row.quantity, row.last_occurred_at, None, None, None, None))
            continue
        info = known.lot_info.get(key[2])
        if info is None:
            return None
        out[(key[0], key[1])].append(
            Stocked(*key, row.quantity, row.last_occurred_at, info.lot_code, info.status, info.expires_at, info.received_at)
        )
    return out


def _order(k: Key) -> tuple:
    return (k[0], k[1], k[2] is not None, k[2])


@dataclass
class Change:
    """The net change of one balance key in a posting, and the first line that takes from it."""

    delta: Decimal = Decimal(0)
    label: str = ""
    lot_code: str | None = None
    sku: str = ""
    uom: str = ""
    location: str = ""


def _refuse(change: Change, available: Decimal, *, at: datetime | None = None) -> InsufficientQuantity:
    when = f" on {at.isoformat()}" if at is not None else ""
    return InsufficientQuantity(
        f"{change.label}: lot {change.lot_code} of {change.sku} has {fmt_qty(available)} {change.uom} "
        f"at {change.location}{when}, {fmt_qty(-change.delta)} requested",
        lot_code=change.lot_code,
        sku=change.sku,
        location=change.location,
        available=str(available),
        requested=str(-change.delta),
        **({"occurred_at": at.isoformat()} if at is not None else {}),
    )


def apply(  # noqa: C901 — the posting hot path: one pass over the changes
    session: Session,
    changes: dict[Key, Change],
    occurred_at: datetime,
    locked: dict[tuple, list[Stocked]] | None = None,
) -> Write:
    """Lock the changed keys, refuse any lot going below zero at ``occurred_at`` or later; the write to send.

    ``locked``: what ``lock_stock`` already locked in this transaction (every stocked row of those
    pairs); those rows are not locked or read again — ``lock_stock`` put them among the held rows,
    where they are found (a rollback since, whose locks went with it, forgot them: locked again).
    """
    del locked  # (see above: the held rows answer for it; kept for callers that pass it)
    keys = sorted(changes, key=_order)
    known = held.of(session)
    current: dict[Key, held.Row] = {k: known.balances[k] for k in keys if k in known.balances}
    # Only rows a lot is taken from are locked and read before the write: the rule needs their
    # quantity. A row only added to (or the untracked row, which may go negative) is locked by the
    # write itself (ON CONFLICT, in the same key order); a key of a lot made in this transaction
    # has no row until we write one.
    rest = [
        k for k in keys
        if k not in current and k[2] is not None and changes[k].delta < 0 and k[2] not in known.new_lots
    ]
    if rest:
        params = {"items": [k[0] for k in rest], "locations": [k[1] for k in rest], "lots": [k[2] for k in rest]}
        for r in sql.rows(session, _LOCK_BALANCES, params):
            current[(r.item_id, r.location_id, r.lot_id)] = held.Row(r.quantity, r.last_occurred_at)

    # Checked in document order (``changes`` keeps the order of the lines), not lock order: when
    # several lines are short, the refusal names the first of them, the same one on every run.
    taking = [k for k in changes if k[2] is not None and changes[k].delta < 0]
    back_dated = []
    for key in taking:
        row = current.get(key)
        # no balance row is nothing on hand: taking from it is refused like any shortfall
        if row is None or row.quantity + changes[key].delta < 0:
            raise _refuse(changes[key], row.quantity if row is not None else Decimal(0))
        if row.last_occurred_at is None or row.last_occurred_at > occurred_at:
            back_dated.append(key)
    later_max: dict[Key, datetime] = {}
    if back_dated:
        later_max = _check_later_ledger(session, back_dated, changes, current, occurred_at)

    def last(key: Key) -> datetime | None:
        row = current.get(key)
        if row is None:
            return occurred_at
        if key in later_max or key in back_dated:  # the scan saw this key's whole future
            return max(occurred_at, later_max.get(key, occurred_at))
        if row.last_occurred_at is None:
            return None  # still unknown: the next decrease reads the ledger
        return max(row.last_occurred_at, occurred_at)

    params = {}
    for prefix, subset in (("u_", [k for k in keys if k in current]), ("i_", [k for k in keys if k not in current])):
        params |= {
            f"{prefix}items": [k[0] for k in subset],
            f"{prefix}locations": [k[1] for k in subset],
            f"{prefix}lots": [k[2] for k in subset],
            f"{prefix}quantities": [changes[k].delta for k in subset],
            f"{prefix}lasts": [last(k) for k in subset],
        }
    written = {
        k: held.Row((current[k].quantity if k in current else Decimal(0)) + changes[k].delta, last(k)) for k in keys
    }
    return Write(_WRITE_BALANCES, params, known, written, set(current))


@dataclass
class Write:
    """The balance write of a posting, checked and ready to send (``send``, or pipelined with others)."""

    statement: str
    params: dict
    known: held.Held
    written: dict[Key, held.Row]
    locked: set[Key]

    def done(self) -> None:
        """Remember what was written as held: the updated rows were locked, the inserted ones are ours.

        An inserted key that a concurrent posting created meanwhile was merged by ON CONFLICT
        (its quantity is then not ours to know): forgotten instead, so it is locked and read again.
        """
        for key, row in self.written.items():
            if key in self.locked or key[2] in self.known.new_lots:
                self.known.balances[key] = row
            else:
                self.known.balances.pop(key, None)

    def send(self, session: Session) -> None:
        sql.execute(session, self.statement, self.params)
        self.done()


def _check_later_ledger(
    session: Session,
    keys: list[Key],
    changes: dict[Key, Change],
    current: dict,
    occurred_at: datetime,
) -> dict[Key, datetime]:
    """Refuse a back-dated decrease that a later ledger entry needed; returns each key's latest time."""
    rows = sql.rows(
        session,
        sql.load_sql("lotline.inventory", "later_ledger"),
        {"lots": [k[2] for k in keys], "locations": [k[1] for k in keys], "occurred_at": occurred_at},
    )
    found = {(r.lot_id, r.location_id): r for r in rows}
    latest: dict[Key, datetime] = {}
    for key in keys:
        r = found.get((key[2], key[1]))
        if r is None:
            continue
        latest[key] = r.latest
        change = changes[key]
        have_now = current[key].quantity
        # stock at occurred_at before this posting, and the lowest it reaches at a later instant
        have_then = have_now - r.total
        lowest = have_then + min(Decimal(0), r.min_prefix)
        if lowest + change.delta < 0:
            if have_then + change.delta < 0:
                raise _refuse(change, have_then, at=occurred_at)
            raise InsufficientQuantity(
                f"{change.label}: lot {change.lot_code} of {change.sku} at {change.location} would go below "
                f"zero on {r.lowest_at.isoformat()}: movements after {occurred_at.isoformat()} need "
                f"its stock; at most {fmt_qty(max(lowest, Decimal(0)))} {change.uom} can be taken then, "
                f"{fmt_qty(-change.delta)} requested",
                lot_code=change.lot_code,
                sku=change.sku,
                location=change.location,
                available=str(max(lowest, Decimal(0))),
                requested=str(-change.delta),
                occurred_at=occurred_at.isoformat(),
            )
    return latest


def changes_of(lines: Sequence, label) -> dict[Key, Change]:
    """Net change per balance key of posting lines (``label(n, line)`` names the first taker)."""
    out: dict[Key, Change] = defaultdict(Change)
    for n, line in enumerate(lines, start=1):
        parts = [(ld.lot, ld.quantity_delta) for ld in line.lots] or [(None, line.quantity_delta)]
        for lot, q in parts:
            change = out[(line.item.id, line.location.id, lot.id if lot else None)]
            change.delta += q
            if q < 0 and not change.label:
                change.label = label(n, line)
                change.lot_code = lot.lot_code if lot else None
                change.sku, change.uom, change.location = line.item.sku, line.item.uom, line.location.code
    return dict(out)
