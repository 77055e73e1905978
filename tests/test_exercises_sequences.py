"""The self-checks of Part III (dlnotes.exercises.sequences): a correct implementation passes,
typical mistakes fail with the expected hint, and bad arguments raise TypeError."""
from __future__ import annotations

import numpy as np
import pytest

from dlnotes.exercises import check_gru_reset_before_step, check_truncated_rnn_backward
from dlnotes.gated import gru_forward
from dlnotes.rnn import rnn_backward


# ------------------------------------------------------------------------------ truncated BPTT
def _truncated(dh, cache, k, *, reach_h0=True, extra=0):
    x, h0, w_ih, w_hh, h, _ = cache
    k = k + extra
    slope = 1 - h ** 2
    da, dh0 = np.zeros_like(h), np.zeros_like(h0)
    for t in range(x.shape[0]):
        g = dh[t]
        for s in range(t, max(t - k, -1), -1):
            delta = g * slope[s]
            da[s] += delta
            g = delta @ w_hh
        if reach_h0 and t + 1 < k:
            dh0 += g
    h_before = np.concatenate([h0[None], h[:-1]])
    db = da.sum(axis=(0, 1))
    return (da @ w_ih, dh0, np.einsum("tnh,tnd->hd", da, x),
            np.einsum("tnh,tnj->hj", da, h_before), db, db.copy())


def _chunked(dh, cache, k):
    x, h0, w_ih, w_hh, h, nl = cache
    dx, dh0 = np.zeros_like(x), None
    weights = None
    for s in range(0, x.shape[0], k):
        part = type(cache)(x[s:s + k], h0 if s == 0 else h[s - 1], w_ih, w_hh, h[s:s + k], nl)
        g_x, g_h, *g_w = rnn_backward(dh[s:s + k], part)
        dx[s:s + k] = g_x
        dh0 = g_h if dh0 is None else dh0
        weights = g_w if weights is None else [a + b for a, b in zip(weights, g_w, strict=True)]
    return (dx, dh0, *weights)


def test_truncated_passes_reference():
    outcome = check_truncated_rnn_backward(_truncated)
    assert outcome, outcome
    assert repr(outcome) == "check_truncated_rnn_backward: passed all 6 cases"


@pytest.mark.parametrize("wrong, case, hint", [
    (lambda dh, cache, k: rnn_backward(dh, cache), "k = 1, T = 5", "equal full BPTT"),
    (lambda dh, cache, k: _truncated(dh, cache, k, extra=1), "k = 1, T = 5",
     "reaches only its own pre-activation"),
    (_chunked, "k = 1, T = 5", "dh0 differs"),
    (lambda dh, cache, k: _truncated(dh, cache, k, reach_h0=False), "k = 2, T = 6", "dh0"),
    (lambda dh, cache, k: _truncated(dh, cache, k)[:4], "k = 1, T = 5", "returned 4 value"),
])
def test_truncated_catches_mistakes(wrong, case, hint):
    outcome = check_truncated_rnn_backward(wrong)
    assert not outcome
    assert outcome.failed_case == case
    assert hint in outcome.hint


def test_truncated_rejects_bad_functions():
    with pytest.raises(TypeError):
        check_truncated_rnn_backward("rnn_backward")
    with pytest.raises(TypeError):
        check_truncated_rnn_backward(lambda dh, cache: None)


# ------------------------------------------------------------------- GRU, reset before W_hn
def _sig(a):
    return 0.5 * (1 + np.tanh(a / 2))


def _gru_before(x, h, w_ih, w_hh, b_ih, b_hh, *, swap_z=False, naive=False, b_inside=False):
    H = h.shape[1]
    sig = (lambda a: 1 / (1 + np.exp(-a))) if naive else _sig
    gi, gh = x @ w_ih.T + b_ih, h @ w_hh[:2 * H].T + b_hh[:2 * H]
    with np.errstate(over="ignore"):
        r, z = sig(gi[:, :H] + gh[:, :H]), sig(gi[:, H:2 * H] + gh[:, H:])
    if naive:
        r, z = np.exp(gi[:, :H] + gh[:, :H]), np.exp(gi[:, H:2 * H] + gh[:, H:])
        with np.errstate(over="ignore", invalid="ignore"):
            r, z = r / (1 + r), z / (1 + z)
    if b_inside:
        cand = np.tanh(gi[:, 2 * H:] + (r * h) @ w_hh[2 * H:].T
                       + r * b_hh[2 * H:])
    else:
        cand = np.tanh(gi[:, 2 * H:] + (r * h) @ w_hh[2 * H:].T + b_hh[2 * H:])
    if swap_z:
        return z * cand + (1 - z) * h
    return (1 - z) * cand + z * h


def test_gru_passes_reference():
    outcome = check_gru_reset_before_step(_gru_before)
    assert outcome, outcome
    assert repr(outcome) == "check_gru_reset_before_step: passed all 4 cases"


@pytest.mark.parametrize("wrong, case, hint", [
    (lambda x, h, *w: gru_forward(x[None], h, *w)[0][0], "N = 3, D = 2, H = 4",
     "applies the reset after W_hn"),
    (lambda *a: _gru_before(*a, swap_z=True), "N = 3, D = 2, H = 4", "weights the candidate"),
    (lambda *a: _gru_before(*a, b_inside=True), "N = 3, D = 2, H = 4", "h_next differs"),
    (lambda *a: _gru_before(*a, naive=True), "saturated gates (|pre-activation| ~ 1000)",
     "exp of a large number overflows"),
])
def test_gru_catches_mistakes(wrong, case, hint):
    outcome = check_gru_reset_before_step(wrong)
    assert not outcome
    assert outcome.failed_case == case
    assert hint in outcome.hint


def test_gru_rejects_bad_functions():
    with pytest.raises(TypeError):
        check_gru_reset_before_step(None)
    with pytest.raises(TypeError):
        check_gru_reset_before_step(lambda x, h: h)
