"""dlnotes.losses against torch in float64 (loss and gradient), plus the information measures."""
import math

import numpy as np
import pytest
import torch.nn.functional as F

from dlnotes import losses as L
from dlnotes.verify import check_loss


@pytest.mark.parametrize("shape", [(1,), (5,), (3, 4)])
def test_binary_cross_entropy_matches_torch(shape, rng):
    p = rng.uniform(0.01, 0.99, size=shape)
    y = rng.uniform(0, 1, size=shape)
    check_loss("bce", L.binary_cross_entropy, F.binary_cross_entropy, (p, y))


def test_binary_cross_entropy_at_saturated_probabilities_matches_torch():
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.5])
    y = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    check_loss("bce", L.binary_cross_entropy, F.binary_cross_entropy, (p, y))
    loss, grad = L.binary_cross_entropy(p, y)
    assert math.isfinite(loss) and np.all(np.isfinite(grad))


@pytest.mark.parametrize("scale", [1.0, 1000.0])
@pytest.mark.parametrize("shape", [(1,), (6,), (2, 3)])
def test_bce_with_logits_matches_torch(shape, scale, rng):
    z = rng.standard_normal(shape) * scale
    y = rng.integers(0, 2, size=shape).astype(float)
    check_loss("bce_with_logits", L.binary_cross_entropy_with_logits,
               F.binary_cross_entropy_with_logits, (z, y))


@pytest.mark.parametrize("n, c", [(1, 2), (1, 5), (8, 3), (16, 10)])
@pytest.mark.parametrize("scale", [1.0, 1000.0])
def test_cross_entropy_matches_torch(n, c, scale, rng):
    logits = rng.standard_normal((n, c)) * scale
    target = rng.integers(0, c, size=n)
    check_loss("cross_entropy", L.cross_entropy, F.cross_entropy, (logits, target))


@pytest.mark.parametrize("shape", [(1,), (4, 5), (2, 3, 2)])
def test_mse_matches_torch(shape, rng):
    check_loss("mse", L.mse, F.mse_loss, (rng.standard_normal(shape), rng.standard_normal(shape)))


def test_entropy_of_the_notes_example():
    expected = -(0.7 * math.log2(0.7) + 0.3 * math.log2(0.3))
    assert L.entropy([0.7, 0.3]) == pytest.approx(expected, rel=1e-15)
    assert round(L.entropy([0.7, 0.3]), 3) == 0.881


def test_entropy_bounds_and_equality_cases(rng):
    n = 6
    assert L.entropy(np.eye(n)[2]) == 0.0
    assert L.entropy(np.full(n, 1 / n)) == pytest.approx(math.log2(n), rel=1e-14)
    p = rng.dirichlet(np.ones(n), size=200)
    h = L.entropy(p)
    assert h.shape == (200,)
    assert np.all(h >= 0) and np.all(h <= math.log2(n) + 1e-12)


def test_cross_entropy_decomposes_into_entropy_plus_kl(rng):
    p, q = rng.dirichlet(np.ones(5), size=2)
    for base in (2, math.e):
        assert L.cross_entropy_dist(p, q, base) == pytest.approx(
            L.entropy(p, base) + L.kl_divergence(p, q, base), rel=1e-13)


def test_kl_matches_torch_kl_div_in_nats(rng):
    import torch
    from dlnotes.verify import check_values, to_torch
    p, q = rng.dirichlet(np.ones(7), size=2)
    ref = F.kl_div(torch.log(to_torch(q)), to_torch(p), reduction="sum")
    check_values("kl_divergence", L.kl_divergence(p, q, base=math.e), ref)


def test_kl_is_zero_only_for_equal_distributions_and_infinite_off_support():
    p = np.array([0.5, 0.5, 0.0])
    assert L.kl_divergence(p, p) == 0.0
    assert L.kl_divergence(p, np.array([0.4, 0.6, 0.0])) > 0
    assert L.kl_divergence(p, np.array([1.0, 0.0, 0.0])) == math.inf
    assert L.kl_divergence(np.array([1.0, 0.0, 0.0]), p) == pytest.approx(1.0)


@pytest.mark.parametrize("call, message", [
    (lambda: L.binary_cross_entropy(np.array([1.2]), np.array([1.0])), r"p \(probabilities\) must lie in \[0, 1\]"),
    (lambda: L.binary_cross_entropy(np.array([0.2, 0.3]), np.array([1.0])), "same shape"),
    (lambda: L.binary_cross_entropy_with_logits(np.zeros(2), np.array([0.0, 2.0])), r"y \(targets\)"),
    (lambda: L.cross_entropy(np.zeros((2, 3)), np.array([0, 3])), r"class 3, outside \[0, 3\)"),
    (lambda: L.cross_entropy(np.zeros((2, 3)), np.array([0, -1])), r"class -1"),
    (lambda: L.cross_entropy(np.zeros((2, 3)), np.array([0, 1, 2])), r"target must be \(N,\)"),
    (lambda: L.cross_entropy(np.zeros(3), np.array([0])), "logits must have 2 dimension"),
    (lambda: L.mse(np.zeros(3), np.zeros(4)), "same shape"),
    (lambda: L.entropy([0.5, 0.6]), "sum to 1"),
    (lambda: L.entropy([1.5, -0.5]), "non-negative"),
    (lambda: L.kl_divergence([0.5, 0.5], [0.2, 0.3, 0.5]), "same shape"),
    (lambda: L.entropy([0.5, 0.5], base=1), "base"),
])
def test_bad_input_raises_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_float_class_indices_raise_type_error():
    with pytest.raises(TypeError, match="integer class indices"):
        L.cross_entropy(np.zeros((2, 3)), np.array([0.0, 1.0]))
