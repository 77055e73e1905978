"""Loss functions returning ``(loss, grad)`` and information measures of distributions.

Chapters: 01-foundations/02-logistic-regression (binary cross-entropy),
03-activations-and-softmax (softmax cross-entropy) and 04-entropy-and-kl (entropy,
cross-entropy and KL divergence of discrete distributions).

Every loss uses torch's default ``reduction="mean"`` and returns the gradient of that mean
with respect to its *first* argument, so ``grad`` equals what autograd puts in
``first_argument.grad`` after ``loss.backward()``.

NaN: a NaN logit or prediction gives a NaN loss and gradient, as in torch; probabilities and
targets that must lie in [0, 1] refuse NaN with a ValueError. float32 in gives a float32
gradient (the loss is a Python float). Distributions may be float32: their sums are checked
with a tolerance that follows the dtype (``validation.sum_tolerance``).
"""
from __future__ import annotations

import numpy as np

from .activations import log_softmax, sigmoid, softmax
from .validation import (
    as_float,
    as_float_array,
    as_int_array,
    check_distribution,
    check_in_closed_unit_interval,
    check_same_shape,
)

__all__ = ["binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "mse",
           "entropy", "cross_entropy_dist", "kl_divergence"]

# torch.nn.functional.binary_cross_entropy clamps each log term at -100 and divides the
# backward by max(p (1 - p), eps); both are reproduced so that p = 0 or 1 gives torch's
# finite numbers rather than inf/nan. torch's eps is the float32 constant 1e-12, i.e.
# 9.99999996e-13 once widened to float64; using the float64 1e-12 instead would differ
# from torch by 4e-9 (relative) at p = 0 or 1.
_BCE_LOG_FLOOR = -100.0
_BCE_GRAD_EPS = float(np.float32(1e-12))


def binary_cross_entropy(p, y) -> tuple[float, np.ndarray]:
    """Mean binary cross-entropy of probabilities ``p`` against targets ``y``.

    loss = mean(-(y log p + (1 - y) log(1 - p)));  dloss/dp = (p - y) / (p (1 - p)) / n.

    p: any shape, values in [0, 1];  y: same shape, values in [0, 1].
    Reference: ``torch.nn.functional.binary_cross_entropy``.
    """
    p = as_float_array(p, "p")
    y = as_float_array(y, "y")
    check_same_shape(p, y, "p", "y")
    check_in_closed_unit_interval(p, "p (probabilities)")
    check_in_closed_unit_interval(y, "y (targets)")
    _check_nonempty(p, "p")
    n = p.size
    with np.errstate(divide="ignore"):
        log_p = np.maximum(np.log(p), _BCE_LOG_FLOOR)
        log_1mp = np.maximum(np.log1p(-p), _BCE_LOG_FLOOR)
    loss = float(np.mean(-(y * log_p + (1.0 - y) * log_1mp)))
    grad = (p - y) / np.maximum(p * (1.0 - p), _BCE_GRAD_EPS) / n
    return loss, grad


def binary_cross_entropy_with_logits(z, y) -> tuple[float, np.ndarray]:
    """Mean binary cross-entropy of sigmoid(z) against ``y``, computed from the logits.

    loss = mean(max(z, 0) - z y + log(1 + exp(-|z|)));  dloss/dz = (sigma(z) - y) / n.
    The rearranged form never takes the log of 0, so it is stable at any finite z; infinite
    logits give torch's inf or NaN.

    z: any shape (logits);  y: same shape, values in [0, 1].
    Reference: ``torch.nn.functional.binary_cross_entropy_with_logits``.
    """
    z = as_float_array(z, "z")
    y = as_float_array(y, "y")
    check_same_shape(z, y, "z", "y")
    check_in_closed_unit_interval(y, "y (targets)")
    _check_nonempty(z, "z")
    n = z.size
    # torch's arrangement, (1 - y) z + m + log(exp(-m) + exp(-z - m)) with m = max(-z, 0),
    # so that infinite logits give torch's inf or NaN; finite ones agree to round-off.
    with np.errstate(invalid="ignore", over="ignore"):
        m = np.maximum(-z, 0.0)
        loss = float(np.mean((1.0 - y) * z + m + np.log(np.exp(-m) + np.exp(-z - m))))
        grad = (sigmoid(z) - y) / n
    return loss, grad


def cross_entropy(logits, target) -> tuple[float, np.ndarray]:
    """Mean softmax cross-entropy of ``(N, C)`` logits against ``(N,)`` class indices.

    loss = -mean_n log softmax(logits_n)[target_n];  dloss/dlogits = (softmax - onehot) / N.

    logits: (N, C);  target: (N,) integers in [0, C).
    Reference: ``torch.nn.functional.cross_entropy``.
    """
    logits = as_float_array(logits, "logits", ndim=2, shape_hint="(N, C)")
    target = as_int_array(target, "target", ndim=1)
    N, C = logits.shape
    if target.shape != (N,):
        raise ValueError(f"target must be (N,) = ({N},) to match logits {logits.shape}; "
                         f"got {target.shape}")
    if N == 0:
        raise ValueError("cross_entropy needs at least one example; got N = 0")
    if np.any((target < 0) | (target >= C)):
        bad = target[(target < 0) | (target >= C)][0]
        raise ValueError(f"target holds class {bad}, outside [0, {C}) for {C} classes")
    rows = np.arange(N)
    with np.errstate(invalid="ignore"):                  # inf or NaN logits: NaN, as torch
        loss = float(-np.mean(log_softmax(logits, axis=1)[rows, target]))
        grad = softmax(logits, axis=1)
    grad[rows, target] -= 1.0
    return loss, grad / N


def mse(pred, target) -> tuple[float, np.ndarray]:
    """Mean squared error over all elements: loss = mean((pred - target)^2).

    pred, target: the same shape.  dloss/dpred = 2 (pred - target) / n.
    Reference: ``torch.nn.functional.mse_loss``.
    """
    pred = as_float_array(pred, "pred")
    target = as_float_array(target, "target")
    check_same_shape(pred, target, "pred", "target")
    _check_nonempty(pred, "pred")
    with np.errstate(invalid="ignore", over="ignore"):   # inf/NaN in, inf/NaN out, as torch
        diff = pred - target
        return float(np.mean(diff ** 2)), 2.0 * diff / diff.size


def _check_nonempty(a: np.ndarray, name: str) -> None:
    if a.size == 0:
        raise ValueError(f"{name} must hold at least one element to average over; "
                         f"got shape {a.shape}")


def _distribution(p, name: str) -> np.ndarray:
    """A probability vector (or a batch of them along the last axis), checked."""
    p = as_float_array(p, name)
    if p.ndim == 0 or p.shape[-1] == 0:
        raise ValueError(f"{name} must be (n,) or (..., n) probability vectors with n >= 1; "
                         f"got shape {p.shape}")
    if np.any(p < 0) or np.any(~np.isfinite(p)):
        raise ValueError(f"{name} must hold finite non-negative probabilities")
    return check_distribution(p, name, axis=-1)


def _log_base(base) -> float:
    """log(base) for a finite base > 0 other than 1 (base = inf would turn every log to 0)."""
    base = as_float(base, "base", positive=True)
    if base == 1:
        raise ValueError("base must be positive and not 1; got 1.0")
    return float(np.log(base))


def _log(x: np.ndarray, log_base: float) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log(x) / log_base


def entropy(p, base: float = 2) -> float | np.ndarray:
    """Shannon entropy H(p) = -sum_i p_i log p_i, with 0 log 0 = 0 (bits by default).

    p: (n,) or (..., n), each row summing to 1. Returns a float, or an array of shape (...).
    ``base``: a finite number > 0 other than 1 (2 gives bits, ``np.e`` nats); NaN refused.
    """
    p = _distribution(p, "p")
    log_base = _log_base(base)
    terms = np.where(p > 0, -p * _log(np.where(p > 0, p, 1.0), log_base), 0.0)
    h = terms.sum(axis=-1)
    return float(h) if h.ndim == 0 else h


def cross_entropy_dist(p, q, base: float = 2) -> float | np.ndarray:
    """Cross-entropy H(p, q) = -sum_i p_i log q_i of two distributions over the same outcomes.

    Terms with p_i = 0 contribute 0; a q_i = 0 where p_i > 0 gives +inf (q cannot explain
    an outcome that happens). p, q: (n,) or (..., n), the same shape; ``base`` as in
    :func:`entropy`.
    """
    p = _distribution(p, "p")
    q = _distribution(q, "q")
    check_same_shape(p, q, "p", "q")
    log_base = _log_base(base)
    # Where p_i = 0 the term is 0 whatever q_i is; q_i is replaced there so that 0 * log 0
    # is never formed (it would be nan, with a warning).
    safe_q = np.where(p > 0, q, 1.0)
    terms = np.where(p > 0, -p * _log(safe_q, log_base), 0.0)
    h = terms.sum(axis=-1)
    return float(h) if h.ndim == 0 else h


def kl_divergence(p, q, base: float = 2) -> float | np.ndarray:
    """Kullback-Leibler divergence KL(p || q) = sum_i p_i log(p_i / q_i) >= 0.

    Equals H(p, q) - H(p). Terms with p_i = 0 contribute 0; q_i = 0 where p_i > 0 gives +inf.
    p, q: (n,) or (..., n), the same shape; ``base`` as in :func:`entropy`.
    """
    p = _distribution(p, "p")
    q = _distribution(q, "q")
    check_same_shape(p, q, "p", "q")
    log_base = _log_base(base)
    safe_p = np.where(p > 0, p, 1.0)
    safe_q = np.where(p > 0, q, 1.0)
    terms = np.where(p > 0, p * (_log(safe_p, log_base) - _log(safe_q, log_base)), 0.0)
    d = terms.sum(axis=-1)
    return float(d) if d.ndim == 0 else d
