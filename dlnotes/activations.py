"""Activation functions and softmax, with forward/backward pairs.

Chapter: 01-foundations/03-activations-and-softmax. Every function is stable for any
finite input: at |z| = 1000 the values are finite and equal to torch's.

Shapes: the elementwise functions accept any shape and return the same shape; ``softmax``
and ``log_softmax`` normalise along ``axis`` (default the last, i.e. over the classes of a
``(N, C)`` batch of logits, as ``torch.softmax(z, dim=-1)``); so do their forward/backward
pairs. ``softmax_jacobian`` turns probabilities ``(C,)`` into the matrix ``(C, C)``.

Boundary rules (as everywhere in dlnotes): float32 in gives float32 out; NaN propagates as in
torch (a NaN input gives a NaN output, and the backward gives what torch's autograd gives);
each forward returns a fresh array and its cache keeps its own copies, so ``out *= 2`` does
not change a later backward; each forward has its own cache type, which its backward checks
(``sigmoid_backward`` refuses a ``TanhCache``).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .validation import as_float, as_float_array, check_axis, check_cache, check_distribution

__all__ = ["sigmoid", "tanh", "relu", "softmax", "log_softmax", "leaky_relu",
           "ActivationCache", "SigmoidCache", "TanhCache", "ReluCache", "LeakyReluCache",
           "SoftmaxCache", "LogSoftmaxCache",
           "sigmoid_forward", "sigmoid_backward", "tanh_forward", "tanh_backward",
           "relu_forward", "relu_backward", "leaky_relu_forward", "leaky_relu_backward",
           "softmax_forward", "softmax_backward", "log_softmax_forward", "log_softmax_backward",
           "softmax_jacobian"]


def sigmoid(z) -> np.ndarray:
    """Logistic function sigma(z) = 1 / (1 + exp(-z)), elementwise.

    Computed through exp(-|z|), which never overflows: for z >= 0 it is 1 / (1 + e),
    for z < 0 it is e / (1 + e) with e = exp(z). NaN gives NaN. Reference: ``torch.sigmoid``.
    """
    z = as_float_array(z, "z")
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def tanh(z) -> np.ndarray:
    """Hyperbolic tangent, elementwise (``np.tanh`` saturates to +-1 without overflow)."""
    return np.tanh(as_float_array(z, "z"))


def relu(z) -> np.ndarray:
    """Rectified linear unit max(z, 0), elementwise; NaN gives NaN. Reference: ``torch.relu``."""
    z = as_float_array(z, "z")
    return np.maximum(z, 0.0)


def softmax(z, axis: int = -1) -> np.ndarray:
    """softmax(z)_i = exp(z_i - m) / sum_j exp(z_j - m) along ``axis``, m = max_j z_j.

    Subtracting the maximum leaves the result unchanged (it cancels between numerator
    and denominator) but keeps every exponent <= 0, so nothing overflows. An empty input,
    e.g. of shape (3, 0), gives an empty result; a row holding NaN or +inf gives a row of
    NaN. Reference: ``torch.softmax(z, dim=axis)`` (the same in each of these cases).
    """
    z, axis = _check_logits(z, axis)
    if z.size == 0:
        return z.copy()
    with _nan_quietly():                 # a row holding inf or NaN becomes NaN, as in torch
        shifted = z - np.max(z, axis=axis, keepdims=True)
        e = np.exp(shifted)
        return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(z, axis: int = -1) -> np.ndarray:
    """log softmax(z)_i = (z_i - m) - log sum_j exp(z_j - m) along ``axis``.

    Computed directly rather than as ``log(softmax(z))``, which would give -inf where the
    softmax underflows to 0. Empty inputs and NaN as in :func:`softmax`.
    Reference: ``torch.log_softmax(z, dim=axis)``.
    """
    z, axis = _check_logits(z, axis)
    if z.size == 0:
        return z.copy()
    with _nan_quietly():
        shifted = z - np.max(z, axis=axis, keepdims=True)
        return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def _nan_quietly():
    """inf - inf, 0 * inf and overflow give NaN or inf as in torch, without a NumPy warning."""
    return np.errstate(over="ignore", invalid="ignore")


def _check_logits(z, axis) -> tuple[np.ndarray, int]:
    z = as_float_array(z, "z")
    if z.ndim == 0:
        raise ValueError("z must have at least one axis to normalise along; got a scalar")
    return z, check_axis(axis, z.ndim)


class ActivationCache(NamedTuple):
    """What an activation's backward needs: its input ``z`` and output ``out`` (copies).

    Each activation has its own subclass (``SigmoidCache``, ``TanhCache``, ``ReluCache``),
    and each backward accepts only its own, so the caches cannot be mixed up.
    """
    z: np.ndarray
    out: np.ndarray


class SigmoidCache(ActivationCache):
    """The cache of :func:`sigmoid_forward`."""


class TanhCache(ActivationCache):
    """The cache of :func:`tanh_forward`."""


class ReluCache(ActivationCache):
    """The cache of :func:`relu_forward`."""


def sigmoid_forward(z) -> tuple[np.ndarray, SigmoidCache]:
    """out = sigma(z); any shape. NaN propagates to out and to the gradient, as in torch."""
    z = as_float_array(z, "z")
    out = sigmoid(z)
    return out, SigmoidCache(z.copy(), out.copy())


def sigmoid_backward(dout, cache: SigmoidCache) -> np.ndarray:
    """dz = dout * sigma(z) (1 - sigma(z)); ``dout`` has the shape of ``z``."""
    check_cache(cache, SigmoidCache, "sigmoid_backward")
    dout = _check_upstream(dout, cache)
    with _nan_quietly():
        return dout * cache.out * (1.0 - cache.out)


def tanh_forward(z) -> tuple[np.ndarray, TanhCache]:
    """out = tanh(z); any shape. NaN propagates to out and to the gradient, as in torch."""
    z = as_float_array(z, "z")
    out = np.tanh(z)
    return out, TanhCache(z.copy(), out.copy())


def tanh_backward(dout, cache: TanhCache) -> np.ndarray:
    """dz = dout * (1 - tanh(z)^2)."""
    check_cache(cache, TanhCache, "tanh_backward")
    dout = _check_upstream(dout, cache)
    with _nan_quietly():
        return dout * (1.0 - cache.out ** 2)


def relu_forward(z) -> tuple[np.ndarray, ReluCache]:
    """out = max(z, 0); any shape (NaN gives NaN, as ``torch.relu``)."""
    z = as_float_array(z, "z")
    out = np.maximum(z, 0.0)
    return out, ReluCache(z.copy(), out.copy())


def relu_backward(dout, cache: ReluCache) -> np.ndarray:
    """dz = 0 where z <= 0, else dout. At exactly z = 0 the gradient is 0, as in torch.

    Where z is NaN, dout passes through unchanged: torch's rule is "zero where the output
    is <= 0", and NaN <= 0 is false. A NaN in dout reaches dz only where z > 0 (or is NaN).
    """
    check_cache(cache, ReluCache, "relu_backward")
    dout = _check_upstream(dout, cache)
    return np.where(cache.z <= 0, np.zeros((), dout.dtype), dout)


def _check_upstream(dout, cache) -> np.ndarray:
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

    NaN gives NaN. Reference: ``torch.nn.functional.leaky_relu(z, negative_slope)``
    (same default 0.01).
    """
    z = as_float_array(z, "z")
    slope = as_float(negative_slope, "negative_slope")
    with _nan_quietly():
        return np.where(z > 0, z, slope * z)


def leaky_relu_forward(z, negative_slope: float = 0.01) -> tuple[np.ndarray, LeakyReluCache]:
    """out = leaky_relu(z, negative_slope); any shape."""
    z = as_float_array(z, "z")
    slope = as_float(negative_slope, "negative_slope")
    with _nan_quietly():
        out = np.where(z > 0, z, slope * z)
    return out, LeakyReluCache(z.copy(), slope)


def leaky_relu_backward(dout, cache: LeakyReluCache) -> np.ndarray:
    """dz = dout where z > 0, else negative_slope * dout.

    At exactly z = 0 the slope of the left branch is used, as in torch (whose ReLU, the
    case negative_slope = 0, likewise gives 0 there). Where z is NaN the left branch is
    used too (NaN > 0 is false), again as in torch.
    """
    check_cache(cache, LeakyReluCache, "leaky_relu_backward")
    dout = _check_upstream(dout, cache)
    with _nan_quietly():
        return np.where(cache.z > 0, dout, cache.negative_slope * dout)


class SoftmaxCache(NamedTuple):
    """What softmax's backward needs: (a copy of) the probabilities and the axis."""
    s: np.ndarray
    axis: int


class LogSoftmaxCache(SoftmaxCache):
    """What log-softmax's backward needs: the probabilities s = exp(out) and the axis."""


def softmax_forward(z, axis: int = -1) -> tuple[np.ndarray, SoftmaxCache]:
    """s = softmax(z) along ``axis``; z: any shape with at least one axis, e.g. (N, C)."""
    z, axis = _check_logits(z, axis)
    s = softmax(z, axis=axis)
    return s, SoftmaxCache(s.copy(), axis)


def softmax_backward(dout, cache: SoftmaxCache) -> np.ndarray:
    """dz = s * (dout - sum_j dout_j s_j) along the axis: dout times diag(s) - s s^T.

    The Jacobian is symmetric, so this product is the same on either side; it never builds
    the (C, C) matrix. dout has the shape of s.
    """
    check_cache(cache, SoftmaxCache, "softmax_backward")
    dout = _check_upstream_like(dout, cache.s)
    s, axis = cache.s, cache.axis
    with _nan_quietly():
        return s * (dout - np.sum(dout * s, axis=axis, keepdims=True))


def log_softmax_forward(z, axis: int = -1) -> tuple[np.ndarray, LogSoftmaxCache]:
    """out = log_softmax(z) along ``axis``; the cache keeps s = exp(out)."""
    z, axis = _check_logits(z, axis)
    out = log_softmax(z, axis=axis)
    return out, LogSoftmaxCache(np.exp(out), axis)


def log_softmax_backward(dout, cache: LogSoftmaxCache) -> np.ndarray:
    """dz = dout - s * sum_j dout_j along the axis (d log s_i / d z_k = [i = k] - s_k)."""
    check_cache(cache, LogSoftmaxCache, "log_softmax_backward")
    dout = _check_upstream_like(dout, cache.s)
    with _nan_quietly():
        return dout - cache.s * np.sum(dout, axis=cache.axis, keepdims=True)


def softmax_jacobian(s) -> np.ndarray:
    """The Jacobian ds/dz = diag(s) - s s^T of softmax, from its output s = softmax(z).

    s: (C,) gives (C, C);  s: (N, C), one distribution per row, gives (N, C, C), the
    Jacobian of each row. Entry [i, k] is d s_i / d z_k = s_i ([i = k] - s_k).
    Each row must be a distribution: entries in [0, 1] (NaN refused), summing to 1 within
    a tolerance that follows the dtype (``validation.sum_tolerance``).
    """
    s = as_float_array(s, "s")
    if s.ndim not in (1, 2) or s.shape[-1] == 0:
        raise ValueError(f"s must be (C,) or (N, C) softmax probabilities with C >= 1; "
                         f"got shape {s.shape}")
    check_distribution(s, "s", axis=-1)
    eye = np.eye(s.shape[-1], dtype=s.dtype)
    return s[..., :, None] * eye - s[..., :, None] * s[..., None, :]   # (..., C, C)


def _check_upstream_like(dout, out: np.ndarray) -> np.ndarray:
    dout = as_float_array(dout, "dout")
    if dout.shape != out.shape:
        raise ValueError(f"dout must have the forward output's shape {out.shape}; "
                         f"got {dout.shape}")
    return dout
