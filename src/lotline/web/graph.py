"""The trace view's genealogy graph as cytoscape elements, collapsed to stay usable.

Nodes are lots and customers (leaves, one per customer, linked to the lots it received). Above the
node budget, lots are grouped by (item, depth, role) and each lot group's customers into one node;
target lots are never grouped. ``expand`` names groups to show in full (the page adds the group a
user clicks). Pure function of a TraceResult: no SQL here.

Positions: a collapsed graph, or one of more than ``DAGRE_MAX`` nodes, comes with its layout done here (``position`` on
every node; the page draws it with cytoscape's ``preset`` layout). Dagre spent ~0.4 s in the
browser on the most-used lot's 155 nodes, a third of the trace view's time; this layered layout
takes ~1 ms: one column per signed depth (upstream components left of the targets, downstream lots
right), customers half a column right of the lots that shipped to them, and nodes ordered inside
each column by the mean row of their neighbours in the column before (two sweeps, the barycenter
heuristic), which keeps most edges short and uncrossed. Small graphs are left to dagre, which draws
them more readably at no noticeable cost.
"""

from __future__ import annotations

from collections import defaultdict

from lotline.trace.service import TraceResult
from lotline.vocab import LotRole

BUDGET = 200
BUDGET_RANGE = (5, 2000)  # what the page's "nodes" field accepts
DAGRE_MAX = 40
COLUMN = 220.0  # px between depth columns (customers sit at half a column)
SUB_COLUMN = 130.0  # px between the sub-columns of a tall column (a label is ~110 px)
ROW = 30.0  # px between nodes of a column
MAX_ROWS = 16  # a column of more nodes is split into sub-columns


def _lot_group(lot) -> str:
    return f"g:{lot.sku}:{lot.depth}:{lot.role}"


def _column(role: str, depth: int) -> float:
    return -float(depth) if role == LotRole.UPSTREAM_COMPONENT else float(depth)


def elements(result: TraceResult, *, expand: set[str] | frozenset[str] = frozenset(), budget: int = BUDGET) -> dict:  # noqa: C901 — one pass building the graph's nodes and edges under a budget
    lots = result.lots
    # Keyed by the ids' .int: a UUID hashes in Python (uuid.__hash__), an int in C — 24k shipments and
    # 9k edges of the most-used lot made UUID hashing most of this function's time.
    customers_of: dict[int, set[int]] = defaultdict(set)  # lot id -> customer ids
    names = {}  # customer id -> (code, name, UUID)
    for s in result.shipments:
        c = s.customer_id.int
        customers_of[s.lot_id.int].add(c)
        if c not in names:
            names[c] = (s.customer_code, s.customer_name, s.customer_id)
    total = len(lots) + len(names)
    collapse = total > budget

    lot_node: dict[int, str] = {}  # lot id -> node id
    nodes: dict[str, dict] = {}
    for lot in lots:
        key = _lot_group(lot)
        if collapse and lot.role != LotRole.TARGET and key not in expand:
            node = nodes.setdefault(key, {"id": key, "kind": "group", "count": 0, "sku": lot.sku,
                                          "depth": lot.depth, "role": lot.role})
            node["count"] += 1
            lot_node[lot.lot_id.int] = key
        else:
            nid = f"l:{lot.lot_id}"
            nodes[nid] = {"id": nid, "kind": "lot", "lot_id": str(lot.lot_id), "label": lot.lot_code,
                          "sku": lot.sku, "depth": lot.depth, "role": lot.role, "status": lot.status}
            lot_node[lot.lot_id.int] = nid
    for node in nodes.values():
        if node["kind"] == "group":
            node["label"] = f"{node['sku']} ×{node['count']} (depth {node['depth']})"

    edges: dict[tuple[str, str], int] = defaultdict(int)
    for e in result.edges:
        a, b = lot_node.get(e.parent_lot_id.int), lot_node.get(e.child_lot_id.int)
        if a and b and a != b:
            edges[(a, b)] += 1

    # customers: one node each, or one per lot node ("customers of <group>") when collapsed
    cust_groups: dict[str, set] = defaultdict(set)
    for lot_id, custs in customers_of.items():
        src = lot_node.get(lot_id)
        if src is None:
            continue
        ckey = f"c:{src}"
        if collapse and ckey not in expand:
            cust_groups[ckey] |= custs
            edges[(src, ckey)] += 1
        else:
            for c in custs:
                cid = f"k:{names[c][2]}"
                nodes.setdefault(cid, {"id": cid, "kind": "customer", "label": names[c][0], "name": names[c][1]})
                edges[(src, cid)] += 1
    for ckey, custs in cust_groups.items():
        nodes[ckey] = {"id": ckey, "kind": "customers", "count": len(custs), "label": f"{len(custs)} customers"}

    positions = layered_positions(nodes, list(edges)) if collapse or len(nodes) > DAGRE_MAX else None
    out = [{"data": n, "position": positions[i]} if positions else {"data": n} for i, n in nodes.items()]
    out += [{"data": {"id": f"e{i}", "source": a, "target": b, "count": n}} for i, ((a, b), n) in enumerate(edges.items())]
    return {"elements": out, "collapsed": collapse, "lots": len(lots), "customers": len(names),
            "nodes": len(nodes), "expanded": sorted(expand), "budget": budget, "positioned": positions is not None}


def layered_positions(nodes: dict[str, dict], edges: list[tuple[str, str]]) -> dict[str, dict[str, float]]:
    """{node id: {"x", "y"}}: columns by signed depth, customers after their lots, rows by barycenter."""
    neighbours: dict[str, list[str]] = defaultdict(list)
    for a, b in edges:
        neighbours[a].append(b)
        neighbours[b].append(a)
    column = _columns(nodes, neighbours)
    columns: dict[float, list[str]] = defaultdict(list)
    for nid in nodes:
        columns[column[nid]].append(nid)
    order = sorted(columns)
    for c in order:  # a stable start: targets, lots, groups, customers; then by label
        columns[c].sort(key=lambda i: (nodes[i]["kind"] != "lot", nodes[i]["kind"], str(nodes[i].get("label"))))
    _barycenter_sweeps(order, columns, column, neighbours)
    return _place(order, columns)


def _columns(nodes: dict[str, dict], neighbours: dict[str, list[str]]) -> dict[str, float]:
    column = {nid: _column(n["role"], n["depth"]) for nid, n in nodes.items() if n["kind"] in ("lot", "group")}
    for nid in nodes:
        if nid not in column:  # a customer: right of the rightmost lot that shipped to it
            column[nid] = max((column[s] for s in neighbours[nid] if s in column), default=0.0) + 0.5
    return column


def _barycenter_sweeps(order: list[float], columns: dict[float, list[str]], column: dict[str, float],
                       neighbours: dict[str, list[str]]) -> None:
    """Orders each column by the mean height (0..1) of each node's neighbours in other columns."""
    height = {nid: (k + 0.5) / len(columns[c]) for c in order for k, nid in enumerate(columns[c])}
    for sweep in (order[1:], order[-2::-1]):  # left to right, then right to left
        for c in sweep:
            def barycenter(nid: str, c: float = c) -> float:
                near = [height[m] for m in neighbours[nid] if column[m] != c]
                return sum(near) / len(near) if near else height[nid]

            columns[c].sort(key=barycenter)
            height.update((nid, (k + 0.5) / len(columns[c])) for k, nid in enumerate(columns[c]))


def _place(order: list[float], columns: dict[float, list[str]]) -> dict[str, dict[str, float]]:
    """Coordinates: a tall column is dealt round-robin into side-by-side sub-columns (row order kept,
    staggered), so the graph stays about as wide as high and fits the view at a readable zoom."""
    out: dict[str, dict[str, float]] = {}
    x = 0.0
    for i, c in enumerate(order):
        ids = columns[c]
        m = -(-len(ids) // MAX_ROWS)
        half = (-(-len(ids) // m) - 1) / 2
        for k, nid in enumerate(ids):
            out[nid] = {"x": x + (k % m) * SUB_COLUMN, "y": (k / m - half) * ROW}
        x += (m - 1) * SUB_COLUMN + (COLUMN if i + 1 < len(order) and order[i + 1] - c >= 1 else COLUMN / 2)
    return out
