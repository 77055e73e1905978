"""Gated recurrent cells: GRU, LSTM and a simplified GRU, forward and backward.

Chapter: 03-sequence-models/03-gru-and-lstm. Layouts and gate orders follow ``torch.nn.GRU``
and ``torch.nn.LSTM`` (one layer, ``batch_first=False``): a sequence is ``x: (T, N, D)``, a state
``(N, H)``, and the gate blocks are stacked along the rows of ``w_ih: (G*H, D)``,
``w_hh: (G*H, H)``, ``b_ih, b_hh: (G*H,)``, with sigma the logistic function:

GRU (G = 3, blocks r, z, n)::

    r = sigma(x W_ir^T + b_ir + h W_hr^T + b_hr)          reset gate
    z = sigma(x W_iz^T + b_iz + h W_hz^T + b_hz)          update gate (weight of the OLD state)
    n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn))     candidate; r acts after W_hn
    h' = (1 - z) * n + z * h

LSTM (G = 4, blocks i, f, g, o)::

    i, f, o = sigma(...),  g = tanh(...)   each of x W_i*^T + b_i* + h W_h*^T + b_h*
    c' = f * c + i * g,    h' = o * tanh(c')

Simplified GRU (G = 2, blocks u, c; no reset gate; u weighs the NEW candidate, as the notes'
update gate does)::

    u = sigma(x W_iu^T + b_iu + h W_hu^T + b_hu),   c~ = tanh(x W_ic^T + b_ic + h W_hc^T + b_hc)
    h' = u * c~ + (1 - u) * h

Each forward has its own cache type (a cell's is not a sequence's), which its backward checks;
NaN propagates through every layer, as in torch.

Every ``*_forward`` projects the inputs of all T steps in one matrix product and makes one
matrix product per step for the recurrence; every ``*_backward`` makes one per step and forms
the weight gradients after the loop, as products over all steps at once.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .recurrent_common import check_recurrent_args, check_upstream, gate_sigmoid, steps_matmul
from .validation import as_float_array, check_cache

__all__ = ["GRUCache", "GRUCellCache", "LSTMCache", "LSTMCellCache", "SimpleGRUCache",
           "gru_forward", "gru_backward", "gru_cell_forward", "gru_cell_backward",
           "lstm_forward", "lstm_backward", "lstm_cell_forward", "lstm_cell_backward",
           "simple_gru_forward", "simple_gru_backward"]


# ---------------------------------------------------------------- GRU (torch.nn.GRU)

class GRUCache(NamedTuple):
    """What ``gru_backward`` needs from ``gru_forward``."""
    x: np.ndarray       # (T, N, D)
    h_prev: np.ndarray  # (T, N, H): the state each step started from (h0, h_1, .., h_{T-1})
    w_ih: np.ndarray    # (3H, D)
    w_hh: np.ndarray    # (3H, H)
    act: np.ndarray     # (T, N, 3H): r, z, n after their nonlinearities
    hn: np.ndarray      # (T, N, H): h W_hn^T + b_hn, the term the reset gate scales


class GRUCellCache(GRUCache):
    """What ``gru_cell_backward`` needs: a :class:`GRUCache` whose time axis has length 1."""


def gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh) -> tuple[np.ndarray, GRUCache]:
    """Run a GRU over a sequence (equations in the module docstring).

    x: (T, N, D);  h0: (N, H);  w_ih: (3H, D);  w_hh: (3H, H);  b_ih, b_hh: (3H,)
    ->  h: (T, N, H).  Reference: output of ``torch.nn.GRU(D, H)``.
    """
    x, h0, w_ih, w_hh, b_ih, b_hh = check_recurrent_args(x, h0, w_ih, w_hh, b_ih, b_hh, 3,
                                                         "a GRU (gates r, z, n)")
    T, N, D = x.shape
    H = h0.shape[1]
    xw = steps_matmul(x, w_ih.T) + b_ih      # (T, N, 3H): all input projections at once
    h = np.empty((T, N, H), dtype=xw.dtype)
    act = np.empty_like(xw)
    hn = np.empty_like(h)
    h_t = h0
    for t in range(T):
        hw = h_t @ w_hh.T + b_hh             # (N, 3H): the one matrix product of the step
        act[t, :, :2 * H] = gate_sigmoid(xw[t, :, :2 * H] + hw[:, :2 * H])      # r, z
        r, z = act[t, :, :H], act[t, :, H:2 * H]
        hn[t] = hw[:, 2 * H:]
        n = act[t, :, 2 * H:] = np.tanh(xw[t, :, 2 * H:] + r * hn[t])
        h_t = h[t] = n + z * (h_t - n)       # (1 - z) n + z h
    h_prev = np.concatenate([h0[None], h[:-1]])
    return h, GRUCache(x, h_prev, w_ih, w_hh, act, hn)


def gru_backward(dh, cache: GRUCache) -> tuple[np.ndarray, ...]:
    """BPTT for ``gru_forward``.

    dh: (T, N, H)  ->  dx: (T, N, D), dh0: (N, H), dw_ih: (3H, D), dw_hh: (3H, H),
    db_ih: (3H,), db_hh: (3H,).  Per step, with g the total gradient reaching h_t:
    da_n = g (1 - z)(1 - n^2),  da_z = g (h_prev - n) z (1 - z),  da_r = da_n hn r (1 - r);
    the input side receives [da_r, da_z, da_n], the hidden side [da_r, da_z, r da_n].
    """
    check_cache(cache, GRUCache, "gru_backward")
    T, N = cache.x.shape[:2]
    return _gru_backward(check_upstream(dh, (T, N, cache.h_prev.shape[2]), "dh", "(T, N, H)"),
                         cache)


def _gru_backward(dh, cache):
    x, h_prev, w_ih, w_hh, act, hn = cache
    H = h_prev.shape[2]
    T = x.shape[0]
    slope = act * (1.0 - act)                # sigma' for r and z ...
    slope[..., 2 * H:] = 1.0 - act[..., 2 * H:] ** 2   # ... tanh' for n
    dxw = np.empty_like(act)                 # (T, N, 3H): gradient of x W_ih^T + b_ih
    dhw = np.empty_like(act)                 # (T, N, 3H): gradient of h W_hh^T + b_hh
    dh_next = np.zeros_like(h_prev[0])
    for t in range(T - 1, -1, -1):
        dh_next = _gru_step_backward(dh[t] + dh_next, t, h_prev, act, slope, hn, dxw, dhw, w_hh)
    dw_ih, dw_hh, db_ih, db_hh = _weight_grads(dxw, dhw, x, h_prev)
    return steps_matmul(dxw, w_ih), dh_next, dw_ih, dw_hh, db_ih, db_hh


def gru_cell_forward(x, h_prev, w_ih, w_hh, b_ih, b_hh) -> tuple[np.ndarray, GRUCellCache]:
    """One GRU step.  x: (N, D);  h_prev: (N, H)  ->  h_next: (N, H).

    Reference: ``torch.nn.GRUCell(D, H)``.
    """
    x = as_float_array(x, "x", ndim=2, shape_hint="(N, D) for one time step")
    h, cache = gru_forward(x[None], h_prev, w_ih, w_hh, b_ih, b_hh)
    return h[0], GRUCellCache(*cache)


def gru_cell_backward(dh_next, cache: GRUCellCache) -> tuple[np.ndarray, ...]:
    """Gradients of one GRU step: dh_next: (N, H)  ->  (dx, dh_prev, dw_ih, dw_hh, db_ih, db_hh)."""
    check_cache(cache, GRUCellCache, "gru_cell_backward")
    dh_next = check_upstream(dh_next, cache.h_prev.shape[1:], "dh_next", "(N, H)")
    dx, *rest = _gru_backward(dh_next[None], cache)
    return (dx[0], *rest)


def _gru_step_backward(g, t, h_prev, act, slope, hn, dxw, dhw, w_hh):
    H = hn.shape[2]
    r, z, n = act[t, :, :H], act[t, :, H:2 * H], act[t, :, 2 * H:]
    da_n = g * (1.0 - z) * slope[t, :, 2 * H:]
    dxw[t, :, 2 * H:] = da_n
    dxw[t, :, H:2 * H] = g * (h_prev[t] - n) * slope[t, :, H:2 * H]
    dxw[t, :, :H] = da_n * hn[t] * slope[t, :, :H]
    dhw[t, :, :2 * H] = dxw[t, :, :2 * H]
    dhw[t, :, 2 * H:] = da_n * r
    return g * z + dhw[t] @ w_hh             # (N, H): to h_{t-1}


# ---------------------------------------------------------------- LSTM (torch.nn.LSTM)

class LSTMCache(NamedTuple):
    """What ``lstm_backward`` needs from ``lstm_forward``."""
    x: np.ndarray       # (T, N, D)
    h_prev: np.ndarray  # (T, N, H): h0, h_1, .., h_{T-1}
    c_prev: np.ndarray  # (T, N, H): c0, c_1, .., c_{T-1}
    w_ih: np.ndarray    # (4H, D)
    w_hh: np.ndarray    # (4H, H)
    act: np.ndarray     # (T, N, 4H): i, f, g, o after their nonlinearities
    tanh_c: np.ndarray  # (T, N, H): tanh(c_t)
    c: np.ndarray       # (T, N, H): the cell states c_1 .. c_T


class LSTMCellCache(LSTMCache):
    """What ``lstm_cell_backward`` needs: an :class:`LSTMCache` whose time axis has length 1."""


def lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh) -> tuple[np.ndarray, LSTMCache]:
    """Run an LSTM over a sequence (equations in the module docstring).

    x: (T, N, D);  h0, c0: (N, H);  w_ih: (4H, D);  w_hh: (4H, H);  b_ih, b_hh: (4H,)
    ->  h: (T, N, H); the cell states are ``cache.c``.  Reference: ``torch.nn.LSTM(D, H)``.
    """
    x, h0, w_ih, w_hh, b_ih, b_hh = check_recurrent_args(x, h0, w_ih, w_hh, b_ih, b_hh, 4,
                                                         "an LSTM (gates i, f, g, o)")
    c0 = as_float_array(c0, "c0", ndim=2, shape_hint="(N, H)").astype(x.dtype, copy=False)
    if c0.shape != h0.shape:
        raise ValueError(f"c0 must be (N, H) = {h0.shape} like h0; got {c0.shape}")
    T, N, D = x.shape
    H = h0.shape[1]
    xw = steps_matmul(x, w_ih.T) + (b_ih + b_hh)   # (T, N, 4H): all steps at once
    act = np.empty_like(xw)
    h = np.empty((T, N, H), dtype=xw.dtype)
    c = np.empty_like(h)
    tanh_c = np.empty_like(h)
    h_t, c_t = h0, c0
    for t in range(T):
        a = xw[t] + h_t @ w_hh.T             # (N, 4H): the one matrix product of the step
        act[t] = gate_sigmoid(a)
        act[t, :, 2 * H:3 * H] = np.tanh(a[:, 2 * H:3 * H])
        i, f, g, o = (act[t, :, k * H:(k + 1) * H] for k in range(4))
        c_t = c[t] = f * c_t + i * g
        tanh_c[t] = np.tanh(c_t)
        h_t = h[t] = o * tanh_c[t]
    h_prev = np.concatenate([h0[None], h[:-1]])
    c_prev = np.concatenate([c0[None], c[:-1]])
    return h, LSTMCache(x, h_prev, c_prev, w_ih, w_hh, act, tanh_c, c)


def lstm_backward(dh, cache: LSTMCache) -> tuple[np.ndarray, ...]:
    """BPTT for ``lstm_forward``.

    dh: (T, N, H)  ->  dx: (T, N, D), dh0: (N, H), dc0: (N, H), dw_ih: (4H, D), dw_hh: (4H, H),
    db_ih: (4H,), db_hh: (4H,).  Per step, with g_h and g_c the gradients reaching h_t and c_t:
    dc = g_c + g_h o (1 - tanh^2 c_t),  d[i, f, g, o] = [dc g, dc c_prev, dc i, g_h tanh c_t],
    each times its activation's slope;  dc_prev = dc f,  dh_prev = da w_hh.
    """
    check_cache(cache, LSTMCache, "lstm_backward")
    T, N, D = cache.x.shape
    H = cache.h_prev.shape[2]
    dh = check_upstream(dh, (T, N, H), "dh", "(T, N, H)")
    return _lstm_backward(dh, np.zeros((N, H), dtype=cache.c.dtype), cache)


def lstm_cell_forward(x, h_prev, c_prev, w_ih, w_hh, b_ih,
                      b_hh) -> tuple[np.ndarray, np.ndarray, LSTMCellCache]:
    """One LSTM step.  x: (N, D);  h_prev, c_prev: (N, H)  ->  h_next, c_next: (N, H), cache.

    Reference: ``torch.nn.LSTMCell(D, H)``, which also returns the pair (h', c').
    """
    x = as_float_array(x, "x", ndim=2, shape_hint="(N, D) for one time step")
    h, cache = lstm_forward(x[None], h_prev, c_prev, w_ih, w_hh, b_ih, b_hh)
    return h[0], cache.c[0].copy(), LSTMCellCache(*cache)


def lstm_cell_backward(dh_next, dc_next, cache: LSTMCellCache) -> tuple[np.ndarray, ...]:
    """Gradients of one LSTM step from the gradients reaching h_next and c_next (both (N, H)).

    ->  dx: (N, D), dh_prev, dc_prev: (N, H), dw_ih: (4H, D), dw_hh: (4H, H), db_ih, db_hh: (4H,).
    """
    check_cache(cache, LSTMCellCache, "lstm_cell_backward")
    shape = cache.h_prev.shape[1:]
    dh_next = check_upstream(dh_next, shape, "dh_next", "(N, H)")
    dc_next = check_upstream(dc_next, shape, "dc_next", "(N, H)")
    dx, *rest = _lstm_backward(dh_next[None], dc_next, cache)
    return (dx[0], *rest)


def _lstm_backward(dh, dc_last, cache: LSTMCache):
    x, h_prev, c_prev, w_ih, w_hh, act, tanh_c, c = cache
    T, N, D = x.shape
    H = h_prev.shape[2]
    slope = act * (1.0 - act)                # sigma' for i, f, o ...
    slope[..., 2 * H:3 * H] = 1.0 - act[..., 2 * H:3 * H] ** 2   # ... tanh' for g
    da = np.empty_like(act)                  # (T, N, 4H): gradient of the gate pre-activations
    dh_next, dc_next = np.zeros_like(h_prev[0]), dc_last
    for t in range(T - 1, -1, -1):
        g_h = dh[t] + dh_next
        i, f, g, o = (act[t, :, k * H:(k + 1) * H] for k in range(4))
        dc = dc_next + g_h * o * (1.0 - tanh_c[t] ** 2)
        da[t, :, :H] = dc * g
        da[t, :, H:2 * H] = dc * c_prev[t]
        da[t, :, 2 * H:3 * H] = dc * i
        da[t, :, 3 * H:] = g_h * tanh_c[t]
        da[t] *= slope[t]
        dc_next = dc * f
        dh_next = da[t] @ w_hh               # (N, H)
    dw_ih, dw_hh, db_ih, db_hh = _weight_grads(da, da, x, h_prev)
    return steps_matmul(da, w_ih), dh_next, dc_next, dw_ih, dw_hh, db_ih, db_hh


# ---------------------------------------------------------------- the GRU without a reset gate

class SimpleGRUCache(NamedTuple):
    """What ``simple_gru_backward`` needs from ``simple_gru_forward``."""
    x: np.ndarray       # (T, N, D)
    h_prev: np.ndarray  # (T, N, H)
    w_ih: np.ndarray    # (2H, D)
    w_hh: np.ndarray    # (2H, H)
    act: np.ndarray     # (T, N, 2H): u and the candidate c~


def simple_gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh) -> tuple[np.ndarray, SimpleGRUCache]:
    """The GRU without a reset gate: h' = u * c~ + (1 - u) * h (module docstring).

    x: (T, N, D);  h0: (N, H);  w_ih: (2H, D);  w_hh: (2H, H);  b_ih, b_hh: (2H,)  ->  (T, N, H).
    In the notes' notation W_u [h, x] + b_u = x W_iu^T + h W_hu^T + (b_iu + b_hu), likewise for
    c~. No torch module computes it; it equals ``torch.nn.GRU`` with the reset gate saturated
    at 1 and z = 1 - u (chapter 03-gru-and-lstm).
    """
    x, h0, w_ih, w_hh, b_ih, b_hh = check_recurrent_args(x, h0, w_ih, w_hh, b_ih, b_hh, 2,
                                                         "the simplified GRU (blocks u, c)")
    T, N, D = x.shape
    H = h0.shape[1]
    xw = steps_matmul(x, w_ih.T) + (b_ih + b_hh)   # (T, N, 2H)
    act = np.empty_like(xw)
    h = np.empty((T, N, H), dtype=xw.dtype)
    h_t = h0
    for t in range(T):
        a = xw[t] + h_t @ w_hh.T             # (N, 2H)
        u = act[t, :, :H] = gate_sigmoid(a[:, :H])
        cand = act[t, :, H:] = np.tanh(a[:, H:])
        h_t = h[t] = u * cand + (1.0 - u) * h_t   # exact at u = 0 and u = 1, even for huge h
    h_prev = np.concatenate([h0[None], h[:-1]])
    return h, SimpleGRUCache(x, h_prev, w_ih, w_hh, act)


def simple_gru_backward(dh, cache: SimpleGRUCache) -> tuple[np.ndarray, ...]:
    """BPTT for ``simple_gru_forward``.

    dh: (T, N, H)  ->  dx, dh0, dw_ih: (2H, D), dw_hh: (2H, H), db_ih, db_hh: (2H,).
    Per step: da_u = g (c~ - h_prev) u (1 - u),  da_c = g u (1 - c~^2),
    dh_prev = g (1 - u) + [da_u, da_c] w_hh.
    """
    x, h_prev, w_ih, w_hh, act = check_cache(cache, SimpleGRUCache, "simple_gru_backward")
    T, N, D = x.shape
    H = h_prev.shape[2]
    dh = check_upstream(dh, (T, N, H), "dh", "(T, N, H)")
    da = np.empty_like(act)                  # (T, N, 2H)
    dh_next = np.zeros_like(h_prev[0])
    for t in range(T - 1, -1, -1):
        g = dh[t] + dh_next
        u, cand = act[t, :, :H], act[t, :, H:]
        da[t, :, :H] = g * (cand - h_prev[t]) * u * (1.0 - u)
        da[t, :, H:] = g * u * (1.0 - cand * cand)
        dh_next = g * (1.0 - u) + da[t] @ w_hh
    dw_ih, dw_hh, db_ih, db_hh = _weight_grads(da, da, x, h_prev)
    return steps_matmul(da, w_ih), dh_next, dw_ih, dw_hh, db_ih, db_hh


def _weight_grads(dxw, dhw, x, h_prev):
    """Weight and bias gradients summed over all steps and examples, one product each."""
    T, N, D = x.shape
    G, H = dxw.shape[2], h_prev.shape[2]
    dxw2, dhw2 = dxw.reshape(T * N, G), dhw.reshape(T * N, G)
    return (dxw2.T @ x.reshape(T * N, D), dhw2.T @ h_prev.reshape(T * N, H),
            dxw2.sum(axis=0), dhw2.sum(axis=0))
