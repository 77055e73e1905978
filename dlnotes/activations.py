"""Activation functions and softmax, with forward/backward pairs.

Chapter: 01-foundations/03-activations-and-softmax. Every function is stable for any
finite input: at |z| = 1000 the values are finite and equal to torch's.

Shapes: the elementwise functions accept any shape and return the same shape; ``softmax``
and ``log_softmax`` normalise along ``axis`` (default the last, i.e. over the classes of a
``(N, C)`` batch of logits, as ``torch.softmax(z, dim=-1)``); so do their forward/backward
pairs. ``softmax_jacobian`` turns probabilities ``(C,)`` into the matrix ``(C, C)``.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .validation import as_float_array, check_axis


def sigmoid(z) -> np.ndarray:
    """Logistic function sigma(z) = 1 / (1 + exp(-z)), elementwise.

    Computed through exp(-|z|), which never overflows: for z >= 0 it is 1 / (1 + e),
    for z < 0 it is e / (1 + e) with e = exp(z). Reference: ``torch.sigmoid``.
    """
    z = as_float_array(z, "z")
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def tanh(z) -> np.ndarray:
    """Hyperbolic tangent, elementwise (``np.tanh`` saturates to +-1 without overflow)."""
    return np.tanh(as_float_array(z, "z"))


def relu(z) -> np.ndarray:
    """Rectified linear unit max(z, 0), elementwise. Reference: ``torch.relu``."""
    z = as_float_array(z, "z")
    return np.maximum(z, 0.0)


def softmax(z, axis: int = -1) -> np.ndarray:
    """softmax(z)_i = exp(z_i - m) / sum_j exp(z_j - m) along ``axis``, m = max_j z_j.

    Subtracting the maximum leaves the result unchanged (it cancels between numerator
    and denominator) but keeps every exponent <= 0, so nothing overflows.
    Reference: ``torch.softmax(z, dim=axis)``.
    """
    z = as_float_array(z, "z")
    axis = check_axis(axis, z.ndim)
    shifted = z - np.max(z, axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(z, axis: int = -1) -> np.ndarray:
    """log softmax(z)_i = (z_i - m) - log sum_j exp(z_j - m) along ``axis``.

    Computed directly rather than as ``log(softmax(z))``, which would give -inf where the
    softmax underflows to 0. Reference: ``torch.log_softmax(z, dim=axis)``.
    """
    z = as_float_array(z, "z")
    axis = check_axis(axis, z.ndim)
    shifted = z - np.max(z, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


class ActivationCache(NamedTuple):
    """What an activation's backward needs: its input ``z`` and output ``out``."""
    z: np.ndarray
    out: np.ndarray


def sigmoid_forward(z) -> tuple[np.ndarray, ActivationCache]:
    """out = sigma(z); any shape."""
    z = as_float_array(z, "z")
    out = sigmoid(z)
    return out, ActivationCache(z, out)


def sigmoid_backward(dout, cache: ActivationCache) -> np.ndarray:
    """dz = dout * sigma(z) (1 - sigma(z)); ``dout`` has the shape of ``z``."""
    dout = _check_upstream(dout, cache)
    return dout * cache.out * (1.0 - cache.out)


def tanh_forward(z) -> tuple[np.ndarray, ActivationCache]:
    """out = tanh(z); any shape."""
    z = as_float_array(z, "z")
    out = np.tanh(z)
    return out, ActivationCache(z, out)


def tanh_backward(dout, cache: ActivationCache) -> np.ndarray:
    """dz = dout * (1 - tanh(z)^2)."""
    dout = _check_upstream(dout, cache)
    return dout * (1.0 - cache.out ** 2)


def relu_forward(z) -> tuple[np.ndarray, ActivationCache]:
    """out = max(z, 0); any shape."""
    z = as_float_array(z, "z")
    out = np.maximum(z, 0.0)
    return out, ActivationCache(z, out)


def relu_backward(dout, cache: ActivationCache) -> np.ndarray:
    """dz = dout where z > 0, else 0. At exactly z = 0 the gradient is 0, as in torch."""
    dout = _check_upstream(dout, cache)
    return np.where(cache.z > 0, dout, 0.0)


def _check_upstream(dout, cache: ActivationCache) -> np.ndarray:
    dout = as_float_array(dout, "dout")
    if dout.shape != cache.z.shape:
        raise ValueError(f"dout must have the forward input's shape {cache.z.shape}; "
                         f"got {dout.shape}")
    return dout


class LeakyReluCache(NamedTuple):
    """What leaky ReLU's backward needs: the input ``z`` and the slope used for z <= 0."""
    z: np.ndarray
    negative_slope: float


def leaky_relu(z, negative_slope: float = 0.01) -> np.ndarray:
    """Leaky ReLU: z where z > 0, negative_slope * z elsewhere; elementwise, any shape.

    Reference: ``torch.nn.functional.leaky_relu(z, negative_slope)`` (same default 0.01).
    """
    z = as_float_array(z, "z")
    slope = _check_slope(negative_slope)
    return np.where(z > 0, z, slope * z)


def leaky_relu_forward(z, negative_slope: float = 0.01) -> tuple[np.ndarray, LeakyReluCache]:
    """out = leaky_relu(z, negative_slope); any shape."""
    z = as_float_array(z, "z")
    slope = _check_slope(negative_slope)
    return np.where(z > 0, z, slope * z), LeakyReluCache(z, slope)


def leaky_relu_backward(dout, cache: LeakyReluCache) -> np.ndarray:
    """dz = dout where z > 0, else negative_slope * dout.

    At exactly z = 0 the slope of the left branch is used, as in torch (whose ReLU, the
    case negative_slope = 0, likewise gives 0 there).
    """
    dout = _check_upstream(dout, cache)
    return np.where(cache.z > 0, dout, cache.negative_slope * dout)


class SoftmaxCache(NamedTuple):
    """What softmax's (or log-softmax's) backward needs: the probabilities and the axis."""
    s: np.ndarray
    axis: int


def softmax_forward(z, axis: int = -1) -> tuple[np.ndarray, SoftmaxCache]:
    """s = softmax(z) along ``axis``; z: any shape with at least one axis, e.g. (N, C)."""
    z = as_float_array(z, "z")
    axis = check_axis(axis, z.ndim)
    s = softmax(z, axis=axis)
    return s, SoftmaxCache(s, axis)


def softmax_backward(dout, cache: SoftmaxCache) -> np.ndarray:
    """dz = s * (dout - sum_j dout_j s_j) along the axis: dout times diag(s) - s s^T.

    The Jacobian is symmetric, so this product is the same on either side; it never builds
    the (C, C) matrix. dout has the shape of s.
    """
    dout = _check_upstream_like(dout, cache.s)
    s, axis = cache.s, cache.axis
    return s * (dout - np.sum(dout * s, axis=axis, keepdims=True))


def log_softmax_forward(z, axis: int = -1) -> tuple[np.ndarray, SoftmaxCache]:
    """out = log_softmax(z) along ``axis``; the cache keeps s = exp(out)."""
    z = as_float_array(z, "z")
    axis = check_axis(axis, z.ndim)
    out = log_softmax(z, axis=axis)
    return out, SoftmaxCache(np.exp(out), axis)


def log_softmax_backward(dout, cache: SoftmaxCache) -> np.ndarray:
    """dz = dout - s * sum_j dout_j along the axis (d log s_i / d z_k = [i = k] - s_k)."""
    dout = _check_upstream_like(dout, cache.s)
    return dout - cache.s * np.sum(dout, axis=cache.axis, keepdims=True)


def softmax_jacobian(s) -> np.ndarray:
    """The Jacobian ds/dz = diag(s) - s s^T of softmax, from its output s = softmax(z).

    s: (C,) gives (C, C);  s: (N, C), one distribution per row, gives (N, C, C), the
    Jacobian of each row. Entry [i, k] is d s_i / d z_k = s_i ([i = k] - s_k).
    """
    s = as_float_array(s, "s")
    if s.ndim not in (1, 2) or s.shape[-1] == 0:
        raise ValueError(f"s must be (C,) or (N, C) softmax probabilities with C >= 1; "
                         f"got shape {s.shape}")
    if not np.all((s >= 0) & (s <= 1)):
        raise ValueError("s must hold probabilities in [0, 1] (the output of softmax); "
                         "got values outside that range or NaN")
    sums = s.sum(axis=-1)
    if not np.allclose(sums, 1.0, rtol=0, atol=1e-6):
        raise ValueError(f"each row of s must sum to 1 (the output of softmax); "
                         f"got sums as far as {np.max(np.abs(sums - 1.0)):.2e} from 1")
    eye = np.eye(s.shape[-1], dtype=s.dtype)
    return s[..., :, None] * eye - s[..., :, None] * s[..., None, :]   # (..., C, C)


def _check_slope(negative_slope) -> float:
    if isinstance(negative_slope, bool) or not isinstance(negative_slope, (int, float, np.number)):
        raise TypeError(f"negative_slope must be a real number; got "
                        f"{type(negative_slope).__name__}")
    slope = float(negative_slope)
    if not np.isfinite(slope):
        raise ValueError(f"negative_slope must be finite; got {slope!r}")
    return slope


def _check_upstream_like(dout, out: np.ndarray) -> np.ndarray:
    dout = as_float_array(dout, "dout")
    if dout.shape != out.shape:
        raise ValueError(f"dout must have the forward output's shape {out.shape}; "
                         f"got {dout.shape}")
    return dout
