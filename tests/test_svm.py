"""dlnotes.svm: the hinge objective and its subgradient against torch autograd in float64
(points on the margin included), the subgradient trainer against a torch loop, margins,
one-vs-rest, and bad input."""
import numpy as np
import pytest
import torch

from dlnotes import svm
from dlnotes.datasets import two_blobs
from dlnotes.verify import check_loss, check_values, to_torch


def _torch_objective(w, b, x, y, c):
    """The documented objective, with torch.relu (gradient 0 at the kink, as ours)."""
    return 0.5 * (w * w).sum() + c * torch.relu(1 - y * (x @ w + b)).mean()


def _torch_objective_clamp(w, b, x, y, c):
    """The same objective through torch.clamp, whose gradient at the kink is the other side's."""
    return 0.5 * (w * w).sum() + c * torch.clamp(1 - y * (x @ w + b), min=0).mean()


def _loss_wrt_w(w, b, x, y, c):
    loss, (dw, _) = svm.hinge_loss(w, b, x, y, c)
    return loss, dw


def _loss_wrt_b(b, w, x, y, c):
    loss, (_, db) = svm.hinge_loss(w, b, x, y, c)
    return loss, db


def _ref_wrt_b(b, w, x, y, c):
    return _torch_objective(w, b, x, y, c)


def _data(n, d, rng, b_shape=()):
    x = rng.standard_normal((n, d))
    y = rng.choice([-1.0, 1.0], size=n)
    w = rng.standard_normal(d)
    b = rng.standard_normal(b_shape)
    return x, y, w, b


@pytest.mark.parametrize("b_shape", [(), (1,)])
@pytest.mark.parametrize("n, d", [(1, 1), (1, 4), (7, 2), (30, 5), (64, 3)])
@pytest.mark.parametrize("c", [0.1, 1.0, 37.0])
def test_objective_and_subgradient_match_torch(n, d, c, b_shape, rng):
    x, y, w, b = _data(n, d, rng, b_shape)
    check_loss("hinge wrt w", _loss_wrt_w, _torch_objective, (w, b, x, y, np.array(c)))
    check_loss("hinge wrt b", _loss_wrt_b, _ref_wrt_b, (b, w, x, y, np.array(c)))


def _points_on_the_margin():
    """Dyadic data, so that y (x . w + b) = 1 holds exactly in floating point for 4 points."""
    w = np.array([0.5, -0.25])
    b = np.array(0.25)
    x = np.array([[1.5, 0.0],     # f = 1:   y = +1 -> on the margin
                  [-2.5, 0.0],    # f = -1:  y = -1 -> on the margin
                  [0.0, -3.0],    # f = 1:   y = +1 -> on the margin
                  [1.0, 7.0],     # f = -1:  y = -1 -> on the margin
                  [0.5, 0.0],     # f = 0.5: y = +1 -> inside the margin
                  [4.0, 0.0],     # f = 2.25: y = +1 -> outside
                  [0.0, 1.0]])    # f = 0:   y = -1 -> inside
    y = np.array([1.0, -1.0, 1.0, -1.0, 1.0, 1.0, -1.0])
    return x, y, w, b


def test_subgradient_on_the_margin_matches_torch_relu():
    x, y, w, b = _points_on_the_margin()
    margins = y * (x @ w + b)
    assert np.count_nonzero(margins == 1.0) == 4
    c = np.array(2.0)
    check_loss("hinge wrt w, on the margin", _loss_wrt_w, _torch_objective, (w, b, x, y, c))
    check_loss("hinge wrt b, on the margin", _loss_wrt_b, _ref_wrt_b, (b, w, x, y, c))
    # The kink is really exercised: the other valid convention (clamp) gives other numbers.
    with pytest.raises(AssertionError, match="gradient differs"):
        check_loss("clamp", _loss_wrt_w, _torch_objective_clamp, (w, b, x, y, c))


def test_subgradient_on_the_margin_by_hand():
    """Only the two points strictly inside the margin (rows 4 and 6) enter the subgradient."""
    x, y, w, b = _points_on_the_margin()
    c = 2.0
    loss, (dw, db) = svm.hinge_loss(w, b, x, y, c)
    n = len(y)
    assert loss == pytest.approx(0.5 * (w @ w) + c * (0.5 + 1.0) / n, rel=1e-15)
    np.testing.assert_allclose(dw, w - c / n * (y[4] * x[4] + y[6] * x[6]), rtol=1e-15)
    np.testing.assert_allclose(db, -c / n * (y[4] + y[6]), rtol=1e-15, atol=1e-15)


def _torch_subgradient_descent(x, y, c, lr, epochs, batches=None):
    w_t = to_torch(np.zeros(x.shape[1]), requires_grad=True)
    b_t = to_torch(np.array(0.0), requires_grad=True)
    x_t, y_t = to_torch(x), to_torch(y)
    t = 0
    for epoch in range(epochs):
        for idx in (batches[epoch] if batches is not None else [slice(None)]):
            loss = _torch_objective(w_t, b_t, x_t[idx], y_t[idx], c)
            w_t.grad = b_t.grad = None
            loss.backward()
            with torch.no_grad():
                step = lr / np.sqrt(t + 1.0)
                w_t -= step * w_t.grad
                b_t -= step * b_t.grad
            t += 1
    return w_t, b_t


@pytest.mark.parametrize("n, d", [(1, 2), (40, 2), (25, 6)])
def test_full_batch_training_matches_torch(n, d, rng):
    x, y, _, _ = _data(n, d, rng)
    c, lr, epochs = 3.0, 0.2, 150
    w, b, history = svm.train_linear_svm(x, y, c=c, lr=lr, epochs=epochs)
    w_ref, b_ref = _torch_subgradient_descent(x, y, c, lr, epochs)
    check_values("trained w", w, w_ref)
    check_values("trained b", np.array(b), b_ref)
    assert history.shape == (epochs + 1,)
    assert history[0] == pytest.approx(c)  # w = 0, b = 0: every hinge equals 1
    assert history[-1] == pytest.approx(svm.hinge_loss(w, b, x, y, c)[0], rel=1e-14)


def test_mini_batch_training_matches_torch_with_the_same_order(rng):
    x, y, _, _ = _data(23, 3, rng)
    c, lr, epochs, bs = 2.0, 0.1, 12, 5
    w, b, _ = svm.train_linear_svm(x, y, c=c, lr=lr, epochs=epochs,
                                   rng=np.random.default_rng(7), batch_size=bs)
    order_rng = np.random.default_rng(7)
    batches = []
    for _ in range(epochs):
        order = order_rng.permutation(len(y))
        batches.append([order[i:i + bs] for i in range(0, len(y), bs)])
    w_ref, b_ref = _torch_subgradient_descent(x, y, c, lr, epochs, batches)
    check_values("mini-batch w", w, w_ref)
    check_values("mini-batch b", np.array(b), b_ref)


def test_trainer_separates_separable_data():
    x, y01 = two_blobs(60, np.random.default_rng(0), distance=6.0, std=0.5)
    y = 2.0 * y01 - 1.0
    w, b, history = svm.train_linear_svm(x, y, c=50.0, lr=0.5, epochs=600)
    np.testing.assert_array_equal(svm.predict(x, w, b), y)
    assert svm.geometric_margin(x, y, w, b) > 0
    assert history[-1] < 0.05 * history[0]


def test_trainer_finds_the_maximum_margin_of_two_points():
    """x = (+-1, 0): for c > 1 the optimum is w = (1, 0), b = 0, margin width 2."""
    x = np.array([[1.0, 0.0], [-1.0, 0.0]])
    y = np.array([1.0, -1.0])
    w, b, history = svm.train_linear_svm(x, y, c=2.0, lr=0.1, epochs=1000)
    np.testing.assert_allclose(w, [1.0, 0.0], atol=1e-2)
    assert abs(b) < 1e-2
    assert svm.margin_width(w) == pytest.approx(2.0, abs=2e-2)
    assert history[-1] == pytest.approx(0.5, abs=1e-2)  # J(w*, b*) = 1/2 ||w*||^2 = 1/2


def test_training_leaves_the_initial_weights_untouched(rng):
    x, y, w0, _ = _data(10, 3, rng)
    keep = w0.copy()
    svm.train_linear_svm(x, y, c=1.0, lr=0.1, epochs=5, w=w0)
    np.testing.assert_array_equal(w0, keep)


def test_distances_agree_with_the_foot_of_the_perpendicular(rng):
    x = rng.standard_normal((9, 3))
    w, b = rng.standard_normal(3), 0.7
    f = x @ w + b
    feet = x - (f / (w @ w))[:, None] * w  # orthogonal projections onto the hyperplane
    np.testing.assert_allclose(feet @ w + b, 0.0, atol=1e-12)
    np.testing.assert_allclose(np.abs(svm.signed_distance(x, w, b)),
                               np.linalg.norm(x - feet, axis=1), rtol=1e-12)
    check_values("signed distance", svm.signed_distance(x, w, b),
                 (to_torch(x) @ to_torch(w) + b) / torch.linalg.vector_norm(to_torch(w)))
    # Rescaling (w, b) by a positive factor leaves the hyperplane and distances unchanged.
    np.testing.assert_allclose(svm.signed_distance(x, 5 * w, 5 * b),
                               svm.signed_distance(x, w, b), rtol=1e-12)


def test_margins_and_predictions():
    x, y, w, b = _points_on_the_margin()
    # Rows 4 and 6 are inside the margin; row 6 lies on the boundary itself (f = 0).
    assert svm.geometric_margin(x, y, w, b) == pytest.approx(-0.0)
    assert svm.geometric_margin(x[:4], y[:4], w, b) == pytest.approx(1 / np.linalg.norm(w))
    assert svm.margin_width(w) == pytest.approx(2 / np.sqrt(0.25 + 0.0625))
    np.testing.assert_array_equal(svm.predict(x, w, b), [1, -1, 1, -1, 1, 1, 1])
    np.testing.assert_array_equal(svm.decision_function(x, w, b), x @ w + b)


def test_one_vs_rest_classifies_three_separated_blobs():
    rng = np.random.default_rng(3)
    centres = np.array([[0.0, 4.0], [-4.0, -2.0], [4.0, -2.0]])
    labels = np.repeat(np.arange(3), 30)
    x = centres[labels] + 0.6 * rng.standard_normal((90, 2))
    W, B = svm.train_one_vs_rest(x, labels, 3, c=10.0, lr=0.5, epochs=300)
    assert W.shape == (3, 2) and B.shape == (3,)
    np.testing.assert_array_equal(svm.predict_one_vs_rest(x, W, B), labels)


@pytest.mark.parametrize("y, match", [
    (np.array([0.0, 1.0, 1.0]), r"-1 or \+1"),
    (np.array([1, -1, 2]), r"-1 or \+1"),
    (np.array([1.0, -1.0]), r"y must be \(N,\) = \(3,\)"),
    (np.ones((3, 1)), r"y must have 1 dimension"),
])
def test_bad_labels_raise(y, match):
    x, w = np.ones((3, 2)), np.ones(2)
    with pytest.raises(ValueError, match=match):
        svm.hinge_loss(w, 0.0, x, y, 1.0)
    with pytest.raises(ValueError, match=match):
        svm.train_linear_svm(x, y, c=1.0, lr=0.1, epochs=3)


@pytest.mark.parametrize("x, w, b, match", [
    (np.ones(3), np.ones(3), 0.0, r"x must have 2 dimension"),
    (np.ones((3, 2)), np.ones(3), 0.0, r"w must be \(D,\) = \(2,\)"),
    (np.ones((3, 2)), np.ones(2), np.zeros(2), r"b must be a single bias"),
])
def test_bad_parameters_raise(x, w, b, match):
    with pytest.raises(ValueError, match=match):
        svm.hinge_loss(w, b, x, np.ones(len(x)), 1.0)
    with pytest.raises(ValueError, match=match):
        svm.decision_function(x, w, b)


@pytest.mark.parametrize("c, lr, epochs, match", [
    (0.0, 0.1, 3, "c must be > 0"),
    (-1.0, 0.1, 3, "c must be > 0"),
    (float("inf"), 0.1, 3, "c must be a finite number"),
    (1.0, 0.0, 3, "lr must be > 0"),
    (1.0, 0.1, 0, "epochs must be a positive integer"),
])
def test_bad_training_settings_raise(c, lr, epochs, match):
    with pytest.raises(ValueError, match=match):
        svm.train_linear_svm(np.ones((3, 2)), np.array([1, -1, 1]), c=c, lr=lr,
                             epochs=epochs)


def test_mini_batches_need_a_generator():
    with pytest.raises(TypeError, match="needs rng"):
        svm.train_linear_svm(np.ones((3, 2)), np.array([1, -1, 1]), c=1.0, lr=0.1,
                             epochs=3, batch_size=2)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        svm.train_linear_svm(np.ones((3, 2)), np.array([1, -1, 1]), c=1.0, lr=0.1,
                             epochs=3, rng=np.random.default_rng(0), batch_size=0)


def test_zero_weights_define_no_hyperplane():
    with pytest.raises(ValueError, match="non-zero"):
        svm.signed_distance(np.ones((2, 2)), np.zeros(2), 1.0)
    with pytest.raises(ValueError, match="non-zero"):
        svm.margin_width(np.zeros(3))


def test_one_vs_rest_bad_input_raises():
    x = np.ones((4, 2))
    with pytest.raises(ValueError, match=r"outside \[0, 3\)"):
        svm.train_one_vs_rest(x, np.array([0, 1, 3, 2]), 3, c=1.0, lr=0.1, epochs=2)
    with pytest.raises(TypeError, match="integer class indices"):
        svm.train_one_vs_rest(x, np.array([0.0, 1.0, 2.0, 1.0]), 3, c=1.0, lr=0.1,
                              epochs=2)
    with pytest.raises(ValueError, match="n_classes >= 2"):
        svm.train_one_vs_rest(x, np.zeros(4, dtype=int), 1, c=1.0, lr=0.1, epochs=2)
    with pytest.raises(ValueError, match=r"W must be \(K, D\)"):
        svm.predict_one_vs_rest(x, np.ones((3, 3)), np.ones(3))


# --- issue 12: bad and extreme input ---------------------------------------------------------

@pytest.mark.parametrize("scale", [1e200, 1e-200, 1e-300, 1e300])
def test_margins_do_not_overflow_at_extreme_magnitudes(scale):
    # Old code: margin_width([1e200, 1e200]) was 0.0 (||w||^2 overflowed to inf).
    w = np.array([scale, scale])
    assert svm.margin_width(w) == pytest.approx(2.0 / (np.sqrt(2.0) * scale), rel=1e-12)
    x = np.array([[1.0, 0.0], [0.0, -3.0]])
    np.testing.assert_allclose(svm.signed_distance(x, w, 0.0), [1 / np.sqrt(2), -3 / np.sqrt(2)],
                               rtol=1e-12)
    assert svm.geometric_margin(x, np.array([1.0, -1.0]), w, 0.0) == pytest.approx(
        1 / np.sqrt(2), rel=1e-12)


def test_nan_in_x_reaches_the_subgradient_as_in_torch():
    x = np.array([[np.nan, 1.0], [2.0, 0.5]])
    w, y = np.array([0.3, -0.2]), np.array([1.0, -1.0])
    loss, (dw, db) = svm.hinge_loss(w, 0.1, x, y, 1.0)
    wt = to_torch(w).requires_grad_()
    bt = torch.tensor(0.1, dtype=torch.float64, requires_grad=True)
    ref = _torch_objective(wt, bt, to_torch(x), to_torch(y), 1.0)
    ref.backward()
    assert np.isnan(loss) and np.isnan(ref.item())
    np.testing.assert_array_equal(np.isnan(dw), torch.isnan(wt.grad).numpy())
    assert np.isnan(float(db)) == bool(torch.isnan(bt.grad))
    with pytest.raises(ValueError, match="x must be finite"):
        svm.train_linear_svm(x, y, c=1.0, lr=0.1, epochs=2)


def test_float32_stays_float32_with_a_python_float_bias():
    x, w = np.ones((3, 2), np.float32), np.ones(2, np.float32)
    assert svm.decision_function(x, w, 0.5).dtype == np.float32
    assert svm.signed_distance(x, w, 0.5).dtype == np.float32
