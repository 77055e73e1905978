"""Leaky ReLU, the softmax / log-softmax pairs and softmax_jacobian against torch (float64)."""
import numpy as np
import pytest
import torch

from dlnotes.activations import (
    leaky_relu,
    leaky_relu_backward,
    leaky_relu_forward,
    log_softmax_backward,
    log_softmax_forward,
    relu_backward,
    relu_forward,
    softmax,
    softmax_backward,
    softmax_forward,
    softmax_jacobian,
)
from dlnotes.verify import check_pair, check_values, to_numpy, to_torch

F = torch.nn.functional
SHAPES = [(1,), (7,), (1, 1), (4, 3), (2, 3, 5)]


def _inputs(shape, seed):
    """Random logits with an exact 0 and the extremes +-1000 mixed in."""
    z = 3.0 * np.random.default_rng(seed).standard_normal(shape)
    flat = z.reshape(-1)
    for i, v in enumerate((0.0, 1000.0, -1000.0)):
        if i < flat.size:
            flat[(7 * i) % flat.size] = v
    return z


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("slope", [0.01, 0.2, 0.0, -0.5, 3.0])
def test_leaky_relu_pair_matches_torch(shape, slope):
    z = _inputs(shape, seed=1)
    check_pair("leaky_relu", lambda a: leaky_relu_forward(a, slope), leaky_relu_backward,
               lambda t: F.leaky_relu(t, slope), (z,), rng=np.random.default_rng(2))
    check_values("leaky_relu", leaky_relu(z, slope), F.leaky_relu(to_torch(z), slope))


def test_leaky_relu_default_slope_is_torchs():
    z = _inputs((5, 4), seed=3)
    check_values("leaky_relu default", leaky_relu(z), F.leaky_relu(to_torch(z)))


def test_leaky_relu_gradient_at_zero_is_the_slope_like_torch():
    z = np.array([-1.0, 0.0, 1.0])
    t = to_torch(z, requires_grad=True)
    F.leaky_relu(t, 0.25).sum().backward()
    _, cache = leaky_relu_forward(z, 0.25)
    np.testing.assert_array_equal(leaky_relu_backward(np.ones(3), cache), to_numpy(t.grad))
    np.testing.assert_array_equal(to_numpy(t.grad), [0.25, 0.25, 1.0])


def test_leaky_relu_with_slope_zero_is_relu():
    z = _inputs((6, 5), seed=4)
    dout = np.random.default_rng(5).standard_normal(z.shape)
    out, cache = leaky_relu_forward(z, 0.0)
    r_out, r_cache = relu_forward(z)
    np.testing.assert_array_equal(out, r_out)
    np.testing.assert_array_equal(leaky_relu_backward(dout, cache), relu_backward(dout, r_cache))


@pytest.mark.parametrize("shape,axis", [((1,), -1), ((1, 1), -1), ((1, 6), 1), ((4, 3), -1),
                                        ((4, 3), 0), ((2, 3, 5), 1), ((2, 3, 5), -1)])
def test_softmax_pair_matches_torch(shape, axis):
    z = _inputs(shape, seed=6)
    check_pair("softmax", lambda a: softmax_forward(a, axis), softmax_backward,
               lambda t: torch.softmax(t, dim=axis), (z,), rng=np.random.default_rng(7))


@pytest.mark.parametrize("shape,axis", [((1,), -1), ((1, 1), -1), ((1, 6), 1), ((4, 3), -1),
                                        ((4, 3), 0), ((2, 3, 5), 1), ((2, 3, 5), -1)])
def test_log_softmax_pair_matches_torch(shape, axis):
    z = _inputs(shape, seed=8)
    check_pair("log_softmax", lambda a: log_softmax_forward(a, axis), log_softmax_backward,
               lambda t: torch.log_softmax(t, dim=axis), (z,), rng=np.random.default_rng(9))


@pytest.mark.parametrize("C", [1, 2, 5])
def test_softmax_jacobian_matches_autograd(C):
    z = 2.0 * np.random.default_rng(C).standard_normal(C)
    jac = torch.autograd.functional.jacobian(lambda t: torch.softmax(t, dim=0), to_torch(z))
    check_values("softmax_jacobian", softmax_jacobian(softmax(z)), jac)


def test_softmax_jacobian_of_a_batch_is_one_matrix_per_row():
    z = 2.0 * np.random.default_rng(10).standard_normal((4, 3))
    jacs = softmax_jacobian(softmax(z, axis=1))
    assert jacs.shape == (4, 3, 3)
    for n in range(4):
        jac = torch.autograd.functional.jacobian(lambda t: torch.softmax(t, dim=0),
                                                 to_torch(z[n]))
        check_values(f"softmax_jacobian row {n}", jacs[n], jac)


def test_softmax_backward_is_the_jacobian_product():
    z = np.random.default_rng(11).standard_normal((3, 4))
    dout = np.random.default_rng(12).standard_normal((3, 4))
    s, cache = softmax_forward(z)
    by_matrix = np.einsum("nc,nck->nk", dout, softmax_jacobian(s))
    np.testing.assert_allclose(softmax_backward(dout, cache), by_matrix, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("slope,error", [("0.1", TypeError), (None, TypeError),
                                         (True, TypeError), (float("nan"), ValueError),
                                         (float("inf"), ValueError)])
def test_leaky_relu_rejects_a_bad_slope(slope, error):
    with pytest.raises(error, match="negative_slope"):
        leaky_relu(np.ones(3), slope)
    with pytest.raises(error, match="negative_slope"):
        leaky_relu_forward(np.ones(3), slope)


def test_leaky_relu_rejects_bad_arrays():
    with pytest.raises(TypeError, match="z must be real"):
        leaky_relu_forward(np.ones(3, dtype=complex))
    _, cache = leaky_relu_forward(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"dout must have the forward input's shape \(2, 3\)"):
        leaky_relu_backward(np.ones((3, 2)), cache)


@pytest.mark.parametrize("forward,backward", [(softmax_forward, softmax_backward),
                                              (log_softmax_forward, log_softmax_backward)])
def test_softmax_pairs_reject_bad_input(forward, backward):
    with pytest.raises(ValueError, match="axis=2 is out of range"):
        forward(np.ones((2, 3)), axis=2)
    with pytest.raises(TypeError, match="axis must be an int"):
        forward(np.ones((2, 3)), axis=1.0)
    with pytest.raises(TypeError, match="z must be a real numeric array"):
        forward(np.array(["a", "b"]))
    _, cache = forward(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"dout must have the forward output's shape \(2, 3\)"):
        backward(np.ones(3), cache)


@pytest.mark.parametrize("s,error,message", [
    (np.full((2, 2, 2), 0.5), ValueError, r"\(C,\) or \(N, C\)"),
    (np.array(0.5), ValueError, r"\(C,\) or \(N, C\)"),
    (np.ones((2, 0)), ValueError, r"\(C,\) or \(N, C\)"),
    (np.array([0.5, 0.6]), ValueError, "sum to 1"),
    (np.array([1.5, -0.5]), ValueError, r"in \[0, 1\]"),
    (np.array([np.nan, 1.0]), ValueError, r"in \[0, 1\]"),
    (np.array([0.5, 0.5], dtype=complex), TypeError, "s must be real"),
])
def test_softmax_jacobian_rejects_what_is_not_a_softmax_output(s, error, message):
    with pytest.raises(error, match=message):
        softmax_jacobian(s)
