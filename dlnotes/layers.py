"""Fully connected (dense) layer and inverted dropout, as forward/backward pairs.

Chapter: 01-foundations/05-training-deep-networks. Layouts follow ``torch.nn.Linear``:
examples are rows, ``w`` is ``(out_features, in_features)``.

Each forward returns a fresh array and keeps its own copies in its cache (so neither
``out *= 2`` nor a later change to ``x`` alters the backward); each backward accepts only its
own forward's cache type. NaN propagates as in torch.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .validation import as_float_array, as_probability, check_cache, check_rng

__all__ = ["DenseCache", "dense_forward", "dense_backward", "DropoutCache", "dropout_forward",
           "dropout_backward"]


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
    with np.errstate(over="ignore", invalid="ignore"):   # inf/NaN propagate, as in torch
        out = x @ w.T + b  # (N, M)
    return out, DenseCache(x.copy(), w.copy())


def dense_backward(dout, cache: DenseCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of the affine map: dx = dout @ w, dw = dout.T @ x, db = sum_n dout.

    dout: (N, M)  ->  dx: (N, D), dw: (M, D), db: (M,).
    """
    x, w = check_cache(cache, DenseCache, "dense_backward")
    dout = as_float_array(dout, "dout", ndim=2, shape_hint="(N, M)")
    expected = (x.shape[0], w.shape[0])
    if dout.shape != expected:
        raise ValueError(f"dout must be (N, M) = {expected}; got {dout.shape}")
    with np.errstate(over="ignore", invalid="ignore"):
        return dout @ w, dout.T @ x, dout.sum(axis=0)


class DropoutCache(NamedTuple):
    """The scaled keep-mask (``None`` when dropout was the identity) and the input's shape."""
    mask: np.ndarray | None
    shape: tuple


def dropout_forward(x, p: float, rng: np.random.Generator,
                    training: bool = True) -> tuple[np.ndarray, DropoutCache]:
    """Inverted dropout: zero each element with probability ``p``, scale survivors by 1/(1-p).

    The scaling keeps E[out] = x, so nothing changes at test time, where (``training=False``)
    the layer is the identity. ``p`` is the *drop* probability as in ``torch.nn.Dropout``
    (the notes' ``keep_prob`` is 1 - p); p = 1 drops everything.

    x: any shape;  rng: a NumPy Generator (the only source of randomness).
    """
    x = as_float_array(x, "x")
    p = as_probability(p, "p (drop probability)")
    check_rng(rng)
    if not isinstance(training, (bool, np.bool_)):
        raise TypeError(f"training must be True or False; got {training!r}")
    if not training or p == 0:
        return x.copy(), DropoutCache(None, x.shape)
    if p == 1:
        mask = np.zeros_like(x)
    else:
        mask = (rng.random(x.shape) >= p).astype(x.dtype) / (1.0 - p)
    with np.errstate(invalid="ignore"):          # inf * 0 = NaN where dropped, as in torch
        return x * mask, DropoutCache(mask, x.shape)


def dropout_backward(dout, cache: DropoutCache) -> np.ndarray:
    """dx = dout * mask (the same scaled mask as the forward pass); dout has x's shape.

    In evaluation mode (or with p = 0) the layer was the identity and dx = dout, but the
    shape of dout is still checked against the forward input's.
    """
    check_cache(cache, DropoutCache, "dropout_backward")
    dout = as_float_array(dout, "dout")
    if dout.shape != tuple(cache.shape):
        raise ValueError(f"dout must have the forward input's shape {tuple(cache.shape)}; "
                         f"got {dout.shape}")
    if cache.mask is None:
        return dout.copy()
    with np.errstate(invalid="ignore"):
        return dout * cache.mask
