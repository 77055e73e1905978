"""dlnotes.optim additions: exponentially_weighted_average and RMSpropEpsInSqrt (float64)."""
import numpy as np
import pytest
import torch

from dlnotes import optim
from dlnotes.verify import check_values, to_torch

# ---------------------------------------------------------------- exponentially_weighted_average

@pytest.mark.parametrize("beta", [0.0, 0.5, 0.9, 0.99])
@pytest.mark.parametrize("shape", [(1,), (7,), (40, 3, 2)])
def test_ewa_without_correction_is_adams_first_moment(beta, shape, rng):
    """torch.optim.Adam's exp_avg, fed the series as gradients, is the uncorrected average."""
    values = rng.standard_normal(shape)
    ours = optim.exponentially_weighted_average(values, beta, bias_correction=False)
    p = to_torch(np.zeros(shape[1:]), requires_grad=True)
    opt = torch.optim.Adam([p], lr=1e-3, betas=(beta, 0.999))
    theirs = []
    for value in values:
        p.grad = to_torch(value.copy())
        opt.step()
        theirs.append(opt.state[p]["exp_avg"].clone())
    check_values("ewa vs Adam exp_avg", ours, torch.stack(theirs))


@pytest.mark.parametrize("beta", [0.3, 0.9, 0.98])
def test_ewa_corrected_is_the_normalised_weighted_sum(beta, rng):
    values = rng.standard_normal((30, 4))
    ours = optim.exponentially_weighted_average(values, beta)
    for t in range(1, 31):
        w = (1 - beta) * beta ** (t - np.arange(1, t + 1))     # weights of theta_1..theta_t
        expected = w @ values[:t] / w.sum()
        np.testing.assert_allclose(ours[t - 1], expected, rtol=1e-12, atol=1e-14)


def test_ewa_corrected_average_of_a_constant_is_the_constant():
    values = np.full(50, 3.25)
    corrected = optim.exponentially_weighted_average(values, 0.98)
    raw = optim.exponentially_weighted_average(values, 0.98, bias_correction=False)
    np.testing.assert_allclose(corrected, 3.25, rtol=1e-14)
    np.testing.assert_allclose(raw, 3.25 * (1 - 0.98 ** np.arange(1, 51)), rtol=1e-13)


def test_ewa_beta_zero_returns_the_series(rng):
    values = rng.standard_normal((9, 2))
    np.testing.assert_array_equal(optim.exponentially_weighted_average(values, 0.0), values)


def test_ewa_does_not_modify_its_input(rng):
    values = rng.standard_normal(12)
    before = values.copy()
    optim.exponentially_weighted_average(values, 0.9)
    np.testing.assert_array_equal(values, before)


@pytest.mark.parametrize("values, beta, kwargs, error, message", [
    (np.float64(1.0), 0.9, {}, ValueError, "T >= 1"),
    (np.zeros(0), 0.9, {}, ValueError, "T >= 1"),
    (np.zeros(3), 1.0, {}, ValueError, r"beta must lie in \[0, 1\)"),
    (np.zeros(3), -0.1, {}, ValueError, "beta must lie"),
    (np.zeros(3), True, {}, TypeError, "beta must be a real number"),
    (np.zeros(3), 0.9, {"bias_correction": "yes"}, TypeError, "bias_correction must be a bool"),
    (np.zeros(3, dtype=complex), 0.9, {}, TypeError, "must be real"),
    (["a", "b"], 0.9, {}, TypeError, "real numeric array"),
])
def test_ewa_rejects_bad_input(values, beta, kwargs, error, message):
    with pytest.raises(error, match=message):
        optim.exponentially_weighted_average(values, beta, **kwargs)


# ---------------------------------------------------------------- RMSpropEpsInSqrt

@pytest.mark.parametrize("g", [1.0, 1e-3, 1e-6])
def test_rmsprop_eps_in_sqrt_follows_its_closed_form(g):
    """Constant gradient g: s_k = (1 - alpha^k) g^2, so every step is known in closed form."""
    lr, alpha, eps, steps = 0.01, 0.9, 1e-8, 50
    params = {"x": np.zeros(3)}
    opt = optim.RMSpropEpsInSqrt(params, lr=lr, alpha=alpha, eps=eps)
    for _ in range(steps):
        opt.step({"x": np.full(3, g)})
    k = np.arange(1, steps + 1)
    expected = -lr * np.sum(g / np.sqrt((1 - alpha ** k) * g * g + eps))
    np.testing.assert_allclose(params["x"], expected, rtol=1e-12)


def test_rmsprop_eps_in_sqrt_differs_from_torch_form_for_small_gradients():
    """First step with g = 1e-6, alpha = 0.99: g/sqrt(1e-14 + 1e-8) vs g/(1e-7 + 1e-8)."""
    g, lr = 1e-6, 0.01
    notes = {"x": np.zeros(1)}
    torch_form = {"x": np.zeros(1)}
    optim.RMSpropEpsInSqrt(notes, lr=lr).step({"x": np.array([g])})
    optim.RMSprop(torch_form, lr=lr).step({"x": np.array([g])})
    np.testing.assert_allclose(-notes["x"], lr * g / np.sqrt(0.01 * g * g + 1e-8), rtol=1e-14)
    np.testing.assert_allclose(-torch_form["x"], lr * g / (0.1 * g + 1e-8), rtol=1e-14)
    assert -torch_form["x"][0] > 500 * -notes["x"][0]


def test_rmsprop_eps_in_sqrt_with_negligible_eps_matches_torch_rmsprop_eps_zero(rng):
    """With eps far below every s, both placements vanish: torch's RMSprop(eps=0) is the same."""
    x0 = rng.standard_normal((3, 4))
    curv = rng.uniform(0.5, 5.0, size=x0.shape)
    params = {"x": x0.copy()}
    ours = optim.RMSpropEpsInSqrt(params, lr=0.02, alpha=0.95, eps=1e-300)
    x_t = to_torch(x0.copy(), requires_grad=True)
    theirs = torch.optim.RMSprop([x_t], lr=0.02, alpha=0.95, eps=0.0)
    for _ in range(80):
        ours.step({"x": curv * params["x"] + 3 * np.cos(3 * params["x"])})
        theirs.zero_grad()
        (to_torch(curv) * x_t ** 2 / 2 + torch.sin(3 * x_t)).sum().backward()
        theirs.step()
    check_values("RMSpropEpsInSqrt(eps=1e-300) vs RMSprop(eps=0)", params["x"], x_t)


@pytest.mark.parametrize("kwargs, message", [
    ({"lr": 0.0}, "lr must be > 0"),
    ({"lr": 0.1, "eps": 0.0}, "eps must be > 0"),
    ({"lr": 0.1, "alpha": 1.0}, r"alpha must lie in \(0, 1\)"),
])
def test_rmsprop_eps_in_sqrt_rejects_bad_hyperparameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        optim.RMSpropEpsInSqrt({"x": np.zeros(2)}, **kwargs)


def test_rmsprop_eps_in_sqrt_rejects_bad_gradients():
    opt = optim.RMSpropEpsInSqrt({"x": np.zeros(2)}, lr=0.1)
    with pytest.raises(ValueError, match=r"grads\['x'\] must have shape \(2,\)"):
        opt.step({"x": np.zeros(3)})
    with pytest.raises(ValueError, match="grads must have the keys"):
        opt.step({"y": np.zeros(2)})
