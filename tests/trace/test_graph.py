"""The trace's graph work on lot numbers, checked without a database."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from lotline.trace import graph

random_graphs = st.integers(min_value=1, max_value=12).flatmap(
    lambda n: st.tuples(
        st.just(n),
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=3 * n),
    )
)


def adjacency(n, edges):
    out = [[] for _ in range(n)]
    for p, c in edges:
        out[p].append(c)
    return out


def reachable(successors, x):
    seen, todo = {x}, [x]
    while todo:
        for y in successors[todo.pop()]:
            if y not in seen:
                seen.add(y)
                todo.append(y)
    return seen


def test_min_depths_counts_the_shortest_path_and_stops_at_the_limit():
    # 0 -> 1 -> 2 -> 3 and a shortcut 0 -> 2
    succ = adjacency(5, [(0, 1), (1, 2), (2, 3), (0, 2)])
    assert graph.min_depths([0], succ, None) == [0, 1, 1, 2, -1]
    assert graph.min_depths([0], succ, 1) == [0, 1, 1, -1, -1]
    assert graph.min_depths([0], succ, 0) == [0, -1, -1, -1, -1]
    assert graph.min_depths([3, 1], succ, None) == [-1, 0, 1, 0, -1]


def test_min_depths_terminates_on_a_cycle():
    assert graph.min_depths([0], adjacency(3, [(0, 1), (1, 2), (2, 0)]), None) == [0, 1, 2]


def test_lot_order_puts_targets_then_upstream_then_downstream_each_by_depth():
    is_target = [False, True, False, False, False]
    up = [2, 0, 1, -1, -1]
    down = [-1, 0, -1, 2, 1]
    assert graph.lot_order([1], up, down, is_target) == [
        (1, "target", 0),
        (2, "upstream_component", 1),
        (0, "upstream_component", 2),
        (4, "downstream_finished", 1),
        (3, "downstream_finished", 2),
    ]


def test_a_lot_on_a_cycle_through_the_target_is_listed_once_per_role_and_a_target_only_as_target():
    # 0 (target) -> 1 -> 0: lot 1 is both downstream and upstream; 0 is a target only
    is_target = [True, False]
    assert graph.lot_order([0], [0, 1], [0, 1], is_target) == [
        (0, "target", 0),
        (1, "upstream_component", 1),
        (1, "downstream_finished", 1),
    ]


def test_an_acyclic_graph_has_no_cycles():
    assert graph.cycles(adjacency(4, [(0, 1), (0, 2), (1, 3), (2, 3)])) == []


def test_a_self_loop_is_a_cycle_and_a_lone_node_is_not():
    assert graph.cycles(adjacency(2, [(1, 1)])) == [[1]]


@given(case=random_graphs)
def test_cycles_are_exactly_the_strongly_connected_parts_that_hold_a_cycle(case):
    n, edges = case
    succ = adjacency(n, edges)
    reach = [reachable(succ, x) for x in range(n)]
    want = {
        frozenset(y for y in range(n) if y in reach[x] and x in reach[y])
        for x in range(n)
        if any(x in reach[y] for y in succ[x])
    }
    got = [frozenset(c) for c in graph.cycles(succ)]
    assert set(got) == want
    assert len(got) == len(want)  # each part once
    assert sorted(len(c) for c in got) == sorted(len(c) for c in graph.cycles(succ))
