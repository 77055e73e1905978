"""Fully connected (dense) layer and inverted dropout, as forward/backward pairs.

Chapter: 01-foundations/05-training-deep-networks. Layouts follow ``torch.nn.Linear``:
examples are rows, ``w`` is ``(out_features, in_features)``.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .validation import as_float_array


class DenseCache(NamedTuple):
    """Inputs of ``dense_forward`` that its backward needs."""
    x: np.ndarray  # (N, D)
    w: np.ndarray  # (M, D)


def dense_forward(x, w, b) -> tuple[np.ndarray, DenseCache]:
    """Affine map out = x @ w.T + b.

    x: (N, D);  w: (M, D);  b: (M,)  ->  out: (N, M).
    Reference: ``torch.nn.functional.linear(x, w, b)``.
    """
    x = as_float_array(x, "x", ndim=2, shape_hint="(N, D)")
    w = as_float_array(w, "w", ndim=2, shape_hint="(M, D)")
    b = as_float_array(b, "b", ndim=1, shape_hint="(M,)")
    N, D = x.shape
    M = w.shape[0]
    if w.shape[1] != D:
        raise ValueError(f"w must be (M, D) with D={D} to match x {x.shape}; got {w.shape}")
    if b.shape != (M,):
        raise ValueError(f"b must be (M,) = ({M},) to match w {w.shape}; got {b.shape}")
    out = x @ w.T + b  # (N, M)
    return out, DenseCache(x, w)


def dense_backward(dout, cache: DenseCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of the affine map: dx = dout @ w, dw = dout.T @ x, db = sum_n dout.

    dout: (N, M)  ->  dx: (N, D), dw: (M, D), db: (M,).
    """
    x, w = cache
    dout = as_float_array(dout, "dout", ndim=2, shape_hint="(N, M)")
    expected = (x.shape[0], w.shape[0])
    if dout.shape != expected:
        raise ValueError(f"dout must be (N, M) = {expected}; got {dout.shape}")
    return dout @ w, dout.T @ x, dout.sum(axis=0)


class DropoutCache(NamedTuple):
    """The scaled keep-mask (``None`` when dropout was the identity)."""
    mask: np.ndarray | None


def dropout_forward(x, p: float, rng: np.random.Generator,
                    training: bool = True) -> tuple[np.ndarray, DropoutCache]:
    """Inverted dropout: zero each element with probability ``p``, scale survivors by 1/(1-p).

    The scaling keeps E[out] = x, so nothing changes at test time, where (``training=False``)
    the layer is the identity. ``p`` is the *drop* probability as in ``torch.nn.Dropout``
    (the notes' ``keep_prob`` is 1 - p); p = 1 drops everything.

    x: any shape;  rng: a NumPy Generator (the only source of randomness).
    """
    x = as_float_array(x, "x")
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating)) or not 0 <= p <= 1:
        raise ValueError(f"p (drop probability) must be a number in [0, 1]; got {p!r}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator; got {type(rng).__name__}")
    if not training or p == 0:
        return x.copy(), DropoutCache(None)
    if p == 1:
        mask = np.zeros_like(x)
    else:
        mask = (rng.random(x.shape) >= p).astype(x.dtype) / (1.0 - p)
    return x * mask, DropoutCache(mask)


def dropout_backward(dout, cache: DropoutCache) -> np.ndarray:
    """dx = dout * mask (the same scaled mask as the forward pass)."""
    dout = as_float_array(dout, "dout")
    if cache.mask is None:
        return dout.copy()
    if dout.shape != cache.mask.shape:
        raise ValueError(f"dout must have the forward input's shape {cache.mask.shape}; "
                         f"got {dout.shape}")
    return dout * cache.mask
