"""Learning-rate schedules as plain functions of the epoch number (0, 1, 2, ...).

Chapter: 01-foundations/06-optimisation. Each returns the learning rate to use in ``epoch``.
Arguments are checked with the package's shared validators: ``epoch`` and ``step_size`` may
be Python or NumPy integers (bools and floats refused), ``lr0`` must be a finite number > 0,
and a decay factor ``gamma`` must lie in (0, 1], so a schedule never returns a negative,
zero-by-accident or NaN rate.
"""
from __future__ import annotations

import math

from .validation import as_float, as_int

__all__ = ["inverse_time_decay", "exponential_decay", "step_decay", "inverse_sqrt_decay"]


def inverse_time_decay(lr0: float, epoch: int, decay_rate: float) -> float:
    """lr = lr0 / (1 + decay_rate * epoch), with decay_rate a finite number >= 0."""
    lr0, epoch = _check(lr0, epoch)
    decay_rate = as_float(decay_rate, "decay_rate", nonnegative=True)
    return lr0 / (1.0 + decay_rate * epoch)


def exponential_decay(lr0: float, epoch: int, gamma: float = 0.95) -> float:
    """lr = lr0 * gamma ** epoch, as ``torch.optim.lr_scheduler.ExponentialLR``."""
    lr0, epoch = _check(lr0, epoch)
    gamma = _check_gamma(gamma)
    return lr0 * gamma ** epoch


def step_decay(lr0: float, epoch: int, step_size: int, gamma: float = 0.1) -> float:
    """lr = lr0 * gamma ** (epoch // step_size), as ``torch.optim.lr_scheduler.StepLR``."""
    lr0, epoch = _check(lr0, epoch)
    step_size = as_int(step_size, "step_size", minimum=1)
    gamma = _check_gamma(gamma)
    return lr0 * gamma ** (epoch // step_size)


def inverse_sqrt_decay(lr0: float, epoch: int) -> float:
    """lr = lr0 / sqrt(epoch + 1): the 'k / sqrt(t)' schedule, shifted so epoch 0 gives lr0."""
    lr0, epoch = _check(lr0, epoch)
    return lr0 / math.sqrt(epoch + 1)


def _check(lr0, epoch) -> tuple[float, int]:
    return as_float(lr0, "lr0", positive=True), as_int(epoch, "epoch", minimum=0)


def _check_gamma(gamma) -> float:
    gamma = as_float(gamma, "gamma", positive=True)
    if gamma > 1:
        raise ValueError(f"gamma must lie in (0, 1]; got {gamma!r}")
    return gamma
