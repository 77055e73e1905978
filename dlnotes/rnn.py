"""Vanilla recurrent network (Elman RNN): one step and a whole sequence, forward and backward.

Chapter: 03-sequence-models/02-rnn-and-bptt. Layouts follow ``torch.nn.RNN`` (one layer,
``batch_first=False``): a sequence is ``x: (T, N, D)``, a state ``h: (N, H)``, and

    h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh),   act = tanh (default) or relu,

with ``w_ih: (H, D)``, ``w_hh: (H, H)``, ``b_ih, b_hh: (H,)``. The same four arrays are used at
every step; ``rnn_backward`` is backpropagation through time (BPTT): the gradient that reaches
``h_t`` is the upstream ``dh[t]`` plus what flows back from step t + 1 through ``W_hh``.

The gated cells (GRU, LSTM and a GRU without reset gate) live in ``dlnotes.gated`` and are
importable from here as well, e.g. ``from dlnotes.rnn import lstm_forward``.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .validation import as_float_array

_ACTIVATIONS = ("tanh", "relu")
_GATED = ("gru_forward", "gru_backward", "gru_cell_forward", "gru_cell_backward",
          "lstm_forward", "lstm_backward", "lstm_cell_forward", "lstm_cell_backward",
          "simple_gru_forward", "simple_gru_backward", "GRUCache", "LSTMCache", "SimpleGRUCache")

__all__ = ["RNNCache", "RNNCellCache", "rnn_cell_forward", "rnn_cell_backward", "rnn_forward",
           "rnn_backward", "clip_grad_norm", *_GATED]


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
    """
    x, h0, w_ih, w_hh, b_ih, b_hh = check_recurrent_args(x, h0, w_ih, w_hh, b_ih, b_hh, 1,
                                                         "the RNN")
    act = _check_nonlinearity(nonlinearity)
    T, N, D = x.shape
    H = h0.shape[1]
    xw = steps_matmul(x, w_ih.T) + (b_ih + b_hh)   # (T, N, H): every input projection at once
    h = np.empty_like(xw)                    # (T, N, H)
    h_prev = h0
    for t in range(T):
        h_prev = act(xw[t] + h_prev @ w_hh.T)
        h[t] = h_prev
    return h, RNNCache(x, h0, w_ih, w_hh, h, nonlinearity)


def rnn_backward(dh, cache: RNNCache) -> tuple[np.ndarray, ...]:
    """Backpropagation through time for ``rnn_forward``.

    dh: (T, N, H), the gradient of the loss with respect to each output h[t]
    ->  dx: (T, N, D), dh0: (N, H), dw_ih: (H, D), dw_hh: (H, H), db_ih: (H,), db_hh: (H,).
    Going backwards, g_t = dh[t] + da_{t+1} w_hh and da_t = g_t * act'(h_t), with
    act' = 1 - h_t^2 for tanh and [h_t > 0] for relu; the weight gradients sum over t.
    """
    x, h0, w_ih, w_hh, h, nonlinearity = cache
    T, N, D = x.shape
    H = h0.shape[1]
    dh = _check_upstream(dh, (T, N, H), "dh", "(T, N, H)")
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
    return h_next, RNNCellCache(x3[0], h_prev, w_ih, w_hh, h_next, nonlinearity)


def rnn_cell_backward(dh_next, cache: RNNCellCache) -> tuple[np.ndarray, ...]:
    """Gradients of one RNN step, the building block of BPTT.

    dh_next: (N, H)  ->  dx: (N, D), dh_prev: (N, H), dw_ih: (H, D), dw_hh: (H, H),
    db_ih: (H,), db_hh: (H,).  With da = dh_next * act'(h_next):
    dx = da w_ih, dh_prev = da w_hh, dw_ih = da^T x, dw_hh = da^T h_prev, db = sum_n da.
    """
    x, h_prev, w_ih, w_hh, h_next, nonlinearity = cache
    dh_next = _check_upstream(dh_next, h_next.shape, "dh_next", "(N, H)")
    slope = (1.0 - h_next * h_next) if nonlinearity == "tanh" else (h_next > 0)
    da = dh_next * slope                     # (N, H)
    db = da.sum(axis=0)
    return da @ w_ih, da @ w_hh, da.T @ x, da.T @ h_prev, db, db.copy()


def clip_grad_norm(grads: dict, max_norm: float) -> tuple[dict, float]:
    """Rescale a dict of gradients so that their joint L2 norm is at most ``max_norm``.

    norm = sqrt(sum_k ||grads[k]||^2);  every array is multiplied by
    min(1, max_norm / (norm + 1e-6)), so the direction is kept and only the length shrinks.
    Returns a new dict (the input is not modified) and the norm before clipping.
    Reference: ``torch.nn.utils.clip_grad_norm_`` (same formula, same 1e-6).
    """
    if not isinstance(grads, dict) or not grads:
        raise TypeError("grads must be a non-empty dict of name -> gradient array")
    if isinstance(max_norm, bool) or not isinstance(max_norm, (int, float, np.floating)) \
            or not max_norm > 0:
        raise ValueError(f"max_norm must be a positive number; got {max_norm!r}")
    arrays = {k: as_float_array(g, f"grads[{k!r}]") for k, g in grads.items()}
    norm = float(np.sqrt(sum(np.sum(g * g) for g in arrays.values())))
    scale = min(1.0, max_norm / (norm + 1e-6))
    return {k: g * scale for k, g in arrays.items()}, norm


def check_recurrent_args(x, h0, w_ih, w_hh, b_ih, b_hh, gates: int, what: str):
    """Validate the arguments of a recurrent layer whose weights stack ``gates`` blocks.

    x: (T, N, D);  h0: (N, H);  w_ih: (gates*H, D);  w_hh: (gates*H, H);  b_ih, b_hh: (gates*H,).
    Returns the six arrays in one floating dtype, or raises ``ValueError`` naming what disagrees.
    """
    x = as_float_array(x, "x", ndim=3, shape_hint="(T, N, D): time, batch, features")
    h0 = as_float_array(h0, "h0", ndim=2, shape_hint="(N, H)")
    w_ih = as_float_array(w_ih, "w_ih", ndim=2, shape_hint=f"({_stack(gates)}, D)")
    w_hh = as_float_array(w_hh, "w_hh", ndim=2, shape_hint=f"({_stack(gates)}, H)")
    b_ih = as_float_array(b_ih, "b_ih", ndim=1, shape_hint=f"({_stack(gates)},)")
    b_hh = as_float_array(b_hh, "b_hh", ndim=1, shape_hint=f"({_stack(gates)},)")
    T, N, D = x.shape
    if T < 1 or N < 1 or D < 1:
        raise ValueError(f"x must be (T, N, D) with T, N, D >= 1; got {x.shape}")
    H = h0.shape[1]
    if h0.shape[0] != N or H < 1:
        raise ValueError(f"h0 must be (N, H) with N={N} to match x {x.shape}; got {h0.shape}")
    if w_hh.shape[1] != H:
        raise ValueError(f"hidden sizes disagree: h0 {h0.shape} has H={H} but w_hh {w_hh.shape} "
                         f"has {w_hh.shape[1]} columns")
    rows = gates * H
    stacked = f"{_stack(gates)} = {rows}" if gates > 1 else f"H = {rows}"
    if w_hh.shape[0] != rows:
        raise ValueError(f"w_hh must be ({_stack(gates)}, H) = ({rows}, {H}) for {what}, "
                         f"{stacked} rows; got {w_hh.shape}")
    if w_ih.shape != (rows, D):
        raise ValueError(f"w_ih must be ({_stack(gates)}, D) = ({rows}, {D}) for {what} with "
                         f"x {x.shape} and H={H}; got {w_ih.shape}")
    for name, b in (("b_ih", b_ih), ("b_hh", b_hh)):
        if b.shape != (rows,):
            raise ValueError(f"{name} must be ({_stack(gates)},) = ({rows},) for {what}; "
                             f"got {b.shape}")
    dtype = np.result_type(x, h0, w_ih, w_hh, b_ih, b_hh)
    return tuple(a.astype(dtype, copy=False) for a in (x, h0, w_ih, w_hh, b_ih, b_hh))


def steps_matmul(a: np.ndarray, w: np.ndarray) -> np.ndarray:
    """a @ w for every step at once: a: (T, N, K), w: (K, M)  ->  (T, N, M).

    Written as a single 2-D product of (T*N, K) by (K, M); ``a @ w`` on the 3-D array would
    call the matrix-multiply kernel once per step instead.
    """
    T, N, K = a.shape
    return (a.reshape(T * N, K) @ w).reshape(T, N, w.shape[1])


def gate_sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic function for the gates, 1 / (1 + exp(-z)) written as (1 + tanh(z/2)) / 2.

    The two are equal; the tanh form never overflows and costs one transcendental call per
    element, which matters in the time loop (no input checks: internal use only).
    """
    out = np.tanh(0.5 * z)
    out += 1.0
    out *= 0.5
    return out


def _stack(gates: int) -> str:
    return "H" if gates == 1 else f"{gates}H"


def _check_nonlinearity(nonlinearity: str):
    if nonlinearity not in _ACTIVATIONS:
        raise ValueError(f"nonlinearity must be one of {_ACTIVATIONS}; got {nonlinearity!r}")
    return np.tanh if nonlinearity == "tanh" else (lambda z: np.maximum(z, 0.0))


def _check_upstream(d, shape: tuple, name: str, hint: str) -> np.ndarray:
    d = as_float_array(d, name)
    if d.shape != tuple(shape):
        raise ValueError(f"{name} must be {hint} = {tuple(shape)} to match the forward pass; "
                         f"got {d.shape}")
    return d


def __getattr__(name: str):
    # The gated cells are defined in dlnotes.gated (which imports the helpers above); loading
    # it lazily lets ``from dlnotes.rnn import lstm_forward`` work without a circular import.
    if name in _GATED:
        from . import gated
        return getattr(gated, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_GATED))
