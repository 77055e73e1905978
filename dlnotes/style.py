"""Triplet loss for face embeddings and the costs of neural style transfer.

Chapter: 02-convolutional-networks/07-faces-and-style.

Activations of one image at one layer are ``(C, H, W)`` (torch's layout without the batch
axis); the notes use ``(n_H, n_W, n_C)``. Unrolling ``a.reshape(C, H * W)`` gives the same
``(n_C, n_H n_W)`` matrix as the notes' transpose-then-reshape, so the Gram matrix and the
costs are identical in both layouts. Each cost returns ``(cost, grad)`` with ``grad`` the
gradient with respect to the generated image's activations ``a_g``.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from .validation import as_float, as_float_array, check_cache, check_same_shape

__all__ = ["TripletCache", "triplet_loss_forward", "triplet_loss_backward", "triplet_loss",
           "GramCache", "gram_matrix_forward", "gram_matrix_backward", "gram_matrix",
           "content_cost", "style_layer_cost", "style_cost"]


class TripletCache(NamedTuple):
    """What the triplet loss's backward needs."""
    diff_ap: np.ndarray  # (N, D) anchor - positive
    diff_an: np.ndarray  # (N, D) anchor - negative
    diff_np: np.ndarray  # (N, D) negative - positive (= diff_ap - diff_an, without cancellation)
    active: np.ndarray   # (N,) bool: triplets whose hinge is strictly positive


def triplet_loss_forward(anchor, positive, negative,
                         margin: float = 0.2) -> tuple[float, TripletCache]:
    """Summed triplet loss with squared distances.

    L = sum_i max(||a_i - p_i||^2 - ||a_i - n_i||^2 + margin, 0).
    anchor, positive, negative: (N, D) embeddings;  margin >= 0  ->  a float.
    At a hinge of exactly 0 the gradient is 0 (as for ReLU). The hinge is computed as
    sum_j (n_j - p_j)(2 a_j - p_j - n_j), the same number as the difference of squared
    distances but without squaring: 1e200-sized embeddings give the right finite loss
    instead of inf - inf = NaN. NaN in an embedding makes the loss NaN (it propagates), and
    so does an infinite anchor (inf - inf), as in torch.
    Float32 embeddings give float32 gradients.
    Reference: Schroff et al., FaceNet (2015), eq. 3; ``torch.nn.functional.triplet_margin_loss``
    differs (unsquared distances, mean over the batch).
    """
    a = as_float_array(anchor, "anchor", ndim=2, shape_hint="(N, D)")
    p = as_float_array(positive, "positive", ndim=2, shape_hint="(N, D)")
    n = as_float_array(negative, "negative", ndim=2, shape_hint="(N, D)")
    check_same_shape(a, p, "anchor", "positive")
    check_same_shape(a, n, "anchor", "negative")
    m = as_float(margin, "margin", nonnegative=True)
    dtype = np.result_type(a, p, n)
    diff_ap, diff_an = (a - p).astype(dtype, copy=False), (a - n).astype(dtype, copy=False)
    # ||a - p||^2 - ||a - n||^2 = sum (n - p)(diff_ap + diff_an): nothing is squared, so
    # 1e200-sized embeddings do not overflow
    # (n - p from the inputs: diff_ap - diff_an would lose it next to a 1e300 anchor)
    diff_np = (n - p).astype(dtype, copy=False)
    hinge = np.sum(diff_np * (diff_ap + diff_an), axis=1) + m   # (N,)
    finite = np.isfinite(diff_ap).all(axis=1) & np.isfinite(diff_an).all(axis=1)
    if not finite.all():                      # inf or NaN: IEEE's answer, as torch gives it
        with np.errstate(invalid="ignore", over="ignore"):
            plain = np.sum(diff_ap ** 2, axis=1) - np.sum(diff_an ** 2, axis=1) + m
        hinge = np.where(finite, hinge, plain)
    active = ~(hinge <= 0)                    # NaN counts as active: it reaches the loss
    return float(np.sum(hinge[active])), TripletCache(diff_ap, diff_an, diff_np, active)


def triplet_loss_backward(dloss, cache: TripletCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of the summed triplet loss: for an active triplet,
    dL/da = 2 (n - p), dL/dp = -2 (a - p), dL/dn = 2 (a - n); inactive triplets get 0.

    dloss: a scalar (upstream gradient)  ->  (da, dp, dn), each (N, D), in the embeddings'
    dtype.
    """
    diff_ap, diff_an, diff_np, active = check_cache(cache, TripletCache, "triplet_loss_backward")
    if np.ndim(dloss) != 0:
        raise ValueError(f"dloss must be a scalar; got shape {np.shape(dloss)}")
    g = as_float(dloss, "dloss", finite=False)
    scale = (2.0 * g * active[:, None]).astype(diff_ap.dtype)   # (N, 1)
    d_pos = -scale * diff_ap
    d_neg = scale * diff_an
    return scale * diff_np, d_pos, d_neg        # da = 2 (n - p) = -(d_pos + d_neg)


def triplet_loss(anchor, positive, negative, margin: float = 0.2) -> tuple[float, np.ndarray]:
    """The summed triplet loss and its gradient with respect to ``anchor`` (N, D)."""
    loss, cache = triplet_loss_forward(anchor, positive, negative, margin)
    return loss, triplet_loss_backward(1.0, cache)[0]


class GramCache(NamedTuple):
    """The unrolled activations and their original shape."""
    a2d: np.ndarray   # (C, H W)
    shape: tuple      # (C, H, W)


def _check_activations(a, name: str) -> np.ndarray:
    arr = as_float_array(a, name, ndim=3, shape_hint="(C, H, W)")
    if 0 in arr.shape:
        raise ValueError(f"{name} must be non-empty; got shape {arr.shape}")
    return arr


def gram_matrix_forward(a) -> tuple[np.ndarray, GramCache]:
    """Unnormalised Gram matrix G = A A^T of the unrolled activations A = a.reshape(C, H W).

    G[i, j] = sum over positions of a[i] * a[j]: how strongly channels i and j fire together.
    a: (C, H, W)  ->  G: (C, C), symmetric.
    Reference: Gatys, Ecker and Bethge, "A neural algorithm of artistic style" (2015).
    """
    a = _check_activations(a, "a")
    C = a.shape[0]
    a2d = a.reshape(C, -1)   # (C, H W)
    return a2d @ a2d.T, GramCache(a2d, a.shape)


def gram_matrix_backward(dG, cache: GramCache) -> np.ndarray:
    """da = (dG + dG^T) A, reshaped to (C, H, W).  dG: (C, C) upstream gradient."""
    check_cache(cache, GramCache, "gram_matrix_backward")
    dG = as_float_array(dG, "dG", ndim=2, shape_hint="(C, C)")
    C = cache.shape[0]
    if dG.shape != (C, C):
        raise ValueError(f"dG must be (C, C) = ({C}, {C}); got {dG.shape}")
    return ((dG + dG.T) @ cache.a2d).reshape(cache.shape)


def gram_matrix(a) -> np.ndarray:
    """G = A A^T with A = a.reshape(C, H W).  a: (C, H, W)  ->  (C, C)."""
    return gram_matrix_forward(a)[0]


def content_cost(a_c, a_g) -> tuple[float, np.ndarray]:
    """J_content = sum (a_c - a_g)^2 / (4 n_H n_W n_C) and its gradient.

    The gradient with respect to a_g is (a_g - a_c) / (2 n_H n_W n_C).

    a_c: (C, H, W) content image's activations;  a_g: same shape, generated image's.
    NaN propagates; a cost above the largest float (differences near 1e200) is inf.
    """
    a_c = _check_activations(a_c, "a_c")
    a_g = _check_activations(a_g, "a_g")
    check_same_shape(a_c, a_g, "a_c", "a_g")
    size = a_c.size   # n_H n_W n_C
    diff = a_g - a_c
    return float(np.sum(diff ** 2) / (4 * size)), diff / (2 * size)


def style_layer_cost(a_s, a_g) -> tuple[float, np.ndarray]:
    """One layer's style cost and its gradient with respect to a_g.

    J = sum_ij (G_s - G_g)_ij^2 / (4 n_C^2 (n_H n_W)^2);
    dJ/da_g = (G_g - G_s) A_g / (n_C^2 (n_H n_W)^2), reshaped to (C, H, W)
    (the Gram backward (dG + dG^T) A with the symmetric dG = 2 (G_g - G_s) / (4 n_C^2 (n_H n_W)^2)).
    a_s: (C, H, W) style image's activations;  a_g: same shape. NaN propagates; activations
    near 1e200 have Gram entries above the largest float, and the cost is then inf or NaN.
    """
    return _style_layer_cost(a_s, a_g, "a_s", "a_g")


def _style_layer_cost(a_s, a_g, name_s: str, name_g: str) -> tuple[float, np.ndarray]:
    a_s = _check_activations(a_s, name_s)
    a_g = _check_activations(a_g, name_g)
    check_same_shape(a_s, a_g, name_s, name_g)
    C, H, W = a_s.shape
    norm = 4.0 * C ** 2 * (H * W) ** 2
    G_s = gram_matrix(a_s)
    G_g, cache = gram_matrix_forward(a_g)
    diff = G_g - G_s   # (C, C)
    return float(np.sum(diff ** 2) / norm), gram_matrix_backward(2.0 * diff / norm, cache)


def style_cost(acts_s: Sequence, acts_g: Sequence, weights: Sequence[float]) -> tuple[float, list]:
    """J_style = sum_l lambda_l J_style^[l] over several layers, with one gradient per layer.

    acts_s, acts_g: sequences of (C_l, H_l, W_l) activations;  weights: the lambda_l (finite
    numbers >= 0).
    """
    for name, seq in (("acts_s", acts_s), ("acts_g", acts_g), ("weights", weights)):
        if isinstance(seq, (str, bytes)) or not hasattr(seq, "__len__") or \
                (isinstance(seq, np.ndarray) and seq.ndim == 0):
            raise TypeError(f"{name} must be a sequence with one entry per layer; got "
                            f"{type(seq).__name__}")
    if np.ndim(weights) != 1:
        raise ValueError(f"weights must be a flat sequence of numbers, one per layer; got "
                         f"shape {np.shape(weights)}")
    if not (len(acts_s) == len(acts_g) == len(weights)) or len(weights) == 0:
        raise ValueError(f"acts_s, acts_g and weights need one entry per layer (at least one); "
                         f"got {len(acts_s)}, {len(acts_g)} and {len(weights)}")
    lams = [as_float(lam, f"weights[{i}]", nonnegative=True) for i, lam in enumerate(weights)]
    total, grads = 0.0, []
    for i, (a_s, a_g, lam) in enumerate(zip(acts_s, acts_g, lams, strict=True)):
        cost, grad = _style_layer_cost(a_s, a_g, f"acts_s[{i}]", f"acts_g[{i}]")
        total += lam * cost
        grads.append(lam * grad)
    return total, grads
