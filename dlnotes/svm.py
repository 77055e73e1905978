"""Linear support vector machines: the hinge-loss objective, subgradient training, margins.

Chapter: 06-beyond/01-margins-and-svms. Examples are rows, ``x: (N, D)``; labels are
``y: (N,)`` with values in {-1, +1}; a linear classifier is a weight vector ``w: (D,)`` and
a bias ``b``, its score is ``f(x) = x @ w + b`` and its decision boundary the hyperplane
``w . x + b = 0``.

The objective minimised here (one fixed convention, used by the trainer and the tests) is

    J(w, b) = 1/2 ||w||^2 + c * mean_n max(0, 1 - y_n (w . x_n + b)).

The mean (rather than the sum of the textbook soft-margin SVM) keeps the meaning of ``c``
independent of the number of examples: ``c`` here equals the textbook C times N.

The hinge is not differentiable where ``y_n f(x_n) = 1`` (a point exactly on the margin).
Any value between the two one-sided slopes is a valid subgradient; we take the right-hand
one, 0, so a point on the margin contributes nothing. That is the gradient autograd gives
for ``torch.relu(1 - y * f)``. (``torch.clamp(1 - y * f, min=0)`` gives the left-hand one,
and ``torch.maximum(1 - y * f, 0)`` splits the difference: three valid conventions.)
"""
from __future__ import annotations

import numpy as np

from .validation import (
    as_float,
    as_float_array,
    as_int_array,
    check_positive_int,
    check_rng,
    safe_norm,
)

__all__ = ["hinge_loss", "train_linear_svm", "decision_function", "predict", "signed_distance",
           "geometric_margin", "margin_width", "train_one_vs_rest", "predict_one_vs_rest"]


def hinge_loss(w, b, x, y, c) -> tuple[float, tuple[np.ndarray, np.ndarray]]:
    """The soft-margin objective J(w, b) and a subgradient (dw, db).

    J = 1/2 ||w||^2 + c/N sum_n max(0, 1 - m_n),  m_n = y_n (x_n . w + b)   (functional margins)
    dw = w - c/N sum_{n in A} y_n x_n,  db = -c/N sum_{n in A} y_n,  A = {n : m_n < 1}
    (strict inequality: a point exactly on the margin is not in A, as torch.relu's gradient).

    w: (D,);  b: a number, () or (1,);  x: (N, D);  y: (N,) in {-1, +1};  c > 0.
    Returns (J, (dw: (D,), db: the shape of b)). NaN in x, w or b propagates
    into J and the subgradient (torch does the same); huge entries give inf, never a wrong
    finite number.
    Reference: ``0.5 * (w * w).sum() + c * torch.relu(1 - y * (x @ w + b)).mean()``.
    """
    x, y, w, b = _check_problem(x, y, w, b)
    c = as_float(c, "c", positive=True)
    N = x.shape[0]
    with np.errstate(over="ignore", invalid="ignore"):   # huge inputs: inf, as in torch
        return _hinge(w, b, x, y, c, N)


def _hinge(w, b, x, y, c, N):
    slack = 1.0 - y * (x @ w + b)  # (N,) hinge arguments
    # (N,) bool: strictly inside the margin or misclassified. Written as "not <= 0" so that a
    # NaN margin counts as active and its NaN reaches the subgradient, as torch.relu's does.
    active = ~(slack <= 0.0)
    loss = 0.5 * float(w @ w) + c * float(np.mean(np.maximum(slack, 0.0)))
    ya = np.where(active, y, 0.0)  # (N,) y_n on A, 0 elsewhere
    dw = w - (c / N) * (x.T @ ya)  # (D,)
    db = np.full(b.shape, -(c / N) * ya.sum())
    return loss, (dw, db)


def train_linear_svm(x, y, *, c, lr, epochs, rng=None, batch_size=None, w=None, b=0.0
                     ) -> tuple[np.ndarray, float, np.ndarray]:
    """Minimise J (see :func:`hinge_loss`) by subgradient descent from ``w`` (default 0), ``b``.

    Update t (t = 0, 1, ...) takes the step ``lr / sqrt(t + 1)`` against the subgradient: a
    diminishing step, as subgradient methods need (a constant one keeps the iterate
    jumping across the kinks of the hinge instead of settling).

    * ``batch_size=None``: full batch, one update per epoch, deterministic; ``rng`` unused.
    * ``batch_size=B``: each epoch visits the examples in the order ``rng.permutation(N)``
      in mini-batches of at most B, each update using the subgradient of
      1/2 ||w||^2 + c * mean over the batch of the hinge; ``rng`` is then required.

    x: (N, D);  y: (N,) in {-1, +1};  c > 0;  lr > 0;  epochs >= 1.
    Returns w: (D,), b: float, and history: (epochs + 1,), J on all of x before the first
    epoch and after each one. The caller's arrays are not modified.
    """
    x = as_float_array(x, "x", ndim=2, shape_hint="(N, D)")
    N, D = x.shape
    x, y, w, b = _check_problem(x, y, np.zeros(D) if w is None else w, b)
    for arr, name in ((x, "x"), (w, "w"), (b, "b")):
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must be finite to train on; it holds NaN or inf")
    c = as_float(c, "c", positive=True)
    lr = as_float(lr, "lr", positive=True)
    epochs = check_positive_int(epochs, "epochs")
    if batch_size is not None:
        batch_size = check_positive_int(batch_size, "batch_size")
        check_rng(rng, needed_for="mini-batch training (batch_size given)")
    w, b = w.astype(np.float64), float(b.reshape(-1)[0])  # copies
    history = np.empty(epochs + 1)
    history[0] = hinge_loss(w, b, x, y, c)[0]
    t = 0
    for epoch in range(epochs):
        if batch_size is None:
            batches = [slice(None)]
        else:
            order = rng.permutation(N)
            batches = [order[i:i + batch_size] for i in range(0, N, batch_size)]
        for idx in batches:
            _, (dw, db) = hinge_loss(w, b, x[idx], y[idx], c)
            step = lr / np.sqrt(t + 1.0)
            w = w - step * dw
            b = b - step * float(db)
            t += 1
        history[epoch + 1] = hinge_loss(w, b, x, y, c)[0]
        if not (np.isfinite(history[epoch + 1]) and np.all(np.isfinite(w))):
            raise ValueError(f"training diverged at epoch {epoch + 1} (the objective is "
                             f"{history[epoch + 1]}): x is too large for lr = {lr}; scale x")
    return w, b, history


def decision_function(x, w, b) -> np.ndarray:
    """Scores f(x_n) = x_n . w + b.  x: (N, D);  w: (D,);  b: a number  ->  (N,)."""
    x, w, b = _check_params(x, w, b)
    return x @ w + b


def predict(x, w, b) -> np.ndarray:
    """Labels in {-1, +1}: +1 where f(x) >= 0 (a point on the boundary counts as +1); (N,) int64."""
    return np.where(decision_function(x, w, b) >= 0.0, 1, -1).astype(np.int64)


def signed_distance(x, w, b) -> np.ndarray:
    """Signed Euclidean distance (w . x_n + b) / ||w|| of each point to the hyperplane.

    Positive on the side w points to. x: (N, D);  w: (D,) non-zero;  b: a number  ->  (N,).
    """
    x, w, b = _check_params(x, w, b)
    norm = _norm(w)
    return x @ (w / norm) + b / norm   # w / ||w|| first: no overflow for huge w


def geometric_margin(x, y, w, b) -> float:
    """min_n y_n (w . x_n + b) / ||w||: the distance from the boundary to the closest point
    when every point is on its correct side (negative if some point is misclassified).

    x: (N, D);  y: (N,) in {-1, +1};  w: (D,) non-zero;  b: a number.
    """
    x, y, w, b = _check_problem(x, y, w, b)
    norm = _norm(w)
    return float(np.min(y * (x @ (w / norm) + b / norm)))


def margin_width(w) -> float:
    """2 / ||w||: the distance between the hyperplanes w . x + b = +1 and w . x + b = -1."""
    w = as_float_array(w, "w", ndim=1, shape_hint="(D,)")
    return 2.0 / _norm(w)


def train_one_vs_rest(x, labels, n_classes, *, c, lr, epochs) -> tuple[np.ndarray, np.ndarray]:
    """K binary SVMs, classifier k trained on "class k" (+1) against all other classes (-1).

    x: (N, D);  labels: (N,) integers in [0, K);  n_classes = K >= 2; c, lr, epochs as in
    :func:`train_linear_svm` (full batch). Returns W: (K, D) and B: (K,).
    """
    x = as_float_array(x, "x", ndim=2, shape_hint="(N, D)")
    K = check_positive_int(n_classes, "n_classes")
    labels = _check_labels(labels, x.shape[0], K)
    if K < 2:
        raise ValueError(f"one-vs-rest needs n_classes >= 2; got {K}")
    W, B = np.empty((K, x.shape[1])), np.empty(K)
    for k in range(K):
        y_k = np.where(labels == k, 1.0, -1.0)  # (N,)
        W[k], B[k], _ = train_linear_svm(x, y_k, c=c, lr=lr, epochs=epochs)
    return W, B


def predict_one_vs_rest(x, W, B) -> np.ndarray:
    """The class whose classifier scores highest: argmax_k (x @ W.T + B)_k (ties: lowest k).

    x: (N, D);  W: (K, D);  B: (K,)  ->  (N,) int64.
    """
    x = as_float_array(x, "x", ndim=2, shape_hint="(N, D)")
    W = as_float_array(W, "W", ndim=2, shape_hint="(K, D)")
    B = as_float_array(B, "B", ndim=1, shape_hint="(K,)")
    if W.shape[1] != x.shape[1] or B.shape != (W.shape[0],):
        raise ValueError(f"W must be (K, D) with D = {x.shape[1]} (x's columns) and B (K,); "
                         f"got W {W.shape}, B {B.shape}")
    return np.argmax(x @ W.T + B, axis=1).astype(np.int64)  # (N, K) -> (N,)


def _norm(w: np.ndarray) -> float:
    """||w||, computed after rescaling (``safe_norm``): right for entries near 1e200 or 1e-200."""
    norm = float(safe_norm(w))
    if norm == 0.0:
        raise ValueError("w must be non-zero: w = 0 defines no hyperplane")
    if not np.isfinite(norm):
        raise ValueError("w must be finite; it holds NaN or inf")
    return norm



def _check_params(x, w, b) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = as_float_array(x, "x", ndim=2, shape_hint="(N, D)")
    w = as_float_array(w, "w", ndim=1, shape_hint="(D,)")
    b = as_float_array(b, "b")
    if w.shape != (x.shape[1],):
        raise ValueError(f"w must be (D,) = ({x.shape[1]},) to match x {x.shape}; got {w.shape}")
    if b.shape not in ((), (1,)):
        raise ValueError(f"b must be a single bias, of shape () or (1,); got shape {b.shape}")
    # float32 x and w with a Python-float bias stay float32 (b follows the arrays' dtype).
    return x, w, b.astype(np.result_type(x.dtype, w.dtype), copy=False)


def _check_problem(x, y, w, b):
    x, w, b = _check_params(x, w, b)
    if x.shape[0] == 0:
        raise ValueError("x must hold at least one example; got N = 0")
    y = as_float_array(y, "y", ndim=1, shape_hint="(N,)")
    if y.shape != (x.shape[0],):
        raise ValueError(f"y must be (N,) = ({x.shape[0]},) to match x; got {y.shape}")
    if not np.all((y == 1.0) | (y == -1.0)):
        bad = y[(y != 1.0) & (y != -1.0)][0]
        raise ValueError(f"y must hold labels -1 or +1 (not 0/1); found {bad!r}")
    return x, y, w, b


def _check_labels(labels, n: int, n_classes: int) -> np.ndarray:
    labels = as_int_array(labels, "labels", ndim=1)
    if labels.shape != (n,):
        raise ValueError(f"labels must be (N,) = ({n},) to match x; got {labels.shape}")
    if np.any((labels < 0) | (labels >= n_classes)):
        bad = labels[(labels < 0) | (labels >= n_classes)][0]
        raise ValueError(f"labels holds class {bad}, outside [0, {n_classes})")
    return labels
