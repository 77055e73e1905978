"""Batch normalisation as a forward/backward pair, with torch's running statistics.

Chapter: 01-foundations/05-training-deep-networks (section "Batch normalisation"), which
derives the backward pass. Conventions follow ``torch.nn.BatchNorm1d``/``BatchNorm2d``:

- statistics are taken per channel ``c`` over every axis but the channel axis 1, i.e. over
  the N examples of an ``(N, C)`` batch or the N*H*W positions of an ``(N, C, H, W)`` one;
- training mode normalises with the *biased* batch variance (divide by M), but the running
  variance is updated with the *unbiased* one (divide by M - 1);
- ``momentum`` weighs the new batch: ``running = (1 - momentum) * running + momentum * batch``
  (the opposite of the "beta" of an exponentially weighted average, where beta weighs the past);
- evaluation mode normalises with the running statistics and leaves them unchanged.

The functions are pure: the running statistics come in as arguments and the updated ones come
back as a third result, never written into the caller's arrays. The cache keeps its own
copies (changing ``out``, ``x`` or ``gamma`` afterwards does not change the backward), and
``batchnorm_backward`` accepts only a ``BatchNormCache``. NaN or inf in ``x`` (or in
``dout``) propagates to the outputs and gradients as in torch; the per-channel arrays
(gamma, beta and the running statistics) must be finite, and NaN or inf there is refused
with a ValueError (torch's fused arithmetic turns an infinite gamma into NaN in some rows
and -inf in others, which no formula of ours should imitate).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .validation import as_float, as_float_array, as_probability, check_cache

__all__ = ["RunningStats", "BatchNormCache", "batchnorm_forward", "batchnorm_backward"]


class RunningStats(NamedTuple):
    """Per-channel running estimates, as torch keeps them in ``running_mean``/``running_var``."""
    mean: np.ndarray  # (C,)
    var: np.ndarray   # (C,)


class BatchNormCache(NamedTuple):
    """What ``batchnorm_backward`` needs from the forward pass."""
    x_hat: np.ndarray    # the normalised input, same shape as x
    inv_std: np.ndarray  # (C,), 1 / sqrt(var + eps) with the statistics that were used
    gamma: np.ndarray    # (C,)
    training: bool       # True: batch statistics (they depend on x); False: running ones


def _channel_view(shape: tuple[int, ...]) -> tuple[int, ...]:
    # (C,) -> (1, C) or (1, C, 1, 1): a per-channel array broadcast against x.
    return (1, shape[1]) + (1,) * (len(shape) - 2)


def _reduce_axes(ndim: int) -> tuple[int, ...]:
    return (0,) if ndim == 2 else (0, 2, 3)


def batchnorm_forward(x, gamma, beta, running_mean, running_var, training: bool,
                      momentum: float = 0.1, eps: float = 1e-5
                      ) -> tuple[np.ndarray, BatchNormCache, RunningStats]:
    """Batch normalisation: out = gamma * (x - mu) / sqrt(var + eps) + beta, per channel.

    x: (N, C) or (N, C, H, W);  gamma, beta, running_mean, running_var: (C,).
    training=True: mu and var are the batch mean and biased variance over the M = N (or
    N*H*W) values of each channel, and the running statistics are updated as
    ``(1 - momentum) * running + momentum * batch``, with the unbiased variance
    var * M / (M - 1). training=False: mu and var are the running statistics, returned
    unchanged (as copies).
    Returns (out, cache, RunningStats(new_mean, new_var)); out has x's shape.
    Reference: ``torch.nn.functional.batch_norm(x, running_mean, running_var, gamma, beta,
    training, momentum, eps)``; Ioffe and Szegedy (2015).
    """
    x = as_float_array(x, "x")
    if x.ndim not in (2, 4):
        raise ValueError(f"x must be (N, C) or (N, C, H, W); got shape {x.shape}")
    N, C = x.shape[:2]
    if C == 0:
        raise ValueError(f"x must have at least one channel (axis 1); got shape {x.shape}")
    per_channel = {}
    for name, value in (("gamma", gamma), ("beta", beta), ("running_mean", running_mean),
                        ("running_var", running_var)):
        arr = as_float_array(value, name)
        if arr.shape != (C,):
            raise ValueError(f"{name} must be (C,) = ({C},) to match x {x.shape}; "
                             f"got {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must be finite; found NaN or inf")
        per_channel[name] = arr
    if not isinstance(training, (bool, np.bool_)):
        raise TypeError(f"training must be True or False; got {training!r}")
    momentum = as_probability(momentum, "momentum")
    eps = as_float(eps, "eps", positive=True)
    if np.any(per_channel["running_var"] < 0):
        raise ValueError("running_var must be non-negative")
    gamma, beta = per_channel["gamma"], per_channel["beta"]
    running_mean, running_var = per_channel["running_mean"], per_channel["running_var"]

    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # as torch: inf/NaN
        axes, view = _reduce_axes(x.ndim), _channel_view(x.shape)
        M = x.size // C                     # values per channel
        if training:
            if M < 2:
                raise ValueError(f"training needs more than one value per channel; "
                                 f"got x of shape {x.shape}")
            mu = x.mean(axis=axes)                          # (C,)
            var = ((x - mu.reshape(view)) ** 2).mean(axis=axes)   # (C,), biased
            new_stats = RunningStats((1 - momentum) * running_mean + momentum * mu,
                                     (1 - momentum) * running_var + momentum * var * M / (M - 1))
        else:
            mu, var = running_mean, running_var
            new_stats = RunningStats(running_mean.copy(), running_var.copy())
        inv_std = 1.0 / np.sqrt(var + eps)                  # (C,)
        x_hat = (x - mu.reshape(view)) * inv_std.reshape(view)
        out = gamma.reshape(view) * x_hat + beta.reshape(view)
    return out, BatchNormCache(x_hat, inv_std, gamma.copy(), bool(training)), new_stats


def batchnorm_backward(dout, cache: BatchNormCache
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of batch normalisation with respect to x, gamma and beta.

    dout: x's shape  ->  dx: x's shape, dgamma: (C,), dbeta: (C,).
    dbeta = sum dout and dgamma = sum dout * x_hat over the reduced axes. In training mode,
    with M values per channel and sigma = sqrt(var + eps),
        dx = gamma / (M sigma) * (M dout - sum dout - x_hat * sum(dout * x_hat)),
    because mu and var depend on x; in evaluation mode dx = gamma dout / sigma.
    The running statistics get no gradient (torch treats them as buffers).
    """
    x_hat, inv_std, gamma, training = check_cache(cache, BatchNormCache, "batchnorm_backward")
    dout = as_float_array(dout, "dout")
    if dout.shape != x_hat.shape:
        raise ValueError(f"dout must have the forward input's shape {x_hat.shape}; "
                         f"got {dout.shape}")
    axes, view = _reduce_axes(dout.ndim), _channel_view(dout.shape)
    M = dout.size // dout.shape[1]
    with np.errstate(over="ignore", invalid="ignore"):     # inf/NaN propagate, as in torch
        dbeta = dout.sum(axis=axes)                         # (C,)
        dgamma = (dout * x_hat).sum(axis=axes)              # (C,)
        scale = (gamma * inv_std).reshape(view)
        if not training:
            return dout * scale, dgamma, dbeta
        dx = scale / M * (M * dout - dbeta.reshape(view) - x_hat * dgamma.reshape(view))
    return dx, dgamma, dbeta
