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
    (lambda: L.binary_cross_entropy(np.array([1.2]), np.array([1.0])),
     r"p \(probabilities\) must lie in \[0, 1\]"),
    (lambda: L.binary_cross_entropy(np.array([0.2, 0.3]), np.array([1.0])), "same shape"),
    (lambda: L.binary_cross_entropy_with_logits(np.zeros(2), np.array([0.0, 2.0])),
     r"y \(targets\)"),
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


# --- issue 12: the boundary -----------------------------------------------------------------

@pytest.mark.parametrize("base, error", [(math.inf, ValueError), (math.nan, ValueError),
                                         (-2.0, ValueError), (0.0, ValueError),
                                         ("2", TypeError), (True, TypeError)])
def test_a_bad_base_is_refused(base, error):
    # base = inf used to turn every logarithm into 0, so H(p) = KL(p || q) = 0.
    p, q = np.array([0.5, 0.5]), np.array([0.9, 0.1])
    for call in (lambda: L.entropy(p, base=base), lambda: L.kl_divergence(p, q, base=base),
                 lambda: L.cross_entropy_dist(p, q, base=base)):
        with pytest.raises(error, match="base"):
            call()


def test_float32_softmax_rows_are_distributions(rng):
    import torch
    logits = rng.standard_normal((50, 10)).astype(np.float32)
    p = torch.softmax(torch.from_numpy(logits), -1).numpy()        # float32 rows
    q = np.roll(p, 1, axis=0)
    assert np.max(np.abs(p.sum(axis=-1, dtype=np.float64) - 1)) > 1e-9   # the old tolerance
    p64, q64 = p.astype(np.float64), q.astype(np.float64)
    p64, q64 = p64 / p64.sum(-1, keepdims=True), q64 / q64.sum(-1, keepdims=True)
    np.testing.assert_allclose(L.entropy(p), L.entropy(p64), rtol=1e-5)
    np.testing.assert_allclose(L.kl_divergence(p, q), L.kl_divergence(p64, q64),
                               rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(L.cross_entropy_dist(p, q), L.cross_entropy_dist(p64, q64),
                               rtol=1e-5)


def test_a_float32_row_that_is_far_from_a_distribution_is_still_refused():
    with pytest.raises(ValueError, match="sum to 1"):
        L.entropy(np.array([0.5, 0.499], dtype=np.float32))


def test_nan_logits_give_nan_as_in_torch():
    import torch
    z = np.array([[np.nan, 0.0], [1.0, 2.0]])
    loss, grad = L.cross_entropy(z, np.array([0, 1]))
    zt = torch.tensor(z, requires_grad=True)
    lt = F.cross_entropy(zt, torch.tensor([0, 1]))
    lt.backward()
    assert math.isnan(loss) and math.isnan(lt.item())
    np.testing.assert_array_equal(np.isnan(grad), np.isnan(zt.grad.numpy()))


def test_empty_inputs_are_refused_with_the_arguments_name():
    with pytest.raises(ValueError, match="pred must hold at least one"):
        L.mse(np.zeros(0), np.zeros(0))
    with pytest.raises(ValueError, match="p must hold at least one"):
        L.binary_cross_entropy(np.zeros(0), np.zeros(0))
