"""Argument checks shared by every public function of dlnotes.

Each helper raises ``TypeError`` or ``ValueError`` with a message naming the argument,
what was expected and what arrived, so that bad input never turns into a NumPy
broadcast error deep inside a kernel (or, worse, a silently wrong number).
"""
from __future__ import annotations

from typing import Sequence

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
