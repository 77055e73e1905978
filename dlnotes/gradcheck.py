"""Numerical gradients by central differences, and the relative error used to compare them.

Chapter: 01-foundations/05-training-deep-networks (gradient checking). The central
difference (f(x + h) - f(x - h)) / 2h has error O(h^2), against O(h) for a one-sided one.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .validation import as_float_array


def numerical_gradient(f: Callable[[np.ndarray], float], x, h: float = 1e-6) -> np.ndarray:
    """Central-difference estimate of df/dx for every element of ``x``.

    f: a function of an array of x's shape returning a scalar;  x: any shape, float64.
    Returns an array of x's shape. ``x`` is perturbed in place one element at a time and
    restored, so ``f`` may close over it or receive it.
    """
    if not callable(f):
        raise TypeError(f"f must be callable; got {type(f).__name__}")
    if not h > 0:
        raise ValueError(f"h must be positive; got {h!r}")
    x = as_float_array(x, "x")
    if x.dtype != np.float64:
        raise TypeError(f"x must be float64 for finite differences to be meaningful; got {x.dtype}")
    grad = np.zeros_like(x)
    flat_x, flat_g = x.reshape(-1), grad.reshape(-1)
    if not np.shares_memory(flat_x, x):
        raise ValueError("x must be contiguous so that it can be perturbed in place")
    for i in range(flat_x.size):
        old = flat_x[i]
        flat_x[i] = old + h
        f_plus = _scalar(f(x))
        flat_x[i] = old - h
        f_minus = _scalar(f(x))
        flat_x[i] = old
        flat_g[i] = (f_plus - f_minus) / (2.0 * h)
    return grad


def relative_error(a, b) -> float:
    """||a - b|| / (||a|| + ||b||), 0 when both are 0: a scale-free distance in [0, 1]."""
    a = as_float_array(a, "a")
    b = as_float_array(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape; got {a.shape} and {b.shape}")
    scale = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if scale == 0 else float(np.linalg.norm(a - b) / scale)


def _scalar(value) -> float:
    arr = np.asarray(value)
    if arr.size != 1:
        raise ValueError(f"f must return a scalar; got an array of shape {arr.shape}")
    return float(arr.reshape(()))
