"""dlnotes.likelihoods at the boundary (issue 12): the cache's identity and its own copies.

The values and gradients against torch are in test_generative.py.
"""
import numpy as np
import pytest

from dlnotes import likelihoods as LL
from dlnotes import variational as VI


def test_bernoulli_backward_refuses_a_kl_cache(rng):
    # Old code unpacked the KL cache's (mu, logvar) as (logits, x): a wrong gradient, silently.
    _, kl_cache = VI.gaussian_kl_forward(rng.standard_normal((2, 3)), rng.standard_normal((2, 3)))
    with pytest.raises(TypeError, match="bernoulli_log_likelihood_backward got a GaussianKLCache"):
        LL.bernoulli_log_likelihood_backward(np.ones(2), kl_cache)


def test_changing_the_inputs_after_the_forward_leaves_the_backward_alone(rng):
    logits = rng.standard_normal((2, 3))
    x = (rng.random((2, 3)) < 0.5).astype(float)
    ll, cache = LL.bernoulli_log_likelihood_forward(logits, x)
    before = LL.bernoulli_log_likelihood_backward(np.ones(2), cache)
    logits *= 5
    x[:] = 1 - x
    ll *= 2
    np.testing.assert_array_equal(LL.bernoulli_log_likelihood_backward(np.ones(2), cache), before)


def test_non_finite_and_non_binary_input_is_refused():
    with pytest.raises(ValueError, match="logits must be finite"):
        LL.bernoulli_log_likelihood(np.array([np.nan, 0.0]), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="x must be binary"):
        LL.bernoulli_log_likelihood(np.zeros(2), np.array([np.nan, 1.0]))
    with pytest.raises(TypeError, match="x must be real"):
        LL.gaussian_log_likelihood(np.zeros(2, complex), np.zeros(2), np.zeros(2))
