"""Log-likelihoods of the generative models: a diagonal Gaussian and independent Bernoullis.

Chapters: 05-generative-models/01-generative-vs-discriminative (the Gaussian density of a
class-conditional model) and 03-autoencoders-and-vaes (the VAE's reconstruction term,
``bernoulli_log_likelihood`` on decoder logits, stable at any magnitude).

Conventions. Events are on the last axis: ``x: (..., D)`` and every log-likelihood or KL is
summed over it, returning shape ``(...)`` (a 0-d array for a single vector), as torch's
``Independent(Normal(...), 1)``. Natural logarithms (nats) throughout.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .activations import sigmoid
from .validation import as_float_array, check_cache, check_same_shape

__all__ = ["gaussian_log_likelihood", "BernoulliCache", "bernoulli_log_likelihood_forward",
           "bernoulli_log_likelihood_backward", "bernoulli_log_likelihood"]

_LOG_2PI = float(np.log(2.0 * np.pi))


def _softplus(z: np.ndarray) -> np.ndarray:
    """log(1 + exp(z)) without overflow: max(z, 0) + log1p(exp(-|z|))."""
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))


def _vectors(x, name: str) -> np.ndarray:
    x = as_float_array(x, name)
    if x.ndim == 0 or x.shape[-1] == 0:
        raise ValueError(f"{name} must be (..., D) with D >= 1 on the last axis; got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} must be finite")
    return x


def gaussian_log_likelihood(x, mean, logvar) -> np.ndarray:
    """log N(x; mean, diag(exp(logvar))), summed over the last axis.

    log p = -1/2 sum_d [log(2 pi) + logvar_d + (x_d - mean_d)^2 exp(-logvar_d)].
    x: (..., D);  mean, logvar: each either x's shape or (D,) (one Gaussian for every row)
    ->  (...).  Reference: ``Independent(Normal(mean, exp(logvar / 2)), 1).log_prob(x)``.
    NaN or inf in any argument is refused with a ValueError.
    """
    x = _vectors(x, "x")
    mean = _vectors(mean, "mean")
    logvar = _vectors(logvar, "logvar")
    for arr, name in ((mean, "mean"), (logvar, "logvar")):
        if arr.shape not in (x.shape, x.shape[-1:]):
            raise ValueError(f"{name} must have x's shape {x.shape} or (D,) = {x.shape[-1:]}; "
                             f"got {arr.shape}")
    with np.errstate(over="ignore"):   # a far-off x: log p = -inf, exactly
        sq = (x - mean) ** 2 * np.exp(-logvar)  # (..., D)
        return -0.5 * (_LOG_2PI + logvar + sq).sum(axis=-1)


class BernoulliCache(NamedTuple):
    """What ``bernoulli_log_likelihood_backward`` needs."""
    logits: np.ndarray  # (..., D)
    x: np.ndarray       # (..., D), entries 0 or 1


def bernoulli_log_likelihood_forward(logits, x) -> tuple[np.ndarray, BernoulliCache]:
    """log p(x) of binary data under independent Bernoullis with P(x_d = 1) = sigma(logits_d).

    log p = sum_d [x_d z_d - softplus(z_d)]
          (= sum_d x_d log sigma(z_d) + (1 - x_d) log sigma(-z_d)).
    logits: (..., D), finite;  x: the same shape, every entry exactly 0 or 1  ->  (...).
    NaN or inf logits and non-binary x (0.5, 7, NaN) are refused with a ValueError.
    Reference: ``-binary_cross_entropy_with_logits(logits, x, reduction="none").sum(-1)``.
    """
    logits = _vectors(logits, "logits")
    x = as_float_array(x, "x")
    check_same_shape(logits, x, "logits", "x")
    if not np.all((x == 0) | (x == 1)):
        bad = x[(x != 0) & (x != 1)].ravel()[0]
        raise ValueError(f"x must be binary (0 or 1) for a Bernoulli model; found {bad!r}")
    # The cache keeps its own copies: changing logits or x in place later changes nothing.
    return (x * logits - _softplus(logits)).sum(axis=-1), BernoulliCache(logits.copy(), x.copy())


def bernoulli_log_likelihood_backward(dll, cache: BernoulliCache) -> np.ndarray:
    """Gradient with respect to the logits: d log p / dz_d = x_d - sigma(z_d).

    dll: (...) upstream gradient  ->  dlogits: (..., D). (x is data: it gets no gradient.)
    """
    logits, x = check_cache(cache, BernoulliCache, "bernoulli_log_likelihood_backward")
    dll = _upstream(dll, logits.shape[:-1], "dll")
    return dll[..., None] * (x - sigmoid(logits))


def bernoulli_log_likelihood(logits, x) -> np.ndarray:
    """The value of :func:`bernoulli_log_likelihood_forward` alone: shape (...)."""
    return bernoulli_log_likelihood_forward(logits, x)[0]


def _upstream(d, shape: tuple, name: str) -> np.ndarray:
    d = as_float_array(d, name)
    if d.shape != shape:
        raise ValueError(f"{name} must have the forward output's shape {shape}; got {d.shape}")
    return d
