"""Deep generative models: log-likelihoods, the VAE's KL term and ELBO, and GAN quantities.

Chapters: 05-generative-models/01-generative-vs-discriminative (log-likelihoods, a Gaussian
naive Bayes model that classifies *and* samples), 02/03 (the VAE: ``gaussian_kl``, ``elbo``,
``bernoulli_log_likelihood``) and 04-gans (``optimal_discriminator``, ``js_divergence``,
``gan_value``, ``gan_losses``).

Conventions. Events are on the last axis: ``x: (..., D)`` and every log-likelihood or KL is
summed over it, returning shape ``(...)`` (a 0-d array for a single vector), as torch's
``Independent(Normal(...), 1)``. Natural logarithms (nats) throughout, except where a ``base``
argument says otherwise. GAN losses take discriminator *logits* (stable at any magnitude),
the way ``torch.nn.functional.binary_cross_entropy_with_logits`` does.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .activations import log_softmax, sigmoid
from .losses import kl_divergence
from .validation import as_float_array, as_int_array, check_positive_int, check_same_shape

_LOG_2PI = float(np.log(2.0 * np.pi))


def _softplus(z: np.ndarray) -> np.ndarray:
    """log(1 + exp(z)) without overflow: max(z, 0) + log1p(exp(-|z|))."""
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))


def _vectors(x, name: str) -> np.ndarray:
    x = as_float_array(x, name)
    if x.ndim == 0 or x.shape[-1] == 0:
        raise ValueError(f"{name} must be (..., D) with D >= 1 on the last axis; got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} must be finite")
    return x


# --- log-likelihoods ---------------------------------------------------------------------

def gaussian_log_likelihood(x, mean, logvar) -> np.ndarray:
    """log N(x; mean, diag(exp(logvar))), summed over the last axis.

    log p = -1/2 sum_d [log(2 pi) + logvar_d + (x_d - mean_d)^2 exp(-logvar_d)].
    x: (..., D);  mean, logvar: each either x's shape or (D,) (one Gaussian for every row)
    ->  (...).  Reference: ``Independent(Normal(mean, exp(logvar / 2)), 1).log_prob(x)``.
    """
    x = _vectors(x, "x")
    mean = _vectors(mean, "mean")
    logvar = _vectors(logvar, "logvar")
    for arr, name in ((mean, "mean"), (logvar, "logvar")):
        if arr.shape not in (x.shape, x.shape[-1:]):
            raise ValueError(f"{name} must have x's shape {x.shape} or (D,) = {x.shape[-1:]}; "
                             f"got {arr.shape}")
    sq = (x - mean) ** 2 * np.exp(-logvar)  # (..., D)
    return -0.5 * (_LOG_2PI + logvar + sq).sum(axis=-1)


class BernoulliCache(NamedTuple):
    """What ``bernoulli_log_likelihood_backward`` needs."""
    logits: np.ndarray  # (..., D)
    x: np.ndarray       # (..., D), entries 0 or 1


def bernoulli_log_likelihood_forward(logits, x) -> tuple[np.ndarray, BernoulliCache]:
    """log p(x) of binary data under independent Bernoullis with P(x_d = 1) = sigma(logits_d).

    log p = sum_d [x_d z_d - softplus(z_d)]  (= sum_d x_d log sigma(z_d) + (1 - x_d) log sigma(-z_d)).
    logits: (..., D);  x: the same shape, every entry exactly 0 or 1  ->  (...).
    Reference: ``-binary_cross_entropy_with_logits(logits, x, reduction="none").sum(-1)``.
    """
    logits = _vectors(logits, "logits")
    x = as_float_array(x, "x")
    check_same_shape(logits, x, "logits", "x")
    if not np.all((x == 0) | (x == 1)):
        bad = x[(x != 0) & (x != 1)].ravel()[0]
        raise ValueError(f"x must be binary (0 or 1) for a Bernoulli model; found {bad!r}")
    return (x * logits - _softplus(logits)).sum(axis=-1), BernoulliCache(logits, x)


def bernoulli_log_likelihood_backward(dll, cache: BernoulliCache) -> np.ndarray:
    """Gradient with respect to the logits: d log p / dz_d = x_d - sigma(z_d).

    dll: (...) upstream gradient  ->  dlogits: (..., D). (x is data: it gets no gradient.)
    """
    logits, x = cache
    dll = _upstream(dll, logits.shape[:-1], "dll")
    return dll[..., None] * (x - sigmoid(logits))


def bernoulli_log_likelihood(logits, x) -> np.ndarray:
    """The value of :func:`bernoulli_log_likelihood_forward` alone: shape (...)."""
    return bernoulli_log_likelihood_forward(logits, x)[0]


def _upstream(d, shape: tuple, name: str) -> np.ndarray:
    d = as_float_array(d, name)
    if d.shape != shape:
        raise ValueError(f"{name} must have the forward output's shape {shape}; got {d.shape}")
    return d


# --- the VAE's KL term and the ELBO -------------------------------------------------------

class GaussianKLCache(NamedTuple):
    """What ``gaussian_kl_backward`` needs."""
    mu: np.ndarray      # (..., D)
    logvar: np.ndarray  # (..., D)


def gaussian_kl_forward(mu, logvar) -> tuple[np.ndarray, GaussianKLCache]:
    """KL(N(mu, diag(exp(logvar))) || N(0, I)), summed over the last axis.

    KL = 1/2 sum_d [mu_d^2 + exp(logvar_d) - 1 - logvar_d]  (>= 0, = 0 iff mu = 0, logvar = 0).
    mu, logvar: (..., D), the same shape  ->  kl: (...).
    Reference: ``kl_divergence(Independent(Normal(mu, exp(logvar / 2)), 1),
    Independent(Normal(0, 1), 1))``.
    """
    mu = _vectors(mu, "mu")
    logvar = _vectors(logvar, "logvar")
    check_same_shape(mu, logvar, "mu", "logvar")
    kl = 0.5 * (mu ** 2 + np.expm1(logvar) - logvar).sum(axis=-1)  # expm1: exp(lv) - 1 exactly
    return kl, GaussianKLCache(mu, logvar)


def gaussian_kl_backward(dkl, cache: GaussianKLCache) -> tuple[np.ndarray, np.ndarray]:
    """dKL/dmu = mu and dKL/dlogvar = (exp(logvar) - 1) / 2, times the upstream gradient.

    dkl: (...)  ->  dmu: (..., D), dlogvar: (..., D).
    """
    mu, logvar = cache
    dkl = _upstream(dkl, mu.shape[:-1], "dkl")[..., None]
    return dkl * mu, dkl * 0.5 * np.expm1(logvar)


def gaussian_kl(mu, logvar) -> np.ndarray:
    """The value of :func:`gaussian_kl_forward` alone: shape (...)."""
    return gaussian_kl_forward(mu, logvar)[0]


def elbo(log_px_given_z, mu, logvar) -> np.ndarray:
    """Per-example evidence lower bound ELBO = log p(x | z) - KL(q(z | x) || N(0, I)).

    log_px_given_z: (N,) (or any shape (...)): the reconstruction log-likelihood of each
    example, log p(x_n | z_n) at a sample z_n ~ q(z | x_n) (a one-sample estimate of
    E_q[log p(x | z)]), e.g. from :func:`bernoulli_log_likelihood` or
    :func:`gaussian_log_likelihood`;  mu, logvar: (N, D_z) (shape (..., D_z)), the encoder's
    q(z | x_n) = N(mu_n, diag(exp(logvar_n)))  ->  (N,). The VAE maximises the mean ELBO,
    i.e. minimises -mean(elbo); ELBO <= log p(x).
    """
    log_px = as_float_array(log_px_given_z, "log_px_given_z")
    kl = gaussian_kl(mu, logvar)
    if log_px.shape != kl.shape:
        raise ValueError(f"log_px_given_z must have one value per example, shape {kl.shape} "
                         f"(mu's shape without its last axis); got {log_px.shape}")
    return log_px - kl


# --- GANs -----------------------------------------------------------------------------------

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
    total = p_data + p_g
    return np.where(total > 0, p_data / np.where(total > 0, total, 1.0), 0.5)


def js_divergence(p, q, base: float = np.e) -> float | np.ndarray:
    """Jensen-Shannon divergence JS(p || q) = KL(p || m) / 2 + KL(q || m) / 2, m = (p + q) / 2.

    Symmetric, finite, 0 iff p = q, at most log 2 (= log_base 2; 1 bit). Nats by default
    (the unit of the GAN identity V(D*, G) = 2 JS - log 4); ``base=2`` gives bits.
    p, q: (n,) or (..., n) probability vectors, the same shape  ->  float or (...).
    """
    p = as_float_array(p, "p")
    q = as_float_array(q, "q")
    check_same_shape(p, q, "p", "q")
    m = 0.5 * (p + q)
    return 0.5 * kl_divergence(p, m, base=base) + 0.5 * kl_divergence(q, m, base=base)


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
    for p, name in ((p_data, "p_data"), (p_g, "p_g")):
        if not np.allclose(p.sum(axis=-1), 1.0, rtol=0, atol=1e-9):
            raise ValueError(f"{name} must sum to 1 along its last axis")
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
      d_loss = -mean log D(x) - mean log(1 - D(G(z))) = mean softplus(-d_real) + mean softplus(d_fake)
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


# --- a generative classifier: Gaussian naive Bayes ---------------------------------------

class GaussianNB(NamedTuple):
    """p(y = k) = exp(log_prior_k), p(x | y = k) = N(x; mean_k, diag(exp(logvar_k)))."""
    log_prior: np.ndarray  # (K,)
    mean: np.ndarray       # (K, D)
    logvar: np.ndarray     # (K, D)


def fit_gaussian_nb(x, y, n_classes: int, shared_variance: bool = False,
                    var_floor: float = 1e-9) -> GaussianNB:
    """Maximum-likelihood fit of the joint p(x, y): class frequencies, class means and
    (biased, divide-by-N_k) per-feature class variances, floored at ``var_floor``.

    With ``shared_variance`` every class gets the pooled variance sum_n (x_n - mean_{y_n})^2 / N
    (the maximum-likelihood estimate when the classes are constrained to share it); then
    log p(y = 1 | x) - log p(y = 0 | x) is linear in x, the form of logistic regression.
    x: (N, D);  y: (N,) integers in [0, K), every class present  ->  GaussianNB.
    """
    x = as_float_array(x, "x", ndim=2, shape_hint="(N, D)")
    y = as_int_array(y, "y", ndim=1)
    K = check_positive_int(n_classes, "n_classes")
    N, D = x.shape
    if y.shape != (N,):
        raise ValueError(f"y must be (N,) = ({N},) to match x {x.shape}; got {y.shape}")
    counts = np.bincount(y[(y >= 0) & (y < K)], minlength=K)
    if np.any((y < 0) | (y >= K)) or np.any(counts == 0):
        raise ValueError(f"y must hold integers in [0, {K}) with every class present; "
                         f"class counts {counts.tolist()}")
    mean = np.stack([x[y == k].mean(axis=0) for k in range(K)])  # (K, D)
    sq = (x - mean[y]) ** 2  # (N, D) squared deviations from each point's class mean
    if shared_variance:
        var = np.broadcast_to(sq.mean(axis=0), (K, D))
    else:
        var = np.stack([sq[y == k].mean(axis=0) for k in range(K)])
    return GaussianNB(np.log(counts / N), mean, np.log(np.maximum(var, var_floor)))


def gaussian_nb_log_joint(model: GaussianNB, x) -> np.ndarray:
    """log p(x_n, y = k) = log p(y = k) + log p(x_n | y = k).  x: (N, D)  ->  (N, K)."""
    x = as_float_array(x, "x", ndim=2, shape_hint="(N, D)")
    K, D = model.mean.shape
    if x.shape[1] != D:
        raise ValueError(f"x must be (N, D) with D={D} features; got {x.shape}")
    cols = [gaussian_log_likelihood(x, model.mean[k], model.logvar[k]) for k in range(K)]
    return np.stack(cols, axis=1) + model.log_prior  # (N, K)


def gaussian_nb_posterior(model: GaussianNB, x) -> np.ndarray:
    """Bayes' rule p(y = k | x_n) = softmax_k log p(x_n, y = k).  x: (N, D)  ->  (N, K)."""
    return np.exp(log_softmax(gaussian_nb_log_joint(model, x), axis=1))


def sample_gaussian_nb(model: GaussianNB, n: int, rng: np.random.Generator
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Ancestral sampling: y ~ p(y), then x ~ p(x | y).  ->  x: (n, D), y: (n,) int64."""
    n = check_positive_int(n, "n")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator; got {type(rng).__name__}")
    K, D = model.mean.shape
    y = rng.choice(K, size=n, p=np.exp(model.log_prior))
    x = model.mean[y] + np.exp(0.5 * model.logvar[y]) * rng.standard_normal((n, D))
    return x, y.astype(np.int64)
