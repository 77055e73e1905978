"""dlnotes.rnn and dlnotes.gated against torch.nn.RNN/GRU/LSTM and their cells, in float64.

Every check pushes a random upstream gradient through our backward and through autograd and
compares the gradients of the inputs, the initial states, the weights and the biases.
"""
from functools import partial

import numpy as np
import pytest
import torch

from dlnotes import gated, rnn
from dlnotes.verify import check_pair, check_values, to_numpy, to_torch, torch_recurrent

GATES = {"rnn": 1, "gru": 3, "lstm": 4, "simple_gru": 2}
# (T, N, D, H): one step, batch 1, H != D both ways, and a longer sequence
SHAPES = [(1, 1, 1, 1), (1, 3, 4, 5), (6, 1, 3, 7), (7, 4, 6, 2), (12, 2, 5, 5)]


def _module(kind):
    """Where the layer ``kind`` lives: the plain RNN in dlnotes.rnn, the gated cells in gated."""
    return rnn if kind == "rnn" else gated


def _params(kind, T, N, D, H, rng, scale=0.5):
    G = GATES[kind]
    arrays = [rng.standard_normal((T, N, D)), rng.standard_normal((N, H))]
    if kind == "lstm":
        arrays.append(rng.standard_normal((N, H)))
    arrays += [scale * rng.standard_normal((G * H, D)), scale * rng.standard_normal((G * H, H)),
               rng.standard_normal(G * H), rng.standard_normal(G * H)]
    return arrays


def _torch_simple_gru(x, h, w_ih, w_hh, b_ih, b_hh):
    """The simplified GRU written in torch operations (no torch module computes it)."""
    H = h.shape[1]
    outs = []
    for x_t in x:
        a = x_t @ w_ih.T + b_ih + h @ w_hh.T + b_hh
        u, cand = torch.sigmoid(a[:, :H]), torch.tanh(a[:, H:])
        h = u * cand + (1 - u) * h
        outs.append(h)
    return torch.stack(outs)


@pytest.mark.parametrize("T, N, D, H", SHAPES)
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_matches_torch(T, N, D, H, nonlinearity, rng):
    check_pair(f"rnn ({nonlinearity})", partial(rnn.rnn_forward, nonlinearity=nonlinearity),
               rnn.rnn_backward, torch_recurrent("rnn", nonlinearity=nonlinearity),
               _params("rnn", T, N, D, H, rng), rng=rng)


@pytest.mark.parametrize("T, N, D, H", SHAPES)
def test_gru_matches_torch(T, N, D, H, rng):
    check_pair("gru", gated.gru_forward, gated.gru_backward, torch_recurrent("gru"),
               _params("gru", T, N, D, H, rng), rng=rng)


@pytest.mark.parametrize("T, N, D, H", SHAPES)
def test_lstm_matches_torch(T, N, D, H, rng):
    check_pair("lstm", gated.lstm_forward, gated.lstm_backward, torch_recurrent("lstm"),
               _params("lstm", T, N, D, H, rng), rng=rng)


@pytest.mark.parametrize("T, N, D, H", SHAPES)
def test_simple_gru_matches_autograd(T, N, D, H, rng):
    check_pair("simple gru", gated.simple_gru_forward, gated.simple_gru_backward,
               _torch_simple_gru, _params("simple_gru", T, N, D, H, rng), rng=rng)


@pytest.mark.parametrize("T, N, D, H", SHAPES)
def test_simple_gru_is_torch_gru_with_the_reset_gate_open(T, N, D, H, rng):
    # independent of the formula above: torch.nn.GRU's own kernel, weights mapped
    check_pair("simple gru = nn.GRU (r = 1, z = 1 - u)", gated.simple_gru_forward,
               gated.simple_gru_backward, torch_recurrent("simple_gru"),
               _params("simple_gru", T, N, D, H, rng), rng=rng)


def test_the_simple_gru_reference_exists_only_as_a_layer():
    with pytest.raises(ValueError, match="kind must be one of"):
        torch_recurrent("simple_gru", cell=True)


def test_simple_gru_is_torch_gru_with_reset_gate_open(rng):
    # r = sigma(40) is exactly 1.0 in float64 and z = sigma(-a_u) = 1 - u, so torch's GRU
    # computes the simplified GRU when its reset rows are zero with bias 40 and z rows = -u rows.
    x, h0, w_ih, w_hh, b_ih, b_hh = _params("simple_gru", 9, 3, 4, 5, rng)
    H = 5

    def zeros_w(w):
        return np.zeros((H, w.shape[1]))

    t_w_ih = np.concatenate([zeros_w(w_ih), -w_ih[:H], w_ih[H:]])
    t_w_hh = np.concatenate([zeros_w(w_hh), -w_hh[:H], w_hh[H:]])
    t_b_ih = np.concatenate([np.full(H, 40.0), -b_ih[:H], b_ih[H:]])
    t_b_hh = np.concatenate([np.zeros(H), -b_hh[:H], b_hh[H:]])
    ours, _ = gated.simple_gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh)
    theirs = torch_recurrent("gru")(*map(to_torch, (x, h0, t_w_ih, t_w_hh, t_b_ih, t_b_hh)))
    check_values("simple gru = torch GRU with r = 1, z = 1 - u", ours, theirs)


@pytest.mark.parametrize("N, D, H", [(1, 1, 1), (1, 4, 5), (3, 6, 2)])
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_cell_matches_torch(N, D, H, nonlinearity, rng):
    x, h, *weights = _params("rnn", 1, N, D, H, rng)
    check_pair("rnn cell", partial(rnn.rnn_cell_forward, nonlinearity=nonlinearity),
               rnn.rnn_cell_backward, torch_recurrent("rnn", cell=True, nonlinearity=nonlinearity),
               (x[0], h, *weights), rng=rng)


@pytest.mark.parametrize("N, D, H", [(1, 1, 1), (1, 4, 5), (3, 6, 2)])
def test_gru_cell_matches_torch(N, D, H, rng):
    x, h, *weights = _params("gru", 1, N, D, H, rng)
    check_pair("gru cell", gated.gru_cell_forward, gated.gru_cell_backward,
               torch_recurrent("gru", cell=True), (x[0], h, *weights), rng=rng)


@pytest.mark.parametrize("N, D, H", [(1, 1, 1), (1, 4, 5), (3, 6, 2)])
def test_lstm_cell_matches_torch_including_dc_next(N, D, H, rng):
    def forward(*args):
        h, c, cache = gated.lstm_cell_forward(*args)
        return np.concatenate([h, c], axis=-1), cache

    def backward(dout, cache):
        return gated.lstm_cell_backward(dout[:, :H], dout[:, H:], cache)

    x, h, c, *weights = _params("lstm", 1, N, D, H, rng)
    check_pair("lstm cell", forward, backward, torch_recurrent("lstm", cell=True),
               (x[0], h, c, *weights), rng=rng)


@pytest.mark.parametrize("kind", ["rnn", "gru", "lstm"])
def test_saturated_gates_stay_finite_and_match_torch(kind, rng):
    # Weights of size ~300 push pre-activations to |z| ~ 1000, deep in every saturation.
    forward = getattr(_module(kind), f"{kind}_forward")
    backward = getattr(_module(kind), f"{kind}_backward")
    arrays = _params(kind, 5, 3, 4, 6, rng, scale=300.0)
    out, cache = forward(*arrays)
    squashed = cache.h if kind == "rnn" else cache.act
    assert np.isfinite(out).all() and np.isin(squashed, [-1.0, 0.0, 1.0]).mean() > 0.5
    check_pair(f"saturated {kind}", forward, backward, torch_recurrent(kind), arrays, rng=rng)


def test_gradient_reaches_h0_through_all_steps(rng):
    # Only the last output carries a gradient: everything in dh0 came back through T steps.
    x, h0, *weights = _params("rnn", 8, 2, 3, 4, rng)
    h, cache = rnn.rnn_forward(x, h0, *weights)
    dh = np.zeros_like(h)
    dh[-1] = rng.standard_normal(h[-1].shape)
    dh0 = rnn.rnn_backward(dh, cache)[1]
    tensors = [to_torch(a, requires_grad=True) for a in (x, h0, *weights)]
    out = torch_recurrent("rnn")(*tensors)
    (out[-1] * to_torch(dh[-1])).sum().backward()
    check_values("dh0 from the last step only", dh0, tensors[1].grad)
    assert np.abs(dh0).max() > 1e-6


def test_mixed_float32_inputs_compute_in_float64(rng):
    x, h0, *weights = _params("gru", 3, 2, 3, 4, rng)
    h32, _ = gated.gru_forward(x.astype(np.float32), h0, *weights)
    h64, _ = gated.gru_forward(x.astype(np.float32).astype(np.float64), h0, *weights)
    assert h32.dtype == np.float64
    np.testing.assert_array_equal(h32, h64)


# ---------------------------------------------------------------- bad input

def _good(kind, T=3, N=2, D=4, H=5):
    return _params(kind, T, N, D, H, np.random.default_rng(0))


@pytest.mark.parametrize("kind", ["rnn", "gru", "lstm", "simple_gru"])
@pytest.mark.parametrize("bad_x, message", [
    (np.zeros((2, 4)), r"x must have 3 dimension\(s\) \(T, N, D\)"),
    (np.zeros((3, 2, 4, 1)), r"x must have 3 dimension\(s\) \(T, N, D\)"),
    (np.zeros((0, 2, 4)), r"x must be \(T, N, D\) with T, N, D >= 1"),
])
def test_sequence_of_wrong_rank_raises(kind, bad_x, message):
    args = _good(kind)
    with pytest.raises(ValueError, match=message):
        getattr(_module(kind), f"{kind}_forward")(bad_x, *args[1:])


@pytest.mark.parametrize("kind", ["rnn", "gru", "lstm", "simple_gru"])
def test_hidden_sizes_that_disagree_raise(kind):
    args = _good(kind)
    args[1] = np.zeros((2, 6))       # h0 says H = 6, the weights were made for H = 5
    if kind == "lstm":
        args[2] = np.zeros((2, 6))
    with pytest.raises(ValueError, match=r"hidden sizes disagree: h0 \(2, 6\) has H=6 but w_hh"):
        getattr(_module(kind), f"{kind}_forward")(*args)


@pytest.mark.parametrize("kind, other", [("gru", "lstm"), ("lstm", "gru"), ("rnn", "gru"),
                                         ("simple_gru", "gru")])
def test_wrong_number_of_stacked_gates_raises(kind, other):
    # Weights of the right H but stacked for another cell (e.g. GRU weights in an LSTM).
    args = _good(kind)
    w = _good(other)
    i = 3 if kind == "lstm" else 2
    args[i + 1] = w[-3]              # w_hh with the other cell's gate count
    with pytest.raises(ValueError, match=r"w_hh must be \(\d?H, H\) = \(\d+, 5\) for"):
        getattr(_module(kind), f"{kind}_forward")(*args)
    args = _good(kind)
    args[i] = w[-4]                  # w_ih likewise
    with pytest.raises(ValueError, match=r"w_ih must be \(\d?H, D\) = \(\d+, 4\) for"):
        getattr(_module(kind), f"{kind}_forward")(*args)


@pytest.mark.parametrize("kind", ["rnn", "gru", "lstm"])
def test_bad_bias_batch_and_upstream_raise(kind):
    forward = getattr(_module(kind), f"{kind}_forward")
    backward = getattr(_module(kind), f"{kind}_backward")
    i = 3 if kind == "lstm" else 2
    args = _good(kind)
    args[i + 3] = np.zeros(7)
    with pytest.raises(ValueError, match=r"b_hh must be \(\d?H,\) = \(\d+,\)"):
        forward(*args)
    args = _good(kind)
    args[1] = np.zeros((3, 5))
    with pytest.raises(ValueError, match=r"h0 must be \(N, H\) with N=2"):
        forward(*args)
    h, cache = forward(*_good(kind))
    with pytest.raises(ValueError, match=r"dh must be \(T, N, H\) = \(3, 2, 5\)"):
        backward(h[:, :, :4], cache)


def test_lstm_c0_must_match_h0():
    args = _good("lstm")
    args[2] = np.zeros((2, 4))
    with pytest.raises(ValueError, match=r"c0 must be \(N, H\) = \(2, 5\)"):
        gated.lstm_forward(*args)


def test_cells_refuse_a_sequence_and_bad_upstream():
    x, h, c, *w = _good("lstm")
    with pytest.raises(ValueError, match=r"x must have 2 dimension\(s\) \(N, D\) for one time"):
        gated.lstm_cell_forward(x, h, c, *w)
    h1, c1, cache = gated.lstm_cell_forward(x[0], h, c, *w)
    with pytest.raises(ValueError, match=r"dc_next must be \(N, H\) = \(2, 5\)"):
        gated.lstm_cell_backward(h1, c1[:1], cache)
    x, h, *w = _good("rnn")
    with pytest.raises(ValueError, match=r"x must have 2 dimension\(s\)"):
        rnn.rnn_cell_forward(x, h, *w)
    _, cache = rnn.rnn_cell_forward(x[0], h, *w)
    with pytest.raises(ValueError, match=r"dh_next must be \(N, H\) = \(2, 5\)"):
        rnn.rnn_cell_backward(np.zeros((2, 4)), cache)
    x, h, *w = _good("gru")
    _, cache = gated.gru_cell_forward(x[0], h, *w)
    with pytest.raises(ValueError, match=r"dh_next must be \(N, H\) = \(2, 5\)"):
        gated.gru_cell_backward(np.zeros((1, 5)), cache)


def test_unknown_nonlinearity_and_non_numeric_input_raise():
    args = _good("rnn")
    with pytest.raises(ValueError, match=r"nonlinearity must be one of \('tanh', 'relu'\)"):
        rnn.rnn_forward(*args, nonlinearity="sigmoid")
    args[0] = np.full((3, 2, 4), "a")
    with pytest.raises(TypeError, match="x must be a real numeric array"):
        rnn.rnn_forward(*args)


def test_torch_reference_really_is_torch(rng):
    # Guard against a reference that silently ignores the weights: changing them changes it.
    args = _params("lstm", 3, 2, 4, 5, rng)
    out1 = to_numpy(torch_recurrent("lstm")(*map(to_torch, args)))
    args[4] = args[4] + 1.0
    out2 = to_numpy(torch_recurrent("lstm")(*map(to_torch, args)))
    assert np.abs(out1 - out2).max() > 1e-3


@pytest.mark.parametrize("max_norm", [0.5, 3.0, 1e3])
def test_clip_grad_norm_matches_torch(max_norm, rng):
    grads = {"w": 2 * rng.standard_normal((4, 3)), "b": rng.standard_normal(4),
             "v": rng.standard_normal((2, 2, 2))}
    before = {k: g.copy() for k, g in grads.items()}
    clipped, norm = rnn.clip_grad_norm(grads, max_norm)
    assert all(np.array_equal(before[k], grads[k]) for k in grads)   # input left alone
    params = []
    for g in grads.values():
        p = to_torch(np.zeros_like(g), requires_grad=True)
        p.grad = to_torch(g)
        params.append(p)
    t_norm = torch.nn.utils.clip_grad_norm_(params, max_norm)
    check_values("clip_grad_norm: norm", norm, t_norm)
    for (name, g), p in zip(clipped.items(), params, strict=True):
        check_values(f"clip_grad_norm: {name}", g, p.grad)
    clipped_norm = np.linalg.norm(np.concatenate([g.ravel() for g in clipped.values()]))
    if max_norm < norm:
        assert abs(clipped_norm - max_norm) < 1e-5
    else:
        assert all(np.array_equal(clipped[k], grads[k]) for k in grads)


def test_clip_grad_norm_bad_input_raises():
    with pytest.raises(ValueError, match="max_norm must be > 0; got 0"):
        rnn.clip_grad_norm({"w": np.ones(3)}, 0)
    with pytest.raises(TypeError, match="grads must be a non-empty dict"):
        rnn.clip_grad_norm([np.ones(3)], 1.0)


# --- issue 12: cache identity, aliasing, clip_grad_norm at the boundary -------------------

def _layer_run(kind):
    """(forward output, cache, upstream gradient, backward) of the sequence layer ``kind``."""
    module = _module(kind)
    h, cache = getattr(module, f"{kind}_forward")(*_good(kind))
    return h, cache, getattr(module, f"{kind}_backward")


def _cell_run(kind):
    """(cache, backward call taking a cache) of the one-step cell ``kind``."""
    x, h, *rest = _good(kind, T=1)
    if kind == "lstm":
        c, *w = rest
        h1, c1, cache = gated.lstm_cell_forward(x[0], h, c, *w)
        return cache, lambda cc: gated.lstm_cell_backward(np.ones_like(h1), np.ones_like(c1), cc)
    module = _module(kind)
    h1, cache = getattr(module, f"{kind}_cell_forward")(x[0], h, *rest)
    return cache, lambda cc: getattr(module, f"{kind}_cell_backward")(np.ones_like(h1), cc)


@pytest.mark.parametrize("kind", ["rnn", "gru", "lstm", "simple_gru"])
@pytest.mark.parametrize("other", ["rnn", "gru", "lstm", "simple_gru"])
def test_sequence_backward_refuses_another_layers_cache(kind, other):
    """Issue 12: mixing caches between rnn/gru/lstm forwards and backwards must raise."""
    h, _, backward = _layer_run(kind)
    _, foreign, _ = _layer_run(other)
    if kind == other:
        backward(np.ones_like(h), foreign)
        return
    with pytest.raises(TypeError, match=rf"{kind}_backward got an? {type(foreign).__name__}"):
        backward(np.ones_like(h), foreign)


@pytest.mark.parametrize("kind", ["rnn", "gru", "lstm"])
def test_cell_and_sequence_caches_are_not_interchangeable(kind):
    cell_cache, cell_backward = _cell_run(kind)
    h, seq_cache, seq_backward = _layer_run(kind)
    seq_cache_type = type(seq_cache).__name__
    with pytest.raises(TypeError, match=rf"{kind}_cell_backward got an? {seq_cache_type}"):
        cell_backward(seq_cache)
    with pytest.raises(TypeError, match=rf"{kind}_backward got an? {type(cell_cache).__name__}"):
        seq_backward(np.ones_like(h), cell_cache)


@pytest.mark.parametrize("kind", ["rnn", "gru", "lstm", "simple_gru"])
def test_changing_the_output_leaves_the_backward_unchanged(kind):
    """Issue 12: rnn_forward returned the array its cache kept, so ``h *= 2`` changed BPTT."""
    h, cache, backward = _layer_run(kind)
    dh = np.random.default_rng(3).standard_normal(h.shape)
    before = backward(dh, cache)
    h *= 2
    h += 1
    after = backward(dh, cache)
    for a, b in zip(before, after, strict=True):
        np.testing.assert_array_equal(a, b)


def test_rnn_cell_output_is_not_the_cached_state():
    x, h, *w = _good("rnn", T=1)
    h1, cache = rnn.rnn_cell_forward(x[0], h, *w)
    before = rnn.rnn_cell_backward(np.ones_like(h1), cache)
    h1 *= 3
    for a, b in zip(before, rnn.rnn_cell_backward(np.ones_like(h1), cache), strict=True):
        np.testing.assert_array_equal(a, b)


def test_clip_grad_norm_of_huge_gradients_is_right():
    """1e200 gradients: the norm is ~1.7e200 (not inf) and the clipped gradients keep their
    direction with norm max_norm (torch's norm overflows here and zeroes them)."""
    grads = {"a": np.array([1e200, -2e200]), "b": np.array([[2e200]])}
    clipped, norm = rnn.clip_grad_norm(grads, 1.0)
    assert norm == pytest.approx(3e200)
    np.testing.assert_allclose(clipped["a"], [1 / 3, -2 / 3], rtol=1e-12)
    np.testing.assert_allclose(clipped["b"], [[2 / 3]], rtol=1e-12)


def test_clip_grad_norm_propagates_nan_as_torch():
    grads = {"a": np.array([1.0, np.nan]), "b": np.array([3.0])}
    clipped, norm = rnn.clip_grad_norm(grads, 1.0)
    p = torch.nn.Parameter(torch.zeros(3, dtype=torch.float64))
    p.grad = torch.tensor([1.0, np.nan, 3.0], dtype=torch.float64)
    ref = torch.nn.utils.clip_grad_norm_([p], 1.0)
    assert np.isnan(norm) and torch.isnan(ref)
    assert np.isnan(clipped["a"]).all() and np.isnan(clipped["b"]).all()
    assert torch.isnan(p.grad).all()


def test_clip_grad_norm_accepts_numpy_scalars_and_keeps_float32():
    clipped, _ = rnn.clip_grad_norm({"w": np.ones(4, dtype=np.float32)}, np.int64(1))
    assert clipped["w"].dtype == np.float32
    np.testing.assert_allclose(clipped["w"], 0.5, rtol=1e-6)
