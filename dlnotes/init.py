"""Weight initialisation with torch's fan conventions.

Chapter: 01-foundations/05-training-deep-networks. For a weight of shape
``(out, in, *kernel)`` torch defines fan_in = in * prod(kernel) and
fan_out = out * prod(kernel); a dense weight ``(out, in)`` has no kernel part.

A shape is a tuple (or list, or 1-D integer array) of ints, NumPy integers included; floats,
bools and strings are refused rather than truncated or read as numbers.
"""
from __future__ import annotations

import math

import numpy as np

from .validation import as_float, as_int, check_rng

__all__ = ["fans", "he_normal", "xavier_uniform"]


def fans(shape) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight shape, as ``torch.nn.init._calculate_fan_in_and_fan_out``."""
    shape = _check_shape(shape)
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def he_normal(shape, rng: np.random.Generator) -> np.ndarray:
    """Draw from N(0, 2 / fan_in): He et al. (2015) initialisation for ReLU layers.

    The factor 2 compensates for ReLU zeroing half of its inputs, so the variance of the
    activations stays the same from layer to layer (derived in the chapter).
    Same distribution as ``torch.nn.init.kaiming_normal_(w, nonlinearity="relu")``.
    """
    shape = _check_shape(shape)
    fan_in, _ = fans(shape)
    check_rng(rng)
    return rng.normal(0.0, math.sqrt(2.0 / fan_in), size=shape)


def xavier_uniform(shape, rng: np.random.Generator, gain: float = 1.0) -> np.ndarray:
    """Draw from U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot and Bengio, 2010).

    ``gain`` must be finite and >= 0 (a negative gain would swap the interval's ends, which
    torch refuses too). Same distribution as ``torch.nn.init.xavier_uniform_(w, gain)``.
    """
    shape = _check_shape(shape)
    fan_in, fan_out = fans(shape)
    check_rng(rng)
    gain = as_float(gain, "gain", nonnegative=True)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-bound, bound, size=shape)


def _check_shape(shape) -> tuple[int, ...]:
    if isinstance(shape, np.ndarray) and shape.ndim == 1:
        shape = tuple(shape.tolist())
    if not isinstance(shape, (tuple, list)):
        raise TypeError(f"shape must be a tuple of ints; got {type(shape).__name__} {shape!r}")
    shape = tuple(as_int(s, "every entry of shape") for s in shape)
    if len(shape) < 2:
        raise ValueError(f"a weight shape needs at least 2 dimensions (out, in, ...); got {shape}")
    if min(shape) < 1:
        raise ValueError(f"every dimension of shape must be positive; got {shape}")
    return shape

