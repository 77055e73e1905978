"""What the recurrent layers of ``dlnotes.rnn`` and ``dlnotes.gated`` share.

Argument checks (the shapes of ``x, h0, w_ih, w_hh, b_ih, b_hh`` for a layer whose weights
stack ``gates`` blocks of H rows, and of an upstream gradient) and two kernels of the time
loop: the input projection of all steps as one matrix product, and an overflow-free gate
sigmoid. Chapters: 03-sequence-models/02-rnn-and-bptt and 03-gru-and-lstm.
"""
from __future__ import annotations

import numpy as np

from .validation import as_float_array

__all__ = ["check_recurrent_args", "check_upstream", "steps_matmul", "gate_sigmoid"]


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


def check_upstream(d, shape: tuple, name: str, hint: str) -> np.ndarray:
    """An upstream gradient as a float array, or ``ValueError`` if it is not ``shape``.

    ``hint`` is the symbolic shape shown in the message, e.g. ``"(T, N, H)"``.
    """
    d = as_float_array(d, name)
    if d.shape != tuple(shape):
        raise ValueError(f"{name} must be {hint} = {tuple(shape)} to match the forward pass; "
                         f"got {d.shape}")
    return d
