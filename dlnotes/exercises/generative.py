"""Self-checks for the coding exercises of Part V, Generative models
(chapters/05-generative-models).

* :func:`check_loo_kde_log_density`: the leave-one-out log-density of a Gaussian kernel
  density estimate (exercise ex-generative-vs-discriminative-3).
"""
from __future__ import annotations

import numpy as np

from .core import CheckCase, Outcome, run_check

__all__: list[str] = ["check_loo_kde_log_density"]


def _points(m: int):
    def make(rng: np.random.Generator) -> tuple:
        return rng.standard_normal(m), float(rng.uniform(0.2, 0.8))
    return make


def _shifted(m: int, shift: float):
    def make(rng: np.random.Generator) -> tuple:
        return shift + rng.standard_normal(m), float(rng.uniform(0.2, 0.8))
    return make


def _with_width(m: int, h: float):
    def make(rng: np.random.Generator) -> tuple:
        return rng.standard_normal(m), h
    return make


_LOO_CASES = (
    CheckCase("seven points", _points(7),
              "score each point by the kernels of the other m - 1 points, each a normal "
              "density with standard deviation h"),
    CheckCase("two points", _points(2),
              "with m = 2 each point has exactly one neighbour: how many kernels enter its sum?"),
    CheckCase("wide kernel h = 5", _with_width(9, 5.0),
              "check the kernel's normalising constant: it depends on h"),
    CheckCase("points far from the origin", _shifted(6, 1e3),
              "the density of a point depends on distances to the other points only"),
    CheckCase("narrow kernel h = 1e-3", _with_width(8, 1e-3),
              "with a narrow kernel every density underflows to 0 in float64: can you stay "
              "in log space all the way?"),
)


def _loo_reference(x, h):
    import math

    import torch

    x = torch.as_tensor(np.asarray(x, dtype=np.float64))
    m = x.shape[0]
    pair = torch.distributions.Normal(x[None, :], float(h)).log_prob(x[:, None])  # (m, m)
    pair = pair.masked_fill(torch.eye(m, dtype=torch.bool), -math.inf)          # drop j = i
    return (torch.logsumexp(pair, dim=1) - math.log(m - 1)).numpy()             # (m,)


def _loo_describe(got, expected, args) -> str | None:
    x, h = args
    m = len(x)
    try:
        got = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if got.shape != np.shape(expected) or not np.all(np.isfinite(got)):
        return None
    self_term = -np.log(h * np.sqrt(2 * np.pi))
    if np.all(got > expected) and np.all(got >= self_term - np.log(m) - 1e-8):
        return ("the values are too large for every point: is the point's own kernel still "
                "in its sum?")
    offset = got - expected
    if np.allclose(offset, offset.mean(), rtol=0, atol=1e-8):
        shift = float(offset.mean())
        if abs(shift - np.log((m - 1) / m)) < 1e-8:
            return ("every value is too small by the same amount: the mean over the kernels "
                    "divides by the wrong count")
        if abs(shift) > 1e-8:
            return (f"every value is off by the same constant ({shift:+.3g}): a normalising "
                    f"constant is wrong")
    return None


def check_loo_kde_log_density(fn) -> Outcome:
    """Check ``fn(x, h) -> (m,)``: the leave-one-out log-density of each training point.

    x: (m,) training points (m >= 2), h > 0 the kernel width. Entry i is
    log( 1/(m - 1) sum_{j != i} N(x_i; x_j, h^2) ), the log-density at x_i of the Gaussian
    kernel density estimate built from the other m - 1 points, in nats. Their mean is the
    leave-one-out log-likelihood used to choose h. The reference is torch in float64
    (``Normal(...).log_prob`` and ``logsumexp`` with the diagonal removed).
    """
    return run_check("check_loo_kde_log_density", fn, _LOO_CASES, _loo_reference, n_args=2,
                     describe=_loo_describe)
