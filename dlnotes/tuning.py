"""Practical methodology: data splits, the error-gap diagnosis and hyperparameter search.

Chapter: 01-foundations/07-practical-methodology.

A search *space* is a dict ``name -> (low, high)`` or ``name -> (low, high, "log")``; a
``"log"`` axis is explored evenly in log(value), which is how learning rates, weight decays
and 1 - beta are searched. Points are rows: ``points: (T, D)`` with the columns in the
dict's order. An *objective* maps ``points: (T, D)`` to ``scores: (T,)`` (lower is better,
e.g. a dev-set error), so that one call can train T models at once.

Counts accept Python and NumPy integers; bounds, fractions and error rates must be finite
real numbers (NaN, strings and complex numbers are refused, never converted).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from .validation import as_float, as_float_array, as_int, check_rng, sum_tolerance

__all__ = ["train_dev_test_split", "log_uniform", "grid_points", "random_points",
           "SearchResult", "evaluate", "grid_search", "random_search", "zoom", "Diagnosis",
           "diagnose"]

_SCALES = ("linear", "log")


def train_dev_test_split(n: int, fractions, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Shuffle the indices 0..n-1 and cut them into disjoint parts of the given sizes.

    n: number of examples;  fractions: (P,) positive numbers summing to 1, e.g.
    (0.6, 0.2, 0.2) for a small set or (0.98, 0.01, 0.01) for a million examples.
    Part p > 0 gets floor(fractions[p] * n) indices; part 0 (the training set) takes the
    rest, so rounding only ever adds examples to training. Returns P integer arrays whose
    union is 0..n-1. Raises if a part would be empty.
    """
    n = as_int(n, "n", minimum=1)
    check_rng(rng)
    f = as_float_array(fractions, "fractions")
    if f.ndim != 1 or f.size < 2:
        raise ValueError(f"fractions must be a sequence of at least 2 numbers; got {fractions!r}")
    if not np.all(np.isfinite(f)) or np.any(f <= 0):
        raise ValueError(f"every entry of fractions must be positive and finite; "
                         f"got {fractions!r}")
    if abs(f.sum(dtype=np.float64) - 1.0) > sum_tolerance(f.dtype, f.size):
        raise ValueError(f"fractions must sum to 1; got {fractions!r} (sum {f.sum():.6g})")
    sizes = np.floor(f[1:] * n).astype(np.int64)
    sizes = np.concatenate([[n - sizes.sum()], sizes])  # (P,)
    if np.any(sizes == 0):
        raise ValueError(f"with n={n}, fractions {fractions!r} leave part "
                         f"{int(np.argmin(sizes))} empty; use more data or larger fractions")
    order = rng.permutation(n)
    return tuple(np.split(order, np.cumsum(sizes)[:-1]))


def log_uniform(low: float, high: float, size, rng: np.random.Generator) -> np.ndarray:
    """Samples x = exp(u), u ~ U[log low, log high): uniform on a logarithmic axis.

    Every decade inside [low, high] receives the same share of the samples,
    1 / log10(high / low); the density is p(x) = 1 / (x log(high / low)).
    size: an int or a shape tuple, as for ``rng.uniform``. Requires 0 < low < high.
    """
    low, high = _check_bounds(low, high, "log")
    check_rng(rng)
    return np.exp(rng.uniform(math.log(low), math.log(high), size=_check_size(size)))


def grid_points(space: dict, per_axis: int) -> np.ndarray:
    """Every combination of ``per_axis`` values per hyperparameter: (per_axis ** D, D).

    The values along an axis are the centres of ``per_axis`` equal cells of [low, high]
    (equal in log(value) on a log axis), which is the best a grid can do: no trial is
    spent on the boundary. The last hyperparameter varies fastest.
    """
    axes = _check_space(space)
    k = as_int(per_axis, "per_axis", minimum=1)
    centres = (np.arange(k) + 0.5) / k  # (k,) in (0, 1)
    values = [_from_unit(centres, lo, hi, scale) for lo, hi, scale in axes]
    mesh = np.meshgrid(*values, indexing="ij")
    return np.column_stack([m.ravel() for m in mesh])  # (k ** D, D)


def random_points(space: dict, n_trials: int, rng: np.random.Generator) -> np.ndarray:
    """``n_trials`` independent draws, uniform (or log-uniform) on each axis: (n_trials, D)."""
    axes = _check_space(space)
    n = as_int(n_trials, "n_trials", minimum=1)
    check_rng(rng)
    u = rng.random((n, len(axes)))  # (T, D) in [0, 1)
    return np.column_stack([_from_unit(u[:, j], lo, hi, scale)
                            for j, (lo, hi, scale) in enumerate(axes)])


class SearchResult(NamedTuple):
    """The trials of a search: ``points: (T, D)``, ``scores: (T,)`` and the best trial."""
    names: tuple
    points: np.ndarray
    scores: np.ndarray
    best_index: int

    @property
    def best(self) -> dict:
        """The best trial as ``{name: value}``."""
        return dict(zip(self.names, self.points[self.best_index].tolist(), strict=True))

    @property
    def best_score(self) -> float:
        return float(self.scores[self.best_index])


def evaluate(objective: Callable, space: dict, points) -> SearchResult:
    """Score ``points: (T, D)`` with ``objective`` and record the lowest score.

    The objective must return T real scores; NaN (a diverged run) ranks last.
    """
    axes = _check_space(space)
    if not callable(objective):
        raise TypeError(f"objective must be callable; got {type(objective).__name__}")
    points = as_float_array(points, "points")
    if points.ndim != 2 or points.shape[1] != len(axes) or points.shape[0] == 0:
        raise ValueError(f"points must be (T, D) with T >= 1 and D = {len(axes)} "
                         f"hyperparameters; got shape {points.shape}")
    if not np.all(np.isfinite(points)):
        raise ValueError("points must be finite; found NaN or inf")
    scores = as_float_array(objective(points), "the scores the objective returned")
    scores = scores.astype(np.float64)
    if scores.shape != (points.shape[0],):
        raise ValueError(f"objective must return one score per point, shape "
                         f"({points.shape[0]},); got {scores.shape}")
    if np.all(np.isnan(scores)):
        raise ValueError("objective returned NaN for every point")
    return SearchResult(tuple(space), points, scores, int(np.nanargmin(scores)))


def grid_search(objective: Callable, space: dict, per_axis: int) -> SearchResult:
    """Evaluate ``objective`` on :func:`grid_points` (per_axis ** D trials)."""
    return evaluate(objective, space, grid_points(space, per_axis))


def random_search(objective: Callable, space: dict, n_trials: int,
                  rng: np.random.Generator) -> SearchResult:
    """Evaluate ``objective`` on :func:`random_points` (n_trials trials)."""
    return evaluate(objective, space, random_points(space, n_trials, rng))


def zoom(space: dict, result: SearchResult, keep: int) -> dict:
    """Coarse to fine: the box spanned by the ``keep`` best trials, same scales as ``space``.

    Returns a new space whose bounds on each axis are the smallest and largest value among
    the best ``keep`` points of ``result`` (NaN scores excluded). Needs keep >= 2 so that
    the box has a width.
    """
    axes = _check_space(space)
    keep = as_int(keep, "keep", minimum=1)
    if not isinstance(result, SearchResult):
        raise TypeError(f"result must be a SearchResult (from evaluate or a search); "
                        f"got {type(result).__name__}")
    if tuple(space) != result.names:
        raise ValueError(f"result was searched over {result.names}, not {tuple(space)}")
    finite = np.flatnonzero(~np.isnan(result.scores))
    if not 2 <= keep <= finite.size:
        raise ValueError(f"keep must lie in [2, {finite.size}] (the scored trials); got {keep}")
    top = finite[np.argsort(result.scores[finite], kind="stable")[:keep]]
    lo, hi = result.points[top].min(axis=0), result.points[top].max(axis=0)
    new = {}
    for j, (name, (_, _, scale)) in enumerate(zip(space, axes, strict=True)):
        if lo[j] == hi[j]:
            raise ValueError(f"the {keep} best trials share one value of {name!r}; "
                             "no box to zoom into")
        new[name] = (float(lo[j]), float(hi[j]), scale)
    return new


class Diagnosis(NamedTuple):
    """Gaps between consecutive error rates, and the one to work on first.

    avoidable_bias = train - human;  variance = train_dev - train;
    data_mismatch = dev - train_dev. A gap can be negative (e.g. a dev set that is easier
    than the training data); ``focus`` names the largest gap.
    """
    avoidable_bias: float
    variance: float
    data_mismatch: float
    focus: str


def diagnose(human: float, train: float, train_dev: float, dev: float) -> Diagnosis:
    """Split the dev error into avoidable bias, variance and data mismatch.

    human: error of human experts (a stand-in for the Bayes error);  train: training error;
    train_dev: error on held-out data from the training distribution;  dev: dev error.
    All are error rates in [0, 1]. When training and dev data share one distribution,
    pass train_dev = dev (there is no mismatch to measure).
    """
    rates = {"human": human, "train": train, "train_dev": train_dev, "dev": dev}
    for name, v in rates.items():
        v = as_float(v, name)
        if not 0.0 <= v <= 1.0:
            raise ValueError(f"{name} must be an error rate in [0, 1]; got {v!r}")
        rates[name] = v
    human, train, train_dev, dev = rates.values()
    gaps = {"avoidable bias": float(train - human), "variance": float(train_dev - train),
            "data mismatch": float(dev - train_dev)}
    return Diagnosis(*gaps.values(), focus=max(gaps, key=gaps.get))



def _check_size(size):
    """An int or a tuple of ints >= 0, as ``rng.uniform`` takes for ``size``."""
    if isinstance(size, (tuple, list)):
        return tuple(as_int(s, "every entry of size", minimum=0) for s in size)
    return as_int(size, "size", minimum=0)


def _check_bounds(low, high, scale: str) -> tuple[float, float]:
    low, high = as_float(low, "low"), as_float(high, "high")
    if not low < high:
        raise ValueError(f"need low < high; got low={low!r}, high={high!r}")
    if scale == "log" and not low > 0:
        raise ValueError(f"a log-scale range needs low > 0; got low={low!r}")
    return float(low), float(high)


def _check_space(space) -> list[tuple[float, float, str]]:
    if not isinstance(space, dict) or not space:
        raise TypeError("space must be a non-empty dict name -> (low, high[, 'log'|'linear'])")
    axes = []
    for name, spec in space.items():
        if not isinstance(spec, (tuple, list)) or len(spec) not in (2, 3):
            raise ValueError(f"space[{name!r}] must be (low, high) or (low, high, scale); "
                             f"got {spec!r}")
        scale = spec[2] if len(spec) == 3 else "linear"
        if scale not in _SCALES:
            raise ValueError(f"space[{name!r}] has scale {scale!r}; expected one of {_SCALES}")
        try:
            low, high = _check_bounds(spec[0], spec[1], scale)
        except (ValueError, TypeError) as exc:
            raise type(exc)(f"space[{name!r}]: {exc}") from None
        axes.append((low, high, scale))
    return axes


def _from_unit(u: np.ndarray, low: float, high: float, scale: str) -> np.ndarray:
    """Map u in [0, 1] to [low, high], linearly or linearly in log(value)."""
    if scale == "log":
        return np.exp(math.log(low) + u * (math.log(high) - math.log(low)))
    return low + u * (high - low)
