"""Activation functions and softmax, with forward/backward pairs.

Chapter: 01-foundations/03-activations-and-softmax. Every function is stable for any
finite input: at |z| = 1000 the values are finite and equal to torch's.

Shapes: the elementwise functions accept any shape and return the same shape; ``softmax``
and ``log_softmax`` normalise along ``axis`` (default the last, i.e. over the classes of a
``(N, C)`` batch of logits, as ``torch.softmax(z, dim=-1)``).
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
