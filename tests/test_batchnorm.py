"""dlnotes.batchnorm against torch.nn.BatchNorm1d/BatchNorm2d in float64, both modes."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.func import functional_call

from dlnotes.batchnorm import batchnorm_backward, batchnorm_forward
from dlnotes.verify import check_pair, device, to_numpy, to_torch

SHAPES = [(2, 1), (5, 3), (16, 7), (1, 2, 3, 3), (2, 3, 1, 1), (4, 3, 5, 2), (3, 1, 7, 4)]


def _stats(rng, c):
    return rng.standard_normal(c), 0.5 + rng.random(c)


def _module(shape, momentum=0.1, eps=1e-5):
    cls = torch.nn.BatchNorm1d if len(shape) == 2 else torch.nn.BatchNorm2d
    return cls(shape[1], eps=eps, momentum=momentum, dtype=torch.float64, device=device())


def _module_reference(shape, training, momentum=0.1, eps=1e-5):
    # The torch module itself, run with our gamma, beta and running statistics.
    module = _module(shape, momentum, eps).train(training)

    def reference(x, gamma, beta, running_mean, running_var):
        state = {"weight": gamma, "bias": beta, "running_mean": running_mean,
                 "running_var": running_var, "num_batches_tracked": module.num_batches_tracked}
        return functional_call(module, state, (x,))
    return reference


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", SHAPES)
def test_forward_backward_match_the_torch_module(shape, training, rng):
    if training and np.prod(shape) // shape[1] < 2:
        pytest.skip("training needs two values per channel (tested below)")
    x = 3.0 * rng.standard_normal(shape) + 1.5
    gamma, beta = rng.standard_normal(shape[1]), rng.standard_normal(shape[1])
    running_mean, running_var = _stats(rng, shape[1])
    check_pair(f"batchnorm {shape} training={training}",
               lambda *a: batchnorm_forward(*a, training=training)[:2], batchnorm_backward,
               _module_reference(shape, training), (x, gamma, beta, running_mean, running_var),
               rng=rng, differentiable=[0, 1, 2])


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("momentum, eps", [(0.1, 1e-5), (0.3, 1e-3), (1.0, 0.5), (0.0, 1e-5)])
def test_functional_form_with_other_momentum_and_eps(training, momentum, eps, rng):
    x = rng.standard_normal((6, 4, 3, 2))
    gamma, beta = rng.standard_normal(4), rng.standard_normal(4)
    running_mean, running_var = _stats(rng, 4)
    check_pair("batchnorm vs F.batch_norm",
               lambda *a: batchnorm_forward(*a, training=training, momentum=momentum,
                                            eps=eps)[:2],
               batchnorm_backward,
               lambda x, g, b, rm, rv: F.batch_norm(x, rm, rv, g, b, training=training,
                                                    momentum=momentum, eps=eps),
               (x, gamma, beta, running_mean, running_var), rng=rng, differentiable=[0, 1, 2])


@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5, 5), (2, 2, 1, 3)])
@pytest.mark.parametrize("momentum", [0.1, 0.25])
def test_running_statistics_over_several_steps_then_eval(shape, momentum, rng):
    module = _module(shape, momentum).train()
    with torch.no_grad():
        module.weight.copy_(to_torch(rng.standard_normal(shape[1])))
        module.bias.copy_(to_torch(rng.standard_normal(shape[1])))
    gamma, beta = to_numpy(module.weight), to_numpy(module.bias)
    stats = (np.zeros(shape[1]), np.ones(shape[1]))         # torch's initial buffers
    for step in range(6):
        x = (step + 1.0) * rng.standard_normal(shape) + step
        ours, _, stats = batchnorm_forward(x, gamma, beta, *stats, training=True,
                                           momentum=momentum)
        theirs = module(to_torch(x))
        np.testing.assert_allclose(ours, to_numpy(theirs), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(stats.mean, to_numpy(module.running_mean),
                                   rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(stats.var, to_numpy(module.running_var),
                                   rtol=1e-12, atol=1e-14)
    module.eval()
    x = rng.standard_normal(shape)
    ours, _, after = batchnorm_forward(x, gamma, beta, *stats, training=False)
    np.testing.assert_allclose(ours, to_numpy(module(to_torch(x))), rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(after.mean, stats.mean)   # eval leaves them alone
    np.testing.assert_array_equal(after.var, stats.var)


def test_running_variance_is_unbiased_and_normalisation_biased(rng):
    x = rng.standard_normal((5, 2))
    out, _, stats = batchnorm_forward(x, np.ones(2), np.zeros(2), np.zeros(2), np.zeros(2),
                                      training=True, momentum=1.0, eps=1e-12)
    np.testing.assert_allclose(stats.var, x.var(axis=0, ddof=1), rtol=1e-12)
    np.testing.assert_allclose(out.var(axis=0), 1.0, rtol=1e-9)   # biased: exactly 1


def test_inputs_are_not_modified(rng):
    args = [rng.standard_normal((4, 3)), np.ones(3), np.zeros(3), np.zeros(3), np.ones(3)]
    copies = [a.copy() for a in args]
    batchnorm_forward(*args, training=True)
    for a, c in zip(args, copies, strict=True):
        np.testing.assert_array_equal(a, c)


@pytest.mark.parametrize("x, per_channel, kwargs, error, message", [
    (np.zeros((4, 3, 2)), 3, {}, ValueError, r"x must be \(N, C\) or \(N, C, H, W\)"),
    (np.zeros(4), 4, {}, ValueError, r"x must be \(N, C\) or \(N, C, H, W\)"),
    (np.zeros((4, 3)), 2, {}, ValueError, r"gamma must be \(C,\) = \(3,\)"),
    (np.zeros((1, 3)), 3, {}, ValueError, r"more than one value per channel"),
    (np.zeros((1, 3, 1, 1)), 3, {}, ValueError, r"more than one value per channel"),
    (np.zeros((4, 3)), 3, {"momentum": 1.5}, ValueError, r"momentum must lie in \[0, 1\]"),
    (np.zeros((4, 3)), 3, {"eps": 0.0}, ValueError, r"eps must be > 0"),
    (np.zeros((4, 3)), 3, {"training": "yes"}, TypeError, r"training must be True or False"),
    (np.zeros((4, 3), dtype=complex), 3, {}, TypeError, r"x must be real"),
])
def test_bad_input_raises(x, per_channel, kwargs, error, message):
    kwargs = {"training": True, **kwargs}
    c = np.ones(per_channel)
    with pytest.raises(error, match=message):
        batchnorm_forward(x, c, c, c, c, **kwargs)


def test_mismatched_running_stats_and_negative_variance_raise():
    x, c = np.zeros((4, 3)), np.ones(3)
    with pytest.raises(ValueError, match=r"running_var must be \(C,\) = \(3,\)"):
        batchnorm_forward(x, c, c, c, np.ones(4), training=False)
    with pytest.raises(ValueError, match=r"running_var must be non-negative"):
        batchnorm_forward(x, c, c, c, -c, training=False)


def test_backward_wrong_upstream_shape_raises(rng):
    _, cache, _ = batchnorm_forward(rng.standard_normal((4, 3)), np.ones(3), np.zeros(3),
                                    np.zeros(3), np.ones(3), training=True)
    with pytest.raises(ValueError, match=r"dout must have the forward input's shape \(4, 3\)"):
        batchnorm_backward(np.zeros((3, 4)), cache)


# --- issue 12: the boundary -----------------------------------------------------------------

def test_changing_gamma_or_out_after_the_forward_leaves_the_backward_alone(rng):
    x = rng.standard_normal((6, 3))
    gamma, beta = rng.standard_normal(3), rng.standard_normal(3)
    stats = (np.zeros(3), np.ones(3))
    dout = rng.standard_normal((6, 3))
    expected = batchnorm_backward(dout, batchnorm_forward(x, gamma, beta, *stats, True)[1])
    out, cache, _ = batchnorm_forward(x, gamma, beta, *stats, True)
    gamma *= 10.0                                # the cache used to keep the caller's gamma
    out *= 2.0
    for got, want in zip(batchnorm_backward(dout, cache), expected, strict=True):
        np.testing.assert_array_equal(got, want)


def test_batchnorm_backward_refuses_another_cache():
    from dlnotes.activations import relu_forward
    _, cache = relu_forward(np.zeros((4, 3)))
    with pytest.raises(TypeError, match="batchnorm_backward got a ReluCache"):
        batchnorm_backward(np.ones((4, 3)), cache)


def test_zero_channels_are_refused_with_a_message():
    with pytest.raises(ValueError, match="at least one channel"):
        batchnorm_forward(np.zeros((4, 0)), *(np.zeros(0),) * 4, training=False)


def test_numpy_scalars_are_accepted_for_momentum_and_eps(rng):
    x = rng.standard_normal((5, 2))
    c = np.ones(2)
    a = batchnorm_forward(x, c, c, c, c, True, momentum=np.float32(0.5), eps=np.float64(1e-5))
    b = batchnorm_forward(x, c, c, c, c, True, momentum=0.5, eps=1e-5)
    np.testing.assert_array_equal(a[2].var, b[2].var)
