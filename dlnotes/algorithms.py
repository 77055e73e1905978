"""Classic algorithms around machine learning: minimum spanning trees and heaps.

Chapter: appendix/01-algorithms.

* ``minimum_spanning_tree(n, edges, method)``: Kruskal (sort the edges, join components with a
  union-find, O(E log E)) or Prim (grow one tree from a heap of crossing edges, O(E log E)).
  Both return the total weight and the tree's edges. A disconnected graph gets a minimum
  spanning *forest*: one minimum spanning tree per connected component, n - c edges for c
  components.
* ``RunningMedian``: the median of a stream so far, kept with two heaps (a max-heap for the
  lower half, a min-heap for the upper half); ``add`` is O(log n), ``median`` O(1).
* ``top_k`` / ``bottom_k``: the k largest / smallest items of an iterable with a heap of size k,
  O(n log k) time and O(k) memory. Python's ``heapq`` is a min-heap, so a max-heap is a
  min-heap of negated numbers.

Reference: Cormen, Leiserson, Rivest and Stein, Introduction to Algorithms (3rd ed.), ch. 6, 21, 23.
"""
from __future__ import annotations

import heapq
import math
from numbers import Real

import numpy as np

from .validation import as_int, check_positive_int

__all__ = ["UnionFind", "minimum_spanning_tree", "RunningMedian", "top_k", "bottom_k"]

METHODS = ("kruskal", "prim")


class UnionFind:
    """Disjoint sets over 0..n-1 with path halving and union by size (near O(1) per call)."""

    def __init__(self, n: int):
        n = check_positive_int(n, "n")
        self.parent = list(range(n))
        self.size = [1] * n
        self.components = n

    def _node(self, x, name: str) -> int:
        # Python lists accept -1 (the last node): refuse it and anything not a node 0..n-1.
        return as_int(x, name, minimum=0, maximum=len(self.parent) - 1)

    def find(self, x: int) -> int:
        """The representative of x's set; x must be an int node in 0..n-1 (else an error)."""
        x = self._node(x, "x")
        parent = self.parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]          # halve the path as we walk it
            x = parent[x]
        return x

    def union(self, x: int, y: int) -> bool:
        """Merge the sets of x and y.

        Returns False if they were already one set (the edge closes a cycle).
        """
        x, y = self._node(x, "x"), self._node(y, "y")
        rx, ry = self.find(x), self.find(y)
        if rx == ry:
            return False
        if self.size[rx] < self.size[ry]:
            rx, ry = ry, rx
        self.parent[ry] = rx
        self.size[rx] += self.size[ry]
        self.components -= 1
        return True


def _check_edges(n: int, edges) -> list[tuple[int, int, float]]:
    if isinstance(edges, (str, bytes, dict)) or not hasattr(edges, "__iter__"):
        raise TypeError(f"edges must be an iterable of (u, v, w) triples; got "
                        f"{type(edges).__name__}")
    checked = []
    for k, edge in enumerate(edges):
        if not isinstance(edge, (tuple, list)) or len(edge) != 3:
            raise ValueError(f"edges[{k}] must be a triple (u, v, w); got {edge!r}")
        u, v, w = edge
        for name, x in (("u", u), ("v", v)):
            if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, np.integer)):
                raise TypeError(f"edges[{k}]: vertex {name} must be an int; got {x!r}")
            if not 0 <= x < n:
                raise ValueError(f"edges[{k}]: vertex {name}={x} is outside 0..{n - 1}")
        if isinstance(w, (bool, np.bool_)) or not isinstance(w, Real) or not math.isfinite(w):
            raise ValueError(f"edges[{k}]: weight must be a finite real number; got {w!r}")
        checked.append((int(u), int(v), float(w)))
    return checked


def minimum_spanning_tree(n: int, edges, method: str = "kruskal"):
    """A minimum spanning tree (forest, if the graph is disconnected) of an undirected graph.

    n: number of vertices, labelled 0..n-1; edges: iterable of (u, v, w) with weight w (any
    finite real, negative allowed; self-loops are ignored, parallel edges allowed);
    method: "kruskal" or "prim".
    Returns (total_weight, tree_edges): tree_edges is a list of (u, v, w) with u < v, sorted
    by (w, u, v); it holds n - c edges, where c is the number of connected components.
    total_weight is the exactly rounded sum (math.fsum), so it does not depend on the method's
    order of summation.
    """
    n = check_positive_int(n, "n")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}; got {method!r}")
    edges = _check_edges(n, edges)
    tree = _kruskal(n, edges) if method == "kruskal" else _prim(n, edges)
    tree = sorted(((min(u, v), max(u, v), w) for u, v, w in tree), key=lambda e: (e[2], e[0], e[1]))
    return math.fsum(w for _, _, w in tree), tree


def _kruskal(n: int, edges) -> list:
    # Cut property: the lightest edge joining two components belongs to some MST.
    sets = UnionFind(n)
    tree = []
    for u, v, w in sorted(edges, key=lambda e: e[2]):
        if sets.union(u, v):
            tree.append((u, v, w))
            if len(tree) == n - 1:
                break
    return tree


def _prim(n: int, edges) -> list:
    neighbours: list[list[tuple[float, int]]] = [[] for _ in range(n)]
    for u, v, w in edges:
        if u != v:
            neighbours[u].append((w, v))
            neighbours[v].append((w, u))
    in_tree = [False] * n
    tree = []
    for root in range(n):                    # one tree per component: a forest
        if in_tree[root]:
            continue
        in_tree[root] = True
        heap = [(w, v, root) for w, v in neighbours[root]]   # (weight, outside end, inside end)
        heapq.heapify(heap)
        while heap:
            w, v, u = heapq.heappop(heap)
            if in_tree[v]:                   # stale entry: both ends already inside
                continue
            in_tree[v] = True
            tree.append((u, v, w))
            for w2, x in neighbours[v]:
                if not in_tree[x]:
                    heapq.heappush(heap, (w2, x, v))
    return tree


def _check_number(x, name: str) -> float:
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, Real):
        raise TypeError(f"{name} must be a real number; got {type(x).__name__}")
    if math.isnan(x):
        raise ValueError(f"{name} is NaN, which has no place in an ordering")
    return x


class RunningMedian:
    """The median of all numbers added so far, with two heaps.

    ``low`` is a max-heap (stored negated) of the smaller half and ``high`` a min-heap of the
    larger half, with every element of low <= every element of high and
    len(low) - len(high) in {0, 1}. The median is then -low[0] (odd count) or the mean of
    -low[0] and high[0] (even count), as in ``statistics.median``.
    """

    def __init__(self):
        self.low: list = []        # negated values: -low[0] is the largest of the lower half
        self.high: list = []

    def __len__(self) -> int:
        return len(self.low) + len(self.high)

    def add(self, x) -> None:
        """Insert one number, O(log n)."""
        x = _check_number(x, "x")
        if self.low and x > -self.low[0]:
            heapq.heappush(self.high, x)
        else:
            heapq.heappush(self.low, -x)
        # Restore the size balance by moving one element across.
        if len(self.low) > len(self.high) + 1:
            heapq.heappush(self.high, -heapq.heappop(self.low))
        elif len(self.high) > len(self.low):
            heapq.heappush(self.low, -heapq.heappop(self.high))

    def median(self) -> float:
        """The median so far, O(1); ValueError on an empty stream."""
        if not self.low:
            raise ValueError("the median of an empty stream is undefined: add a number first")
        if len(self.low) > len(self.high):
            return float(-self.low[0])
        return (-self.low[0] + self.high[0]) / 2


def _check_k(k) -> int:
    return as_int(k, "k", minimum=0)


def _check_iterable(iterable) -> None:
    if (isinstance(iterable, (str, bytes)) or not hasattr(iterable, "__iter__")
            or getattr(iterable, "ndim", 1) == 0):
        zero_d = " of shape ()" if getattr(iterable, "ndim", 1) == 0 else ""
        raise TypeError(f"iterable must be an iterable of real numbers; got "
                        f"{type(iterable).__name__}{zero_d}")


def top_k(iterable, k: int) -> list:
    """The k largest numbers, largest first (all of them if there are fewer than k).

    A min-heap holds the k largest seen so far; its root is the smallest of them, the one a
    newcomer must beat. O(n log k) time, O(k) memory, one pass over the data.
    """
    k = _check_k(k)
    _check_iterable(iterable)
    heap: list = []
    for i, x in enumerate(iterable):
        x = _check_number(x, f"iterable[{i}]")
        if k == 0:
            continue
        if len(heap) < k:
            heapq.heappush(heap, x)
        elif x > heap[0]:
            heapq.heapreplace(heap, x)
    return sorted(heap, reverse=True)


def bottom_k(iterable, k: int) -> list:
    """The k smallest numbers, smallest first: ``top_k`` with a max-heap.

    heapq only offers a min-heap, so the max-heap stores -x: the root -heap[0] is the largest
    of the k smallest so far, and a newcomer x enters when x < -heap[0].
    """
    k = _check_k(k)
    _check_iterable(iterable)
    heap: list = []
    for i, x in enumerate(iterable):
        x = _check_number(x, f"iterable[{i}]")
        if k == 0:
            continue
        if len(heap) < k:
            heapq.heappush(heap, -x)
        elif -x > heap[0]:
            heapq.heapreplace(heap, -x)
    return sorted(-y for y in heap)
