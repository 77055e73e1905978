"""Tests of dlnotes.surrogates: accuracy, soft accuracy, and score-function gradient estimates.

Deterministic quantities are compared with torch (float64, autograd) at rtol 1e-10. Monte Carlo
estimates are compared with the exact gradient from torch autograd, with a tolerance of
Z = 5 standard errors measured from the same draws: for a fixed seed the test is deterministic,
and an unbiased estimator would land outside that band with probability below 1e-6 per entry.
"""
import numpy as np
import pytest
import torch

from dlnotes.surrogates import (
    accuracy,
    expected_reward_gradient,
    reinforce_accuracy_gradient,
    score_function_estimates,
    soft_accuracy,
)
from dlnotes.verify import check_loss, check_values, to_numpy, to_torch

Z = 5.0


def _binary_case(n, seed, scale=2.0):
    rng = np.random.default_rng(seed)
    return scale * rng.standard_normal(n), rng.integers(0, 2, size=n)


def _torch_expected_gradient(logits, rewards):
    theta = to_torch(logits, requires_grad=True)
    value = (torch.softmax(theta, dim=-1) * to_torch(rewards)).sum()
    value.backward()
    return to_numpy(theta.grad)


# accuracy ---------------------------------------------------------------------------------

@pytest.mark.parametrize("n", [1, 6, 101])
def test_accuracy_matches_torch_thresholding(n):
    scores, y = _binary_case(n, seed=n)
    s, t = to_torch(scores), to_torch(y)
    expected = ((s > 0).long() == t).double().mean()
    check_values("accuracy", accuracy(scores, y), expected)


def test_accuracy_treats_zero_score_as_class_0():
    # s = 0 predicts 0, so both zeros (y = 0) are right; -1 with y = 1 is wrong.
    assert accuracy([0.0, 0.0, 1.0, -1.0], [0, 0, 1, 1]) == 0.75


# soft accuracy ----------------------------------------------------------------------------

@pytest.mark.parametrize("n", [1, 7, 64])
@pytest.mark.parametrize("temperature", [0.05, 1.0, 10.0])
def test_soft_accuracy_matches_torch_autograd(n, temperature):
    scores, y = _binary_case(n, seed=10 * n)
    check_loss("soft accuracy", soft_accuracy,
               lambda s, t, temp: torch.sigmoid((2 * t - 1) * s / temp).mean(),
               (scores, y, np.float64(temperature)))


def test_soft_accuracy_is_stable_for_huge_scores():
    scores = np.array([1000.0, -1000.0, 1000.0, -1000.0])
    y = np.array([1, 1, 0, 0])
    value, grad = soft_accuracy(scores, y, temperature=0.01)
    assert np.all(np.isfinite(grad))
    check_loss("soft accuracy at |s| = 1000", soft_accuracy,
               lambda s, t, temp: torch.sigmoid((2 * t - 1) * s / temp).mean(),
               (scores, y, np.float64(0.01)))
    assert value == 0.5


def test_soft_accuracy_tends_to_accuracy_as_temperature_shrinks():
    scores, y = _binary_case(200, seed=3)
    scores = scores[np.abs(scores) > 0.1]
    y = y[: scores.size]
    value, grad = soft_accuracy(scores, y, temperature=1e-3)
    # each term differs from its step by sigmoid(-|m| / T) <= sigmoid(-100) ~ 4e-44
    assert abs(value - accuracy(scores, y)) < 1e-40
    assert np.max(np.abs(grad)) < 1e-37


# exact expected reward and its score-function estimates -----------------------------------

@pytest.mark.parametrize("k", [2, 3, 10])
def test_expected_reward_gradient_matches_torch(k):
    rng = np.random.default_rng(k)
    logits, rewards = rng.standard_normal(k), rng.standard_normal(k)
    check_loss("expected reward", expected_reward_gradient,
               lambda th, f: (torch.softmax(th, dim=-1) * f).sum(), (logits, rewards))


@pytest.mark.parametrize("baseline", [0.0, 1.7])
def test_each_estimate_is_reward_times_autograd_score(baseline):
    # One row is (f(x) - b) * grad log softmax(theta)[x]; autograd supplies the score.
    logits = np.array([0.3, -1.2, 0.8, 0.1])
    rewards = np.array([2.0, -1.0, 0.5, 4.0])
    samples = np.array([3, 0, 0, 1, 2])
    rows = score_function_estimates(logits, rewards, samples, baseline=baseline)
    for s, x in enumerate(samples):
        theta = to_torch(logits, requires_grad=True)
        torch.log_softmax(theta, dim=-1)[int(x)].backward()
        check_values("score-function row", rows[s],
                     (rewards[x] - baseline) * to_numpy(theta.grad))


@pytest.mark.parametrize("baseline", [0.0, 3.0])
def test_score_function_mean_converges_to_exact_gradient(baseline):
    rng = np.random.default_rng(2024)
    logits = np.array([1.0, -0.5, 0.2])
    rewards = np.array([3.0, 5.0, 1.0])
    p = np.exp(logits) / np.exp(logits).sum()
    samples = rng.choice(3, size=200_000, p=p)
    rows = score_function_estimates(logits, rewards, samples, baseline=baseline)
    mean = rows.mean(axis=0)
    stderr = rows.std(axis=0, ddof=1) / np.sqrt(len(rows))
    exact = _torch_expected_gradient(logits, rewards)
    assert np.all(np.abs(mean - exact) <= Z * stderr), (mean, exact, stderr)
    # the band is narrow enough to mean something: a gradient 20% off would fall outside it
    assert np.all(Z * stderr < 0.2 * np.abs(exact))


def test_baseline_at_mean_reward_lowers_variance():
    rng = np.random.default_rng(7)
    logits = np.array([0.4, -0.3, 0.0])
    rewards = np.array([10.0, 11.0, 12.0])  # a large common offset: the case baselines fix
    p = np.exp(logits) / np.exp(logits).sum()
    samples = rng.choice(3, size=20_000, p=p)
    plain = score_function_estimates(logits, rewards, samples).var(axis=0).sum()
    centred = score_function_estimates(logits, rewards, samples,
                                       baseline=float(p @ rewards)).var(axis=0).sum()
    assert centred < plain / 50


# REINFORCE on the accuracy of a stochastic classifier -------------------------------------

def test_reinforce_mean_matches_gradient_of_expected_accuracy():
    scores = np.array([0.5, -1.0, 2.0, 0.0, -0.3])
    y = np.array([1, 1, 0, 0, 1])
    rng = np.random.default_rng(11)
    batch_means = np.array([reinforce_accuracy_gradient(scores, y, rng, n_samples=500,
                                                        baseline=0.5)[1]
                            for _ in range(400)])  # (400, N), each a mean of 500 draws
    mean = batch_means.mean(axis=0)
    stderr = batch_means.std(axis=0, ddof=1) / np.sqrt(len(batch_means))
    # exact: the expected accuracy of this classifier is mean_n sigmoid(m_n)
    s = to_torch(scores, requires_grad=True)
    torch.sigmoid((2 * to_torch(y) - 1) * s).mean().backward()
    exact = to_numpy(s.grad)
    assert np.all(np.abs(mean - exact) <= Z * stderr), (mean, exact, stderr)
    assert np.all(Z * stderr < 0.2 * np.abs(exact))


def test_reinforce_rewards_are_accuracies_of_the_samples():
    # |s| = 50: the classifier is deterministic to 1e-22, so every sample predicts (s > 0).
    scores = np.array([50.0, -50.0, 50.0])
    y = np.array([1, 0, 0])
    rewards, grad = reinforce_accuracy_gradient(scores, y, np.random.default_rng(0),
                                                n_samples=8, baseline=0.25)
    assert rewards.shape == (8,)
    assert np.all(rewards == 2 / 3)
    assert np.max(np.abs(grad)) < 1e-20


# bad input --------------------------------------------------------------------------------

@pytest.mark.parametrize("scores, y, exc, match", [
    (np.zeros((2, 2)), np.zeros(2, dtype=int), ValueError, "dimension"),
    (np.zeros(3), np.zeros(2, dtype=int), ValueError, "match scores"),
    (np.zeros(3), np.array([0, 2, 1]), ValueError, "binary labels"),
    (np.zeros(2), np.array([0.0, 1.0]), TypeError, "integer"),
    (np.array([0.0, np.nan]), np.array([0, 1]), ValueError, "finite"),
    (np.zeros(0), np.zeros(0, dtype=int), ValueError, "at least one"),
])
def test_binary_functions_reject_bad_input(scores, y, exc, match):
    with pytest.raises(exc, match=match):
        accuracy(scores, y)
    with pytest.raises(exc, match=match):
        soft_accuracy(scores, y)
    with pytest.raises(exc, match=match):
        reinforce_accuracy_gradient(scores, y, np.random.default_rng(0))


@pytest.mark.parametrize("temperature, exc", [(0.0, ValueError), (-1.0, ValueError),
                                              (np.inf, ValueError), ("1", TypeError),
                                              (np.ones(2), TypeError), (True, TypeError)])
def test_soft_accuracy_rejects_bad_temperature(temperature, exc):
    with pytest.raises(exc, match="temperature"):
        soft_accuracy(np.zeros(2), np.array([0, 1]), temperature=temperature)


def test_reinforce_rejects_bad_arguments():
    s, y = np.zeros(2), np.array([0, 1])
    with pytest.raises(TypeError, match="Generator"):
        reinforce_accuracy_gradient(s, y, np.random.RandomState(0))
    with pytest.raises(ValueError, match="n_samples"):
        reinforce_accuracy_gradient(s, y, np.random.default_rng(0), n_samples=0)
    with pytest.raises(TypeError, match="baseline"):
        reinforce_accuracy_gradient(s, y, np.random.default_rng(0), baseline=np.zeros(2))


def test_categorical_functions_reject_bad_input():
    with pytest.raises(ValueError, match="at least 2 outcomes"):
        expected_reward_gradient([0.0], [1.0])
    with pytest.raises(ValueError, match="match logits"):
        expected_reward_gradient([0.0, 1.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="outside"):
        score_function_estimates([0.0, 1.0], [1.0, 2.0], np.array([0, 2]))
    with pytest.raises(TypeError, match="integer"):
        score_function_estimates([0.0, 1.0], [1.0, 2.0], np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="at least one draw"):
        score_function_estimates([0.0, 1.0], [1.0, 2.0], np.zeros(0, dtype=int))
    with pytest.raises(ValueError, match="finite"):
        score_function_estimates([0.0, 1.0], [1.0, 2.0], np.array([0]), baseline=np.nan)


# --- issue 12: the boundary -----------------------------------------------------------------

def test_float32_scores_give_a_float32_gradient():
    value, grad = soft_accuracy(np.array([0.5, -1.0], np.float32), np.array([1, 0]))
    assert grad.dtype == np.float32


def test_a_tiny_temperature_gives_the_step_without_overflow():
    value, grad = soft_accuracy(np.array([2.0, -3.0, 1.0]), np.array([1, 0, 0]),
                                temperature=1e-300)
    assert value == pytest.approx(2 / 3)
    np.testing.assert_array_equal(grad, 0.0)


def test_numpy_integer_sample_counts_are_accepted():
    rewards, grad = reinforce_accuracy_gradient(np.zeros(3), np.array([0, 1, 1]),
                                                np.random.default_rng(0), n_samples=np.int64(4))
    assert rewards.shape == (4,)


def test_non_finite_rewards_name_rewards():
    with pytest.raises(ValueError, match="rewards must be finite"):
        expected_reward_gradient([0.0, 1.0], [1.0, np.inf])
