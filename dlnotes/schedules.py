"""Learning-rate schedules as plain functions of the epoch number (0, 1, 2, ...).

Chapter: 01-foundations/06-optimisation. Each returns the learning rate to use in ``epoch``.
"""
from __future__ import annotations

import math


def inverse_time_decay(lr0: float, epoch: int, decay_rate: float) -> float:
    """lr = lr0 / (1 + decay_rate * epoch)."""
    _check(lr0, epoch)
    if decay_rate < 0:
        raise ValueError(f"decay_rate must be >= 0; got {decay_rate!r}")
    return lr0 / (1.0 + decay_rate * epoch)


def exponential_decay(lr0: float, epoch: int, gamma: float = 0.95) -> float:
    """lr = lr0 * gamma ** epoch, as ``torch.optim.lr_scheduler.ExponentialLR``."""
    _check(lr0, epoch)
    if not 0 < gamma <= 1:
        raise ValueError(f"gamma must lie in (0, 1]; got {gamma!r}")
    return lr0 * gamma ** epoch


def step_decay(lr0: float, epoch: int, step_size: int, gamma: float = 0.1) -> float:
    """lr = lr0 * gamma ** (epoch // step_size), as ``torch.optim.lr_scheduler.StepLR``."""
    _check(lr0, epoch)
    if not isinstance(step_size, int) or step_size < 1:
        raise ValueError(f"step_size must be a positive int; got {step_size!r}")
    return lr0 * gamma ** (epoch // step_size)


def inverse_sqrt_decay(lr0: float, epoch: int) -> float:
    """lr = lr0 / sqrt(epoch + 1): the 'k / sqrt(t)' schedule, shifted so epoch 0 gives lr0."""
    _check(lr0, epoch)
    return lr0 / math.sqrt(epoch + 1)


def _check(lr0: float, epoch: int) -> None:
    if not lr0 > 0:
        raise ValueError(f"lr0 must be positive; got {lr0!r}")
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        raise ValueError(f"epoch must be a non-negative int; got {epoch!r}")
