"""dlnotes.mlp against torch autograd (float64), finite differences and bad input."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlnotes.gradcheck import numerical_gradient, relative_error
from dlnotes.layers import dropout_forward
from dlnotes.mlp import init_mlp, mlp_logits, mlp_loss_and_grads, mlp_predict, train_gd
from dlnotes.verify import check_values, to_numpy, to_torch

# (layer widths, batch size): batch 1, a hidden layer of width 1, three dense layers.
SHAPES = [([2, 5, 3], 1), ([3, 1, 2], 4), ([4, 7, 6, 3], 9), ([2, 16, 4], 12)]


def _problem(sizes, n, seed=0):
    rng = np.random.default_rng(seed)
    params = init_mlp(sizes, rng)
    # Non-zero biases so that their gradients are exercised away from the initial point.
    params = {k: v + (0.1 * rng.standard_normal(v.shape) if k[0] == "b" else 0)
              for k, v in params.items()}
    x = rng.standard_normal((n, sizes[0]))
    y = rng.integers(0, sizes[-1], size=n)
    return params, x, y, rng


def _torch_loss(params, x, y, l2, masks=None):
    """The same objective written directly in torch; masks are the scaled dropout masks."""
    t = {k: to_torch(v, requires_grad=True) for k, v in params.items()}
    num_layers = len(params) // 2
    h = to_torch(x)
    for layer in range(1, num_layers):
        h = torch.relu(F.linear(h, t[f"w{layer}"], t[f"b{layer}"]))
        if masks is not None:
            h = h * to_torch(masks[layer - 1])
    logits = F.linear(h, t[f"w{num_layers}"], t[f"b{num_layers}"])
    loss = F.cross_entropy(logits, to_torch(y))
    loss = loss + l2 / (2 * x.shape[0]) * sum((t[f"w{layer}"] ** 2).sum()
                                              for layer in range(1, num_layers + 1))
    loss.backward()
    return loss, {k: v.grad for k, v in t.items()}, logits


@pytest.mark.parametrize("sizes,n", SHAPES)
@pytest.mark.parametrize("l2", [0.0, 0.7])
def test_loss_and_grads_match_torch(sizes, n, l2):
    params, x, y, _ = _problem(sizes, n)
    loss, grads = mlp_loss_and_grads(params, x, y, l2=l2)
    t_loss, t_grads, _ = _torch_loss(params, x, y, l2)
    check_values("loss", loss, t_loss)
    assert list(grads) == list(params)
    for k in params:
        check_values(k, grads[k], t_grads[k])


@pytest.mark.parametrize("sizes,n", SHAPES)
def test_dropout_matches_torch_with_the_same_masks(sizes, n):
    params, x, y, _ = _problem(sizes, n)
    p = 0.4
    loss, grads = mlp_loss_and_grads(params, x, y, l2=0.2, drop_p=p,
                                     rng=np.random.default_rng(7))
    # Replay the masks: one dropout_forward per hidden layer, in order, from the same seed.
    replay = np.random.default_rng(7)
    widths = [params[f"w{layer}"].shape[0] for layer in range(1, len(params) // 2)]
    masks = [dropout_forward(np.ones((n, h)), p, replay)[0] for h in widths]
    t_loss, t_grads, _ = _torch_loss(params, x, y, 0.2, masks=masks)
    check_values("loss", loss, t_loss)
    for k in params:
        check_values(k, grads[k], t_grads[k])


def test_dropout_gradient_matches_finite_differences_with_a_fixed_mask():
    params, x, y, _ = _problem([3, 6, 5, 3], 5)
    _, grads = mlp_loss_and_grads(params, x, y, l2=0.3, drop_p=0.5,
                                  rng=np.random.default_rng(3))
    for k in params:
        def f(_):
            return mlp_loss_and_grads(params, x, y, l2=0.3, drop_p=0.5,
                                      rng=np.random.default_rng(3))[0]
        assert relative_error(numerical_gradient(f, params[k]), grads[k]) < 1e-7, k


def test_l2_adds_its_penalty_and_lambda_over_n_times_w():
    params, x, y, _ = _problem([4, 7, 6, 3], 9)
    lam, n = 1.3, 9
    loss0, grads0 = mlp_loss_and_grads(params, x, y)
    loss1, grads1 = mlp_loss_and_grads(params, x, y, l2=lam)
    penalty = lam / (2 * n) * sum(np.sum(params[f"w{layer}"] ** 2) for layer in (1, 2, 3))
    np.testing.assert_allclose(loss1 - loss0, penalty, rtol=1e-12)
    for layer in (1, 2, 3):
        np.testing.assert_allclose(grads1[f"w{layer}"] - grads0[f"w{layer}"],
                                   lam / n * params[f"w{layer}"], rtol=1e-10, atol=1e-14)
        np.testing.assert_array_equal(grads1[f"b{layer}"], grads0[f"b{layer}"])


def test_drop_p_zero_needs_no_rng_and_is_the_plain_network():
    params, x, y, _ = _problem([2, 5, 3], 6)
    loss, grads = mlp_loss_and_grads(params, x, y, drop_p=0.0, rng=None)
    t_loss, t_grads, _ = _torch_loss(params, x, y, 0.0)
    check_values("loss", loss, t_loss)
    check_values("w1", grads["w1"], t_grads["w1"])


def test_logits_and_predict_match_torch():
    params, x, y, _ = _problem([4, 7, 6, 3], 9)
    _, _, t_logits = _torch_loss(params, x, y, 0.0)
    check_values("logits", mlp_logits(params, x), t_logits)
    np.testing.assert_array_equal(mlp_predict(params, x), to_numpy(t_logits).argmax(axis=1))
    assert mlp_predict(params, x).dtype == np.int64


def test_init_mlp_shapes_and_scales():
    rng = np.random.default_rng(0)
    params = init_mlp([400, 300, 10], rng)
    assert [(k, v.shape) for k, v in params.items()] == [
        ("w1", (300, 400)), ("b1", (300,)), ("w2", (10, 300)), ("b2", (10,))]
    assert not params["b1"].any() and not params["b2"].any()
    # 120000 draws: the sample std is within 1% of sqrt(2 / fan_in) with overwhelming odds.
    assert abs(params["w1"].std() / np.sqrt(2 / 400) - 1) < 0.01
    xavier = init_mlp([400, 300], rng, scheme="xavier")["w1"]
    bound = np.sqrt(6 / 700)
    assert np.abs(xavier).max() <= bound and np.abs(xavier).max() > 0.99 * bound


def test_train_gd_matches_torch_sgd_over_many_steps():
    params, x, y, _ = _problem([2, 8, 3], 10)
    lr, lam, steps = 0.5, 0.4, 40
    trained, history = train_gd(params, x, y, lr=lr, steps=steps, l2=lam, x_dev=x[:4],
                                y_dev=y[:4])
    t = {k: to_torch(v, requires_grad=True) for k, v in params.items()}
    # The L2 term on the weights only is torch SGD's weight_decay = lambda / N on them.
    opt = torch.optim.SGD([{"params": [t["w1"], t["w2"]], "weight_decay": lam / 10},
                           {"params": [t["b1"], t["b2"]]}], lr=lr)
    t_losses = []
    for _ in range(steps):
        opt.zero_grad()
        logits = F.linear(torch.relu(F.linear(to_torch(x), t["w1"], t["b1"])), t["w2"], t["b2"])
        loss = F.cross_entropy(logits, to_torch(y))
        t_losses.append(loss.item())
        loss.backward()
        opt.step()
    for k in params:
        check_values(k, trained[k], t[k], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(history.train_loss, t_losses, rtol=1e-10)
    assert len(history.objective) == len(history.dev_loss) == steps
    assert history.train_loss[-1] < history.train_loss[0]


def test_train_gd_leaves_its_input_alone():
    params, x, y, _ = _problem([2, 5, 3], 6)
    before = {k: v.copy() for k, v in params.items()}
    train_gd(params, x, y, lr=0.1, steps=3, drop_p=0.2, rng=np.random.default_rng(0))
    for k in params:
        np.testing.assert_array_equal(params[k], before[k])


@pytest.mark.parametrize("change,error,match", [
    (lambda p, x, y: (p, x[:, :1], y), ValueError, r"x must be \(N, 2\)"),
    (lambda p, x, y: (p, x[0], y), ValueError, "x must have 2 dimension"),
    (lambda p, x, y: (p, x, y[:-1]), ValueError, r"y must be \(N,\)"),
    (lambda p, x, y: (p, x, y.astype(float)), TypeError, "integer class indices"),
    (lambda p, x, y: (p, x, y + 3), ValueError, "outside"),
    (lambda p, x, y: ({**p, "w3": p["w2"]}, x, y), ValueError, "keys"),
    (lambda p, x, y: ({**p, "b1": p["b1"][:-1]}, x, y), ValueError, "b1 must be"),
    (lambda p, x, y: ({**p, "w2": p["w2"][:, :-1]}, x, y), ValueError, "w2 must take 5"),
    (lambda p, x, y: ([p], x, y), TypeError, "params must be a dict"),
])
def test_bad_input_raises(change, error, match):
    params, x, y, _ = _problem([2, 5, 3], 6)
    with pytest.raises(error, match=match):
        mlp_loss_and_grads(*change(params, x, y))


@pytest.mark.parametrize("kwargs,error,match", [
    ({"l2": -0.1}, ValueError, "l2"),
    ({"l2": float("nan")}, ValueError, "l2"),
    ({"drop_p": 1.0, "rng": np.random.default_rng(0)}, ValueError, "drop_p"),
    ({"drop_p": 0.5}, TypeError, "needs rng"),
    ({"drop_p": True}, TypeError, "drop_p"),
    ({"drop_p": "0.5"}, TypeError, "drop_p"),
    ({"l2": 0.1j}, TypeError, "l2"),
])
def test_bad_regularisation_raises(kwargs, error, match):
    params, x, y, _ = _problem([2, 5, 3], 6)
    with pytest.raises(error, match=match):
        mlp_loss_and_grads(params, x, y, **kwargs)


def test_bad_training_and_init_arguments_raise():
    params, x, y, rng = _problem([2, 5, 3], 6)
    with pytest.raises(ValueError, match="lr"):
        train_gd(params, x, y, lr=0.0, steps=3)
    with pytest.raises(ValueError, match="steps"):
        train_gd(params, x, y, lr=0.1, steps=0)
    with pytest.raises(ValueError, match="x_dev and y_dev"):
        train_gd(params, x, y, lr=0.1, steps=1, x_dev=x)
    with pytest.raises(ValueError, match="at least an input and an output"):
        init_mlp([3], rng)
    with pytest.raises(ValueError, match="every entry of sizes must be >= 1"):
        init_mlp([3, 0, 2], rng)
    with pytest.raises(TypeError, match="every entry of sizes must be an int"):
        init_mlp([3, 2.5, 2], rng)
    with pytest.raises(ValueError, match="scheme"):
        init_mlp([3, 2], rng, scheme="lecun")
    with pytest.raises(TypeError, match="rng"):
        init_mlp([3, 2], None)
    with pytest.raises(TypeError, match="sequence"):
        init_mlp(3, rng)
