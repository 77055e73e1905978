"""A multilayer perceptron for classification, assembled from the dense, ReLU, dropout and
softmax cross-entropy pairs, with L2 regularisation and plain full-batch gradient descent.

Chapter: 01-foundations/05-training-deep-networks. The network with ``L`` dense layers is

    h_0 = x,   h_l = dropout(relu(h_{l-1} W_l^T + b_l))   for l = 1 .. L-1,
    logits = h_{L-1} W_L^T + b_L,
    J = cross_entropy(logits, y) + (lambda / 2N) sum_l ||W_l||_F^2,

and ``params`` is a dict ``{"w1": (H1, D), "b1": (H1,), ..., "wL": (C, H_{L-1}), "bL": (C,)}``
in ``torch.nn.Linear``'s layout. Biases are not regularised. ``drop_p`` is the probability of
*dropping* a hidden unit, as in ``torch.nn.Dropout`` (the notes' keep_prob is 1 - drop_p).

NaN in ``x`` or in the parameters gives NaN logits, loss and gradients, as in torch.
"""
from __future__ import annotations

from itertools import pairwise
from typing import NamedTuple

import numpy as np

from .activations import ActivationCache, relu_backward, relu_forward
from .init import he_normal, xavier_uniform
from .layers import (
    DenseCache,
    DropoutCache,
    dense_backward,
    dense_forward,
    dropout_backward,
    dropout_forward,
)
from .losses import cross_entropy
from .validation import as_float, as_float_array, as_int, as_int_array, check_keys, check_rng

__all__ = ["init_mlp", "HiddenCache", "mlp_logits", "mlp_predict", "mlp_loss_and_grads",
           "History", "train_gd"]

_SCHEMES = {"he": he_normal, "xavier": xavier_uniform}


def init_mlp(sizes, rng: np.random.Generator, scheme: str = "he") -> dict[str, np.ndarray]:
    """Parameters of an MLP with layer widths ``sizes = [D, H1, ..., C]`` (at least two).

    Weights ``w_l: (sizes[l], sizes[l-1])`` are drawn with ``scheme`` ("he": N(0, 2 / fan_in),
    "xavier": U(-a, a), a = sqrt(6 / (fan_in + fan_out))); biases start at zero.
    """
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__"):
        raise TypeError(f"sizes must be a sequence of layer widths [D, H1, ..., C]; got {sizes!r}")
    if len(sizes) < 2:
        raise ValueError(f"sizes needs at least an input and an output width; got {list(sizes)}")
    sizes = [as_int(s, "every entry of sizes", minimum=1) for s in sizes]
    if not isinstance(scheme, str) or scheme not in _SCHEMES:
        raise ValueError(f"scheme must be one of {sorted(_SCHEMES)}; got {scheme!r}")
    params = {}
    # `layer` is the l of W_l, b_l (the lecture's W^[l], b^[l]): 1-based, keys w1, b1 .. wL, bL.
    for layer, (fan_in, fan_out) in enumerate(pairwise(sizes), start=1):
        params[f"w{layer}"] = _SCHEMES[scheme]((fan_out, fan_in), rng)
        params[f"b{layer}"] = np.zeros(fan_out)
    return params


class HiddenCache(NamedTuple):
    """What the backward pass of one hidden block (dense -> ReLU -> dropout) needs."""
    dense: DenseCache
    relu: ActivationCache
    dropout: DropoutCache


def mlp_logits(params: dict, x) -> np.ndarray:
    """Class scores of the network in evaluation mode (no dropout).

    x: (N, D)  ->  logits: (N, C).
    """
    num_layers, params = _check_params(params)
    x = _check_x(x, params)
    logits, _ = _forward(params, x, num_layers, drop_p=0.0, rng=None)
    return logits


def mlp_predict(params: dict, x) -> np.ndarray:
    """Predicted classes argmax_c logits[n, c] in evaluation mode.  x: (N, D) -> (N,) int64."""
    return np.argmax(mlp_logits(params, x), axis=1).astype(np.int64)


def mlp_loss_and_grads(params: dict, x, y, l2: float = 0.0, drop_p: float = 0.0,
                       rng: np.random.Generator | None = None) -> tuple[float, dict]:
    """The objective J (see the module docstring) and its gradient for every parameter.

    x: (N, D);  y: (N,) integer classes in [0, C);  l2: lambda >= 0;
    drop_p: drop probability in [0, 1) of the hidden units; rng: a Generator, needed when
    drop_p > 0 (each call draws fresh masks from it).
    Returns (loss, grads) with ``grads`` holding the same keys and shapes as ``params``;
    the L2 term adds (lambda / N) W_l to the gradient of W_l.
    Reference: torch autograd on ``F.cross_entropy`` of the same network plus the L2 term.
    """
    num_layers, params = _check_params(params)
    x = _check_x(x, params)
    y = as_int_array(y, "y", ndim=1)
    N = x.shape[0]
    if N == 0:
        raise ValueError(f"x must hold at least one example for a loss; got shape {x.shape}")
    if y.shape != (N,):
        raise ValueError(f"y must be (N,) = ({N},) to match x {x.shape}; got {y.shape}")
    l2 = _check_l2(l2)
    drop_p = _check_drop(drop_p, rng)

    logits, caches = _forward(params, x, num_layers, drop_p, rng)  # (N, C)
    data_loss, dlogits = cross_entropy(logits, y)
    weights = [params[f"w{layer}"] for layer in range(1, num_layers + 1)]
    with np.errstate(over="ignore", invalid="ignore"):   # inf/NaN propagate, as in torch
        loss = data_loss + l2 / (2 * N) * sum(float(np.sum(w * w)) for w in weights)

    grads = {}
    dh, grads[f"w{num_layers}"], grads[f"b{num_layers}"] = dense_backward(dlogits, caches[-1])
    for layer in range(num_layers - 1, 0, -1):
        block = caches[layer - 1]
        dh = dropout_backward(dh, block.dropout)
        dz = relu_backward(dh, block.relu)  # (N, H_l)
        dh, grads[f"w{layer}"], grads[f"b{layer}"] = dense_backward(dz, block.dense)
    with np.errstate(over="ignore", invalid="ignore"):
        for layer, w in enumerate(weights, start=1):
            grads[f"w{layer}"] = grads[f"w{layer}"] + (l2 / N) * w
    return loss, {k: grads[k] for k in params}


class History(NamedTuple):
    """Per-step record of a training run (lists of floats, one entry per step)."""
    objective: list   # the regularised loss that was minimised (with dropout noise)
    train_loss: list  # plain cross-entropy on the training set, evaluation mode
    dev_loss: list    # the same on the dev set (empty when no dev set was given)


def train_gd(params: dict, x, y, *, lr: float, steps: int, l2: float = 0.0, drop_p: float = 0.0,
             rng: np.random.Generator | None = None, x_dev=None, y_dev=None
             ) -> tuple[dict, History]:
    """Full-batch gradient descent W <- W - lr dJ/dW for ``steps`` steps.

    ``params`` is copied, not modified. The losses in the history are measured before each
    update, so entry 0 is the loss at initialisation. Returns (trained params, history).
    NaN in ``x`` or the parameters propagates (as in torch); finite inputs whose loss
    overflows to inf or NaN raise a ValueError instead of returning meaningless weights.
    """
    _, params = _check_params(params)
    lr = as_float(lr, "lr", positive=True)
    steps = as_int(steps, "steps", minimum=1)
    if (x_dev is None) != (y_dev is None):
        raise ValueError("give both x_dev and y_dev, or neither")
    params = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
    x_arr = as_float_array(x, "x")
    finite_input = bool(np.all(np.isfinite(x_arr))
                        and all(np.all(np.isfinite(v)) for v in params.values()))
    history = History([], [], [])
    for step in range(steps):
        loss, grads = mlp_loss_and_grads(params, x, y, l2=l2, drop_p=drop_p, rng=rng)
        if finite_input and not np.isfinite(loss):
            # Finite data, non-finite loss: an activation overflowed (float64 has no answer).
            raise ValueError(f"training diverged at step {step}: the loss is {loss!r}; "
                             f"rescale x (largest |x| = "
                             f"{float(np.max(np.abs(x_arr), initial=0.0)):.3g}) or the "
                             f"parameters ({', '.join(params)}), or lower lr")
        history.objective.append(loss)
        history.train_loss.append(cross_entropy(mlp_logits(params, x), y)[0])
        if x_dev is not None:
            history.dev_loss.append(cross_entropy(mlp_logits(params, x_dev), y_dev)[0])
        with np.errstate(over="ignore", invalid="ignore"):
            for k in params:
                params[k] -= lr * grads[k]
    return params, history


def _forward(params: dict, x: np.ndarray, num_layers: int, drop_p: float, rng):
    caches = []
    h = x
    for layer in range(1, num_layers):
        # z: (N, H_l), the pre-activation of hidden layer `layer`
        z, dense_cache = dense_forward(h, params[f"w{layer}"], params[f"b{layer}"])
        a, relu_cache = relu_forward(z)
        if drop_p > 0:
            h, drop_cache = dropout_forward(a, drop_p, rng)
        else:
            h, drop_cache = a, DropoutCache(None, a.shape)
        caches.append(HiddenCache(dense_cache, relu_cache, drop_cache))
    logits, out_cache = dense_forward(h, params[f"w{num_layers}"], params[f"b{num_layers}"])
    caches.append(out_cache)
    return logits, caches


def _check_params(params) -> tuple[int, dict]:
    """The number of layers, and the parameters as float arrays (the caller's are kept)."""
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict {{'w1', 'b1', ..., 'wL', 'bL'}} of arrays; "
                        f"got {type(params).__name__}")
    num_layers = (len(params) + 1) // 2
    names = [f"{kind}{layer}" for layer in range(1, max(num_layers, 1) + 1)
             for kind in ("w", "b")]
    check_keys(list(params), names, "params")
    checked = {}
    fan_out = None
    for layer in range(1, num_layers + 1):
        w = as_float_array(params[f"w{layer}"], f"w{layer}", ndim=2, shape_hint="(out, in)")
        b = as_float_array(params[f"b{layer}"], f"b{layer}", ndim=1, shape_hint="(out,)")
        if b.shape != (w.shape[0],):
            raise ValueError(f"b{layer} must be ({w.shape[0]},) to match "
                             f"w{layer} {w.shape}; got {b.shape}")
        if fan_out is not None and w.shape[1] != fan_out:
            raise ValueError(f"w{layer} must take {fan_out} inputs "
                             f"(the outputs of w{layer - 1}); got shape {w.shape}")
        fan_out = w.shape[0]
        checked[f"w{layer}"], checked[f"b{layer}"] = w, b
    return num_layers, {k: checked[k] for k in params}


def _check_x(x, params: dict) -> np.ndarray:
    x = as_float_array(x, "x", ndim=2, shape_hint="(N, D)")
    w1_shape = np.shape(params["w1"])
    if x.shape[1] != w1_shape[1]:
        raise ValueError(f"x must be (N, {w1_shape[1]}) to match w1 {w1_shape}; got {x.shape}")
    return x


def _check_l2(l2) -> float:
    return as_float(l2, "l2 (lambda)", nonnegative=True)


def _check_drop(drop_p, rng) -> float:
    drop_p = as_float(drop_p, "drop_p (drop probability)", nonnegative=True)
    if not drop_p < 1:
        raise ValueError(f"drop_p (drop probability) must lie in [0, 1); got {drop_p!r}")
    if drop_p > 0:
        check_rng(rng, needed_for="dropout (drop_p > 0)")
    return float(drop_p)
