"""Argument checks shared by every public function of dlnotes.

Each helper raises ``TypeError`` or ``ValueError`` with a message naming the argument,
what was expected and what arrived, so that bad input never turns into a NumPy
broadcast error deep inside a kernel (or, worse, a silently wrong number).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def as_float_array(x, name: str, ndim: int | None = None, shape_hint: str = "") -> np.ndarray:
    """Return ``x`` as a floating-point array, checking its rank.

    Integers and booleans are promoted to float64; float32 and float64 are kept as they are.
    Complex numbers, strings and objects are refused.
    """
    arr = np.asarray(x)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name} must be a real numeric array; got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise TypeError(f"{name} must be real; got complex dtype {arr.dtype}")
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    if ndim is not None and arr.ndim != ndim:
        hint = f" {shape_hint}" if shape_hint else ""
        raise ValueError(f"{name} must have {ndim} dimension(s){hint}; got shape {arr.shape}")
    return arr


def as_int_array(x, name: str, ndim: int | None = None) -> np.ndarray:
    """Return ``x`` as an integer array (class indices), refusing floats and booleans."""
    arr = np.asarray(x)
    if not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must hold integer class indices; got dtype {arr.dtype}")
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s); got shape {arr.shape}")
    return arr


def check_same_shape(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    """Refuse arrays whose shapes differ (no broadcasting between them)."""
    if a.shape != b.shape:
        raise ValueError(f"{name_a} and {name_b} must have the same shape; "
                         f"got {a.shape} and {b.shape}")


def check_in_closed_unit_interval(a: np.ndarray, name: str) -> None:
    """Refuse values outside [0, 1] (and NaN)."""
    if not np.all((a >= 0) & (a <= 1)):
        bad = a[~((a >= 0) & (a <= 1))].ravel()[0]
        raise ValueError(f"{name} must lie in [0, 1]; found {bad!r}")


def check_axis(axis: int, ndim: int, name: str = "axis") -> int:
    """Return ``axis`` as a non-negative index, or raise if it does not exist."""
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise TypeError(f"{name} must be an int; got {type(axis).__name__}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{name}={axis} is out of range for an array of rank {ndim}")
    return int(axis) % ndim


def check_positive_int(value, name: str) -> int:
    """Refuse anything that is not an integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    return int(value)


def check_keys(got: Sequence[str], expected: Sequence[str], name: str) -> None:
    """Refuse a dict whose keys differ from the expected set."""
    got_set, exp_set = set(got), set(expected)
    if got_set != exp_set:
        missing = sorted(exp_set - got_set)
        extra = sorted(got_set - exp_set)
        raise ValueError(f"{name} must have the keys {sorted(exp_set)}; "
                         f"missing {missing}, unexpected {extra}")


def int_at_least(value, name: str, minimum: int) -> int:
    """A Python int that is at least ``minimum`` (bools and floats refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an int; got {value!r}")
    if value < minimum:
        kind = "positive" if minimum == 1 else f">= {minimum}"
        raise ValueError(f"{name} must be {kind}; got {value!r}")
    return int(value)


def pair(value, name: str, minimum: int) -> tuple[int, int]:
    """An int or an ``(h, w)`` pair of ints, each at least ``minimum``, as a pair.

    Used for stride (``minimum=1``), padding (``minimum=0``) and kernel sizes.
    """
    items = value if isinstance(value, (tuple, list)) else (value, value)
    if len(items) != 2 or any(isinstance(v, bool) or not isinstance(v, (int, np.integer))
                              for v in items):
        raise ValueError(f"{name} must be an int or a pair of ints (h, w); got {value!r}")
    if any(v < minimum for v in items):
        kind = "positive" if minimum == 1 else f">= {minimum}"
        raise ValueError(f"{name} must be {kind}; got {value!r}")
    return int(items[0]), int(items[1])


# --- The package's boundary discipline (one place for every module) -----------------------
#
# * A backward checks that its cache is the exact NamedTuple type its own forward returns
#   (``check_cache``): each forward has its own cache type, even when two hold the same
#   fields, so a tanh cache handed to ``sigmoid_backward`` is refused instead of giving a
#   wrong gradient.
# * No forward returns an array that its cache also keeps: the cache holds its own copy, so
#   ``out *= 2`` by the caller cannot change a later backward.
# * Scalars go through ``as_int`` / ``as_float`` / ``as_probability`` (NumPy scalars
#   accepted, bools, strings, complex and NaN refused, messages name the argument).
# * Norms and dot products of possibly huge vectors are computed after rescaling
#   (``safe_norm``), so 1e200-sized inputs neither overflow nor underflow.
# * Probability vectors are checked with a tolerance that follows their dtype
#   (``sum_tolerance``): float32 softmax rows are valid distributions.


def check_cache(cache, expected: type, where: str):
    """Return ``cache`` if it is exactly an ``expected`` (the type ``where``'s forward returns).

    ``where`` names the backward, e.g. ``"maxpool2d_backward"``; the message names both
    types: ``"maxpool2d_backward got an AvgPool2dCache; it needs the MaxPool2dCache ..."``.
    """
    if type(cache) is not expected:
        got = type(cache).__name__
        article = "an" if got[:1].lower() in "aeiou" else "a"
        raise TypeError(f"{where} got {article} {got}; it needs the {expected.__name__} "
                        "that its own forward returns")
    return cache


def _is_integer(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def as_int(value, name: str, minimum: int | None = None, maximum: int | None = None) -> int:
    """A Python int from an int or NumPy integer; bools, floats and strings are refused."""
    if not _is_integer(value):
        raise TypeError(f"{name} must be an int; got {type(value).__name__} {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}; got {value}")
    return value


def as_float(value, name: str, *, positive: bool = False, nonnegative: bool = False,
             finite: bool = True, maximum: float | None = None) -> float:
    """A Python float from a real number (NumPy scalars and 0-d arrays included).

    Refused with ``TypeError``: bools, strings, complex numbers, arrays of more than one
    value. Refused with ``ValueError``: NaN, infinities (unless ``finite=False``), values
    that break ``positive`` (> 0), ``nonnegative`` (>= 0) or ``maximum``.
    """
    if isinstance(value, (bool, np.bool_)) or isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be a real number; got {type(value).__name__} {value!r}")
    arr = np.asarray(value)
    if arr.ndim != 0 or not (np.issubdtype(arr.dtype, np.integer)
                             or np.issubdtype(arr.dtype, np.floating)):
        raise TypeError(f"{name} must be a real number; got {type(value).__name__} {value!r}")
    value = float(arr)
    if np.isnan(value) or (finite and np.isinf(value)):
        raise ValueError(f"{name} must be a finite number; got {value!r}")
    if positive and not value > 0:
        raise ValueError(f"{name} must be > 0; got {value!r}")
    if nonnegative and not value >= 0:
        raise ValueError(f"{name} must be >= 0; got {value!r}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}; got {value!r}")
    return value


def as_probability(value, name: str, *, open_low: bool = False, open_high: bool = False) -> float:
    """A float in [0, 1] (``open_low``/``open_high`` exclude an end point)."""
    p = as_float(value, name)
    low_ok = p > 0 if open_low else p >= 0
    high_ok = p < 1 if open_high else p <= 1
    if not (low_ok and high_ok):
        interval = f"{'(' if open_low else '['}0, 1{')' if open_high else ']'}"
        raise ValueError(f"{name} must lie in {interval}; got {p!r}")
    return p


def sum_tolerance(dtype, n: int) -> float:
    """How far from 1 the sum of ``n`` probabilities of ``dtype`` may honestly be.

    1e-9 for float64 (as before), and about ``64 n eps`` for lower precision: a float32
    softmax row of 10 classes sums to 1 within ~1e-6, which must count as a distribution.
    """
    eps = np.finfo(dtype).eps if np.issubdtype(np.dtype(dtype), np.floating) else 0.0
    return max(1e-9, 64 * max(int(n), 1) * float(eps))


def check_distribution(p: np.ndarray, name: str, axis: int = -1) -> np.ndarray:
    """Refuse a float array that is not a probability distribution along ``axis``.

    Entries must lie in [0, 1] (NaN refused) and sum to 1 within ``sum_tolerance``.
    """
    check_in_closed_unit_interval(p, name)
    if p.size:
        n = p.shape[axis]
        total = p.sum(axis=axis, dtype=np.float64)
        worst = float(np.max(np.abs(total - 1)))
        if worst > sum_tolerance(p.dtype, n):
            raise ValueError(f"{name} must sum to 1 along axis {axis}; a sum is off by "
                             f"{worst:.3g}")
    return p


def safe_norm(x, axis=None, keepdims: bool = False) -> np.ndarray:
    """The Euclidean norm, overflow- and underflow-safe.

    ``np.sqrt(np.sum(x ** 2))`` is 0 or inf for entries near 1e-200 or 1e200. Where the largest
    |entry| lies outside [tiny ** 0.25, max ** 0.25] of the dtype (1e-77 .. 1e77 in float64),
    the entries are divided by it first, which keeps every intermediate near 1; inside that
    range the plain sum of squares is used, bit for bit what ``torch.linalg.vector_norm``
    computes. NaN propagates, as in torch.
    """
    x = np.asarray(x, dtype=np.result_type(np.asarray(x).dtype, np.float32))
    scale = np.max(np.abs(x), axis=axis, keepdims=True) if x.size else np.zeros((1,) * x.ndim)
    info = np.finfo(x.dtype)
    extreme = (scale > info.max ** 0.25) | (scale < info.tiny ** 0.25)
    safe = np.where(extreme & (scale > 0) & np.isfinite(scale), scale, 1.0)
    norm = safe * np.sqrt(np.sum((x / safe) ** 2, axis=axis, keepdims=True))
    norm = np.where(np.isinf(scale), np.inf, norm)   # an infinite entry: the norm is inf
    return norm if keepdims else np.squeeze(norm, axis=axis) if axis is not None \
        else norm.reshape(())


def unit(x, axis=-1) -> tuple[np.ndarray, np.ndarray]:
    """``(x / |x|, |x|)`` along ``axis`` with an overflow-safe norm; zero vectors stay 0."""
    x = np.asarray(x)
    norm = safe_norm(x, axis=axis, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        direction = np.where(norm > 0, x / np.where(norm > 0, norm, 1), 0.0)
    return direction, np.squeeze(norm, axis=axis)


def check_rng(rng, name: str = "rng", *, needed_for: str = "") -> np.random.Generator:
    """Return ``rng`` if it is a ``numpy.random.Generator`` (the only source of randomness).

    The legacy ``np.random`` module, a ``RandomState`` or a seed are refused with a
    ``TypeError``: a seeded Generator is what makes a notebook's stored outputs reproducible.
    ``needed_for`` says why an optional rng is needed (e.g. "mini-batch training").
    """
    if not isinstance(rng, np.random.Generator):
        what = f"{needed_for} needs {name}, a" if needed_for else f"{name} must be a"
        raise TypeError(f"{what} numpy.random.Generator (np.random.default_rng(seed)); "
                        f"got {type(rng).__name__}")
    return rng
