"""dlnotes.layers: dense against torch.nn.functional.linear, dropout's statistics and contract."""
import numpy as np
import pytest
import torch.nn.functional as F

from dlnotes import layers
from dlnotes.verify import check_pair


@pytest.mark.parametrize("n, d, m", [(1, 1, 1), (1, 5, 3), (4, 3, 7), (32, 16, 8)])
def test_dense_matches_torch(n, d, m, rng):
    x, w, b = rng.standard_normal((n, d)), rng.standard_normal((m, d)), rng.standard_normal(m)
    check_pair("dense", layers.dense_forward, layers.dense_backward, F.linear, (x, w, b), rng=rng)


@pytest.mark.parametrize("args, message", [
    ((np.zeros(3), np.zeros((2, 3)), np.zeros(2)), r"x must have 2 dimension"),
    ((np.zeros((4, 3)), np.zeros((2, 5)), np.zeros(2)), r"w must be \(M, D\) with D=3"),
    ((np.zeros((4, 3)), np.zeros((2, 3)), np.zeros(3)), r"b must be \(M,\) = \(2,\)"),
])
def test_dense_bad_shapes_raise(args, message):
    with pytest.raises(ValueError, match=message):
        layers.dense_forward(*args)


def test_dense_backward_wrong_upstream_raises():
    _, cache = layers.dense_forward(np.zeros((4, 3)), np.zeros((2, 3)), np.zeros(2))
    with pytest.raises(ValueError, match=r"dout must be \(N, M\) = \(4, 2\)"):
        layers.dense_backward(np.zeros((4, 3)), cache)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_preserves_expectation_and_drop_rate(p, rng):
    x = np.ones((400, 500))
    out, cache = layers.dropout_forward(x, p, rng)
    dropped = np.mean(out == 0)
    # 200,000 Bernoulli draws: the standard error of the rate is below 1.2e-3; allow 5 sigma.
    assert abs(dropped - p) < 6e-3
    assert abs(out.mean() - 1.0) < 6e-3 / (1 - p) * 2
    np.testing.assert_allclose(np.unique(out), [0.0, 1.0 / (1 - p)])


def test_dropout_backward_uses_the_same_mask(rng):
    x = rng.standard_normal((5, 6))
    out, cache = layers.dropout_forward(x, 0.5, rng)
    dout = rng.standard_normal((5, 6))
    dx = layers.dropout_backward(dout, cache)
    np.testing.assert_array_equal(dx == 0, out == 0)
    np.testing.assert_allclose(dx[out != 0], 2.0 * dout[out != 0])


def test_dropout_is_identity_at_eval_and_p_zero(rng):
    x = rng.standard_normal((3, 4))
    for kwargs in ({"p": 0.5, "training": False}, {"p": 0.0}):
        out, cache = layers.dropout_forward(x, rng=rng, **kwargs)
        np.testing.assert_array_equal(out, x)
        np.testing.assert_array_equal(layers.dropout_backward(x, cache), x)


def test_dropout_with_p_one_drops_everything(rng):
    out, cache = layers.dropout_forward(np.ones(10), 1.0, rng)
    np.testing.assert_array_equal(out, 0.0)
    np.testing.assert_array_equal(layers.dropout_backward(np.ones(10), cache), 0.0)


def test_dropout_is_reproducible_with_a_seed():
    a, _ = layers.dropout_forward(np.ones(50), 0.3, np.random.default_rng(7))
    b, _ = layers.dropout_forward(np.ones(50), 0.3, np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("p,error", [(-0.1, ValueError), (1.5, ValueError),
                                     (float("nan"), ValueError), ("0.5", TypeError),
                                     (True, TypeError), (0.5j, TypeError)])
def test_dropout_bad_probability_raises(p, error, rng):
    with pytest.raises(error, match="p \\(drop probability\\) must"):
        layers.dropout_forward(np.ones(3), p, rng)


def test_dropout_needs_a_generator():
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        layers.dropout_forward(np.ones(3), 0.5, rng=0)


# --- issue 12: the boundary -----------------------------------------------------------------

def test_dropout_backward_with_an_eval_mode_cache_still_checks_the_shape(rng):
    # An evaluation-mode cache used to carry nothing, so any dout came back unchanged.
    _, cache = layers.dropout_forward(np.ones((2, 3)), 0.5, rng, training=False)
    with pytest.raises(ValueError, match=r"dout must have the forward input's shape \(2, 3\)"):
        layers.dropout_backward(np.ones((5, 7)), cache)
    np.testing.assert_array_equal(layers.dropout_backward(np.full((2, 3), 2.0), cache), 2.0)


def test_layer_backwards_refuse_each_others_caches(rng):
    x, w, b = rng.standard_normal((4, 3)), rng.standard_normal((2, 3)), np.zeros(2)
    _, dense_cache = layers.dense_forward(x, w, b)
    _, drop_cache = layers.dropout_forward(x, 0.5, rng)
    with pytest.raises(TypeError, match="dense_backward got a DropoutCache"):
        layers.dense_backward(np.ones((4, 2)), drop_cache)
    with pytest.raises(TypeError, match="dropout_backward got a DenseCache"):
        layers.dropout_backward(np.ones((4, 3)), dense_cache)


def test_changing_x_or_w_after_the_dense_forward_leaves_the_backward_alone(rng):
    x, w, b = rng.standard_normal((4, 3)), rng.standard_normal((2, 3)), np.zeros(2)
    dout = rng.standard_normal((4, 2))
    expected = layers.dense_backward(dout, layers.dense_forward(x, w, b)[1])
    out, cache = layers.dense_forward(x, w, b)
    x *= 2.0
    w += 1.0
    out *= 3.0
    for got, want in zip(layers.dense_backward(dout, cache), expected, strict=True):
        np.testing.assert_array_equal(got, want)


def test_dropout_keeps_float32(rng):
    out, cache = layers.dropout_forward(np.ones(8, dtype=np.float32), 0.5, rng)
    assert out.dtype == np.float32
    assert layers.dropout_backward(np.ones(8, dtype=np.float32), cache).dtype == np.float32
