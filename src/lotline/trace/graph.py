"""Graph work of a trace, on lot numbers 0..n-1 (pure: no database, no UUIDs).

The closure statement numbers the reached lots, so depths, cycles and the output order are
computed on small integers in plain lists — no hashing of UUIDs, no dicts per lot.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def min_depths(start: Iterable[int], adjacency: Sequence[Sequence[int]], max_depth: int | None) -> list[int]:
    """Minimum hop count from any start node, per node number (-1: not reached within max_depth)."""
    depth = [-1] * len(adjacency)
    frontier = []
    for s in start:
        if depth[s] < 0:
            depth[s] = 0
            frontier.append(s)
    d = 0
    while frontier and (max_depth is None or d < max_depth):
        d += 1
        nxt = []
        for node in frontier:
            for child in adjacency[node]:
                if depth[child] < 0:
                    depth[child] = d
                    nxt.append(child)
        frontier = nxt
    return depth


def lot_order(
    targets: Iterable[int], up: Sequence[int], down: Sequence[int], is_target: Sequence[bool]
) -> list[tuple[int, str, int]]:
    """(lot number, role, depth) in the trace's (role, depth, lot number) order.

    Targets first (depth 0), then upstream components, then downstream finished lots, each by
    depth; the lot numbers already follow (sku, lot_code), so a stable sort on depth suffices. A
    lot reached both ways (a cycle through the targets) appears once per role; a target only as
    a target.
    """
    out = [(i, "target", 0) for i in sorted(targets)]
    for role, depths in (("upstream_component", up), ("downstream_finished", down)):
        reached = [i for i, d in enumerate(depths) if d > 0 and not is_target[i]]
        reached.sort(key=depths.__getitem__)
        out += [(i, role, depths[i]) for i in reached]
    return out


def cycles(successors: Sequence[Sequence[int]]) -> list[list[int]]:  # noqa: C901 — Kahn + iterative Tarjan in one loop: no call per node (speed)
    """Strongly connected parts with a cycle (size > 1 or a self-loop) of a graph on 0..n-1.

    A Kahn pass first peels off every node no cycle leads to; on a genealogy without cycles (the
    usual case) that is all of them and the answer is known in one linear pass. Tarjan's
    algorithm (iterative) then runs on what is left only. Members are listed in no set order.
    """
    n = len(successors)
    indegree = [0] * n
    for targets in successors:
        for v in targets:
            indegree[v] += 1
    ready = [v for v in range(n) if not indegree[v]]
    removed = 0
    while ready:
        u = ready.pop()
        removed += 1
        for v in successors[u]:
            indegree[v] -= 1
            if not indegree[v]:
                ready.append(v)
    if removed == n:
        return []
    # Left: the nodes with a remaining predecessor; no edge leads from them to a peeled node.
    index = [-1] * n
    low = [0] * n
    on_stack = [False] * n
    stack: list[int] = []
    out: list[list[int]] = []
    counter = 0
    for root in range(n):
        if not indegree[root] or index[root] >= 0:
            continue
        work = [(root, iter(successors[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack[root] = True
        while work:
            node, it = work[-1]
            advanced = False
            for child in it:
                if index[child] < 0:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack[child] = True
                    work.append((child, iter(successors[child])))
                    advanced = True
                    break
                if on_stack[child] and index[child] < low[node]:
                    low[node] = index[child]
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                if low[node] < low[parent]:
                    low[parent] = low[node]
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack[member] = False
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in successors[node]:
                    out.append(component)
    return out
