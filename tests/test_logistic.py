"""dlnotes.logistic against torch autograd in float64, plus training and bad input."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlnotes import logistic as LR
from dlnotes.datasets import two_blobs
from dlnotes.verify import check_loss, check_pair, check_values, to_numpy, to_torch

SHAPES = [(1, 1), (1, 3), (5, 2), (7, 4), (32, 1)]


def _reference_forward(x, w, b):
    return torch.sigmoid(x @ w + b)


def _data(n, d, rng, scale=1.0, b_shape=(1,)):
    x = rng.standard_normal((n, d)) * scale
    w = rng.standard_normal(d)
    b = rng.standard_normal(b_shape)  # () or (1,), as torch.nn.Linear(D, 1).bias
    y = rng.integers(0, 2, size=n).astype(float)
    return x, y, w, b


@pytest.mark.parametrize("b_shape", [(), (1,)])
@pytest.mark.parametrize("n, d", SHAPES)
def test_forward_backward_match_torch(n, d, b_shape, rng):
    x, _, w, b = _data(n, d, rng, b_shape=b_shape)
    check_pair("logistic", LR.logistic_forward, LR.logistic_backward, _reference_forward,
               (x, w, b), rng=rng)


def test_forward_backward_match_torch_when_saturated(rng):
    x, _, w, b = _data(6, 3, rng, scale=300.0)
    check_pair("logistic", LR.logistic_forward, LR.logistic_backward, _reference_forward,
               (x, w, b), rng=rng)


@pytest.mark.parametrize("b_shape", [(), (1,)])
@pytest.mark.parametrize("n, d", SHAPES)
@pytest.mark.parametrize("scale", [1.0, 500.0])
def test_cost_and_gradients_match_torch(n, d, scale, b_shape, rng):
    x, y, w, b = _data(n, d, rng, scale, b_shape)

    def cost_wrt_w(w_, b_, x_, y_):
        cost, dw, _ = LR.logistic_cost(x_, y_, w_, b_)
        return cost, dw

    def cost_wrt_b(b_, w_, x_, y_):
        cost, _, db = LR.logistic_cost(x_, y_, w_, b_)
        return cost, db

    def ref_w(w_t, b_t, x_t, y_t):
        return F.binary_cross_entropy_with_logits(x_t @ w_t + b_t, y_t)

    def ref_b(b_t, w_t, x_t, y_t):
        return ref_w(w_t, b_t, x_t, y_t)

    check_loss("cost wrt w", cost_wrt_w, ref_w, (w, b, x, y))
    check_loss("cost wrt b", cost_wrt_b, ref_b, (b, w, x, y))


def test_cost_gradient_equals_backward_with_the_loss_derivative(rng):
    """The a - y shortcut agrees with the general chain rule fed dJ/da = (-y/a + (1-y)/(1-a))/N."""
    x, y, w, b = _data(9, 3, rng)
    _, dw, db = LR.logistic_cost(x, y, w, b)
    a, cache = LR.logistic_forward(x, w, b)
    da = (-y / a + (1 - y) / (1 - a)) / len(y)
    _, dw_chain, db_chain = LR.logistic_backward(da, cache)
    np.testing.assert_allclose(dw, dw_chain, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(db, db_chain, rtol=1e-10, atol=1e-14)


def _torch_gradient_descent(x, y, w0, b0, lr, steps):
    """Reference training loop with autograd; returns w, b and the cost history."""
    w_t = to_torch(w0, requires_grad=True)
    b_t = to_torch(np.asarray(b0, dtype=float), requires_grad=True)
    x_t, y_t = to_torch(x), to_torch(y)
    costs = []
    for t in range(steps + 1):
        cost = F.binary_cross_entropy_with_logits(x_t @ w_t + b_t, y_t)
        costs.append(cost.item())
        if t == steps:
            break
        cost.backward()
        with torch.no_grad():
            w_t -= lr * w_t.grad
            b_t -= lr * b_t.grad
        w_t.grad = None
        b_t.grad = None
    return w_t, b_t, np.array(costs)


@pytest.mark.parametrize("n, d", [(1, 1), (40, 2), (25, 5)])
def test_training_matches_torch_gradient_descent(n, d, rng):
    x, y, _, _ = _data(n, d, rng)
    w0, b0, lr, steps = rng.standard_normal(d), np.array([0.3]), 0.7, 60
    w, b, history = LR.train_logistic_regression(x, y, lr=lr, steps=steps, w=w0, b=b0)
    w_ref, b_ref, costs = _torch_gradient_descent(x, y, w0, b0, lr, steps)
    check_values("trained w", w, w_ref)
    check_values("trained b", b, b_ref)
    assert history.shape == (steps + 1,)
    np.testing.assert_allclose(history, costs, rtol=1e-10, atol=1e-12)


def test_scalar_bias_gives_the_same_numbers_and_a_scalar_gradient(rng):
    x, y, w, b1 = _data(6, 3, rng)
    b0 = b1.reshape(())
    a0, cache0 = LR.logistic_forward(x, w, b0)
    a1, cache1 = LR.logistic_forward(x, w, b1)
    np.testing.assert_array_equal(a0, a1)
    da = rng.standard_normal(6)
    g0, g1 = LR.logistic_backward(da, cache0), LR.logistic_backward(da, cache1)
    assert g0[2].shape == () and g1[2].shape == (1,)
    np.testing.assert_array_equal(g0[2], g1[2][0])
    assert LR.logistic_cost(x, y, w, b0)[2].shape == ()
    w_fit, b_fit, _ = LR.train_logistic_regression(x, y, lr=0.5, steps=3, w=w, b=0.25)
    assert b_fit.shape == () and w_fit.shape == (3,)


def test_training_leaves_the_initial_weights_untouched(rng):
    x, y, w0, _ = _data(10, 3, rng)
    keep = w0.copy()
    LR.train_logistic_regression(x, y, lr=0.1, steps=5, w=w0)
    np.testing.assert_array_equal(w0, keep)


def test_predict_thresholds_like_torch_sigmoid(rng):
    x, _, w, b = _data(200, 2, rng)
    expected = to_numpy(_reference_forward(to_torch(x), to_torch(w), to_torch(b)) >= 0.5)
    np.testing.assert_array_equal(LR.predict(x, w, b), expected.astype(np.int64))
    check_values("predict_proba", LR.predict_proba(x, w, b),
                 _reference_forward(to_torch(x), to_torch(w), to_torch(b)))


def test_training_separates_separable_blobs():
    x, y = two_blobs(50, np.random.default_rng(0), distance=8.0, std=0.5)
    w, b, _ = LR.train_logistic_regression(x, y, lr=0.5, steps=100)
    np.testing.assert_array_equal(LR.predict(x, w, b), y)


@pytest.mark.parametrize("x, w, b, match", [
    (np.ones(3), np.ones(3), 0.0, r"x must have 2 dimension"),
    (np.ones((4, 3)), np.ones(2), 0.0, r"w must be \(D,\) = \(3,\)"),
    (np.ones((4, 3)), np.ones((3, 1)), 0.0, r"w must have 1 dimension"),
    (np.ones((4, 3)), np.ones(3), np.zeros(2), r"b must be a single bias"),
    (np.ones((4, 3)), np.ones(3), np.zeros((1, 1)), r"b must be a single bias"),
])
def test_bad_parameters_raise(x, w, b, match):
    for fn in (LR.logistic_forward, LR.predict, LR.predict_proba):
        with pytest.raises(ValueError, match=match):
            fn(x, w, b)
    with pytest.raises(ValueError, match=match):
        LR.logistic_cost(x, np.zeros(len(x)), w, b)


def test_bad_types_raise():
    with pytest.raises(TypeError, match="real"):
        LR.logistic_forward(np.ones((2, 2), dtype=complex), np.ones(2), 0.0)
    with pytest.raises(TypeError, match="numeric"):
        LR.logistic_forward(np.ones((2, 2)), np.ones(2), "zero")


def test_bad_targets_raise():
    x, w = np.ones((4, 2)), np.ones(2)
    with pytest.raises(ValueError, match=r"y must be \(N,\) = \(4,\)"):
        LR.logistic_cost(x, np.zeros(3), w, 0.0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        LR.logistic_cost(x, np.array([0.0, 1.0, 2.0, 0.0]), w, 0.0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        LR.train_logistic_regression(x, np.array([0, 1, -1, 0]), lr=0.1, steps=3)


def test_bad_upstream_gradient_raises(rng):
    _, cache = LR.logistic_forward(rng.standard_normal((5, 2)), np.ones(2), 0.0)
    with pytest.raises(ValueError, match=r"da must be \(N,\) = \(5,\)"):
        LR.logistic_backward(np.ones(4), cache)


@pytest.mark.parametrize("lr, steps, error, match", [
    (0.0, 10, ValueError, "lr must be > 0"),
    (-0.1, 10, ValueError, "lr must be > 0"),
    (float("nan"), 10, ValueError, "lr must be a finite number"),
    ("0.1", 10, TypeError, "lr must be a real number"),
    (0.1, 0, ValueError, "steps must be >= 1"),
    (0.1, 2.5, TypeError, "steps must be an int"),
    (0.1, True, TypeError, "steps must be an int"),
])
def test_bad_training_settings_raise(lr, steps, error, match):
    with pytest.raises(error, match=match):
        LR.train_logistic_regression(np.ones((3, 2)), np.array([0, 1, 1]), lr=lr, steps=steps)


# --- issue 12: the boundary -----------------------------------------------------------------

@pytest.mark.parametrize("b", [0.5, 1, np.float32(0.5), np.zeros((), np.float32)])
def test_float32_inputs_stay_float32_with_a_python_bias(b, rng):
    # A Python-float bias used to turn float32 x and w into float64 probabilities.
    x = rng.standard_normal((5, 3)).astype(np.float32)
    w = rng.standard_normal(3).astype(np.float32)
    a, cache = LR.logistic_forward(x, w, b)
    assert a.dtype == np.float32
    assert LR.predict_proba(x, w, b).dtype == np.float32
    dx, dw, db = LR.logistic_backward(np.ones(5, np.float32), cache)
    assert dx.dtype == dw.dtype == db.dtype == np.float32


def test_changing_the_returned_probabilities_leaves_the_backward_alone(rng):
    x, w = rng.standard_normal((5, 3)), rng.standard_normal(3)
    da = rng.standard_normal(5)
    expected = LR.logistic_backward(da, LR.logistic_forward(x, w, 0.1)[1])
    a, cache = LR.logistic_forward(x, w, 0.1)
    a *= 2.0                                     # a used to be the array the cache kept
    x += 1.0
    for got, want in zip(LR.logistic_backward(da, cache), expected, strict=True):
        np.testing.assert_array_equal(got, want)


def test_logistic_backward_refuses_another_cache(rng):
    from dlnotes.activations import sigmoid_forward
    _, cache = sigmoid_forward(np.zeros(5))
    with pytest.raises(TypeError, match="logistic_backward got a SigmoidCache"):
        LR.logistic_backward(np.ones(5), cache)


def test_numpy_integer_steps_are_accepted():
    x, y = np.array([[0.0], [1.0]]), np.array([0.0, 1.0])
    w, b, history = LR.train_logistic_regression(x, y, lr=np.float32(0.5), steps=np.int64(3))
    assert history.shape == (4,)
