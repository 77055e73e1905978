"""Numerical gradients by central differences, and the relative error used to compare them.

Chapter: 01-foundations/05-training-deep-networks (gradient checking). The central
difference (f(x + h) - f(x - h)) / 2h has error O(h^2), against O(h) for a one-sided one.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .validation import as_float, as_float_array, check_same_shape, safe_norm

__all__ = ["numerical_gradient", "relative_error"]


def numerical_gradient(f: Callable[[np.ndarray], float], x, h: float = 1e-6) -> np.ndarray:
    """Central-difference estimate of df/dx for every element of ``x``.

    f: a function of an array of x's shape returning a scalar;  x: any shape, float64.
    Returns an array of x's shape. ``x`` is perturbed in place one element at a time and
    restored, so ``f`` may close over it or receive it. ``x`` must be finite, and ``h`` (a
    finite number > 0) large enough to move every element: where x + h and x - h differ by
    more than 1% from 2h (h = 1e-300 rounds to no step at all; so does h = 1e-6 at
    x = 1e12), a ValueError says so instead of returning zeros or noise. A NaN returned by
    ``f`` gives NaN in the gradient.
    """
    if not callable(f):
        raise TypeError(f"f must be callable; got {type(f).__name__}")
    h = as_float(h, "h", positive=True)
    x = as_float_array(x, "x")
    if x.dtype != np.float64:
        raise TypeError(f"x must be float64 for finite differences to be meaningful; got {x.dtype}")
    if not np.all(np.isfinite(x)):
        raise ValueError("x must be finite to take finite differences; found NaN or inf")
    if not x.flags.writeable:
        raise ValueError("x must be writeable so that it can be perturbed in place")
    step = ((x + h) - (x - h)).reshape(-1)       # the step actually taken, ideally 2h
    off = np.abs(step - 2 * h)
    if off.size and off.max() > 0.02 * h:
        i = int(np.argmax(off))
        raise ValueError(f"h={h!r} is too small for x: at x = {float(x.reshape(-1)[i])!r}, "
                         f"x + h and x - h differ by {float(step[i])!r}, not 2h; "
                         "use a larger h")
    grad = np.zeros_like(x)
    flat_x, flat_g = x.reshape(-1), grad.reshape(-1)
    if x.size and not np.shares_memory(flat_x, x):
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
    """||a - b|| / (||a|| + ||b||), 0 when both are 0: a scale-free distance in [0, 1].

    Both arrays are divided by their largest |entry| first (the ratio does not change), so
    values near 1e200 or 1e-200 neither overflow nor underflow. NaN or inf in either array
    gives NaN (a comparison ``relative_error(...) < tol`` then fails, as it should).
    """
    a = as_float_array(a, "a")
    b = as_float_array(b, "b")
    check_same_shape(a, b, "a", "b")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return float("nan")
    peak = max(float(np.max(np.abs(a), initial=0.0)), float(np.max(np.abs(b), initial=0.0)))
    if peak == 0:
        return 0.0
    a, b = a / peak, b / peak
    return float(safe_norm(a - b) / (safe_norm(a) + safe_norm(b)))


def _scalar(value) -> float:
    arr = np.asarray(value)
    if arr.size != 1:
        raise ValueError(f"f must return a scalar; got an array of shape {arr.shape}")
    return float(arr.reshape(()))
