"""dlnotes.variational at the boundary (issue 12): the cache's identity and its own copies.

The values and gradients against torch are in test_generative.py.
"""
import numpy as np
import pytest

from dlnotes import likelihoods as LL
from dlnotes import variational as VI


def test_kl_backward_refuses_a_bernoulli_cache(rng):
    # Old code unpacked the Bernoulli cache's (logits, x) as (mu, logvar), silently.
    _, cache = LL.bernoulli_log_likelihood_forward(rng.standard_normal((2, 3)), np.ones((2, 3)))
    with pytest.raises(TypeError, match="gaussian_kl_backward got a BernoulliCache"):
        VI.gaussian_kl_backward(np.ones(2), cache)


def test_changing_mu_after_the_forward_leaves_the_backward_alone(rng):
    mu, logvar = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    _, cache = VI.gaussian_kl_forward(mu, logvar)
    before = VI.gaussian_kl_backward(np.ones(2), cache)
    mu += 1
    logvar *= 2
    for a, b in zip(VI.gaussian_kl_backward(np.ones(2), cache), before, strict=True):
        np.testing.assert_array_equal(a, b)


def test_huge_inputs_give_an_infinite_kl_and_nan_is_refused():
    assert VI.gaussian_kl(np.array([1e200]), np.array([0.0])) == np.inf
    with pytest.raises(ValueError, match="mu must be finite"):
        VI.gaussian_kl(np.array([np.nan]), np.array([0.0]))
