# Over 600 lines: one simulation whose steps share the world's mutable state through one class (see "Why one file" below).
"""A deterministic simulation of a food plant's year that emits ledger rows ready for COPY.

The world: vendors deliver raw-material lots (salt and flour go into a large share of batches);
intermediate batches (doughs, sauces) consume raw lots; finished batches consume intermediate and
raw lots and are sometimes split over two output lots; finished lots move to the finished-goods
store and ship to thousands of customers on sales orders (some late, some short); a few shipments
come back and are mostly scrapped, a few lots are counted, expire or are blocked.

Every quantity is taken from stock the simulation holds, FEFO, at the location it sits, so the
rows satisfy the posting invariants by construction (the checker in ``checker.py`` proves it on the
database afterwards): lot rows sum to their line, each lot belongs to the line's item, no lot goes
negative at any location in time order, only active unexpired lots are shipped or consumed,
links, genealogy edges and balances match the movements.

Rows are emitted as COPY text lines into ``Rows`` buffers; ids are sequential UUIDs (version 8,
one prefix per table), so btree inserts append and the same seed gives the same data.
Quantities are held as integers in thousandths of the unit.

Why one file of ~700 lines: it is one simulation whose steps share the world's mutable state (stock
per lot and location, FEFO queues, open orders, id counters) through one ``Simulation``; split into
modules, every step would reach into another module's internals for that state. Its parts are the
methods of that class, in the order a simulated day runs them.
"""

from __future__ import annotations

import random
from bisect import bisect_left, insort
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

DAY_MS = 86_400_000
BASE_DATE = date(2025, 1, 1)
DAYS = 181  # 2025-01-01 .. 2025-06-30

# (table, columns) in foreign-key order: a flush writes parents before children.
TABLES: list[tuple[str, tuple[str, ...]]] = [
    ("items", ("id", "sku", "name", "uom", "lot_tracked", "shelf_life_days", "standard_cost")),
    ("locations", ("id", "code", "name", "kind")),
    ("vendors", ("id", "code", "name", "contact_email", "contact_phone", "address")),
    ("customers", ("id", "code", "name", "contact_email", "contact_phone", "address")),
    (
        "lots",
        (
            "id",
            "item_id",
            "lot_code",
            "status",
            "manufactured_at",
            "received_at",
            "expires_at",
            "vendor_lot_code",
            "updated_at",
        ),
    ),
    (
        "inventory_movements",
        ("id", "movement_type", "occurred_at", "vendor_id", "customer_id", "external_ref", "notes"),
    ),
    (
        "inventory_movement_lines",
        (
            "id",
            "movement_id",
            "line_no",
            "item_id",
            "location_id",
            "uom",
            "quantity_delta",
            "unit_cost",
            "occurred_at",
            "movement_type",
        ),
    ),
    ("inventory_movement_lots", ("id", "inventory_movement_line_id", "lot_id", "uom", "quantity_delta")),
    ("work_orders", ("id", "number", "item_id", "planned_quantity", "uom", "status", "due_at")),
    (
        "work_order_executions",
        ("id", "work_order_id", "occurred_at", "consume_movement_id", "produce_movement_id", "external_ref"),
    ),
    ("work_order_lot_links", ("id", "work_order_execution_id", "inventory_movement_lot_id", "role")),
    (
        "lot_genealogy_edges",
        (
            "work_order_execution_id",
            "parent_lot_id",
            "child_lot_id",
            "consumed_quantity",
            "produced_quantity",
            "occurred_at",
        ),
    ),
    ("sales_orders", ("id", "number", "customer_id", "status", "ordered_at")),
    (
        "sales_order_lines",
        (
            "id",
            "sales_order_id",
            "line_no",
            "item_id",
            "uom",
            "quantity_ordered",
            "due_date",
            "promised_date",
            "unit_price",
        ),
    ),
    ("sales_order_shipments", ("id", "sales_order_id", "customer_id", "shipped_at", "inventory_movement_id")),
    (
        "sales_order_shipment_lines",
        ("id", "sales_order_shipment_id", "sales_order_line_id", "inventory_movement_line_id", "quantity"),
    ),
    ("shipment_lot_links", ("id", "sales_order_shipment_id", "inventory_movement_lot_id")),
    ("inventory_balances", ("item_id", "location_id", "lot_id", "quantity")),
]
TABLE_NAMES = [t for t, _ in TABLES]
N = "\\N"

RAW_SKUS = [
    "FLOUR-T55", "SALT", "SUGAR", "YEAST", "BUTTER", "MILK-POWDER", "EGG-POWDER", "TOMATO-PASTE",
    "OLIVE-OIL", "SUNFLOWER-OIL", "GARLIC", "ONION", "BASIL", "OREGANO", "PEPPER", "MOZZARELLA",
    "PARMESAN", "CREAM", "COCOA", "VANILLA", "HAZELNUT", "ALMOND", "SESAME", "POPPY-SEED", "OATS",
    "SPINACH", "MUSHROOM", "HAM", "CHICKEN", "RICE", "SEMOLINA", "HONEY", "LEMON-JUICE", "VINEGAR",
    "MUSTARD", "PAPRIKA", "CUMIN", "CARROT", "POTATO-FLAKES", "FLOUR-RYE",
]  # fmt: skip
INTERMEDIATE_SKUS = [
    "DOUGH-WHITE", "DOUGH-RYE", "DOUGH-SWEET", "SAUCE-TOMATO", "SAUCE-CREAM", "PESTO", "FILLING-CHOC",
    "FILLING-NUT", "CRUMBLE", "BATTER", "STOCK-CHICKEN", "STOCK-VEG", "CHEESE-BLEND", "GLAZE",
    "MARINADE", "PASTRY",
]  # fmt: skip
FINISHED_KINDS = ["BREAD", "PIZZA", "CAKE", "PIE", "SOUP", "QUICHE", "COOKIE", "TART", "BUN", "LASAGNA"]
FINISHED_PER_KIND = 6

# Location index -> (code, kind)
LOCATIONS = [
    ("RAW", "receiving"),
    ("PROD", "production"),
    ("FG", "storage"),
    ("QUAR", "quarantine"),
    ("SCRAP", "scrap"),
]
RAW, PROD, FG, QUAR, SCRAP = range(5)


@dataclass(frozen=True)
class ScalePlan:
    """Volumes for ``--scale N``: about 10,000 inventory_movement_lots rows and 1,000 lots per unit (scale 1000 ≈ 10M and 1M)."""

    scale: int
    finished_batches: int
    customers: int
    vendors: int

    @classmethod
    def for_scale(cls, scale: int) -> ScalePlan:
        if scale < 1:
            raise ValueError("scale must be 1 or more")
        return cls(
            scale=scale,
            finished_batches=750 * scale,
            customers=min(20_000, 150 + 25 * scale),
            vendors=min(120, 12 + scale // 10),
        )


def uuid_text(prefix: int, n: int) -> str:
    """A version-8 UUID whose value grows with n (btree-friendly), as text."""
    return f"{prefix:08x}-0000-8000-{0x8000 | (n >> 48):04x}-{n & 0xFFFFFFFFFFFF:012x}"


def qty_text(q: int) -> str:
    """Thousandths -> decimal text: 12500 -> '12.500', -3 -> '-0.003'."""
    sign = "-" if q < 0 else ""
    q = abs(q)
    return f"{sign}{q // 1000}.{q % 1000:03d}"


class Rows:
    """COPY text lines per table, handed to a flush callback when they grow large."""

    def __init__(self, flush: Callable[[dict[str, list[str]]], None], threshold: int = 250_000):
        self.buf: dict[str, list[str]] = {t: [] for t in TABLE_NAMES}
        self.counts: dict[str, int] = dict.fromkeys(TABLE_NAMES, 0)
        self._flush = flush
        self.threshold = threshold
        self.pending = 0

    def add(self, table: str, *values: str) -> None:
        self.buf[table].append("\t".join(values) + "\n")
        self.pending += 1

    def maybe_flush(self) -> None:
        if self.pending >= self.threshold:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        for t, lines in self.buf.items():
            self.counts[t] += len(lines)
        self._flush(self.buf)
        self.buf = {t: [] for t in TABLE_NAMES}
        self.pending = 0


@dataclass
class ItemDef:
    idx: int
    id: str
    sku: str
    name: str
    uom: str
    kind: str  # raw | intermediate | finished
    shelf_life_days: int
    recipe: list[tuple[int, int]]  # (item idx, thousandths per batch)
    batch_qty: int  # produced per batch (thousandths); for raw items: lot size
    vendors: list[int]


class Simulation:
    """Generates the whole data set into ``rows``; call ``run()`` then read ``summary``."""

    def __init__(self, scale: int, seed: int, rows: Rows, progress: Callable[[int, int], None] | None = None):
        self.plan = ScalePlan.for_scale(scale)
        self.seed = seed
        self.rng = random.Random(seed)
        self.rows = rows
        self.progress = progress or (lambda day, days: None)
        self._counters: dict[str, int] = defaultdict(int)
        tag = (seed * 2654435761) & 0xFF
        self._prefix = {t: 0x7A000000 | (i << 8) | tag for i, t in enumerate(TABLE_NAMES)}
        self._day_text = [(BASE_DATE + timedelta(days=d)).isoformat() for d in range(DAYS + 1200)]
        self.now = 0  # ms since BASE_DATE 00:00 UTC
        self.step_ms = 1000
        self.current_movement = ("", "", "")  # (id, occurred_at, type) of the movement being written
        # lot state
        self.lot_ids: list[str] = []
        self.lot_item: list[int] = []
        self.lot_expires: list[int] = []
        self.lot_codes: list[str] = []
        self.balance: dict[tuple[int, int], int] = defaultdict(int)  # (lot, location) -> qty
        self.blocked: dict[int, str] = {}
        # stock queues (FEFO): per item, lots holding stock at the location that feeds consumption
        self.prod_stock: dict[int, deque[int]] = defaultdict(deque)
        self.raw_spare: dict[int, deque[int]] = defaultdict(deque)
        self.fg_stock: dict[int, list[tuple[int, int]]] = defaultdict(list)  # item -> sorted (expires, lot)
        self.day_work_orders: dict[int, list] = {}
        self.pending_returns: dict[int, list[tuple]] = defaultdict(list)
        self.stats: dict[str, int] = defaultdict(int)

    # --- ids, time, formatting -----------------------------------------------------------------

    def new_id(self, table: str) -> str:
        self._counters[table] += 1
        return uuid_text(self._prefix[table], self._counters[table])

    def ts(self, ms: int | None = None) -> str:
        ms = self.now if ms is None else ms
        day, rest = divmod(ms, DAY_MS)
        s, milli = divmod(rest, 1000)
        h, s = divmod(s, 3600)
        m, s = divmod(s, 60)
        return f"{self._day_text[day]} {h:02d}:{m:02d}:{s:02d}.{milli:03d}+00"

    def tick(self) -> str:
        self.now += self.step_ms
        return self.ts()

    # --- master data ---------------------------------------------------------------------------

    def _master_data(self) -> None:  # noqa: C901 — one linear sequence of master-data tables
        rng = self.rng
        add = self.rows.add
        self.location_ids = []
        for code, kind in LOCATIONS:
            lid = self.new_id("locations")
            self.location_ids.append(lid)
            add("locations", lid, code, f"{code.title()} area", kind)
        self.vendor_ids = []
        for v in range(self.plan.vendors):
            vid = self.new_id("vendors")
            self.vendor_ids.append(vid)
            code = f"V{v + 1:04d}"
            add("vendors", vid, code, f"Vendor {v + 1:04d}", f"{code.lower()}@vendors.example", N, N)
        self.customer_ids = []
        for c in range(self.plan.customers):
            cid = self.new_id("customers")
            self.customer_ids.append(cid)
            code = f"C{c + 1:05d}"
            add("customers", cid, code, f"Customer {c + 1:05d}", f"{code.lower()}@shops.example", N, N)
        # a few big customers take much of the volume
        self.customer_weights = [1.0 / (1 + (i % 500)) ** 0.6 for i in range(self.plan.customers)]
        self.customer_cum = []
        total = 0.0
        for w in self.customer_weights:
            total += w
            self.customer_cum.append(total)

        self.items: list[ItemDef] = []

        def item(sku: str, name: str, uom: str, kind: str, shelf: int, batch: int) -> ItemDef:
            d = ItemDef(len(self.items), self.new_id("items"), sku, name, uom, kind, shelf, [], batch, [])
            self.items.append(d)
            return d

        raws = []
        for sku in RAW_SKUS:
            shelf = {"SALT": 1000, "SUGAR": 720, "FLOUR-T55": 240, "FLOUR-RYE": 240}.get(
                sku, rng.randint(90, 540)
            )
            r = item(sku, sku.replace("-", " ").title(), "kg", "raw", shelf, 0)
            r.vendors = rng.sample(range(self.plan.vendors), k=min(3, self.plan.vendors))
            raws.append(r)
        by_sku = {r.sku: r for r in raws}
        salt, flour = by_sku["SALT"], by_sku["FLOUR-T55"]
        others = [r for r in raws if r not in (salt, flour)]
        inters = []
        for sku in INTERMEDIATE_SKUS:
            d = item(sku, sku.replace("-", " ").title(), "kg", "intermediate", 10, 200_000)
            picks = rng.sample(others, k=rng.randint(2, 4))
            recipe = [(p.idx, rng.randint(5, 40) * 1000) for p in picks]
            if sku.startswith(("DOUGH", "BATTER", "CRUMBLE", "PASTRY")) or rng.random() < 0.5:
                recipe.append((flour.idx, rng.randint(40, 80) * 1000))
            if rng.random() < 0.6:
                recipe.append((salt.idx, 2000))
            d.recipe = recipe
            inters.append(d)
        self.finished: list[ItemDef] = []
        for kind in FINISHED_KINDS:
            for n in range(1, FINISHED_PER_KIND + 1):
                d = item(
                    f"{kind}-{n:02d}",
                    f"{kind.title()} no. {n}",
                    "ea",
                    "finished",
                    rng.randint(21, 60),
                    400_000,
                )
                recipe = [
                    (p.idx, rng.randint(40, 80) * 1000) for p in rng.sample(inters, k=rng.randint(1, 2))
                ]
                recipe += [
                    (p.idx, rng.randint(1, 10) * 1000) for p in rng.sample(others, k=rng.randint(0, 2))
                ]
                if rng.random() < 0.8:
                    recipe.append((salt.idx, 500))
                d.recipe = recipe
                self.finished.append(d)
        # Raw lot size: about `batches` consumptions of the typical batch amount.
        usage: dict[int, list[int]] = defaultdict(list)
        for d in self.items:
            for ing, q in d.recipe:
                usage[ing].append(q)
        for r in raws:
            amounts = usage.get(r.idx) or [1000]
            typical = sum(amounts) // len(amounts)
            batches = {"SALT": 4_000, "FLOUR-T55": 250}.get(r.sku, rng.randint(30, 120))
            r.batch_qty = max(typical * batches, 1000)
        for d in self.items:
            add(
                "items", d.id, d.sku, d.name, d.uom, "true", str(d.shelf_life_days),
                f"{rng.randint(50, 5000) / 100:.2f}",
            )  # fmt: skip

    # --- lots and movements ----------------------------------------------------------------------

    def new_lot(self, item: ItemDef, code: str, *, received: bool, vendor_lot: str | None = None) -> int:
        idx = len(self.lot_ids)
        lid = self.new_id("lots")
        self.lot_ids.append(lid)
        self.lot_item.append(item.idx)
        self.lot_codes.append(code)
        expires = self.now + item.shelf_life_days * DAY_MS
        self.lot_expires.append(expires)
        now = self.ts()
        self.rows.add(
            "lots", lid, item.id, code, "active",
            N if received else now, now if received else N, self.ts(expires),
            vendor_lot or N, now,
        )  # fmt: skip
        return idx

    def movement(self, mtype: str, *, vendor: str = N, customer: str = N, notes: str = N) -> tuple[str, str]:
        mid = self.new_id("inventory_movements")
        at = self.tick()
        self.rows.add("inventory_movements", mid, mtype, at, vendor, customer, N, notes)
        # a movement's lines are written right after it; they carry copies of its time and type
        self.current_movement = (mid, at, mtype)
        return mid, at

    def line(
        self, mid: str, no: int, item: ItemDef, loc: int, parts: list[tuple[int, int]]
    ) -> tuple[str, list[str]]:
        """One movement line and its lot rows (parts = [(lot, signed qty)]); returns (line id, lot row ids)."""
        line_id = self.new_id("inventory_movement_lines")
        total = 0
        iml_ids = []
        add = self.rows.add
        bal = self.balance
        for lot, q in parts:
            total += q
            rid = self.new_id("inventory_movement_lots")
            iml_ids.append(rid)
            add("inventory_movement_lots", rid, line_id, self.lot_ids[lot], item.uom, qty_text(q))
            bal[(lot, loc)] += q
        movement_id, at, mtype = self.current_movement
        assert movement_id == mid, "lines follow their movement"
        add(
            "inventory_movement_lines", line_id, mid, str(no), item.id, self.location_ids[loc],
            item.uom, qty_text(total), N, at, mtype,
        )  # fmt: skip
        return line_id, iml_ids

    def transfer(self, item: ItemDef, parts: list[tuple[int, int]], src: int, dst: int) -> None:
        mid, _ = self.movement("transfer")
        self.line(mid, 1, item, src, [(lot, -q) for lot, q in parts])
        self.line(mid, 2, item, dst, parts)
        self.stats["transfers"] += 1

    def scrap(self, item: ItemDef, loc: int, parts: list[tuple[int, int]], why: str) -> None:
        mid, _ = self.movement("scrap", notes=why)
        self.line(mid, 1, item, loc, [(lot, -q) for lot, q in parts])
        self.stats["scraps"] += 1

    # --- raw materials ---------------------------------------------------------------------------

    def receive(self, item: ItemDef) -> int:
        vendor = item.vendors[self.rng.randrange(len(item.vendors))]
        n = self.stats["receipts"] = self.stats["receipts"] + 1
        mid, _ = self.movement("receipt", vendor=self.vendor_ids[vendor])
        lot = self.new_lot(
            item, f"R{n:07d}", received=True, vendor_lot=f"V{vendor + 1:04d}-{self.rng.randrange(10**6):06d}"
        )
        qty = item.batch_qty * self.rng.randint(80, 120) // 100
        self.line(mid, 1, item, RAW, [(lot, qty)])
        return lot

    def _release_raw(self, item: ItemDef) -> None:
        """Move the spare raw lot to production (whole), and receive the next spare."""
        spare = self.raw_spare[item.idx]
        if not spare:
            spare.append(self.receive(item))
        lot = spare.popleft()
        if self.lot_expires[lot] <= self.now + DAY_MS:
            # expired while waiting: write it off and receive a fresh one
            self.scrap(item, RAW, [(lot, self.balance[(lot, RAW)])], "expired before use")
            self._release_raw(item)
            return
        self.transfer(item, [(lot, self.balance[(lot, RAW)])], RAW, PROD)
        self.prod_stock[item.idx].append(lot)
        spare.append(self.receive(item))

    def take(self, item: ItemDef, qty: int) -> list[tuple[int, int]]:
        """FEFO from production stock of ``item``: [(lot, qty)] summing to qty (production runs on demand)."""
        queue = self.prod_stock[item.idx]
        bal = self.balance
        out: list[tuple[int, int]] = []
        need = qty
        while need > 0:
            # A margin of a day: the consume movement is stamped a few ticks after this check.
            while queue and self.lot_expires[queue[0]] <= self.now + DAY_MS:
                lot = queue.popleft()
                left = bal[(lot, PROD)]
                if left > 0:
                    self.scrap(item, PROD, [(lot, left)], "expired")
            if not queue:
                if item.kind == "raw":
                    self._release_raw(item)
                else:
                    self.batch(item)
                continue
            lot = queue[0]
            have = bal[(lot, PROD)]
            q = min(have, need)
            out.append((lot, q))
            need -= q
            if q == have:
                queue.popleft()
        return out

    # --- production ------------------------------------------------------------------------------

    def _work_order(self, item: ItemDef, qty: int) -> str:
        wo = self.day_work_orders.get(item.idx)
        if wo is None:
            wo = [self.new_id("work_orders"), item, 0]
            self.day_work_orders[item.idx] = wo
        wo[2] += qty
        return wo[0]

    def batch(self, item: ItemDef) -> None:
        """One execution producing ``item``: consume its recipe FEFO, produce one lot (or two)."""
        rng = self.rng
        consumed: list[tuple[ItemDef, list[tuple[int, int]]]] = []
        # Intermediates first: taking one may run a sub-batch that consumes raw lots, which must
        # happen before this batch sets aside raw quantities it has not written yet.
        for ing, q in sorted(item.recipe, key=lambda r: self.items[r[0]].kind == "raw"):
            ing_item = self.items[ing]
            q = q * rng.randint(95, 105) // 100
            consumed.append((ing_item, self.take(ing_item, q)))
        out_qty = item.batch_qty * rng.randint(90, 110) // 100
        # consume movement (after the on-demand sub-batches above, in time order)
        wo_id = self._work_order(item, out_qty)
        cmid, at = self.movement("production_consume", notes=item.sku)
        links: list[tuple[str, str]] = []
        used: dict[int, int] = defaultdict(int)
        for no, (ing_item, parts) in enumerate(consumed, start=1):
            _, ids = self.line(cmid, no, ing_item, PROD, [(lot, -q) for lot, q in parts])
            links += [(rid, "consume") for rid in ids]
            for lot, q in parts:
                used[lot] += q
        self.stats["batches_" + item.kind] += 1
        n = self.stats["batches_" + item.kind]
        prefix = "I" if item.kind == "intermediate" else "F"
        split = item.kind == "finished" and rng.random() < 0.05
        outputs = []
        if split:
            first = out_qty * rng.randint(30, 70) // 100
            outputs = [(f"{prefix}{n:07d}A", first), (f"{prefix}{n:07d}B", out_qty - first)]
        else:
            outputs = [(f"{prefix}{n:07d}", out_qty)]
        pmid, _ = self.movement("production_produce", notes=item.sku)
        made: list[tuple[int, int]] = []
        for no, (code, q) in enumerate(outputs, start=1):
            lot = self.new_lot(item, code, received=False)
            _, ids = self.line(pmid, no, item, PROD, [(lot, q)])
            links += [(rid, "produce") for rid in ids]
            made.append((lot, q))
        ex_id = self.new_id("work_order_executions")
        add = self.rows.add
        add("work_order_executions", ex_id, wo_id, at, cmid, pmid, N)
        for rid, role in links:
            add("work_order_lot_links", self.new_id("work_order_lot_links"), ex_id, rid, role)
        for parent, pq in used.items():
            pid = self.lot_ids[parent]
            for child, cq in made:
                add("lot_genealogy_edges", ex_id, pid, self.lot_ids[child], qty_text(pq), qty_text(cq), at)
        if item.kind == "finished":
            self.transfer(item, made, PROD, FG)
            for lot, _q in made:
                insort(self.fg_stock[item.idx], (self.lot_expires[lot], lot))
                if rng.random() < 0.004:
                    self._count_correction(item, lot)
        else:
            self.prod_stock[item.idx].extend(lot for lot, _ in made)

    def _count_correction(self, item: ItemDef, lot: int) -> None:
        delta = self.rng.choice([-5000, -3000, -1000, 1000, 2000])
        if self.balance[(lot, FG)] + delta < 0:
            return
        mid, _ = self.movement("adjustment", notes="cycle count")
        self.line(mid, 1, item, FG, [(lot, delta)])
        self.stats["adjustments"] += 1

    # --- sales -----------------------------------------------------------------------------------

    def _customer(self) -> int:
        x = self.rng.random() * self.customer_cum[-1]
        return min(bisect_left(self.customer_cum, x), len(self.customer_cum) - 1)

    def _fg_take(self, item: ItemDef, qty: int) -> list[tuple[int, int]]:
        stock = self.fg_stock[item.idx]
        bal = self.balance
        out: list[tuple[int, int]] = []
        need = qty
        i = 0
        while need > 0 and i < len(stock) and len(out) < 3:
            expires, lot = stock[i]
            have = bal[(lot, FG)]
            if lot in self.blocked or have <= 0:
                stock.pop(i)
                continue
            if expires <= self.now + DAY_MS:
                stock.pop(i)
                self.scrap(item, FG, [(lot, have)], "expired")
                continue
            q = min(have, need)
            out.append((lot, q))
            need -= q
            if q == have:
                stock.pop(i)
            else:
                i += 1
        return out

    def ship_day(self, day: int) -> None:
        rng = self.rng
        requests: list[tuple[ItemDef, int]] = []
        for item in self.finished:
            available = sum(self.balance[(lot, FG)] for _, lot in self.fg_stock[item.idx])
            budget = available * rng.randint(55, 75) // 100
            while budget >= 10_000:
                q = min(budget, rng.randint(10, 120) * 1000)
                requests.append((item, q))
                budget -= q
        rng.shuffle(requests)
        i = 0
        add = self.rows.add
        while i < len(requests):
            k = rng.randint(1, 5)
            chunk_by_item: dict[int, tuple[ItemDef, int]] = {}
            for item, q in requests[i : i + k]:
                # one line per item and order: a second take would not see the first one's rows
                prev = chunk_by_item.get(item.idx)
                chunk_by_item[item.idx] = (item, q + (prev[1] if prev else 0))
            chunk = list(chunk_by_item.values())
            i += k
            takes = [(item, q, self._fg_take(item, q)) for item, q in chunk]
            takes = [t for t in takes if t[2]]
            if not takes:
                continue
            cust = self._customer()
            cid = self.customer_ids[cust]
            self.stats["orders"] += 1
            so_id = self.new_id("sales_orders")
            ordered_ms = self.now - rng.randint(1, 5) * DAY_MS + rng.randint(0, DAY_MS // 2)
            short = False
            line_ids = []
            for no, (item, q, parts) in enumerate(takes, start=1):
                shipped = sum(p for _, p in parts)
                ordered = shipped
                if shipped < q or rng.random() < 0.03:
                    ordered = max(q, shipped + 1000)
                    short = True
                late = rng.random() < 0.08
                due_day = day - rng.randint(1, 3) if late else day + rng.randint(0, 4)
                due = self._day_text[max(due_day, 0)]
                sol = self.new_id("sales_order_lines")
                line_ids.append(sol)
                add(
                    "sales_order_lines", sol, so_id, str(no), item.id, item.uom, qty_text(ordered), due, due,
                    f"{rng.randint(150, 2500) / 100:.2f}",
                )  # fmt: skip
            add(
                "sales_orders",
                so_id,
                f"SO{self.stats['orders']:08d}",
                cid,
                "open" if short else "closed",
                self.ts(ordered_ms),
            )
            mid, at = self.movement("shipment", customer=cid, notes=f"SO{self.stats['orders']:08d}")
            ship_id = self.new_id("sales_order_shipments")
            add("sales_order_shipments", ship_id, so_id, cid, at, mid)
            for no, ((item, _q, parts), sol) in enumerate(zip(takes, line_ids, strict=True), start=1):
                line_id, ids = self.line(mid, no, item, FG, [(lot, -p) for lot, p in parts])
                add(
                    "sales_order_shipment_lines", self.new_id("sales_order_shipment_lines"), ship_id, sol,
                    line_id, qty_text(sum(p for _, p in parts)),
                )  # fmt: skip
                for rid in ids:
                    add("shipment_lot_links", self.new_id("shipment_lot_links"), ship_id, rid)
                for lot, p in parts:
                    if rng.random() < 0.004:
                        back = max(1000, p * rng.randint(10, 100) // 100 // 1000 * 1000)
                        self.pending_returns[day + rng.randint(2, 10)].append((item, lot, min(back, p), cid))
            self.stats["shipments"] += 1

    def returns_day(self, day: int) -> None:
        for item, lot, q, cid in self.pending_returns.pop(day, []):
            mid, _ = self.movement("return", customer=cid, notes="customer return")
            self.line(mid, 1, item, QUAR, [(lot, q)])
            self.stats["returns"] += 1
            if self.rng.random() < 0.7:
                self.scrap(item, QUAR, [(lot, q)], "returned goods destroyed")

    # --- the run ---------------------------------------------------------------------------------

    def run(self) -> None:
        self._master_data()
        rng = self.rng
        per_day = self.plan.finished_batches / (DAYS - 1)
        # ~6 movements per finished batch; spread the day's events over 16 hours
        self.step_ms = max(1, min(60_000, int(16 * 3_600_000 / max(1.0, per_day * 6))))
        carry = 0.0
        for day in range(DAYS):
            self.now = max(self.now, day * DAY_MS + 5 * 3_600_000)
            self.returns_day(day)
            carry += per_day if day < DAYS - 1 else 0
            todo = int(carry)
            carry -= todo
            for _ in range(todo):
                self.batch(self.finished[rng.randrange(len(self.finished))])
            self.ship_day(day)
            for _idx, (wo_id, item, qty) in sorted(self.day_work_orders.items()):
                self.rows.add(
                    "work_orders", wo_id, f"WO-{self._day_text[day]}-{item.sku}", item.id, qty_text(qty),
                    item.uom, "closed", f"{self._day_text[day]} 23:00:00+00",
                )  # fmt: skip
            self.day_work_orders = {}
            self.rows.maybe_flush()
            self.progress(day + 1, DAYS)
        self._block_some()
        self._balances()
        self.rows.flush()

    def _block_some(self) -> None:
        """Put a few finished lots on hold at the end: stock to quarantine, status blocked/quarantine."""
        rng = self.rng
        for item in self.finished:
            for _exp, lot in list(self.fg_stock[item.idx]):
                have = self.balance[(lot, FG)]
                if have > 0 and lot not in self.blocked and rng.random() < 0.02:
                    self.transfer(item, [(lot, have)], FG, QUAR)
                    self.blocked[lot] = "blocked" if rng.random() < 0.5 else "quarantine"

    def _balances(self) -> None:
        add = self.rows.add
        for (lot, loc), q in self.balance.items():
            item = self.items[self.lot_item[lot]]
            add("inventory_balances", item.id, self.location_ids[loc], self.lot_ids[lot], qty_text(q))

    def final_statuses(self) -> dict[str, list[str]]:
        """Lot ids to set to a non-active status after loading (the set-based UPDATE uses them)."""
        out: dict[str, list[str]] = {"blocked": [], "quarantine": []}
        for lot, status in self.blocked.items():
            out[status].append(self.lot_ids[lot])
        return out
