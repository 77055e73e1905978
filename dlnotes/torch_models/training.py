"""The mini-batch Adam loop that ``text_models`` and ``vae`` train with, in plain torch.

Adam (Kingma and Ba, 2015) is written out, operation for operation as ``torch.optim.Adam``
with its defaults (``foreach=False``), because building a ``torch.optim`` optimizer imports
``torch._dynamo``: seconds of start-up for models that train in one. With g the gradient and
t the step count (from 1),

    m <- b1 m + (1 - b1) g,     v <- b2 v + (1 - b2) g^2,
    p <- p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).

The NumPy counterpart for arrays is :class:`dlnotes.optim.Adam`.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from numbers import Real

import torch
from torch import nn

from ..validation import check_positive_int

__all__ = ["adam_update", "fit_adam"]


def adam_update(params: Sequence[torch.Tensor], grads: Sequence[torch.Tensor],
                moments: Sequence[tuple[torch.Tensor, torch.Tensor]], lr: float, step: int,
                betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> None:
    """One Adam update of ``params`` in place (formula in the module docstring).

    params, grads: tensors of matching shapes;  moments: one (m, v) pair per parameter, zeros
    before the first step and updated in place;  step: t, counting from 1.
    """
    b1, b2 = betas
    with torch.no_grad():
        for p, g, (m, v) in zip(params, grads, moments, strict=True):
            m.lerp_(g, 1 - b1)                    # m = b1 m + (1 - b1) g
            v.mul_(b2).addcmul_(g, g, value=1 - b2)
            denom = (v.sqrt() / math.sqrt(1 - b2 ** step)).add_(eps)
            p.addcdiv_(m, denom, value=-lr / (1 - b1 ** step))


def fit_adam(model: nn.Module, batch_loss: Callable[[torch.Tensor], torch.Tensor], n: int, *,
             epochs: int, batch_size: int, lr: float, shuffle: Callable[[], Sequence[int]],
             after_epoch: Callable[[], None] | None = None) -> list[float]:
    """Train ``model``'s parameters (those with ``requires_grad``) with mini-batch Adam.

    n: the number of training examples;  shuffle(): a permutation of range(n), called once at
    the start of every epoch, whose consecutive slices of ``batch_size`` (the last one may be
    shorter) are the batches;  batch_loss(idx): the mean loss over the examples ``idx``
    (an int64 tensor), a 0-d tensor;  after_epoch(): optional, called after each epoch (e.g.
    to score held-out data; the model is put back in train mode before the next epoch).
    Gradients come from ``torch.autograd.grad``, so ``.grad`` fields are left untouched.
    Returns the mean training loss of each epoch (each batch weighted by its size).
    """
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    n = check_positive_int(n, "n")
    if isinstance(lr, bool) or not isinstance(lr, Real) or not (
            math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a finite number > 0; got {lr!r}")
    params = [p for p in model.parameters() if p.requires_grad]
    moments = [(torch.zeros_like(p), torch.zeros_like(p)) for p in params]
    step, history = 0, []
    for _ in range(epochs):
        model.train()
        order, total = shuffle(), 0.0
        for start in range(0, n, batch_size):
            idx = torch.as_tensor(order[start:start + batch_size])
            loss = batch_loss(idx)
            grads = torch.autograd.grad(loss, params)
            step += 1
            adam_update(params, grads, moments, float(lr), step)
            total += loss.item() * len(idx)
        history.append(total / n)
        if after_epoch is not None:
            after_epoch()
    return history
