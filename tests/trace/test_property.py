"""The trace engine against a plain Python breadth-first search on random genealogies.

The graphs are inserted directly into lots / work_order_executions / lot_genealogy_edges rather
than posted through the services: the property is about the traversal (closure, minimum depth,
roles, as-of cut, depth limit, cycles), and direct inserts let hypothesis try hundreds of shapes —
including cycles and parallel edges — in seconds. That the services write the edge table correctly
is covered by the hand-built genealogies (posted through the real services) and by the generator's
checker (edges = the derivation of work_order_lot_links).
"""

from __future__ import annotations

import uuid
from collections import deque
from datetime import timedelta

import psycopg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lotline.trace import service as trace
from tests.builders import at

graphs = st.integers(min_value=1, max_value=9).flatmap(
    lambda n: st.tuples(
        st.just(n),
        st.lists(
            st.tuples(
                st.integers(0, n - 1),  # parent
                st.integers(0, n - 1),  # child
                st.integers(0, 5),  # day of the execution
            ),
            max_size=3 * n,
        ),
        st.sets(st.integers(0, n - 1), min_size=1, max_size=3),  # start lots
        st.sampled_from(["forward", "backward", "both"]),
        st.one_of(st.none(), st.integers(0, 6)),  # as-of day
        st.one_of(st.none(), st.integers(0, 4)),  # max depth
        st.booleans(),  # acyclic only (parent < child) or anything
    )
)


def bfs(start, adjacency, max_depth):
    depth = {s: 0 for s in start}
    queue = deque(start)
    while queue:
        node = queue.popleft()
        if max_depth is not None and depth[node] >= max_depth:
            continue
        for nxt in adjacency.get(node, ()):
            if nxt not in depth:
                depth[nxt] = depth[node] + 1
                queue.append(nxt)
    return depth


def expected(n, edges, start, direction, as_of_day, max_depth):
    live = [(p, c, d) for p, c, d in edges if as_of_day is None or d <= as_of_day]
    children, parents = {}, {}
    for p, c, _ in live:
        children.setdefault(p, set()).add(c)
        parents.setdefault(c, set()).add(p)
    lots = {(s, "target"): 0 for s in start}
    edge_keys = set()
    if direction in ("forward", "both"):
        down = bfs(start, children, max_depth)
        lots |= {(x, "downstream_finished"): d for x, d in down.items() if x not in start}
        edge_keys |= {
            (i, p, c)
            for i, (p, c, _) in enumerate(edges)
            if (p, c, _) in live and p in down and (max_depth is None or down[p] < max_depth)
        }
    if direction in ("backward", "both"):
        up = bfs(start, parents, max_depth)
        lots |= {(x, "upstream_component"): d for x, d in up.items() if x not in start}
        edge_keys |= {
            (i, p, c)
            for i, (p, c, _) in enumerate(edges)
            if (p, c, _) in live and c in up and (max_depth is None or up[c] < max_depth)
        }
    return lots, edge_keys


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=graphs)
def test_trace_matches_a_plain_bfs(session, case):
    n, raw_edges, start, direction, as_of_day, max_depth, acyclic = case
    edges = [(min(p, c), max(p, c), d) if acyclic else (p, c, d) for p, c, d in raw_edges]
    edges = [e for e in edges if not (acyclic and e[0] == e[1])]

    savepoint = session.begin_nested()
    try:
        conn = session.connection()
        item_id, wo_id = uuid.uuid4(), uuid.uuid4()
        lot_ids = [uuid.uuid4() for _ in range(n)]
        exec_ids = [uuid.uuid4() for _ in edges]
        conn.exec_driver_sql(
            "INSERT INTO items (id, sku, name, uom) VALUES (%(id)s, 'P', 'P', 'kg')", {"id": item_id}
        )
        conn.exec_driver_sql(
            "INSERT INTO lots (id, item_id, lot_code, status, updated_at) VALUES (%(id)s, %(item)s, %(code)s, 'active', now())",
            [{"id": x, "item": item_id, "code": f"L{i}"} for i, x in enumerate(lot_ids)],
        )
        conn.exec_driver_sql(
            "INSERT INTO work_orders (id, number, item_id, planned_quantity, uom) VALUES (%(id)s, 'WO', %(item)s, 1, 'kg')",
            {"id": wo_id, "item": item_id},
        )
        if edges:
            conn.exec_driver_sql(
                "INSERT INTO work_order_executions (id, work_order_id, occurred_at) VALUES (%(id)s, %(wo)s, %(t)s)",
                [{"id": x, "wo": wo_id, "t": at(d)} for x, (_, _, d) in zip(exec_ids, edges, strict=True)],
            )
            conn.exec_driver_sql(
                "INSERT INTO lot_genealogy_edges (work_order_execution_id, parent_lot_id, child_lot_id,"
                " consumed_quantity, produced_quantity, occurred_at) VALUES (%(x)s, %(p)s, %(c)s, 1, 2, %(t)s)",
                [
                    {"x": x, "p": lot_ids[p], "c": lot_ids[c], "t": at(d)}
                    for x, (p, c, d) in zip(exec_ids, edges, strict=True)
                ],
            )

        as_of = None if as_of_day is None else at(as_of_day) + timedelta(hours=1)
        # every statement reaches psycopg's Cursor.execute, whether sent through SQLAlchemy or the
        # trace's own driver cursor: counting there counts each exactly once
        executed = []
        real_execute = psycopg.Cursor.execute

        def counting_execute(cur, query, *args, **kwargs):
            executed.append(query)
            return real_execute(cur, query, *args, **kwargs)

        psycopg.Cursor.execute = counting_execute
        try:
            result = trace.trace(session, [lot_ids[s] for s in sorted(start)], direction, as_of, max_depth)
        finally:
            psycopg.Cursor.execute = real_execute
        # six statements whatever the graph (start lots, settings, closure, shipments, stock,
        # settings back): never one per lot or per hop
        assert len(executed) == 6, executed
        assert result.statements == 6

        want_lots, want_edges = expected(n, edges, start, direction, as_of_day, max_depth)
        index = {x: i for i, x in enumerate(lot_ids)}
        got_lots = {(index[x.lot_id], x.role): x.depth for x in result.lots}
        assert got_lots == want_lots
        assert len(result.lots) == len(want_lots)  # one entry per (lot, role)
        exec_index = {x: i for i, x in enumerate(exec_ids)}
        got_edges = {
            (exec_index[e.work_order_execution_id], index[e.parent_lot_id], index[e.child_lot_id])
            for e in result.edges
        }
        assert got_edges == want_edges
        assert len(result.edges) == len(got_edges)
        # the cycles are exactly the strongly connected parts of the traced edges that hold a
        # cycle: members reach each other, and every such part is reported, once
        adjacency = {}
        for _, p, c in got_edges:
            adjacency.setdefault(p, set()).add(c)
        reach = {x: set(bfs([x], adjacency, None)) for x in range(n)}
        want_cycles = {
            frozenset(y for y in range(n) if y in reach[x] and x in reach[y])
            for x in range(n)
            if any(x in reach[y] for y in adjacency.get(x, ()))  # x lies on a cycle
        }
        got_cycles = [frozenset(index[x] for x in cycle.lot_ids) for cycle in result.cycles]
        assert set(got_cycles) == want_cycles
        assert len(got_cycles) == len(want_cycles)
        for cycle in result.cycles:
            assert list(cycle.lot_ids) == sorted(cycle.lot_ids, key=str)
            assert cycle.lot_codes == tuple(f"L{index[x]}" for x in cycle.lot_ids)
        if acyclic:
            assert result.cycles == []
    finally:
        savepoint.rollback()
