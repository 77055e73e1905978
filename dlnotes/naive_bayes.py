"""A generative classifier: Gaussian naive Bayes, which classifies *and* samples.

Chapter: 05-generative-models/01-generative-vs-discriminative. The model is the joint
p(x, y) = p(y) prod_d N(x_d; mean_yd, var_yd), fitted by maximum likelihood; Bayes' rule
turns it into p(y | x), and ancestral sampling draws new (x, y) pairs from it.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .activations import log_softmax
from .likelihoods import gaussian_log_likelihood
from .validation import as_float, as_float_array, as_int_array, check_positive_int, check_rng

__all__ = ["GaussianNB", "fit_gaussian_nb", "gaussian_nb_log_joint", "gaussian_nb_posterior",
           "sample_gaussian_nb"]


class GaussianNB(NamedTuple):
    """p(y = k) = exp(log_prior_k), p(x | y = k) = N(x; mean_k, diag(exp(logvar_k)))."""
    log_prior: np.ndarray  # (K,)
    mean: np.ndarray       # (K, D)
    logvar: np.ndarray     # (K, D)


def fit_gaussian_nb(x, y, n_classes: int, shared_variance: bool = False,
                    var_floor: float = 1e-9) -> GaussianNB:
    """Maximum-likelihood fit of the joint p(x, y): class frequencies, class means and
    (biased, divide-by-N_k) per-feature class variances, floored at ``var_floor``.

    With ``shared_variance`` every class gets the pooled variance sum_n (x_n - mean_{y_n})^2 / N
    (the maximum-likelihood estimate when the classes are constrained to share it); then
    log p(y = 1 | x) - log p(y = 0 | x) is linear in x, the form of logistic regression.
    x: (N, D), finite (NaN and inf are refused);  y: (N,) integers in [0, K), every class
    present;  var_floor > 0  ->  GaussianNB.
    """
    x = as_float_array(x, "x", ndim=2, shape_hint="(N, D)")
    if not np.all(np.isfinite(x)):
        raise ValueError("x must be finite; it holds NaN or inf")
    y = as_int_array(y, "y", ndim=1)
    K = check_positive_int(n_classes, "n_classes")
    var_floor = as_float(var_floor, "var_floor", positive=True)
    if not isinstance(shared_variance, (bool, np.bool_)):
        raise TypeError(f"shared_variance must be a bool; got {type(shared_variance).__name__}")
    N, D = x.shape
    if y.shape != (N,):
        raise ValueError(f"y must be (N,) = ({N},) to match x {x.shape}; got {y.shape}")
    counts = np.bincount(y[(y >= 0) & (y < K)], minlength=K)
    if np.any((y < 0) | (y >= K)) or np.any(counts == 0):
        raise ValueError(f"y must hold integers in [0, {K}) with every class present; "
                         f"class counts {counts.tolist()}")
    mean = np.stack([x[y == k].mean(axis=0) for k in range(K)])  # (K, D)
    with np.errstate(over="ignore"):  # points near 1e300: the variance is inf, exactly
        sq = (x - mean[y]) ** 2  # (N, D) squared deviations from each point's class mean
    if shared_variance:
        var = np.broadcast_to(sq.mean(axis=0), (K, D))
    else:
        var = np.stack([sq[y == k].mean(axis=0) for k in range(K)])
    return GaussianNB(np.log(counts / N), mean, np.log(np.maximum(var, var_floor)))


def gaussian_nb_log_joint(model: GaussianNB, x) -> np.ndarray:
    """log p(x_n, y = k) = log p(y = k) + log p(x_n | y = k).  x: (N, D)  ->  (N, K).

    x must be finite (NaN and inf are refused with a ValueError).
    """
    _check_model(model)
    x = as_float_array(x, "x", ndim=2, shape_hint="(N, D)")
    K, D = model.mean.shape
    if x.shape[1] != D:
        raise ValueError(f"x must be (N, D) with D={D} features; got {x.shape}")
    cols = [gaussian_log_likelihood(x, model.mean[k], model.logvar[k]) for k in range(K)]
    return np.stack(cols, axis=1) + model.log_prior  # (N, K)


def gaussian_nb_posterior(model: GaussianNB, x) -> np.ndarray:
    """Bayes' rule p(y = k | x_n) = softmax_k log p(x_n, y = k).  x: (N, D)  ->  (N, K).

    A row so far from every class that all its log p(x_n, y = k) are -inf gets NaN, as
    ``torch.softmax`` gives for a row of -inf.
    """
    joint = gaussian_nb_log_joint(model, x)
    with np.errstate(invalid="ignore"):
        return np.exp(log_softmax(joint, axis=1))


def sample_gaussian_nb(model: GaussianNB, n: int, rng: np.random.Generator
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Ancestral sampling: y ~ p(y), then x ~ p(x | y).  ->  x: (n, D), y: (n,) int64."""
    _check_model(model)
    n = check_positive_int(n, "n")
    check_rng(rng)
    K, D = model.mean.shape
    y = rng.choice(K, size=n, p=np.exp(model.log_prior))
    x = model.mean[y] + np.exp(0.5 * model.logvar[y]) * rng.standard_normal((n, D))
    return x, y.astype(np.int64)


def _check_model(model) -> None:
    if not isinstance(model, GaussianNB):
        raise TypeError(f"model must be a GaussianNB (from fit_gaussian_nb); got "
                        f"{type(model).__name__}")
    K = model.log_prior.shape[0] if np.ndim(model.log_prior) == 1 else None
    if K is None or np.shape(model.mean) != np.shape(model.logvar) or np.ndim(model.mean) != 2 \
            or np.shape(model.mean)[0] != K:
        raise ValueError("model must hold log_prior (K,), mean (K, D) and logvar (K, D); got "
                         f"{np.shape(model.log_prior)}, {np.shape(model.mean)} and "
                         f"{np.shape(model.logvar)}")
