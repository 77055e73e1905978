"""k-means clustering: Lloyd's iterations, k-means++ seeding and restarts.

Chapter: 06-beyond/02-k-means. Points are rows, ``x: (N, D)``; a clustering is ``k``
centroids ``(k, D)`` and one label per point ``(N,)`` (integers in [0, k)). The objective
(the "inertia") is the sum of squared distances of the points to their centroids,

    J = sum_n || x_n - mu_{label_n} ||^2.

Conventions, fixed here so that results are reproducible and testable:

* Assignment ties go to the lowest centroid index (``np.argmin``).
* An *empty cluster* (a centroid that no point chose) is not left in place: its centroid is
  moved onto the point that is currently farthest from its own centroid (several empty
  clusters take the farthest points in turn). The empty cluster contributed nothing to J,
  and the moved point is now at distance 0, so J cannot increase; without this the cluster
  would stay empty for ever and the mean of no points would be undefined.
* Lloyd's loop stops when the assignment no longer changes (the centroids are then the means
  of their clusters and every point is with its nearest centroid) or after ``max_iter``
  iterations. Either way, the labels returned are the nearest-centroid labels of the
  centroids returned.

Reference: Lloyd (1982), "Least squares quantization in PCM"; Arthur and Vassilvitskii
(2007), "k-means++: the advantages of careful seeding".
"""
from __future__ import annotations

import numpy as np

from .validation import (
    as_float_array,
    as_int,
    as_int_array,
    check_positive_int,
    check_rng,
    safe_norm,
)

__all__ = ["pairwise_sq_distances", "assign", "kmeans_objective", "kmeans_plus_plus", "lloyd",
           "kmeans"]


def pairwise_sq_distances(x, centroids) -> np.ndarray:
    """Squared Euclidean distances d[n, j] = ||x_n - mu_j||^2.

    Computed from the differences (not as |x|^2 - 2 x.mu + |mu|^2, which cancels badly
    for nearby points). x: (N, D);  centroids: (K, D)  ->  (N, K).
    Reference: ``torch.cdist(x, mu) ** 2``.
    """
    x = _check_points(x)
    centroids = _check_centroids(centroids, x.shape[1])
    diff = x[:, None, :] - centroids[None, :, :]  # (N, K, D)
    with np.errstate(over="ignore"):  # squares beyond 1.8e308 are inf, as in torch
        return np.einsum("nkd,nkd->nk", diff, diff)  # (N, K)


def assign(x, centroids) -> np.ndarray:
    """Label of each point's nearest centroid (ties: lowest index).  -> (N,) int64.

    The comparison uses overflow-safe distances, so points near 1e200 (whose squared
    distances are all inf) or 1e-200 apart (all 0) still go to their nearest centroid.
    """
    x = _check_points(x)
    centroids = _check_centroids(centroids, x.shape[1])
    return _nearest(x, centroids)


def _distances(x: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """||x_n - mu_j|| / 2 for every pair, (N, K), neither overflowing nor underflowing.

    The halves keep every difference finite (|x/2 - mu/2| <= max |entry|); ``safe_norm``
    rescales each difference before squaring it. Ordering is all the callers need.
    """
    diff = 0.5 * x[:, None, :] - 0.5 * centroids[None, :, :]    # (N, K, D)
    return safe_norm(diff, axis=-1)


def _nearest(x: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    return np.argmin(_distances(x, centroids), axis=1).astype(np.int64)


def kmeans_objective(x, centroids, labels) -> float:
    """J = sum_n ||x_n - mu_{labels_n}||^2.  x: (N, D);  centroids: (K, D);  labels: (N,)."""
    x = _check_points(x)
    centroids = _check_centroids(centroids, x.shape[1])
    labels = _check_labels(labels, x.shape[0], centroids.shape[0])
    with np.errstate(over="ignore"):  # J beyond 1.8e308 is inf
        diff = x - centroids[labels]  # (N, D)
        return float(np.sum(diff * diff))


def kmeans_plus_plus(x, k, rng) -> np.ndarray:
    """k-means++ seeding: k distinct points of x chosen as initial centroids.

    The first is drawn uniformly; each next one is drawn with probability proportional to
    D(x_n)^2, the squared distance from x_n to the nearest centroid chosen so far, so points
    already chosen (and their duplicates) are never drawn again.

    x: (N, D) with at least k distinct rows;  k >= 1;  rng: numpy.random.Generator.
    Returns centroids: (k, D), a copy of k distinct rows of x, in the order drawn.
    """
    x, k = _check_problem(x, k, rng)
    N = x.shape[0]
    n_distinct = len(np.unique(x, axis=0))
    if n_distinct < k:
        raise ValueError(f"x has only {n_distinct} distinct point(s), fewer than k = {k} "
                         "clusters")
    x_in, x = x, x.astype(np.float64)   # draw in float64: float32 points give the same seeds
    chosen = [int(rng.integers(N))]
    # dist: (N,) distance to the nearest centre so far (overflow-safe, see _distances). The
    # weights D^2 are taken relative to the largest D, (D / max D)^2, so they neither
    # overflow (points near 1e200) nor all underflow to 0 (points 1e-200 apart): the draw
    # only needs weights proportional to D^2.
    dist = _distances(x, x[chosen])[:, 0]
    for _ in range(1, k):
        if not dist.max() > 0:   # distinct only in the last bit of a subnormal number
            raise ValueError("x's distinct points are too close together (about 1e-323) "
                             "to seed k-means++")
        weight = (dist / dist.max()) ** 2
        cumulative = np.cumsum(weight)
        # side="right" lands on an entry whose own weight is positive, never on a chosen point.
        j = int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))
        if j == N:  # u * total rounded up to total: take the last point of positive weight
            j = int(np.flatnonzero(weight > 0)[-1])
        chosen.append(j)
        dist = np.minimum(dist, _distances(x, x[j:j + 1])[:, 0])
    return x_in[chosen].copy()


def lloyd(x, centroids, max_iter: int = 100) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lloyd's iterations from the given initial centroids.

    One iteration: move each centroid to the mean of the points assigned to it (empty
    clusters: see the module docstring), then reassign every point to its nearest centroid.
    Neither step can increase J, so the history is non-increasing.

    x: (N, D);  centroids: (K, D) initial, not modified;  max_iter >= 1.
    Returns centroids: (K, D), labels: (N,) int64, and history: (T,) with T <= max_iter,
    J after each iteration (T < max_iter means the assignment stopped changing).
    """
    x = _check_points(x)
    centroids = _check_centroids(centroids, x.shape[1]).astype(np.float64)  # a copy
    max_iter = check_positive_int(max_iter, "max_iter")
    K = centroids.shape[0]
    if K > x.shape[0]:
        raise ValueError(f"centroids has K = {K} rows but x has only {x.shape[0]} point(s): "
                         "k-means needs at least one point per cluster")
    x = x.astype(np.float64)
    labels = _nearest(x, centroids)
    history = []
    for _ in range(max_iter):
        counts = np.bincount(labels, minlength=K)  # (K,)
        sums = np.zeros_like(centroids)
        with np.errstate(over="ignore"):
            np.add.at(sums, labels, x)  # (K, D) per-cluster sums
        filled = counts > 0
        if not np.all(np.isfinite(sums)):  # huge points: average x / count (no overflow)
            sums = np.zeros_like(centroids)
            np.add.at(sums, labels, x / counts[labels, None])
            counts = np.ones_like(counts)
        centroids[filled] = sums[filled] / counts[filled, None]
        empty = np.flatnonzero(~filled)
        if len(empty):
            own = _distances(x, centroids)[np.arange(len(x)), labels]   # (N,) to own centroid
            far = np.argsort(-own, kind="stable")
            centroids[empty] = x[far[:len(empty)]]
        new_labels = _nearest(x, centroids)
        history.append(kmeans_objective(x, centroids, new_labels))
        converged = np.array_equal(new_labels, labels)
        labels = new_labels
        if converged:
            break
    return centroids, labels, np.array(history)


def kmeans(x, k, rng, n_init: int = 1, max_iter: int = 100
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """k-means: ``n_init`` runs of Lloyd's iterations from k-means++ seeds; the best is kept.

    The runs draw their seeds from ``rng`` one after another; the run with the lowest final
    J wins (ties: the earliest).
    x: (N, D);  1 <= k <= N;  rng: numpy.random.Generator;  n_init, max_iter >= 1.
    Returns centroids: (k, D), labels: (N,) int64, history: (T,) J after each iteration of
    the winning run.
    """
    x, k = _check_problem(x, k, rng)
    n_init = check_positive_int(n_init, "n_init")
    max_iter = check_positive_int(max_iter, "max_iter")
    best = None
    for _ in range(n_init):
        run = lloyd(x, kmeans_plus_plus(x, k, rng), max_iter)
        if best is None or run[2][-1] < best[2][-1]:
            best = run
    return best


def _check_points(x) -> np.ndarray:
    x = as_float_array(x, "x", ndim=2, shape_hint="(N, D)")
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"x must hold at least one point with at least one coordinate; "
                         f"got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("x must be finite; it holds NaN or inf")
    return x


def _check_centroids(centroids, d: int) -> np.ndarray:
    centroids = as_float_array(centroids, "centroids", ndim=2, shape_hint="(K, D)")
    if centroids.shape[0] == 0 or centroids.shape[1] != d:
        raise ValueError(f"centroids must be (K, D) with K >= 1 and D = {d} to match x; "
                         f"got {centroids.shape}")
    if not np.all(np.isfinite(centroids)):
        raise ValueError("centroids must be finite; they hold NaN or inf")
    return centroids


def _check_labels(labels, n: int, k: int) -> np.ndarray:
    labels = np.asarray(labels)
    if not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"labels must be integers; got dtype {labels.dtype}")
    labels = as_int_array(labels, "labels")
    if labels.shape != (n,):
        raise ValueError(f"labels must be (N,) = ({n},) to match x; got {labels.shape}")
    if np.any((labels < 0) | (labels >= k)):
        raise ValueError(f"labels must lie in [0, {k}) for {k} centroids")
    return labels


def _check_problem(x, k, rng) -> tuple[np.ndarray, int]:
    x = _check_points(x)
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)):
        raise ValueError(f"k must be an integer number of clusters; got {k!r}")
    k = as_int(k, "k")
    if k <= 0:
        raise ValueError(f"k must be at least 1; got {k}")
    if k > x.shape[0]:
        raise ValueError(f"k = {k} clusters need at least {k} points; x has {x.shape[0]}")
    check_rng(rng)
    return x, int(k)
