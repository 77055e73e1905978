"""dlnotes.algorithms: minimum spanning trees against brute-force enumeration of edge subsets,
Kruskal against Prim, the running median against statistics.median after every addition,
top-k / bottom-k against sorting and torch.topk, and bad input."""
import itertools
import math
import statistics

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dlnotes.algorithms import RunningMedian, UnionFind, bottom_k, minimum_spanning_tree, top_k
from dlnotes.verify import check_values, to_torch


def components(n, edges):
    """Number of connected components, by depth-first search (independent of UnionFind)."""
    adj = {i: set() for i in range(n)}
    for u, v, _ in edges:
        adj[u].add(v)
        adj[v].add(u)
    seen, count = set(), 0
    for root in range(n):
        if root in seen:
            continue
        count += 1
        stack = [root]
        while stack:
            x = stack.pop()
            if x not in seen:
                seen.add(x)
                stack.extend(adj[x] - seen)
    return count


def brute_force_msf(n, edges):
    """Lightest acyclic subset of n - c edges (a spanning forest), over all subsets."""
    c = components(n, edges)
    best = math.inf
    for subset in itertools.combinations(edges, n - c):
        if components(n, subset) == c:      # n - c edges and c components: acyclic, spanning
            best = min(best, math.fsum(w for _, _, w in subset))
    return best, c


@st.composite
def small_graphs(draw, max_n=6, max_edges=9):
    n = draw(st.integers(1, max_n))
    vertex = st.integers(0, n - 1)
    weight = st.one_of(st.integers(-5, 5),
                       st.floats(-10, 10, allow_nan=False).map(lambda w: round(w, 3)))
    edges = draw(st.lists(st.tuples(vertex, vertex, weight), max_size=max_edges))
    return n, edges


@settings(max_examples=150, deadline=None)
@given(small_graphs())
def test_mst_matches_brute_force_and_kruskal_equals_prim(graph):
    n, edges = graph
    best, c = brute_force_msf(n, edges)
    for method in ("kruskal", "prim"):
        total, tree = minimum_spanning_tree(n, edges, method=method)
        assert len(tree) == n - c
        assert components(n, tree) == c                         # spans every component
        assert math.isclose(total, best, rel_tol=1e-12, abs_tol=1e-12)
        assert math.isclose(total, math.fsum(w for *_, w in tree), rel_tol=0, abs_tol=0)
        # every tree edge is an edge of the graph (in either orientation)
        pool = [(min(u, v), max(u, v), float(w)) for u, v, w in edges]
        for e in tree:
            pool.remove(e)


def test_distinct_weights_give_the_same_tree_from_both_methods(rng):
    n = 30
    pairs = [(u, v) for u in range(n) for v in range(u + 1, n) if rng.random() < 0.3]
    weights = rng.permutation(len(pairs)) + rng.random(len(pairs)) * 0.5   # all distinct
    edges = [(u, v, float(w)) for (u, v), w in zip(pairs, weights, strict=True)]
    k_total, k_tree = minimum_spanning_tree(n, edges, "kruskal")
    p_total, p_tree = minimum_spanning_tree(n, edges, "prim")
    assert k_tree == p_tree and k_total == p_total
    assert len(k_tree) == n - components(n, edges)


def test_a_hand_worked_graph_and_a_forest():
    # square 0-1-2-3 with a diagonal; the heavy edge 2-3 (5) is left out
    edges = [(0, 1, 1.0), (1, 2, 2.0), (2, 3, 5.0), (3, 0, 4.0), (0, 2, 3.0)]
    total, tree = minimum_spanning_tree(4, edges, "prim")
    assert total == 7.0 and tree == [(0, 1, 1.0), (1, 2, 2.0), (0, 3, 4.0)]
    # two components plus an isolated vertex 5: 6 vertices, 3 components, 3 edges
    total, tree = minimum_spanning_tree(6, [(0, 1, 2.0), (1, 2, 1.0), (0, 2, 3.0), (3, 4, -1.0)])
    assert total == 2.0 and tree == [(3, 4, -1.0), (1, 2, 1.0), (0, 1, 2.0)]
    assert minimum_spanning_tree(1, []) == (0.0, [])


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
def test_cayley_count_of_spanning_trees_of_the_complete_graph(n):
    # With all weights equal every spanning tree is minimal; count them by brute force.
    all_edges = list(itertools.combinations(range(n), 2))
    count = sum(components(n, [(u, v, 0) for u, v in subset]) == 1
                for subset in itertools.combinations(all_edges, n - 1))
    expected = n ** (n - 2) if n > 1 else 1
    assert count == expected


def test_union_find():
    sets = UnionFind(5)
    assert sets.union(0, 1) and sets.union(3, 4) and sets.union(1, 4)
    assert not sets.union(0, 3)                    # already joined through 1 - 4
    assert sets.find(0) == sets.find(3) != sets.find(2)
    assert sets.components == 2


@pytest.mark.parametrize("edges, err", [
    ([(0, 3, 1.0)], ValueError),            # vertex outside 0..n-1
    ([(-1, 0, 1.0)], ValueError),
    ([(0, 1)], ValueError),                 # not a triple
    ([(0, 1, float("nan"))], ValueError),
    ([(0, 1, "heavy")], ValueError),
    ([(0.0, 1, 1.0)], TypeError),           # vertex not an int
])
def test_mst_bad_edges(edges, err):
    with pytest.raises(err):
        minimum_spanning_tree(3, edges)


def test_mst_bad_arguments():
    with pytest.raises(ValueError, match="method"):
        minimum_spanning_tree(3, [], method="boruvka")
    with pytest.raises(ValueError, match="n"):
        minimum_spanning_tree(0, [])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.integers(-50, 50), st.floats(-1e6, 1e6, allow_nan=False)),
                min_size=1, max_size=60))
def test_running_median_matches_statistics_after_every_add(stream):
    rm = RunningMedian()
    for i, x in enumerate(stream, 1):
        rm.add(x)
        assert len(rm) == i
        assert rm.median() == pytest.approx(statistics.median(stream[:i]), rel=1e-12, abs=1e-12)
        assert 0 <= len(rm.low) - len(rm.high) <= 1
        if rm.high:
            assert -rm.low[0] <= rm.high[0]


def test_running_median_of_the_worked_example_and_torch_on_odd_counts(rng):
    rm = RunningMedian()
    rm.add(1)
    rm.add(2)
    assert rm.median() == 1.5
    rm.add(3)
    assert rm.median() == 2.0
    data = rng.standard_normal(101)
    rm = RunningMedian()
    ours, theirs = [], []
    for i, x in enumerate(data, 1):
        rm.add(float(x))
        if i % 2:                  # torch.median takes the lower middle value on even counts
            ours.append(rm.median())
            theirs.append(torch.median(to_torch(data[:i])))
    check_values("running median", np.array(ours), torch.stack(theirs))


def test_running_median_bad_input():
    rm = RunningMedian()
    with pytest.raises(ValueError, match="empty"):
        rm.median()
    with pytest.raises(ValueError, match="NaN"):
        rm.add(float("nan"))
    with pytest.raises(TypeError):
        rm.add("3")


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(-20, 20), max_size=40), st.integers(0, 45))
def test_top_and_bottom_k_match_sorting(items, k):
    assert top_k(items, k) == sorted(items, reverse=True)[:k]
    assert bottom_k(items, k) == sorted(items)[:k]
    assert bottom_k(iter(items), k) == sorted(items)[:k]        # any iterable, one pass


def test_top_and_bottom_k_against_torch_topk(rng):
    x = rng.standard_normal(1000)
    for k in (1, 7, 1000):
        check_values(f"top_k, k={k}", top_k(x.tolist(), k), torch.topk(to_torch(x), k).values)
        check_values(f"bottom_k, k={k}", bottom_k(x.tolist(), k),
                     torch.topk(to_torch(x), k, largest=False).values)


def test_top_k_bad_input():
    with pytest.raises(ValueError, match="k"):
        top_k([1, 2], -1)
    with pytest.raises(ValueError, match="k"):
        bottom_k([1, 2], -3)
    with pytest.raises(TypeError):
        top_k([1, 2], 1.5)
    with pytest.raises(ValueError, match="NaN"):
        bottom_k([1.0, float("nan")], 1)
    assert top_k([3, 1], 0) == [] and bottom_k([], 2) == []


# --- issue 12: bad and extreme input ---------------------------------------------------------

def test_union_find_refuses_nodes_outside_0_to_n_minus_1():
    # Old code: find(-1) answered 2 (Python's last list entry) as if -1 were a node.
    uf = UnionFind(3)
    for bad in (-1, 3):
        with pytest.raises(ValueError, match="x must be"):
            uf.find(bad)
        with pytest.raises(ValueError, match="y must be"):
            uf.union(0, bad)
    with pytest.raises(TypeError, match="x must be an int"):
        uf.find(1.0)
    with pytest.raises(TypeError, match="x must be an int"):
        uf.find(True)
    assert uf.find(np.int64(2)) == 2 and uf.components == 3


def test_heaps_and_edges_name_the_argument():
    with pytest.raises(TypeError, match="iterable"):
        top_k(5, 2)
    with pytest.raises(TypeError, match=r"iterable\[1\]"):
        bottom_k([1.0, "2"], 1)
    with pytest.raises(ValueError, match=r"edges\[0\]"):
        minimum_spanning_tree(3, [(0, 1)])
    assert top_k(np.array([3.0, 1.0, 2.0]), np.int64(2)) == [3.0, 2.0]
