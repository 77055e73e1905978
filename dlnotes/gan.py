"""GAN quantities on a finite outcome set, and the two players' losses on discriminator logits.

Chapter: 05-generative-models/04-gans: the optimal discriminator D* = p_data / (p_data + p_g),
the Jensen-Shannon divergence, the value V(D, G) (so that V(D*, G) = 2 JS - log 4 can be
checked), and the discriminator and generator losses (non-saturating or minimax) with their
gradients. The losses take *logits*, the way
``torch.nn.functional.binary_cross_entropy_with_logits`` does. Natural logarithms by default.
"""
from __future__ import annotations

import numpy as np

from .activations import sigmoid
from .likelihoods import _softplus
from .validation import as_float, as_float_array, check_distribution, check_same_shape

__all__ = ["optimal_discriminator", "js_divergence", "gan_value", "gan_losses", "gan_loss_grads"]


def _densities(p, name: str) -> np.ndarray:
    p = as_float_array(p, name)
    if not np.all(np.isfinite(p)) or np.any(p < 0):
        raise ValueError(f"{name} must hold finite non-negative probabilities or densities")
    return p


def optimal_discriminator(p_data, p_g) -> np.ndarray:
    """D*(x) = p_data(x) / (p_data(x) + p_g(x)), elementwise: the best reply to a fixed G.

    p_data, p_g: the same shape, finite and >= 0 (densities or probabilities at the same
    points; they need not sum to 1). Where both are 0 the point carries no mass, the value
    function does not depend on D there, and we return 1/2 (the discriminator cannot tell).
    """
    p_data = _densities(p_data, "p_data")
    p_g = _densities(p_g, "p_g")
    check_same_shape(p_data, p_g, "p_data", "p_g")
    with np.errstate(over="ignore"):
        total = p_data + p_g
    if not np.all(np.isfinite(total)):
        # Densities near 1e308: divide both by the larger first, so the sum cannot overflow.
        scale = np.maximum(p_data, p_g)
        safe = np.where(scale > 0, scale, 1.0)
        p_data, p_g = p_data / safe, p_g / safe
        total = p_data + p_g
    return np.where(total > 0, p_data / np.where(total > 0, total, 1.0), 0.5)


def js_divergence(p, q, base: float = np.e) -> float | np.ndarray:
    """Jensen-Shannon divergence JS(p || q) = KL(p || m) / 2 + KL(q || m) / 2, m = (p + q) / 2.

    Symmetric, finite, 0 iff p = q, at most log 2 (= log_base 2; 1 bit). Nats by default
    (the unit of the GAN identity V(D*, G) = 2 JS - log 4); ``base=2`` gives bits.
    p, q: (n,) or (..., n) probability vectors, the same shape, each summing to 1 within a
    tolerance that follows the dtype (``validation.sum_tolerance``: float32 softmax rows
    count)  ->  float or (...). NaN is refused; ``base`` must be finite, > 0 and not 1.
    """
    p = _distributions(p, "p")
    q = _distributions(q, "q")
    check_same_shape(p, q, "p", "q")
    log_base = _log_base(base)
    m = 0.5 * (p + q)
    return 0.5 * _kl(p, m, log_base) + 0.5 * _kl(q, m, log_base)


def _distributions(p, name: str) -> np.ndarray:
    p = as_float_array(p, name)
    if p.ndim == 0 or p.shape[-1] == 0:
        raise ValueError(f"{name} must be (n,) or (..., n) probability vectors with n >= 1; "
                         f"got shape {p.shape}")
    if not np.all(np.isfinite(p)) or np.any(p < 0):
        raise ValueError(f"{name} must hold finite non-negative probabilities")
    return check_distribution(p, name, axis=-1)


def _log_base(base) -> float:
    base = as_float(base, "base", positive=True)
    if base == 1:
        raise ValueError("base must be positive and not 1; got 1.0")
    return float(np.log(base))


def _kl(p: np.ndarray, m: np.ndarray, log_base: float):
    """sum p log(p / m) along the last axis (0 log 0 = 0); m > 0 wherever p > 0."""
    safe_p = np.where(p > 0, p, 1)
    safe_m = np.where(p > 0, m, 1)
    d = np.where(p > 0, p * (np.log(safe_p) / log_base - np.log(safe_m) / log_base), 0)
    d = d.sum(axis=-1)
    return float(d) if d.ndim == 0 else d


def gan_value(d, p_data, p_g) -> float | np.ndarray:
    """The GAN value V(D, G) = E_{p_data}[log D] + E_{p_g}[log(1 - D)] on a finite outcome set.

    d: (n,) or (..., n), the discriminator's probability that each outcome is real, in [0, 1];
    p_data, p_g: probability vectors of that shape. Terms with zero probability count 0
    (0 log 0 = 0), so V(D*, G) is finite even where D* is 0 or 1.
    """
    d = as_float_array(d, "d")
    p_data = _densities(p_data, "p_data")
    p_g = _densities(p_g, "p_g")
    check_same_shape(d, p_data, "d", "p_data")
    check_same_shape(d, p_g, "d", "p_g")
    if not np.all((d >= 0) & (d <= 1)):
        raise ValueError("d must hold probabilities in [0, 1]")
    if d.ndim == 0:
        raise ValueError("d must be (n,) or (..., n), one value per outcome; got a scalar")
    for p, name in ((p_data, "p_data"), (p_g, "p_g")):
        check_distribution(p, name, axis=-1)   # the sum tolerance follows the dtype
    with np.errstate(divide="ignore"):
        real = np.where(p_data > 0, p_data * np.log(np.where(p_data > 0, d, 1.0)), 0.0)
        fake = np.where(p_g > 0, p_g * np.log1p(-np.where(p_g > 0, d, 0.0)), 0.0)
    v = (real + fake).sum(axis=-1)
    return float(v) if v.ndim == 0 else v


_GENERATOR_LOSSES = ("non-saturating", "minimax")


def _gan_inputs(d_real, d_fake, generator: str) -> tuple[np.ndarray, np.ndarray]:
    if generator not in _GENERATOR_LOSSES:
        raise ValueError(f"generator must be one of {_GENERATOR_LOSSES}; got {generator!r}")
    out = []
    for a, name in ((d_real, "d_real"), (d_fake, "d_fake")):
        a = as_float_array(a, name)
        if a.size == 0 or not np.all(np.isfinite(a)):
            raise ValueError(f"{name} must be a non-empty array of finite logits")
        out.append(a)
    return out[0], out[1]


def gan_losses(d_real, d_fake, generator: str = "non-saturating") -> tuple[float, float]:
    """Discriminator and generator losses from the discriminator's *logits*.

    d_real: logits D sees on real data, any shape (N...);  d_fake: logits on generated
    samples G(z), any shape (M...); D(.) = sigma(logit). With softplus(t) = log(1 + e^t):
      d_loss = -mean log D(x) - mean log(1 - D(G(z)))
             = mean softplus(-d_real) + mean softplus(d_fake)
      g_loss = -mean log D(G(z)) = mean softplus(-d_fake)          ("non-saturating", default)
      g_loss =  mean log(1 - D(G(z))) = -mean softplus(d_fake)      ("minimax": the game's own)
    d_loss is BCE(D(x), 1) + BCE(D(G(z)), 0) and the non-saturating g_loss is BCE(D(G(z)), 1),
    i.e. ``binary_cross_entropy_with_logits`` with targets of ones/zeros. Gradients:
    :func:`gan_loss_grads`.
    """
    r, f = _gan_inputs(d_real, d_fake, generator)
    d_loss = float(np.mean(_softplus(-r)) + np.mean(_softplus(f)))
    if generator == "non-saturating":
        return d_loss, float(np.mean(_softplus(-f)))
    return d_loss, float(-np.mean(_softplus(f)))


def gan_loss_grads(d_real, d_fake, generator: str = "non-saturating"
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of :func:`gan_losses` with respect to the logits.

    Returns (dd_loss/dd_real, dd_loss/dd_fake, dg_loss/dd_fake), shaped like the inputs:
      dd_loss/dd_real = (sigma(d_real) - 1) / N,   dd_loss/dd_fake = sigma(d_fake) / M,
      dg_loss/dd_fake = (sigma(d_fake) - 1) / M  (non-saturating)  or  -sigma(d_fake) / M.
    The generator's step back-propagates the last one through D into G.
    """
    r, f = _gan_inputs(d_real, d_fake, generator)
    s_f = sigmoid(f)
    g = (s_f - 1.0) / f.size if generator == "non-saturating" else -s_f / f.size
    return (sigmoid(r) - 1.0) / r.size, s_f / f.size, g
