"""The trace view's genealogy graph as cytoscape elements, collapsed to stay usable.

Nodes are lots and customers (leaves, one per customer, linked to the lots it received). Above the
node budget, lots are grouped by (item, depth, role) and each lot group's customers into one node;
target lots are never grouped. ``expand`` names groups to show in full (the page adds the group a
user clicks). Pure function of a TraceResult: no SQL here.
"""

from __future__ import annotations

from collections import defaultdict

from lotline.trace.service import TraceResult

BUDGET = 200


def _lot_group(lot) -> str:
    return f"g:{lot.sku}:{lot.depth}:{lot.role}"


def elements(result: TraceResult, *, expand: set[str] | frozenset[str] = frozenset(), budget: int = BUDGET) -> dict:
    lots = result.lots
    customers_of: dict = defaultdict(set)  # lot id -> customer ids
    names = {}
    for s in result.shipments:
        customers_of[s.lot_id].add(s.customer_id)
        names[s.customer_id] = (s.customer_code, s.customer_name)
    total = len(lots) + len(names)
    collapse = total > budget

    lot_node: dict = {}  # lot id -> node id
    nodes: dict[str, dict] = {}
    for lot in lots:
        key = _lot_group(lot)
        if collapse and lot.role != "target" and key not in expand:
            node = nodes.setdefault(key, {"id": key, "kind": "group", "count": 0, "sku": lot.sku,
                                          "depth": lot.depth, "role": lot.role})
            node["count"] += 1
            lot_node[lot.lot_id] = key
        else:
            nid = f"l:{lot.lot_id}"
            nodes[nid] = {"id": nid, "kind": "lot", "lot_id": str(lot.lot_id), "label": lot.lot_code,
                          "sku": lot.sku, "depth": lot.depth, "role": lot.role, "status": lot.status}
            lot_node[lot.lot_id] = nid
    for node in nodes.values():
        if node["kind"] == "group":
            node["label"] = f"{node['sku']} ×{node['count']} (depth {node['depth']})"

    edges: dict[tuple[str, str], int] = defaultdict(int)
    for e in result.edges:
        a, b = lot_node.get(e.parent_lot_id), lot_node.get(e.child_lot_id)
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
                cid = f"k:{c}"
                nodes.setdefault(cid, {"id": cid, "kind": "customer", "label": names[c][0], "name": names[c][1]})
                edges[(src, cid)] += 1
    for ckey, custs in cust_groups.items():
        nodes[ckey] = {"id": ckey, "kind": "customers", "count": len(custs), "label": f"{len(custs)} customers"}

    out = [{"data": n} for n in nodes.values()]
    out += [{"data": {"id": f"e{i}", "source": a, "target": b, "count": n}} for i, ((a, b), n) in enumerate(edges.items())]
    return {"elements": out, "collapsed": collapse, "lots": len(lots), "customers": len(names),
            "nodes": len(nodes), "expanded": sorted(expand)}
