"""Self-checks for the coding exercises of Part III, Sequence models
(chapters/03-sequence-models).

* :func:`check_truncated_rnn_backward`: truncated backpropagation through time
  (exercise "Truncated BPTT" of the RNN chapter);
* :func:`check_gru_reset_before_step`: one GRU step with the reset gate applied before the
  recurrent matrix (exercise "Reset before or after" of the GRU and LSTM chapter).
"""
from __future__ import annotations

import numpy as np

from .core import CheckCase, Outcome, describe_difference, run_check

__all__: list[str] = ["check_truncated_rnn_backward", "check_gru_reset_before_step"]

_RNN_GRADS = ("dx", "dh0", "dw_ih", "dw_hh", "db_ih", "db_hh")


# ------------------------------------------------------------------ truncated BPTT (RNN chapter)
def _rnn_case(T: int, N: int, D: int, H: int, k: int, scale: float = 0.6):
    """A seeded tanh RNN run through ``dlnotes.rnn.rnn_forward``: (dh, cache, k)."""
    from dlnotes.rnn import rnn_forward

    def make(rng: np.random.Generator) -> tuple:
        x, h0 = rng.standard_normal((T, N, D)), rng.standard_normal((N, H))
        w_ih, w_hh = scale * rng.standard_normal((H, D)), scale * rng.standard_normal((H, H))
        b_ih, b_hh = rng.standard_normal(H), rng.standard_normal(H)
        _, cache = rnn_forward(x, h0, w_ih, w_hh, b_ih, b_hh)
        return rng.standard_normal((T, N, H)), cache, k
    return make


_TRUNCATED_CASES = (
    CheckCase("k = 1, T = 5", _rnn_case(5, 2, 3, 4, 1),
              "with k = 1 the loss at step t reaches only its own pre-activation a_t; "
              "h_(t-1) enters dw_hh as a value but receives no gradient from step t"),
    CheckCase("k = 2, T = 6", _rnn_case(6, 3, 2, 5, 2),
              "count the states that step t's gradient may reach: h_t is the first, and "
              "h_(t-k) is the first one it must not reach"),
    CheckCase("k = 3, batch 1, odd sizes", _rnn_case(7, 1, 3, 5, 3),
              "each step's loss needs its own short backward recursion; one recursion "
              "that is cut every k steps is a different approximation"),
    CheckCase("k = T: only dh0 differs from full BPTT", _rnn_case(4, 2, 3, 3, 4),
              "the gradient from the last step must stop at h_0 when k = T, "
              "while every weight gradient equals the full one"),
    CheckCase("k > T: full BPTT", _rnn_case(4, 2, 2, 3, 9),
              "when k exceeds the length nothing is dropped: the result is rnn_backward's"),
    CheckCase("sequence length 1", _rnn_case(1, 3, 2, 4, 1),
              "with T = 1 and k = 1 the only gradient to h_0 comes from step 1, "
              "and it is dropped"),
)


def _truncated_reference(dh, cache, k):
    """Torch autograd: the loss of step t is backpropagated from h_t with h_(t-k) detached.

    The cache holds no biases, so each unrolled step is written as its first-order expansion
    at the forward's state, h_s + (1 - h_s^2) (a_s - a_s.detach()): its value is h_s and its
    derivatives are exactly those of tanh(a_s).
    """
    import torch

    def t64(a, grad=False):
        return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)

    x, h0, w_ih, w_hh = (t64(a, True) for a in (cache.x, cache.h0, cache.w_ih, cache.w_hh))
    H = cache.h0.shape[1]
    b_ih, b_hh = t64(np.zeros(H), True), t64(np.zeros(H), True)
    h_val = [t64(cache.h0)] + [t64(h) for h in cache.h]          # h_0 .. h_T, values only
    total = 0.0
    for t in range(1, cache.x.shape[0] + 1):
        start = t - k
        state = h_val[start] if start >= 0 else h0               # h_(t-k): no gradient
        for s in range(max(start, 0) + 1, t + 1):
            a = x[s - 1] @ w_ih.T + b_ih + state @ w_hh.T + b_hh
            state = h_val[s] + (1 - h_val[s] ** 2) * (a - a.detach())
        total = total + (state * t64(dh[t - 1])).sum()
    total.backward()
    return tuple(np.zeros(tuple(a.shape)) if a.grad is None else a.grad.numpy()
                 for a in (x, h0, w_ih, w_hh, b_ih, b_hh))


def _describe_truncated(got, expected, args) -> str | None:
    from dlnotes.rnn import rnn_backward

    dh, cache, k = args
    if not isinstance(got, (tuple, list)) or len(got) != len(_RNN_GRADS):
        return None
    full = rnn_backward(dh, cache)
    if k < cache.x.shape[0] and all(describe_difference(g, f) is None
                                    for g, f in zip(got, full, strict=True)):
        return "your gradients equal full BPTT (rnn_backward's): nothing was truncated"
    return None


def check_truncated_rnn_backward(fn) -> Outcome:
    """Check ``fn(dh, cache, k) -> (dx, dh0, dw_ih, dw_hh, db_ih, db_hh)``: truncated BPTT.

    dh: (T, N, H), the upstream gradient of every state; cache: the ``RNNCache`` of
    ``dlnotes.rnn.rnn_forward`` (tanh) with fields x (T, N, D), h0 (N, H), w_ih (H, D),
    w_hh (H, H), h (T, N, H); k >= 1. The gradient of the loss at step t flows back through
    h_t, ..., h_(t-k+1) and the gradient reaching h_(t-k) is dropped. Returns the gradients
    in ``rnn_backward``'s order and shapes. Reference: torch autograd with h_(t-k) detached
    separately for every t.
    """
    return run_check("check_truncated_rnn_backward", fn, _TRUNCATED_CASES,
                     _truncated_reference, n_args=3, outputs=_RNN_GRADS,
                     describe=_describe_truncated)


# -------------------------------------------------- GRU with the reset before W_hn (GRU chapter)
def _gru_case(N: int, D: int, H: int, scale: float = 0.7, big: float = 0.0):
    """x (N, D), h (N, H) and GRU weights in torch's layout (blocks r, z, n)."""
    def make(rng: np.random.Generator) -> tuple:
        x, h = rng.standard_normal((N, D)), np.tanh(rng.standard_normal((N, H)))
        w_ih = scale * rng.standard_normal((3 * H, D))
        w_hh = scale * rng.standard_normal((3 * H, H))
        b_ih, b_hh = rng.standard_normal(3 * H), rng.standard_normal(3 * H)
        if big:        # gate pre-activations of about +-big: saturated r and z
            b_ih[:2 * H] = big * np.sign(rng.standard_normal(2 * H))
        return x, h, w_ih, w_hh, b_ih, b_hh
    return make


_GRU_CASES = (
    CheckCase("N = 3, D = 2, H = 4", _gru_case(3, 2, 4),
              "the blocks of w_ih, w_hh and the biases come in torch's order r, z, n; "
              "the new state weights the candidate by 1 - z"),
    CheckCase("batch 1, D = H = 3", _gru_case(1, 3, 3),
              "where does r enter: on h before W_hn, or on W_hn h afterwards? "
              "And which side of the reset does b_hn sit on?"),
    CheckCase("odd sizes N = 5, D = 3, H = 1", _gru_case(5, 3, 1),
              "with one hidden unit every weight block is a single row: check the slicing"),
    CheckCase("saturated gates (|pre-activation| ~ 1000)", _gru_case(4, 2, 3, big=1e3),
              "exp of a large number overflows: use a sigmoid that is stable for both signs"),
)


def _gru_reset_before_reference(x, h, w_ih, w_hh, b_ih, b_hh):
    """Torch float64: c~ = tanh(W_in x + b_in + W_hn (r * h) + b_hn), h' = (1 - z) c~ + z h."""
    import torch

    x, h, w_ih, w_hh, b_ih, b_hh = (torch.tensor(a, dtype=torch.float64)
                                    for a in (x, h, w_ih, w_hh, b_ih, b_hh))
    H = h.shape[1]
    gi = x @ w_ih.T + b_ih                                        # (N, 3H)
    gh = h @ w_hh[:2 * H].T + b_hh[:2 * H]                        # (N, 2H): r and z only
    r, z = torch.sigmoid(gi[:, :H] + gh[:, :H]), torch.sigmoid(gi[:, H:2 * H] + gh[:, H:])
    cand = torch.tanh(gi[:, 2 * H:] + (r * h) @ w_hh[2 * H:].T + b_hh[2 * H:])
    return ((1 - z) * cand + z * h).numpy()


def _describe_gru(got, expected, args) -> str | None:
    x, h, w_ih, w_hh, b_ih, b_hh = args
    H = h.shape[1]
    gi, gh = x @ w_ih.T + b_ih, h @ w_hh.T + b_hh                 # (N, 3H) each
    with np.errstate(over="ignore"):
        r, z = (1 / (1 + np.exp(-(gi[:, j * H:(j + 1) * H] + gh[:, j * H:(j + 1) * H])))
                for j in (0, 1))
    after = (1 - z) * np.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:]) + z * h
    if describe_difference(got, after) is None:
        return ("h_next equals torch.nn.GRU's step, which applies the reset after W_hn "
                "(to W_hn h + b_hn)")
    return None


def check_gru_reset_before_step(fn) -> Outcome:
    """Check ``fn(x, h, w_ih, w_hh, b_ih, b_hh) -> h_next``: one GRU step, reset before W_hn.

    x: (N, D);  h: (N, H);  w_ih: (3H, D);  w_hh: (3H, H);  b_ih, b_hh: (3H,), with the blocks
    in ``torch.nn.GRU``'s order r, z, n. Computes r = sigma(W_ir x + b_ir + W_hr h + b_hr),
    z likewise, c~ = tanh(W_in x + b_in + W_hn (r * h) + b_hn) and returns
    h_next = (1 - z) * c~ + z * h: (N, H). Reference: these formulas in torch, float64.
    """
    return run_check("check_gru_reset_before_step", fn, _GRU_CASES,
                     _gru_reset_before_reference, n_args=6, outputs=("h_next",),
                     describe=_describe_gru)
