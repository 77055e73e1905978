"""dlnotes.init: torch's fan conventions and the variances of the two schemes."""
import math

import numpy as np
import pytest
import torch

from dlnotes import init


@pytest.mark.parametrize("shape", [(3, 5), (64, 32), (8, 4, 3, 3), (16, 3, 5, 2)])
def test_fans_match_torch(shape):
    expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert init.fans(shape) == expected


def test_he_normal_has_variance_two_over_fan_in(rng):
    shape = (400, 50, 3, 3)               # fan_in 450, 180,000 draws
    w = init.he_normal(shape, rng)
    assert w.shape == shape
    # The sample variance of 180,000 normal draws has a relative standard error of
    # sqrt(2 / 180000) = 0.33%; allow 2%.
    assert np.var(w) == pytest.approx(2 / 450, rel=0.02)
    assert abs(np.mean(w)) < 5 * math.sqrt(2 / 450 / w.size)


def test_he_normal_matches_torch_kaiming_normal_std():
    t = torch.empty(400, 450, dtype=torch.float64)
    torch.manual_seed(0)
    torch.nn.init.kaiming_normal_(t, nonlinearity="relu")
    ours = init.he_normal((400, 450), np.random.default_rng(0))
    assert np.std(ours) == pytest.approx(t.std().item(), rel=0.02)


def test_xavier_uniform_bound_matches_torch(rng):
    shape = (300, 200)
    bound = math.sqrt(6 / 500)
    w = init.xavier_uniform(shape, rng)
    assert np.abs(w).max() <= bound
    assert np.abs(w).max() > 0.99 * bound
    t = torch.empty(shape, dtype=torch.float64)
    torch.nn.init.xavier_uniform_(t)
    assert t.abs().max().item() <= bound
    # Uniform(-a, a) has variance a^2 / 3.
    assert np.var(w) == pytest.approx(bound ** 2 / 3, rel=0.02)


@pytest.mark.parametrize("shape, error", [((5,), ValueError), ((3, 0), ValueError), (7, TypeError)])
def test_bad_shapes_raise(shape, error, rng):
    with pytest.raises(error):
        init.he_normal(shape, rng)


def test_needs_a_generator():
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        init.xavier_uniform((3, 3), np.random)


# --- issue 12: the boundary -----------------------------------------------------------------

@pytest.mark.parametrize("shape", [(3.7, 2), (3, 2.0), ("3", "2"), "32", (True, 2),
                                   (3, None)])
def test_fans_refuses_what_is_not_a_tuple_of_ints(shape):
    # (3.7, 2) used to be truncated to (3, 2); ("3", "2") and (True, 2) were read as numbers.
    with pytest.raises(TypeError, match="shape"):
        init.fans(shape)


def test_fans_accepts_numpy_integers_and_integer_arrays():
    assert init.fans((np.int64(4), np.int32(3), 2, 2)) == (12, 16)
    assert init.fans(np.array([4, 3])) == (3, 4)


@pytest.mark.parametrize("gain, error", [(-1.0, ValueError), (float("nan"), ValueError),
                                         (float("inf"), ValueError), ("1", TypeError),
                                         (True, TypeError)])
def test_xavier_uniform_refuses_a_bad_gain(gain, error, rng):
    # A negative gain used to swap the interval's ends silently; torch refuses it too.
    with pytest.raises(error, match="gain"):
        init.xavier_uniform((3, 3), rng, gain=gain)
    with pytest.raises(RuntimeError):
        torch.nn.init.xavier_uniform_(torch.empty(3, 3), gain=-1.0)


def test_xavier_uniform_with_zero_gain_gives_zeros(rng):
    np.testing.assert_array_equal(init.xavier_uniform((3, 2), rng, gain=0.0), 0.0)
