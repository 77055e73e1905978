"""Attention: scaled dot-product and additive (Bahdanau) scores, as forward/backward pairs.

Chapter: 03-sequence-models/04-attention. Layouts follow
``torch.nn.functional.scaled_dot_product_attention``: queries ``(..., L, d)``, keys
``(..., S, d)``, values ``(..., S, dv)``, where ``...`` are batch (and head) dimensions shared
by all three. A boolean mask has torch's meaning: ``True`` marks a (query, key) pair that
*may* attend, ``False`` one that is blocked.

For one query row the computation is

    e_j = q . k_j / sqrt(d),   alpha = softmax(e),   out = sum_j alpha_j v_j,

and the backward pass uses the softmax Jacobian in its vector form
de_j = alpha_j (dalpha_j - sum_i alpha_i dalpha_i), so everything is a batched matmul.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .validation import as_float_array, as_int, check_cache

__all__ = ["AttentionCache", "AdditiveCache", "causal_mask", "padding_mask",
           "scaled_dot_product_attention", "scaled_dot_product_attention_backward",
           "additive_scores_forward", "additive_scores_backward"]


class AttentionCache(NamedTuple):
    """What the backward of scaled dot-product attention needs."""
    q: np.ndarray        # (..., L, d)
    k: np.ndarray        # (..., S, d)
    v: np.ndarray        # (..., S, dv)
    weights: np.ndarray  # (..., L, S), rows sum to 1 (0 where masked)
    out: np.ndarray      # (..., L, dv)
    scale: float         # 1 / sqrt(d)


def causal_mask(L: int, S: int | None = None) -> np.ndarray:
    """Boolean ``(L, S)`` mask letting query i attend to keys 0..i (lower triangle).

    This is the mask torch builds for ``is_causal=True``: ``ones(L, S).tril()``.
    """
    L = _check_size(L, "L")
    S = L if S is None else _check_size(S, "S")
    return np.tril(np.ones((L, S), dtype=bool))


def padding_mask(lengths, S: int) -> np.ndarray:
    """Boolean ``(N, S)`` mask, True for the first ``lengths[n]`` keys of sequence n.

    lengths: (N,) integers in [1, S]. Insert axes to broadcast it against ``(N, ..., L, S)``
    scores, e.g. ``padding_mask(lengths, S)[:, None, :]`` for ``(N, L, S)``.
    """
    S = _check_size(S, "S")
    lengths = np.asarray(lengths)
    if lengths.ndim != 1 or not np.issubdtype(lengths.dtype, np.integer):
        raise ValueError(f"lengths must be a 1-D integer array (N,); got {lengths.dtype} "
                         f"of shape {lengths.shape}")
    if np.any((lengths < 1) | (lengths > S)):
        raise ValueError(f"every length must lie in [1, S] = [1, {S}]; got {lengths.tolist()}")
    return np.arange(S) < lengths[:, None]


def scaled_dot_product_attention(q, k, v, mask=None) -> tuple[np.ndarray, AttentionCache]:
    """out = softmax(q k^T / sqrt(d) with blocked pairs at -inf) v.

    q: (..., L, d);  k: (..., S, d);  v: (..., S, dv);  mask: None or boolean, broadcastable
    to (..., L, S), True = may attend  ->  out: (..., L, dv); ``cache.weights``: (..., L, S).
    A query whose every key is blocked has no distribution to average with, so a mask
    with an all-False row raises ``ValueError`` (torch would return NaN there).
    NaN and inf propagate to the output as in torch (a score of inf makes its row NaN).
    The returned ``out`` is not the array the cache keeps.
    Reference: ``torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)``;
    Vaswani et al. (2017), "Attention is all you need", eq. (1).
    """
    q = as_float_array(q, "q")
    k = as_float_array(k, "k")
    v = as_float_array(v, "v")
    for name, a, hint in (("q", q, "(..., L, d)"), ("k", k, "(..., S, d)"),
                          ("v", v, "(..., S, dv)")):
        if a.ndim < 2:
            raise ValueError(f"{name} must have at least 2 dimensions {hint}; got {a.shape}")
    *batch, L, d = q.shape
    S = k.shape[-2]
    if k.shape != (*batch, S, d):
        raise ValueError(f"k must be (..., S, d) with batch dims {tuple(batch)} and d={d} "
                         f"to match q {q.shape}; got {k.shape}")
    if v.shape[:-1] != (*batch, S):
        raise ValueError(f"v must be (..., S, dv) with leading dims {(*batch, S)} to match "
                         f"k {k.shape}; got {v.shape}")
    if L == 0 or S == 0 or d == 0:
        raise ValueError(f"L, S and d must be positive; got L={L}, S={S}, d={d}")
    scale = 1.0 / np.sqrt(d)
    scores = np.matmul(q, np.swapaxes(k, -1, -2))  # (..., L, S)
    scores *= scale
    if mask is not None:
        mask = _check_mask(mask, scores.shape)
        scores[~np.broadcast_to(mask, scores.shape)] = -np.inf
    scores -= scores.max(axis=-1, keepdims=True)   # the largest allowed score becomes 0
    weights = np.exp(scores, out=scores)           # exp(-inf) = 0 for blocked pairs
    weights /= weights.sum(axis=-1, keepdims=True)
    out = np.matmul(weights, v)                    # (..., L, dv)
    return out.copy(), AttentionCache(q, k, v, weights, out, scale)


def scaled_dot_product_attention_backward(dout, cache: AttentionCache):
    """Gradients (dq, dk, dv) of scaled dot-product attention.

    dout: (..., L, dv)  ->  dq: (..., L, d), dk: (..., S, d), dv: (..., S, dv), from
    dv = A^T dout,  dA = dout v^T,  dE = A * (dA - rowsum(A * dA)),
    dq = dE k / sqrt(d),  dk = dE^T q / sqrt(d)   (A = weights, E = scaled scores).
    The row sums use rowsum(A * dA)_i = sum_j A_ij dout_i . v_j = dout_i . out_i, an (L, dv)
    product instead of an (L, S) one (the trick FlashAttention's backward relies on).
    Blocked pairs have A = 0, hence dE = 0: no gradient flows through them.
    """
    q, k, v, weights, out, scale = check_cache(cache, AttentionCache,
                                               "scaled_dot_product_attention_backward")
    expected = (*q.shape[:-1], v.shape[-1])
    dout = as_float_array(dout, "dout")
    if dout.shape != expected:
        raise ValueError(f"dout must be (..., L, dv) = {expected}; got {dout.shape}")
    dv = np.matmul(np.swapaxes(weights, -1, -2), dout)        # (..., S, dv)
    dweights = np.matmul(dout, np.swapaxes(v, -1, -2))         # (..., L, S)
    dweights -= np.sum(dout * out, axis=-1, keepdims=True)    # (..., L, 1) broadcast over S
    dscores = dweights * weights
    dscores *= scale
    dq = np.matmul(dscores, k)                                 # (..., L, d)
    dk = np.matmul(np.swapaxes(dscores, -1, -2), q)            # (..., S, d)
    return dq, dk, dv


class AdditiveCache(NamedTuple):
    """What the backward of additive attention scores needs."""
    q: np.ndarray       # (..., L, dq)
    k: np.ndarray       # (..., S, dk)
    w_q: np.ndarray     # (H, dq)
    w_k: np.ndarray     # (H, dk)
    w_v: np.ndarray     # (H,)
    hidden: np.ndarray  # (..., L, S, H) = tanh(q w_q^T + k w_k^T)


def additive_scores_forward(q, k, w_q, w_k, w_v) -> tuple[np.ndarray, AdditiveCache]:
    """Bahdanau scores e_ij = w_v . tanh(w_q q_i + w_k k_j), a one-hidden-layer network.

    q: (..., L, dq);  k: (..., S, dk);  w_q: (H, dq);  w_k: (H, dk);  w_v: (H,)
    ->  scores: (..., L, S). Queries and keys may have different sizes; both are projected
    to H hidden units. Feed the scores to a softmax over S to get attention weights.
    Reference: Bahdanau, Cho and Bengio (2015), appendix A.1.2 (their v_a, W_a, U_a).
    """
    q = as_float_array(q, "q")
    k = as_float_array(k, "k")
    w_q = as_float_array(w_q, "w_q", ndim=2, shape_hint="(H, dq)")
    w_k = as_float_array(w_k, "w_k", ndim=2, shape_hint="(H, dk)")
    w_v = as_float_array(w_v, "w_v", ndim=1, shape_hint="(H,)")
    if q.ndim < 2 or k.ndim != q.ndim:
        raise ValueError(f"q (..., L, dq) and k (..., S, dk) need the same rank >= 2; "
                         f"got {q.shape} and {k.shape}")
    if q.shape[:-2] != k.shape[:-2]:
        raise ValueError(f"q and k must share batch dims; got {q.shape} and {k.shape}")
    H, dq = w_q.shape
    if H == 0:
        raise ValueError(f"w_q must be (H, dq) with H >= 1 hidden units; got {w_q.shape}")
    if dq != q.shape[-1]:
        raise ValueError(f"w_q must be (H, dq) with dq={q.shape[-1]}; got {w_q.shape}")
    if w_k.shape != (H, k.shape[-1]):
        raise ValueError(f"w_k must be (H, dk) = {(H, k.shape[-1])} (H from w_q, dk from k); "
                         f"got {w_k.shape}")
    if w_v.shape != (H,):
        raise ValueError(f"w_v must be (H,) = ({H},); got {w_v.shape}")
    pq = np.matmul(q, w_q.T)                                  # (..., L, H)
    pk = np.matmul(k, w_k.T)                                  # (..., S, H)
    hidden = np.tanh(pq[..., :, None, :] + pk[..., None, :, :])  # (..., L, S, H)
    scores = np.matmul(hidden, w_v)                           # (..., L, S)
    return scores, AdditiveCache(q, k, w_q, w_k, w_v, hidden)


def additive_scores_backward(dscores, cache: AdditiveCache):
    """Gradients (dq, dk, dw_q, dw_k, dw_v) of :func:`additive_scores_forward`.

    dscores: (..., L, S). With a = tanh(pre): dpre = dscores w_v (1 - a^2); dq = (sum_j dpre) w_q,
    dk = (sum_i dpre) w_k, dw_q = sum dpq^T q, dw_k = sum dpk^T k, dw_v = sum dscores a.
    """
    q, k, w_q, w_k, w_v, hidden = check_cache(cache, AdditiveCache, "additive_scores_backward")
    dscores = as_float_array(dscores, "dscores")
    expected = hidden.shape[:-1]
    if dscores.shape != expected:
        raise ValueError(f"dscores must be (..., L, S) = {expected}; got {dscores.shape}")
    H = w_v.shape[0]
    dw_v = hidden.reshape(-1, H).T @ dscores.reshape(-1)          # (H,)
    dpre = dscores[..., None] * w_v * (1.0 - hidden ** 2)    # (..., L, S, H)
    dpq = dpre.sum(axis=-2)                                   # (..., L, H)
    dpk = dpre.sum(axis=-3)                                   # (..., S, H)
    dq = np.matmul(dpq, w_q)                                  # (..., L, dq)
    dk = np.matmul(dpk, w_k)                                  # (..., S, dk)
    dw_q = dpq.reshape(-1, H).T @ q.reshape(-1, q.shape[-1])  # (H, dq)
    dw_k = dpk.reshape(-1, H).T @ k.reshape(-1, k.shape[-1])  # (H, dk)
    return dq, dk, dw_q, dw_k, dw_v


def _check_mask(mask, scores_shape: tuple) -> np.ndarray:
    mask = np.asarray(mask)
    if mask.dtype != bool:
        raise TypeError(f"mask must be boolean (True = may attend); got dtype {mask.dtype}. "
                        "An additive float mask is not supported")
    try:
        shape = np.broadcast_shapes(mask.shape, scores_shape)
    except ValueError:
        shape = None
    if shape != scores_shape:
        raise ValueError(f"mask of shape {mask.shape} does not broadcast to the scores' "
                         f"shape (..., L, S) = {scores_shape}")
    allowed = np.broadcast_to(mask, scores_shape).any(axis=-1)   # (..., L)
    if not allowed.all():
        row = tuple(int(i) for i in np.argwhere(~allowed)[0])
        raise ValueError(f"mask blocks every key for query {row} (index into (..., L)): "
                         "the softmax over no keys is undefined")
    return mask


def _check_size(value, name: str) -> int:
    return as_int(value, name, minimum=1)
