"""dlnotes.activations against torch in float64, forward and backward."""
import numpy as np
import pytest
import torch

from dlnotes import activations as A
from dlnotes.verify import check_pair, check_values, to_torch

SHAPES = [(1,), (7,), (1, 5), (4, 3), (2, 3, 4)]
PAIRS = [
    ("sigmoid", A.sigmoid_forward, A.sigmoid_backward, torch.sigmoid),
    ("tanh", A.tanh_forward, A.tanh_backward, torch.tanh),
    ("relu", A.relu_forward, A.relu_backward, torch.relu),
]


@pytest.mark.parametrize("name, fwd, bwd, ref", PAIRS)
@pytest.mark.parametrize("shape", SHAPES)
def test_pairs_match_torch(name, fwd, bwd, ref, shape, rng):
    z = rng.standard_normal(shape) * 3
    check_pair(name, fwd, bwd, ref, (z,), rng=rng)


@pytest.mark.parametrize("name, fwd, bwd, ref", PAIRS)
def test_pairs_stable_at_large_inputs(name, fwd, bwd, ref, rng):
    z = np.array([-1000.0, -700.0, -50.0, 0.0, 50.0, 700.0, 1000.0])
    out, _ = fwd(z)
    assert np.all(np.isfinite(out))
    check_pair(name, fwd, bwd, ref, (z,), rng=rng)


@pytest.mark.parametrize("fn, ref", [(A.sigmoid, torch.sigmoid), (A.tanh, torch.tanh),
                                     (A.relu, torch.relu)])
def test_plain_functions_match_torch(fn, ref, rng):
    z = np.concatenate([rng.standard_normal(20) * 10, [-1000.0, 1000.0, 0.0]])
    check_values(fn.__name__, fn(z), ref(to_torch(z)))


def test_relu_gradient_at_zero_is_zero_like_torch():
    z = np.array([-1.0, 0.0, 0.0, 2.0])
    _, cache = A.relu_forward(z)
    dz = A.relu_backward(np.ones(4), cache)
    t = to_torch(z, requires_grad=True)
    torch.relu(t).sum().backward()
    np.testing.assert_array_equal(dz, [0.0, 0.0, 0.0, 1.0])
    np.testing.assert_array_equal(dz, t.grad.cpu().numpy())


@pytest.mark.parametrize("axis", [-1, 0, 1])
@pytest.mark.parametrize("scale", [1.0, 1000.0])
def test_softmax_and_log_softmax_match_torch(axis, scale, rng):
    z = rng.standard_normal((5, 4)) * scale
    check_values("softmax", A.softmax(z, axis=axis), torch.softmax(to_torch(z), dim=axis))
    check_values("log_softmax", A.log_softmax(z, axis=axis),
                 torch.log_softmax(to_torch(z), dim=axis))
    assert np.all(np.isfinite(A.log_softmax(z, axis=axis)))


def test_softmax_rows_sum_to_one(rng):
    s = A.softmax(rng.standard_normal((6, 9)) * 50)
    np.testing.assert_allclose(s.sum(axis=1), 1.0, rtol=0, atol=1e-14)


def test_softmax_of_single_row_vector():
    np.testing.assert_allclose(A.softmax(np.array([0.0, np.log(3.0)])), [0.25, 0.75])


@pytest.mark.parametrize("bad", [np.array(["a", "b"]), np.array([1 + 2j])])
def test_non_real_input_raises_type_error(bad):
    with pytest.raises(TypeError, match="z must be"):
        A.sigmoid(bad)


def test_softmax_bad_axis_raises():
    with pytest.raises(ValueError, match="axis=2 is out of range"):
        A.softmax(np.zeros((2, 3)), axis=2)


def test_backward_with_wrong_upstream_shape_raises():
    _, cache = A.tanh_forward(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"dout must have the forward input's shape \(2, 3\)"):
        A.tanh_backward(np.zeros((3, 2)), cache)


# --- issue 12: the boundary (each of these gave a silent wrong answer before) ---------------

def test_a_backward_refuses_another_activations_cache(rng):
    z = rng.standard_normal((3, 4))
    dout = rng.standard_normal((3, 4))
    _, tanh_cache = A.tanh_forward(z)
    _, leaky_cache = A.leaky_relu_forward(z, 0.1)
    _, log_softmax_cache = A.log_softmax_forward(z)
    _, softmax_cache = A.softmax_forward(z)
    with pytest.raises(TypeError, match="sigmoid_backward got a TanhCache"):
        A.sigmoid_backward(dout, tanh_cache)
    with pytest.raises(TypeError, match="relu_backward got a LeakyReluCache"):
        A.relu_backward(dout, leaky_cache)
    with pytest.raises(TypeError, match="softmax_backward got a LogSoftmaxCache"):
        A.softmax_backward(dout, log_softmax_cache)
    with pytest.raises(TypeError, match="log_softmax_backward got a SoftmaxCache"):
        A.log_softmax_backward(dout, softmax_cache)
    with pytest.raises(TypeError, match="tanh_backward got a tuple"):
        A.tanh_backward(dout, (z, np.tanh(z)))


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "leaky_relu", "softmax",
                                  "log_softmax"])
def test_changing_the_returned_output_leaves_the_backward_alone(name, rng):
    forward, backward = getattr(A, f"{name}_forward"), getattr(A, f"{name}_backward")
    z = rng.standard_normal((3, 4))
    dout = rng.standard_normal((3, 4))
    out, cache = forward(z)
    expected = backward(dout, forward(z)[1])
    out *= 2.0
    z *= 3.0                                     # the caller's input may change too
    np.testing.assert_array_equal(backward(dout, cache), expected)


def test_relu_backward_passes_dout_through_at_nan_as_torch_does():
    z = np.array([np.nan, -1.0, 0.0, 2.0])
    dout = np.full(4, 3.0)
    zt = to_torch(z, requires_grad=True)
    torch.relu(zt).backward(to_torch(dout))
    np.testing.assert_array_equal(A.relu_backward(dout, A.relu_forward(z)[1]),
                                  zt.grad.cpu().numpy())     # [3, 0, 0, 3]


@pytest.mark.parametrize("shape", [(3, 0), (0, 3), (0,)])
def test_softmax_of_an_empty_array_is_empty_as_in_torch(shape):
    for ours, theirs in [(A.softmax, torch.softmax), (A.log_softmax, torch.log_softmax)]:
        out = ours(np.zeros(shape))
        assert out.shape == tuple(theirs(torch.zeros(shape), -1).shape) == shape
        s, cache = A.softmax_forward(np.zeros(shape))
        assert A.softmax_backward(np.zeros(shape), cache).shape == shape


def test_softmax_of_a_scalar_names_z():
    with pytest.raises(ValueError, match="z must have at least one axis"):
        A.softmax(np.float64(1.0))
