"""Gradient-descent optimisers over a dict of parameter arrays, updated in place.

Chapter: 01-foundations/06-optimisation. ``SGD``, ``RMSprop`` and ``Adam`` reproduce
``torch.optim`` step for step (same defaults, same order of floating-point operations);
``Momentum`` is the exponentially weighted form used in the notes, v = beta v + (1 - beta) g,
which equals torch's SGD momentum with the learning rate scaled by (1 - beta).
``RMSpropEpsInSqrt`` is RMSprop exactly as the notes write it (eps under the square root), kept
to show how that differs from torch; ``exponentially_weighted_average`` is the running average
all of these optimisers are built on.

Usage::

    opt = Adam(params, lr=1e-3)      # params: dict name -> np.ndarray (float)
    opt.step(grads)                  # grads: dict with exactly the same keys and shapes

Every gradient goes through ``validation.as_float_array``: complex numbers (whose imaginary
part would be dropped), strings, ``None`` and ragged lists are refused with a message naming
``grads[name]``, before any parameter changes. NaN or inf in a gradient propagate into the
parameters, as in ``torch.optim``.
"""
from __future__ import annotations

import numpy as np

from .validation import as_float, as_float_array, as_probability, check_keys

__all__ = ["Optimizer", "SGD", "Momentum", "RMSprop", "RMSpropEpsInSqrt", "Adam",
           "exponentially_weighted_average"]


class Optimizer:
    """Holds the parameter dict, validates gradient dicts and counts steps."""

    def __init__(self, params: dict, lr: float):
        if not isinstance(params, dict) or not params:
            raise TypeError("params must be a non-empty dict of name -> numpy array")
        for name, p in params.items():
            if not isinstance(p, np.ndarray) or not np.issubdtype(p.dtype, np.floating):
                raise TypeError(f"params[{name!r}] must be a floating-point numpy array "
                                f"(updated in place); got {type(p).__name__}"
                                f"{'' if not isinstance(p, np.ndarray) else ' of ' + str(p.dtype)}")
            if not p.flags.writeable:
                raise ValueError(f"params[{name!r}] must be writeable (it is updated in place)")
        self.params = params
        self.lr = as_float(lr, "lr", positive=True)
        self.t = 0
        self.state: dict[str, dict[str, np.ndarray]] = {k: {} for k in params}

    def step(self, grads: dict) -> None:
        """Apply one update with ``grads`` (same keys and shapes as ``params``)."""
        if not isinstance(grads, dict):
            raise TypeError(f"grads must be a dict; got {type(grads).__name__}")
        check_keys(list(grads), list(self.params), "grads")
        checked = {}
        for name, p in self.params.items():
            label = f"grads[{name!r}]"
            try:
                g = as_float_array(grads[name], label)
            except ValueError as exc:            # a ragged list: NumPy cannot make an array
                if label in str(exc):
                    raise
                raise ValueError(f"{label} must be an array of shape {p.shape}; got a "
                                 f"{type(grads[name]).__name__} NumPy cannot turn into one "
                                 "(ragged?)") from None
            if g.shape != p.shape:
                raise ValueError(f"{label} must have shape {p.shape}; got {g.shape}")
            checked[name] = g.astype(p.dtype, copy=False)
        self.t += 1
        with np.errstate(over="ignore", invalid="ignore"):   # inf/NaN propagate, as in torch
            for name, p in self.params.items():
                self._update(p, checked[name], self.state[name])

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """Plain SGD, or heavy-ball momentum as in ``torch.optim.SGD`` (dampening 0).

    buf = momentum * buf + g  (buf = g at the first step);  p -= lr * buf.
    """

    def __init__(self, params: dict, lr: float, momentum: float = 0.0):
        super().__init__(params, lr)
        self.momentum = _check_fraction(momentum, "momentum", allow_zero=True)

    def _update(self, p, g, state):
        if self.momentum:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.copy()
            else:
                buf *= self.momentum
                buf += g
            g = buf
        p -= self.lr * g


class Momentum(Optimizer):
    """Momentum in the notes' exponentially weighted form (no bias correction).

    v = beta v + (1 - beta) g  (v starts at 0);  p -= lr * v.
    """

    def __init__(self, params: dict, lr: float, beta: float = 0.9):
        super().__init__(params, lr)
        self.beta = _check_fraction(beta, "beta")

    def _update(self, p, g, state):
        v = state.setdefault("v", np.zeros_like(p))
        v *= self.beta
        v += (1.0 - self.beta) * g
        p -= self.lr * v


class RMSprop(Optimizer):
    """RMSprop as ``torch.optim.RMSprop`` (not centred, no momentum).

    s = alpha s + (1 - alpha) g^2;  p -= lr * g / (sqrt(s) + eps).
    Note that eps is added *outside* the square root, as torch does.
    """

    def __init__(self, params: dict, lr: float, alpha: float = 0.99, eps: float = 1e-8):
        super().__init__(params, lr)
        self.alpha = _check_fraction(alpha, "alpha")
        self.eps = as_float(eps, "eps", positive=True)

    def _update(self, p, g, state):
        s = state.setdefault("square_avg", np.zeros_like(p))
        s *= self.alpha
        s += (1.0 - self.alpha) * g * g
        p -= self.lr * g / (np.sqrt(s) + self.eps)


class RMSpropEpsInSqrt(Optimizer):
    """RMSprop with eps *inside* the square root, as the notes write it (not torch's form).

    s = alpha s + (1 - alpha) g^2;  p -= lr * g / sqrt(s + eps).
    The smallest denominator is sqrt(eps) (1e-4 for eps = 1e-8) rather than eps, so gradients
    smaller than about sqrt(eps) are no longer normalised; ``RMSprop`` is torch's form.
    """

    def __init__(self, params: dict, lr: float, alpha: float = 0.99, eps: float = 1e-8):
        super().__init__(params, lr)
        self.alpha = _check_fraction(alpha, "alpha")
        self.eps = as_float(eps, "eps", positive=True)

    def _update(self, p, g, state):
        s = state.setdefault("square_avg", np.zeros_like(p))
        s *= self.alpha
        s += (1.0 - self.alpha) * g * g
        p -= self.lr * g / np.sqrt(s + self.eps)


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015) as ``torch.optim.Adam``.

    m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
    p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
    The bias corrections are folded in where torch folds them, so eps enters identically.
    """

    def __init__(self, params: dict, lr: float, betas: tuple = (0.9, 0.999), eps: float = 1e-8):
        super().__init__(params, lr)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2); got {betas!r}")
        self.betas = (_check_fraction(betas[0], "betas[0]", allow_zero=True),
                      _check_fraction(betas[1], "betas[1]", allow_zero=True))
        self.eps = as_float(eps, "eps", positive=True)

    def _update(self, p, g, state):
        b1, b2 = self.betas
        m = state.setdefault("exp_avg", np.zeros_like(p))
        v = state.setdefault("exp_avg_sq", np.zeros_like(p))
        m *= b1
        m += (1.0 - b1) * g
        v *= b2
        v += (1.0 - b2) * g * g
        bias1 = 1.0 - b1 ** self.t
        bias2 = 1.0 - b2 ** self.t
        denom = np.sqrt(v) / np.sqrt(bias2) + self.eps
        p -= (self.lr / bias1) * (m / denom)


def exponentially_weighted_average(values, beta: float, bias_correction: bool = True) -> np.ndarray:
    """Running exponentially weighted average of a series, optionally bias-corrected.

    v_0 = 0;  v_t = beta v_{t-1} + (1 - beta) theta_t = (1 - beta) sum_k beta^(t-k) theta_k.
    The weights sum to 1 - beta^t, so the corrected average is v_t / (1 - beta^t).

    values: (T, ...) with time along axis 0 (T >= 1);  beta in [0, 1)  ->  (T, ...) float,
    row t - 1 holding v_t (corrected or not). The uncorrected rows equal the ``exp_avg`` state
    of ``torch.optim.Adam`` fed ``values`` as gradients with betas[0] = beta.
    """
    theta = as_float_array(values, "values")
    if theta.ndim == 0 or theta.shape[0] == 0:
        raise ValueError(f"values must be (T, ...) with T >= 1 along axis 0; got shape "
                         f"{theta.shape}")
    beta = _check_fraction(beta, "beta", allow_zero=True)
    if not isinstance(bias_correction, (bool, np.bool_)):
        raise TypeError(f"bias_correction must be a bool; got {type(bias_correction).__name__}")
    out = np.empty_like(theta)          # (T, ...)
    v = np.zeros_like(theta[0])         # (...)
    with np.errstate(over="ignore", invalid="ignore"):       # inf/NaN propagate
        for t in range(theta.shape[0]):
            v = beta * v + (1.0 - beta) * theta[t]
            out[t] = v / (1.0 - beta ** (t + 1)) if bias_correction else v
    return out


def _check_fraction(value, name: str, allow_zero: bool = False) -> float:
    """A decay rate in [0, 1) (``allow_zero``) or (0, 1)."""
    return as_probability(value, name, open_low=not allow_zero, open_high=True)
