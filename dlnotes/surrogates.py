"""Training signals for a metric with no useful gradient: accuracy, its smooth surrogate, and
the score-function (REINFORCE) estimator.

Chapter: 01-foundations/08-non-differentiable-metrics.

Binary classification throughout: a score (logit) ``s_n`` per example, label ``y_n`` in {0, 1},
predicted class 1 exactly when ``s_n > 0``, and the signed margin ``m_n = (2 y_n - 1) s_n``
(positive when the example is on the correct side). Accuracy is a step function of each margin,
so its gradient is zero wherever it exists; the two ways round that are

* a surrogate: replace the step by ``sigmoid(m / T)`` and follow its gradient
  (:func:`soft_accuracy`);
* a stochastic classifier: predict class 1 with probability ``sigmoid(s)``, so that the
  *expected* accuracy is smooth, and estimate its gradient from samples with
  grad E_p[f(x)] = E_p[(f(x) - b) grad log p(x)] (:func:`reinforce_accuracy_gradient`; the
  categorical case behind it is :func:`score_function_estimates`).

Reference: R. J. Williams, "Simple statistical gradient-following algorithms for
connectionist reinforcement learning", Machine Learning 8 (1992).

Scores, logits and rewards must be finite: NaN and inf are refused with a ValueError (a
NaN score has no predicted class). float32 scores give a float32 gradient.
"""
from __future__ import annotations

import numpy as np

from .activations import sigmoid, softmax
from .validation import as_float, as_float_array, as_int, as_int_array, check_rng

__all__ = ["accuracy", "soft_accuracy", "expected_reward_gradient", "score_function_estimates",
           "reinforce_accuracy_gradient"]


def accuracy(scores, y) -> float:
    """Fraction of examples classified correctly: mean_n [ (s_n > 0) == y_n ].

    scores: (N,) real logits;  y: (N,) integers in {0, 1}.
    A score of exactly 0 predicts class 0 (the same rule as ``(scores > 0) == y`` in torch).
    """
    scores, y = _check_binary(scores, y)
    return float(np.mean((scores > 0) == (y == 1)))


def soft_accuracy(scores, y, temperature: float = 1.0) -> tuple[float, np.ndarray]:
    """Smoothed accuracy: value = mean_n sigmoid(m_n / T) with m_n = (2 y_n - 1) s_n.

    dvalue/ds_n = (2 y_n - 1) sigmoid(m_n / T) (1 - sigmoid(m_n / T)) / (T N).
    As T -> 0 each term tends to the step [m_n > 0] (1/2 at m_n = 0); at T = 1 the value is
    the expected accuracy of the classifier that predicts 1 with probability sigmoid(s).

    scores: (N,);  y: (N,) integers in {0, 1};  temperature: T > 0.
    Returns (value, grad) with grad: (N,), the gradient of the value (to be *maximised*).
    Reference: ``torch.sigmoid((2 * y - 1) * scores / T).mean()`` and autograd.
    """
    scores, y = _check_binary(scores, y)
    t = as_float(temperature, "temperature", positive=True)
    sign = 2.0 * y - 1.0
    with np.errstate(over="ignore"):  # a tiny T: m / T may overflow to +-inf, sigmoid is 0 or 1
        p = sigmoid(sign * scores.astype(np.float64) / t)  # (N,) soft "is correct" per example
    N = scores.shape[0]
    with np.errstate(over="ignore"):
        grad = sign * p * (1.0 - p) / (t * N)
    return float(np.mean(p)), grad.astype(scores.dtype)


def expected_reward_gradient(logits, rewards) -> tuple[float, np.ndarray]:
    """Exact E_{x ~ softmax(theta)}[f(x)] and its gradient for a categorical distribution.

    value = sum_k p_k f_k;  dvalue/dtheta_j = p_j (f_j - value), with p = softmax(theta).

    logits: (K,) theta;  rewards: (K,) the values f_k of the outcomes.
    Reference: ``(torch.softmax(theta, -1) * f).sum()`` and autograd.
    """
    logits, rewards = _check_categorical(logits, rewards)
    p = softmax(logits)
    value = float(p @ rewards)
    return value, p * (rewards - value)


def score_function_estimates(logits, rewards, samples, baseline: float = 0.0) -> np.ndarray:
    """One score-function estimate of grad_theta E[f(x)] per sample x_s ~ softmax(theta).

    row s = (f(x_s) - b) grad_theta log p(x_s) = (f(x_s) - b) (onehot(x_s) - p).
    Each row is unbiased for any constant b, because E[grad log p(x)] = 0; the mean of the
    rows converges to :func:`expected_reward_gradient` at the rate 1 / sqrt(S).

    logits: (K,);  rewards: (K,);  samples: (S,) integers in [0, K) drawn from softmax(logits);
    baseline: a number b that must not depend on the samples. Returns (S, K).
    """
    logits, rewards = _check_categorical(logits, rewards)
    K = logits.shape[0]
    samples = as_int_array(samples, "samples", ndim=1)
    if samples.size == 0:
        raise ValueError("samples must hold at least one draw; got none")
    if np.any((samples < 0) | (samples >= K)):
        bad = samples[(samples < 0) | (samples >= K)][0]
        raise ValueError(f"samples holds outcome {bad}, outside [0, {K}) for {K} outcomes")
    b = as_float(baseline, "baseline")
    p = softmax(logits)
    onehot = np.eye(K)[samples]  # (S, K)
    return (rewards[samples] - b)[:, None] * (onehot - p)


def reinforce_accuracy_gradient(scores, y, rng: np.random.Generator, n_samples: int = 1,
                                baseline: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """REINFORCE estimate of the gradient of the expected accuracy of a stochastic classifier.

    The classifier predicts yhat_n = 1 with probability sigmoid(s_n), independently over n.
    For each of S samples yhat^(s) the reward is the whole batch's accuracy
    R_s = mean_n [yhat^(s)_n == y_n], used as a black box, and

        grad_s E[R] ~ (1/S) sum_s (R_s - b) (yhat^(s) - sigmoid(s)),

    since d log p(yhat) / d s_n = yhat_n - sigmoid(s_n). Its mean is the gradient of
    :func:`soft_accuracy` at T = 1 (the expected accuracy itself).

    scores: (N,);  y: (N,) integers in {0, 1};  rng: numpy Generator;  n_samples: S >= 1;
    baseline: a number b that must not depend on these samples (e.g. a running mean reward).
    Returns (rewards: (S,), grad: (N,)), grad averaged over the S samples.
    """
    scores, y = _check_binary(scores, y)
    check_rng(rng)
    S = as_int(n_samples, "n_samples", minimum=1)
    b = as_float(baseline, "baseline")
    N = scores.shape[0]
    p1 = sigmoid(scores)  # (N,) probability of predicting class 1
    yhat = (rng.random((S, N)) < p1).astype(np.float64)  # (S, N) sampled predictions
    rewards = np.mean(yhat == y, axis=1)  # (S,) accuracy of each sampled prediction
    grad = (rewards - b) @ (yhat - p1) / S  # (N,)
    return rewards, grad


def _check_binary(scores, y) -> tuple[np.ndarray, np.ndarray]:
    scores = as_float_array(scores, "scores", ndim=1, shape_hint="(N,)")
    y = as_int_array(y, "y", ndim=1)
    if y.shape != scores.shape:
        raise ValueError(f"y must be (N,) = ({scores.shape[0]},) to match scores; got {y.shape}")
    if scores.size == 0:
        raise ValueError("scores must hold at least one example; got N = 0")
    if np.any((y != 0) & (y != 1)):
        bad = y[(y != 0) & (y != 1)][0]
        raise ValueError(f"y must hold binary labels 0 or 1; found {bad}")
    if not np.all(np.isfinite(scores)):
        raise ValueError("scores must be finite; found inf or nan")
    return scores, y


def _check_categorical(logits, rewards) -> tuple[np.ndarray, np.ndarray]:
    logits = as_float_array(logits, "logits", ndim=1, shape_hint="(K,)")
    rewards = as_float_array(rewards, "rewards", ndim=1, shape_hint="(K,)")
    if logits.size < 2:
        raise ValueError(f"logits must describe at least 2 outcomes; got shape {logits.shape}")
    if rewards.shape != logits.shape:
        raise ValueError(f"rewards must be (K,) = ({logits.shape[0]},) to match logits; "
                         f"got {rewards.shape}")
    for name, arr in (("logits", logits), ("rewards", rewards)):
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must be finite; found inf or nan")
    return logits, rewards
