"""Weight initialisation with torch's fan conventions.

Chapter: 01-foundations/05-training-deep-networks. For a weight of shape
``(out, in, *kernel)`` torch defines fan_in = in * prod(kernel) and
fan_out = out * prod(kernel); a dense weight ``(out, in)`` has no kernel part.
"""
from __future__ import annotations

import math

import numpy as np


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
    fan_in, _ = fans(shape)
    _check_rng(rng)
    return rng.normal(0.0, math.sqrt(2.0 / fan_in), size=tuple(shape))


def xavier_uniform(shape, rng: np.random.Generator, gain: float = 1.0) -> np.ndarray:
    """Draw from U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot and Bengio, 2010).

    Same distribution as ``torch.nn.init.xavier_uniform_(w, gain)``.
    """
    fan_in, fan_out = fans(shape)
    _check_rng(rng)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-bound, bound, size=tuple(shape))


def _check_shape(shape) -> tuple[int, ...]:
    try:
        shape = tuple(int(s) for s in shape)
    except TypeError:
        raise TypeError(f"shape must be a tuple of ints; got {shape!r}") from None
    if len(shape) < 2:
        raise ValueError(f"a weight shape needs at least 2 dimensions (out, in, ...); got {shape}")
    if min(shape) < 1:
        raise ValueError(f"every dimension of shape must be positive; got {shape}")
    return shape


def _check_rng(rng) -> None:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator; got {type(rng).__name__}")
