"""The VAE's objective: the KL term KL(N(mu, diag(exp(logvar))) || N(0, I)) and the ELBO.

Chapter: 05-generative-models/03-autoencoders-and-vaes. ``gaussian_kl_forward`` /
``gaussian_kl_backward`` are the closed-form KL and its gradient with respect to the
encoder's outputs; ``elbo`` subtracts it from a reconstruction log-likelihood (one of
:mod:`dlnotes.likelihoods`).

Conventions. Events are on the last axis: ``x: (..., D)`` and every log-likelihood or KL is
summed over it, returning shape ``(...)`` (a 0-d array for a single vector), as torch's
``Independent(Normal(...), 1)``. Natural logarithms (nats) throughout.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .likelihoods import _upstream, _vectors
from .validation import as_float_array, check_cache, check_same_shape

__all__ = ["GaussianKLCache", "gaussian_kl_forward", "gaussian_kl_backward", "gaussian_kl", "elbo"]


class GaussianKLCache(NamedTuple):
    """What ``gaussian_kl_backward`` needs."""
    mu: np.ndarray      # (..., D)
    logvar: np.ndarray  # (..., D)


def gaussian_kl_forward(mu, logvar) -> tuple[np.ndarray, GaussianKLCache]:
    """KL(N(mu, diag(exp(logvar))) || N(0, I)), summed over the last axis.

    KL = 1/2 sum_d [mu_d^2 + exp(logvar_d) - 1 - logvar_d]  (>= 0, = 0 iff mu = 0, logvar = 0).
    mu, logvar: (..., D), the same shape, finite (NaN and inf are refused)  ->  kl: (...).
    Reference: ``kl_divergence(Independent(Normal(mu, exp(logvar / 2)), 1),
    Independent(Normal(0, 1), 1))``.
    """
    mu = _vectors(mu, "mu")
    logvar = _vectors(logvar, "logvar")
    check_same_shape(mu, logvar, "mu", "logvar")
    with np.errstate(over="ignore"):   # mu near 1e200 or logvar above ~709: KL = inf, exactly
        kl = 0.5 * (mu ** 2 + np.expm1(logvar) - logvar).sum(axis=-1)  # expm1: exp(lv) - 1
    return kl, GaussianKLCache(mu.copy(), logvar.copy())   # copies: the cache is its own


def gaussian_kl_backward(dkl, cache: GaussianKLCache) -> tuple[np.ndarray, np.ndarray]:
    """dKL/dmu = mu and dKL/dlogvar = (exp(logvar) - 1) / 2, times the upstream gradient.

    dkl: (...)  ->  dmu: (..., D), dlogvar: (..., D).
    """
    mu, logvar = check_cache(cache, GaussianKLCache, "gaussian_kl_backward")
    dkl = _upstream(dkl, mu.shape[:-1], "dkl")[..., None]
    with np.errstate(over="ignore"):
        return dkl * mu, dkl * 0.5 * np.expm1(logvar)


def gaussian_kl(mu, logvar) -> np.ndarray:
    """The value of :func:`gaussian_kl_forward` alone: shape (...)."""
    return gaussian_kl_forward(mu, logvar)[0]


def elbo(log_px_given_z, mu, logvar) -> np.ndarray:
    """Per-example evidence lower bound ELBO = log p(x | z) - KL(q(z | x) || N(0, I)).

    log_px_given_z: (N,) (or any shape (...)): the reconstruction log-likelihood of each
    example, log p(x_n | z_n) at a sample z_n ~ q(z | x_n) (a one-sample estimate of
    E_q[log p(x | z)]), e.g. from :func:`~dlnotes.likelihoods.bernoulli_log_likelihood` or
    :func:`~dlnotes.likelihoods.gaussian_log_likelihood`;  mu, logvar: (N, D_z) (shape
    (..., D_z)), the encoder's q(z | x_n) = N(mu_n, diag(exp(logvar_n)))  ->  (N,). The VAE
    maximises the mean ELBO, i.e. minimises -mean(elbo); ELBO <= log p(x).
    """
    log_px = as_float_array(log_px_given_z, "log_px_given_z")
    kl = gaussian_kl(mu, logvar)
    if log_px.shape != kl.shape:
        raise ValueError(f"log_px_given_z must have one value per example, shape {kl.shape} "
                         f"(mu's shape without its last axis); got {log_px.shape}")
    return log_px - kl
