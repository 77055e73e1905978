"""Logistic regression: a forward/backward pair, the cost with its gradients, and training.

Chapter: 01-foundations/02-logistic-regression. Layout as in torch: examples are rows,
``x: (N, D)``, one weight per feature ``w: (D,)`` and a single bias ``b``, so the logits
are ``z = x @ w + b`` of shape ``(N,)``. The bias may be a 0-d array (as the bias that
``torch.nn.functional.linear`` pairs with a 1-D weight) or of shape ``(1,)`` (as
``torch.nn.Linear(D, 1).bias``); its gradient comes back in the shape it came in.
Notes that stack examples as columns, ``X: (D, N)``, write the same logits as the row
``w^T X + b``; the numbers are identical.

float32 ``x`` and ``w`` give float32 results, also when ``b`` is a Python number (which, as
a torch scalar would, takes their dtype). NaN in the inputs propagates to the outputs, as
in torch; targets ``y`` must lie in [0, 1] (NaN refused).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .activations import sigmoid
from .losses import binary_cross_entropy_with_logits
from .validation import as_float, as_float_array, as_int, check_cache, check_in_closed_unit_interval

__all__ = ["LogisticCache", "logistic_forward", "logistic_backward", "logistic_cost",
           "train_logistic_regression", "predict_proba", "predict"]


class LogisticCache(NamedTuple):
    """What ``logistic_backward`` needs from the forward pass."""
    x: np.ndarray  # (N, D)
    w: np.ndarray  # (D,)
    b: np.ndarray  # () or (1,)
    a: np.ndarray  # (N,) sigma(z)


def logistic_forward(x, w, b) -> tuple[np.ndarray, LogisticCache]:
    """Predicted probabilities a = sigma(x @ w + b).

    x: (N, D);  w: (D,);  b: () or (1,)  ->  a: (N,), each in [0, 1].
    Reference: ``torch.sigmoid(x @ w + b)``.
    """
    x, w, b = _check_params(x, w, b)
    with _inf_quietly():
        z = x @ w + b  # (N,)
    a = sigmoid(z)
    return a, LogisticCache(x.copy(), w.copy(), b.copy(), a.copy())


def logistic_backward(da, cache: LogisticCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Chain rule through a = sigma(z), z = x @ w + b, for any upstream gradient ``da``.

    dz = da * a (1 - a);  dx = dz[:, None] * w;  dw = x.T @ dz;  db = sum_n dz.
    da: (N,)  ->  dx: (N, D), dw: (D,), db: the shape of b.
    """
    x, w, b, a = check_cache(cache, LogisticCache, "logistic_backward")
    da = as_float_array(da, "da", ndim=1, shape_hint="(N,)")
    if da.shape != a.shape:
        raise ValueError(f"da must be (N,) = {a.shape} like the forward output; got {da.shape}")
    with _inf_quietly():
        dz = da * a * (1.0 - a)  # (N,)
        dx = dz[:, None] * w[None, :]  # (N, D)
        return dx, x.T @ dz, np.full(b.shape, dz.sum())


def logistic_cost(x, y, w, b) -> tuple[float, np.ndarray, np.ndarray]:
    """Mean cross-entropy cost J of the model on (x, y) and its gradients.

    J = mean_n L(a_n, y_n), L(a, y) = -(y log a + (1 - y) log(1 - a)), a = sigma(x @ w + b).
    Since dL/dz = a - y, the gradients are dw = x.T @ (a - y) / N and db = mean(a - y).
    The cost is computed from the logits, so it stays finite when a rounds to 0 or 1.

    x: (N, D);  y: (N,) targets in [0, 1];  w: (D,);  b: () or (1,)
    ->  (J, dw: (D,), db: the shape of b).
    Reference: ``torch.nn.functional.binary_cross_entropy_with_logits(x @ w + b, y)``.
    """
    x, w, b = _check_params(x, w, b)
    y = _check_targets(y, x.shape[0])
    with _inf_quietly():
        z = x @ w + b  # (N,)
        cost, dz = binary_cross_entropy_with_logits(z, y)  # dz = (a - y) / N
        return cost, x.T @ dz, np.full(b.shape, dz.sum())


def train_logistic_regression(x, y, lr: float, steps: int, w=None, b=0.0
                              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Full-batch gradient descent on the cost J: w <- w - lr dJ/dw, b <- b - lr dJ/db.

    Starts from ``w`` (default zeros: the cost is convex, so no symmetry needs breaking)
    and ``b``. Deterministic: no randomness is involved.

    x: (N, D);  y: (N,) targets in [0, 1];  lr > 0;  steps >= 1.
    Returns w: (D,), b: the shape it came in, and history: (steps + 1,), the cost before
    each update and after the last one. NaN in the inputs propagates (as in torch); finite
    inputs whose cost overflows to inf or NaN (logits beyond float64) raise a ValueError
    instead of returning weights that no longer mean anything.
    """
    x = as_float_array(x, "x", ndim=2, shape_hint="(N, D)")
    y = _check_targets(y, x.shape[0])
    steps = as_int(steps, "steps", minimum=1)
    lr = as_float(lr, "lr", positive=True)
    x, w, b = _check_params(x, np.zeros(x.shape[1]) if w is None else w, b)
    w, b = w.astype(np.float64), b.astype(np.float64)  # copies: the caller's arrays stay put
    history = np.empty(steps + 1)
    finite_input = bool(np.all(np.isfinite(x)) and np.all(np.isfinite(w))
                        and np.all(np.isfinite(b)))
    for t in range(steps + 1):
        history[t], dw, db = logistic_cost(x, y, w, b)
        if finite_input and not np.isfinite(history[t]):
            # Finite data, non-finite cost: the logits overflowed (float64 has no answer).
            raise ValueError(f"training diverged at step {t}: the cost is {history[t]!r} "
                             f"because the logits x @ w + b overflow (largest |x| = "
                             f"{float(np.max(np.abs(x), initial=0.0)):.3g}); rescale x or "
                             "lower lr")
        if t < steps:
            with _inf_quietly():
                w -= lr * dw
                b -= lr * db
    return w, b, history


def predict_proba(x, w, b) -> np.ndarray:
    """P(y = 1 | x) = sigma(x @ w + b) for x: (N, D), w: (D,), b: () or (1,); returns (N,)."""
    x, w, b = _check_params(x, w, b)
    with _inf_quietly():
        return sigmoid(x @ w + b)


def predict(x, w, b) -> np.ndarray:
    """Class 1 where sigma(z) >= 1/2, i.e. where z = x @ w + b >= 0; returns (N,) int64.

    Thresholding the logit rather than the probability avoids a rounding decision at
    a = 0.5 exactly, and shows that the decision boundary is the hyperplane w.x + b = 0.
    """
    x, w, b = _check_params(x, w, b)
    with _inf_quietly():
        return (x @ w + b >= 0).astype(np.int64)


def _inf_quietly():
    """inf * 0 and overflow give NaN or inf, as in torch, without a NumPy warning."""
    return np.errstate(over="ignore", invalid="ignore")


def _check_params(x, w, b) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = as_float_array(x, "x", ndim=2, shape_hint="(N, D)")
    w = as_float_array(w, "w", ndim=1, shape_hint="(D,)")
    python_number = isinstance(b, (int, float)) and not isinstance(b, (bool, np.generic))
    b = as_float_array(b, "b")
    if python_number:                   # a Python bias takes the dtype of x and w, as in torch
        b = b.astype(np.result_type(x.dtype, w.dtype))
    if w.shape != (x.shape[1],):
        raise ValueError(f"w must be (D,) = ({x.shape[1]},) to match x {x.shape}; "
                         f"got {w.shape}")
    if b.shape not in ((), (1,)):
        raise ValueError(f"b must be a single bias, of shape () or (1,); got shape {b.shape}")
    return x, w, b


def _check_targets(y, n: int) -> np.ndarray:
    y = as_float_array(y, "y", ndim=1, shape_hint="(N,)")
    if y.shape != (n,):
        raise ValueError(f"y must be (N,) = ({n},) to match x; got {y.shape}")
    check_in_closed_unit_interval(y, "y (targets)")
    return y
