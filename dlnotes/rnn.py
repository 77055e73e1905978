"""Vanilla recurrent network (Elman RNN): one step and a whole sequence, forward and backward.

Chapter: 03-sequence-models/02-rnn-and-bptt. Layouts follow ``torch.nn.RNN`` (one layer,
``batch_first=False``): a sequence is ``x: (T, N, D)``, a state ``h: (N, H)``, and

    h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh),   act = tanh (default) or relu,

with ``w_ih: (H, D)``, ``w_hh: (H, H)``, ``b_ih, b_hh: (H,)``. The same four arrays are used at
every step; ``rnn_backward`` is backpropagation through time (BPTT): the gradient that reaches
``h_t`` is the upstream ``dh[t]`` plus what flows back from step t + 1 through ``W_hh``.

The gated cells (GRU, LSTM and a GRU without reset gate) live in ``dlnotes.gated``; the
argument checks and kernels both modules use are in ``dlnotes.recurrent_common``.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .recurrent_common import check_recurrent_args, check_upstream, steps_matmul
from .validation import as_float, as_float_array, check_cache, safe_norm

_ACTIVATIONS = ("tanh", "relu")

__all__ = ["RNNCache", "RNNCellCache", "rnn_cell_forward", "rnn_cell_backward", "rnn_forward",
           "rnn_backward", "clip_grad_norm"]


class RNNCache(NamedTuple):
    """What ``rnn_backward`` needs from ``rnn_forward``."""
    x: np.ndarray      # (T, N, D)
    h0: np.ndarray     # (N, H)
    w_ih: np.ndarray   # (H, D)
    w_hh: np.ndarray   # (H, H)
    h: np.ndarray      # (T, N, H), the outputs h_1 .. h_T
    nonlinearity: str


def rnn_forward(x, h0, w_ih, w_hh, b_ih, b_hh,
                nonlinearity: str = "tanh") -> tuple[np.ndarray, RNNCache]:
    """Run the RNN over a whole sequence.

    x: (T, N, D);  h0: (N, H);  w_ih: (H, D);  w_hh: (H, H);  b_ih, b_hh: (H,)
    ->  h: (T, N, H) with h[t] = act(x[t] w_ih^T + b_ih + h[t-1] w_hh^T + b_hh), where h[t-1]
    means h0 at t = 0.
    The input projections of all T steps are one matrix product; only the recurrence is a loop.
    Reference: ``torch.nn.RNN(D, H, nonlinearity=...)`` output (its ``h_n`` is ``h[-1]``).
    The returned ``h`` is not the array the cache keeps (changing it leaves the backward as it
    was). NaN propagates, as in torch.
    """
    x, h0, w_ih, w_hh, b_ih, b_hh = check_recurrent_args(x, h0, w_ih, w_hh, b_ih, b_hh, 1,
                                                         "the RNN")
    act = _check_nonlinearity(nonlinearity)
    T, N, D = x.shape
    xw = steps_matmul(x, w_ih.T) + (b_ih + b_hh)   # (T, N, H): every input projection at once
    h = np.empty_like(xw)                    # (T, N, H)
    h_prev = h0
    for t in range(T):
        h_prev = act(xw[t] + h_prev @ w_hh.T)
        h[t] = h_prev
    return h.copy(), RNNCache(x, h0, w_ih, w_hh, h, nonlinearity)


def rnn_backward(dh, cache: RNNCache) -> tuple[np.ndarray, ...]:
    """Backpropagation through time for ``rnn_forward``.

    dh: (T, N, H), the gradient of the loss with respect to each output h[t]
    ->  dx: (T, N, D), dh0: (N, H), dw_ih: (H, D), dw_hh: (H, H), db_ih: (H,), db_hh: (H,).
    Going backwards, g_t = dh[t] + da_{t+1} w_hh and da_t = g_t * act'(h_t), with
    act' = 1 - h_t^2 for tanh and [h_t > 0] for relu; the weight gradients sum over t.
    """
    x, h0, w_ih, w_hh, h, nonlinearity = check_cache(cache, RNNCache, "rnn_backward")
    T, N, D = x.shape
    H = h0.shape[1]
    dh = check_upstream(dh, (T, N, H), "dh", "(T, N, H)")
    slope = (1.0 - h * h) if nonlinearity == "tanh" else (h > 0).astype(h.dtype)  # (T, N, H)
    da = np.empty_like(h)                    # (T, N, H): gradient of each pre-activation
    dh_next = np.zeros_like(h0)              # what step t + 1 sends back to h_t
    for t in range(T - 1, -1, -1):
        da[t] = (dh[t] + dh_next) * slope[t]
        dh_next = da[t] @ w_hh               # (N, H)
    h_prev = np.concatenate([h0[None], h[:-1]])   # (T, N, H): the state each step started from
    da2 = da.reshape(T * N, H)
    dx = steps_matmul(da, w_ih)              # (T, N, D)
    dw_ih = da2.T @ x.reshape(T * N, D)      # (H, D)
    dw_hh = da2.T @ h_prev.reshape(T * N, H)  # (H, H)
    db = da2.sum(axis=0)
    return dx, dh_next, dw_ih, dw_hh, db, db.copy()


class RNNCellCache(NamedTuple):
    """What ``rnn_cell_backward`` needs from ``rnn_cell_forward``."""
    x: np.ndarray       # (N, D)
    h_prev: np.ndarray  # (N, H)
    w_ih: np.ndarray    # (H, D)
    w_hh: np.ndarray    # (H, H)
    h_next: np.ndarray  # (N, H)
    nonlinearity: str


def rnn_cell_forward(x, h_prev, w_ih, w_hh, b_ih, b_hh,
                     nonlinearity: str = "tanh") -> tuple[np.ndarray, RNNCellCache]:
    """One step of the RNN: h_next = act(x w_ih^T + b_ih + h_prev w_hh^T + b_hh).

    x: (N, D);  h_prev: (N, H);  w_ih: (H, D);  w_hh: (H, H);  b_ih, b_hh: (H,)  ->  (N, H).
    Reference: ``torch.nn.RNNCell(D, H, nonlinearity=...)``.
    """
    x = as_float_array(x, "x", ndim=2, shape_hint="(N, D) for one time step")
    x3, h_prev, w_ih, w_hh, b_ih, b_hh = check_recurrent_args(x[None], h_prev, w_ih, w_hh,
                                                              b_ih, b_hh, 1, "the RNN cell")
    act = _check_nonlinearity(nonlinearity)
    h_next = act(x3[0] @ w_ih.T + b_ih + h_prev @ w_hh.T + b_hh)   # (N, H)
    return h_next.copy(), RNNCellCache(x3[0], h_prev, w_ih, w_hh, h_next, nonlinearity)


def rnn_cell_backward(dh_next, cache: RNNCellCache) -> tuple[np.ndarray, ...]:
    """Gradients of one RNN step, the building block of BPTT.

    dh_next: (N, H)  ->  dx: (N, D), dh_prev: (N, H), dw_ih: (H, D), dw_hh: (H, H),
    db_ih: (H,), db_hh: (H,).  With da = dh_next * act'(h_next):
    dx = da w_ih, dh_prev = da w_hh, dw_ih = da^T x, dw_hh = da^T h_prev, db = sum_n da.
    """
    x, h_prev, w_ih, w_hh, h_next, nonlinearity = check_cache(cache, RNNCellCache,
                                                               "rnn_cell_backward")
    dh_next = check_upstream(dh_next, h_next.shape, "dh_next", "(N, H)")
    slope = (1.0 - h_next * h_next) if nonlinearity == "tanh" else (h_next > 0)
    da = dh_next * slope                     # (N, H)
    db = da.sum(axis=0)
    return da @ w_ih, da @ w_hh, da.T @ x, da.T @ h_prev, db, db.copy()


def clip_grad_norm(grads: dict, max_norm: float) -> tuple[dict, float]:
    """Rescale a dict of gradients so that their joint L2 norm is at most ``max_norm``.

    norm = sqrt(sum_k ||grads[k]||^2);  every array is multiplied by
    min(1, max_norm / (norm + 1e-6)), so the direction is kept and only the length shrinks.
    Returns a new dict (the input is not modified) and the norm before clipping.
    Reference: ``torch.nn.utils.clip_grad_norm_`` (same formula, same 1e-6, and the same
    order: each array's norm, then the norm of those norms). The norms are overflow-safe, so
    gradients near 1e200 are clipped right (torch's norm overflows to inf there and zeroes
    them). NaN as in torch: a NaN anywhere makes the
    norm NaN and every clipped gradient NaN; an infinite entry gives the norm inf.
    """
    if not isinstance(grads, dict) or not grads:
        raise TypeError("grads must be a non-empty dict of name -> gradient array")
    max_norm = as_float(max_norm, "max_norm", positive=True, finite=False)  # inf: no clipping
    arrays = {k: as_float_array(g, f"grads[{k!r}]") for k, g in grads.items()}
    norms = np.array([safe_norm(g.astype(np.float64, copy=False)) for g in arrays.values()])
    norm = float(safe_norm(norms))
    if np.isnan(norm):
        scale = np.nan                     # torch: clamp(NaN, max=1) is NaN
    else:
        scale = min(1.0, max_norm / (norm + 1e-6))
    return {k: (g * scale).astype(g.dtype, copy=False) for k, g in arrays.items()}, norm


def _check_nonlinearity(nonlinearity: str):
    if nonlinearity not in _ACTIVATIONS:
        raise ValueError(f"nonlinearity must be one of {_ACTIVATIONS}; got {nonlinearity!r}")
    return np.tanh if nonlinearity == "tanh" else (lambda z: np.maximum(z, 0.0))
