"""dlnotes.optim against torch.optim: whole trajectories over many steps, float64."""
import numpy as np
import pytest
import torch

from dlnotes import optim, schedules
from dlnotes.verify import check_values, to_torch

STEPS = 60


def _loss_grad(p: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Gradient of sum(a p^2 / 2 + sin(3 p)): curved and non-quadratic, so errors compound."""
    return a * p + 3 * np.cos(3 * p)


def _torch_loss(p: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    return (a * p ** 2 / 2 + torch.sin(3 * p)).sum()


def _run_both(make_ours, make_theirs, rng, shapes=((3, 4), (5,))):
    params = {f"p{i}": rng.standard_normal(s) for i, s in enumerate(shapes)}
    curv = {k: rng.uniform(0.5, 5.0, size=v.shape) for k, v in params.items()}
    tensors = {k: to_torch(v.copy(), requires_grad=True) for k, v in params.items()}
    ours, theirs = make_ours(params), make_theirs(list(tensors.values()))
    for _ in range(STEPS):
        ours.step({k: _loss_grad(params[k], curv[k]) for k in params})
        theirs.zero_grad()
        sum(_torch_loss(tensors[k], to_torch(curv[k])) for k in tensors).backward()
        theirs.step()
    for k in params:
        check_values(f"param {k}", params[k], tensors[k])


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_matches_torch(momentum, rng):
    _run_both(lambda p: optim.SGD(p, lr=0.05, momentum=momentum),
              lambda t: torch.optim.SGD(t, lr=0.05, momentum=momentum), rng)


@pytest.mark.parametrize("alpha, eps", [(0.99, 1e-8), (0.9, 1e-3)])
def test_rmsprop_matches_torch(alpha, eps, rng):
    _run_both(lambda p: optim.RMSprop(p, lr=0.01, alpha=alpha, eps=eps),
              lambda t: torch.optim.RMSprop(t, lr=0.01, alpha=alpha, eps=eps), rng)


@pytest.mark.parametrize("betas, eps", [((0.9, 0.999), 1e-8), ((0.5, 0.9), 1e-4)])
def test_adam_matches_torch(betas, eps, rng):
    _run_both(lambda p: optim.Adam(p, lr=0.02, betas=betas, eps=eps),
              lambda t: torch.optim.Adam(t, lr=0.02, betas=betas, eps=eps), rng)


def test_notes_momentum_equals_torch_sgd_with_scaled_lr(rng):
    beta, lr = 0.9, 0.1
    _run_both(lambda p: optim.Momentum(p, lr=lr, beta=beta),
              lambda t: torch.optim.SGD(t, lr=lr * (1 - beta), momentum=beta), rng)


def test_adam_first_step_moves_every_coordinate_by_lr():
    # With bias correction, the first Adam step is lr * g / (|g| + eps') = lr * sign(g).
    p = {"w": np.array([1.0, -2.0, 3.0])}
    optim.Adam(p, lr=0.1, eps=1e-12).step({"w": np.array([5.0, -0.01, 2.0])})
    np.testing.assert_allclose(p["w"], [0.9, -1.9, 2.9], rtol=1e-9)


def test_params_are_updated_in_place():
    w = np.zeros(2)
    optim.SGD({"w": w}, lr=0.5).step({"w": np.array([1.0, -2.0])})
    np.testing.assert_array_equal(w, [-0.5, 1.0])


@pytest.mark.parametrize("grads, error, message", [
    ({"w": np.ones(2), "b": np.ones(1)}, ValueError, r"unexpected \['b'\]"),
    ({}, ValueError, r"missing \['w'\]"),
    ({"w": np.ones(3)}, ValueError, r"grads\['w'\] must have shape \(2,\)"),
    ([np.ones(2)], TypeError, "grads must be a dict"),
])
def test_bad_grads_raise(grads, error, message):
    opt = optim.Adam({"w": np.zeros(2)}, lr=0.1)
    with pytest.raises(error, match=message):
        opt.step(grads)


@pytest.mark.parametrize("make, message", [
    (lambda: optim.SGD({"w": np.zeros(2)}, lr=-1.0), "lr must be > 0"),
    (lambda: optim.SGD({"w": np.zeros(2)}, lr=0.1, momentum=1.0), r"momentum must lie in \[0, 1\)"),
    (lambda: optim.Momentum({"w": np.zeros(2)}, lr=0.1, beta=0.0), r"beta must lie in \(0, 1\)"),
    (lambda: optim.RMSprop({"w": np.zeros(2)}, lr=0.1, eps=0.0), "eps must be > 0"),
    (lambda: optim.Adam({"w": np.zeros(2)}, lr=0.1, betas=(0.9,)), "betas must be a pair"),
])
def test_bad_hyperparameters_raise(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_integer_or_missing_params_raise_type_error():
    with pytest.raises(TypeError, match="floating-point numpy array"):
        optim.SGD({"w": np.zeros(2, dtype=int)}, lr=0.1)
    with pytest.raises(TypeError, match="non-empty dict"):
        optim.SGD({}, lr=0.1)


def test_schedules_match_torch_schedulers():
    p = torch.zeros(1, requires_grad=True)
    for make, ours in [
        (lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.9),
         lambda e: schedules.exponential_decay(0.5, e, gamma=0.9)),
        (lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5),
         lambda e: schedules.step_decay(0.5, e, step_size=3, gamma=0.5)),
    ]:
        opt = torch.optim.SGD([p], lr=0.5)
        sched = make(opt)
        for epoch in range(12):
            assert ours(epoch) == pytest.approx(opt.param_groups[0]["lr"], rel=1e-12)
            opt.step()
            sched.step()


def test_schedule_formulas_and_bad_input():
    assert schedules.inverse_time_decay(1.0, 4, decay_rate=0.5) == pytest.approx(1 / 3)
    assert schedules.inverse_sqrt_decay(2.0, 3) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="epoch must be >= 0"):
        schedules.exponential_decay(0.1, -1)
    with pytest.raises(ValueError, match="lr0 must be > 0"):
        schedules.step_decay(0.0, 1, step_size=2)


# --- issue 12: the boundary -----------------------------------------------------------------

@pytest.mark.parametrize("opt_class", [optim.SGD, optim.Momentum, optim.RMSprop,
                                       optim.RMSpropEpsInSqrt, optim.Adam])
@pytest.mark.parametrize("bad, error", [
    (np.array([1.0 + 2.0j, 0.5]), TypeError),      # the imaginary part used to be dropped
    (np.array(["1", "2"]), TypeError),
    (None, TypeError),
    ([[1.0], [2.0, 3.0]], ValueError),              # ragged
    ([1.0, "a"], TypeError),
])
def test_step_refuses_gradients_that_are_not_real_arrays(opt_class, bad, error):
    w = np.zeros(2)
    opt = opt_class({"w": w, "b": np.zeros(1)}, lr=0.1)
    with pytest.raises(error, match=r"grads\['w'\]"):
        opt.step({"w": bad, "b": np.ones(1)})
    np.testing.assert_array_equal(w, 0.0)              # nothing was updated
    assert opt.t == 0


def test_step_accepts_lists_and_numpy_scalars_of_hyperparameters():
    w = np.zeros(2)
    optim.SGD({"w": w}, lr=np.float32(0.5)).step({"w": [1, 2]})
    np.testing.assert_array_equal(w, [-0.5, -1.0])


def test_nan_gradients_propagate_into_the_parameters_as_in_torch():
    w = np.zeros(2)
    wt = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    optim.Adam({"w": w}, lr=0.1).step({"w": np.array([np.nan, 1.0])})
    wt.grad = torch.tensor([float("nan"), 1.0], dtype=torch.float64)
    torch.optim.Adam([wt], lr=0.1).step()
    np.testing.assert_array_equal(w, wt.detach().numpy())
