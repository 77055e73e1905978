"""The two checking helpers must be able to fail: planted errors are caught."""
import numpy as np
import pytest
import sympy as sp
import torch
import torch.nn.functional as F

from dlnotes import activations, layers, losses
from dlnotes.symbolic import assert_identity
from dlnotes.verify import check_loss, check_pair, check_values


def test_check_pair_catches_a_wrong_backward(rng):
    def bad_backward(dout, cache):
        dx, dw, db = layers.dense_backward(dout, cache)
        return dx, dw, db * 1.0001
    args = (rng.standard_normal((3, 2)), rng.standard_normal((4, 2)), rng.standard_normal(4))
    with pytest.raises(AssertionError, match="gradient of input 2 differs from torch"):
        check_pair("dense", layers.dense_forward, bad_backward, F.linear, args, rng=rng)


def test_check_pair_catches_a_wrong_forward(rng):
    def bad_forward(z):
        out, cache = activations.tanh_forward(z)
        return out + 1e-9, cache
    with pytest.raises(AssertionError, match="forward output differs"):
        check_pair("tanh", bad_forward, activations.tanh_backward, torch.tanh,
                   (rng.standard_normal(5),), rng=rng)


def test_check_pair_uses_a_random_upstream_gradient(rng):
    # A backward that ignores dout's values (uses its sum) passes a .sum() test, not this one.
    def lazy_backward(dout, cache):
        return np.full_like(dout, dout.mean()) * (1 - cache.out ** 2)
    with pytest.raises(AssertionError, match="gradient of input 0"):
        check_pair("tanh", activations.tanh_forward, lazy_backward, torch.tanh,
                   (rng.standard_normal(6),), rng=rng)


def test_check_loss_catches_a_gradient_of_the_wrong_reduction(rng):
    def summed(logits, target):
        loss, grad = losses.cross_entropy(logits, target)
        return loss, grad * len(target)
    with pytest.raises(AssertionError, match="gradient differs"):
        check_loss("ce", summed, F.cross_entropy,
                   (rng.standard_normal((4, 3)), np.array([0, 1, 2, 0])))


def test_check_values_refuses_float32_references():
    with pytest.raises(AssertionError, match="not float64"):
        check_values("x", np.ones(2), torch.ones(2, dtype=torch.float32))


def test_check_values_shape_mismatch():
    with pytest.raises(AssertionError, match="shape"):
        check_values("x", np.ones(2), np.ones(3))


def test_verdict_line_is_stable(rng):
    v = check_values("softmax", activations.softmax(np.zeros(3)), np.full(3, 1 / 3))
    assert repr(v) == "softmax: values match the reference (float64, rtol=1e-10, atol=1e-12)"


def test_assert_identity_accepts_true_and_rejects_false_identities():
    z = sp.symbols("z")
    s = 1 / (1 + sp.exp(-z))
    assert repr(assert_identity(sp.diff(s, z), s * (1 - s), "d sigma")) == "SymPy verified: d sigma"
    with pytest.raises(AssertionError, match=r"left - right simplifies to"):
        assert_identity(sp.diff(s, z), s * (1 + s), "wrong")


def test_assert_identity_on_matrices():
    a, b = sp.symbols("a b")
    m = sp.Matrix([[a, b], [b, a]])
    assert_identity(m * m, sp.Matrix([[a**2 + b**2, 2*a*b], [2*a*b, a**2 + b**2]]), "square")
    with pytest.raises(AssertionError):
        assert_identity(m * m, sp.Matrix([[a**2, 2*a*b], [2*a*b, a**2 + b**2]]), "wrong square")
    with pytest.raises(AssertionError, match="shapes differ"):
        assert_identity(m, sp.Matrix([a, b]), "shapes")


def test_to_torch_keeps_shapes_and_dtypes():
    from dlnotes.verify import to_torch
    assert to_torch(np.array(0.3)).shape == ()
    assert to_torch(np.zeros((2, 0, 3))).shape == (2, 0, 3)
    assert to_torch(np.arange(3)).dtype == torch.int64
    assert to_torch(np.ones(2, dtype=np.float32)).dtype == torch.float64


def test_assert_identity_rewrites_hyperbolic_functions():
    z = sp.symbols("z", real=True)
    assert_identity((sp.exp(z) - sp.exp(-z)) / (sp.exp(z) + sp.exp(-z)), sp.tanh(z), "tanh")
    with pytest.raises(AssertionError):
        assert_identity((sp.exp(z) + sp.exp(-z)) / (sp.exp(z) + sp.exp(-z)), sp.tanh(z), "not tanh")


def test_to_torch_copies_so_inplace_updates_never_reach_the_array():
    from dlnotes.verify import to_torch
    a = np.zeros(3)
    t = to_torch(a)
    t += 1
    np.testing.assert_array_equal(a, 0.0)
