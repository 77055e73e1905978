"""A variational autoencoder in PyTorch, trained deterministically on the CPU.

Chapter: 05-generative-models/03-autoencoders-and-vaes. This module imports torch, so
``import dlnotes`` does not load it; import it as ``from dlnotes.torch_models import vae``.

Shapes: data ``x: (N, D)`` (one flattened image per row), latent codes ``z: (N, K)``.

* :class:`VAE`: an MLP encoder ``x -> (mu, logvar)`` of the diagonal Gaussian
  q(z | x) = N(mu, diag(exp(logvar))), an MLP decoder ``z -> `` the parameters of p(x | z)
  (Bernoulli logits for binary pixels, or the mean of a Gaussian with a fixed standard
  deviation ``sigma``), and the prior p(z) = N(0, I).
* :func:`reparameterize` is z = mu + exp(logvar / 2) * eps with eps ~ N(0, I).
* :func:`negative_elbo` is the loss: -log p(x | z) + KL(q(z | x) || N(0, I)) per example,
  the KL in closed form (the formula of :func:`dlnotes.variational.gaussian_kl`).
* :func:`train_vae` fits a VAE with Adam, reproducibly: float64 on the CPU, one seed.
* :func:`lines_8x8` draws the chapter's toy images: straight lines on an 8 x 8 grid.

Reference: Kingma and Welling, "Auto-encoding variational Bayes", ICLR 2014.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from ..validation import as_float_array, check_positive_int, check_rng
from .training import fit_adam

__all__ = ["LIKELIHOODS", "VAEOutput", "VAE", "reparameterize", "LossParts", "negative_elbo",
           "TrainedVAE", "train_vae", "lines_8x8"]

LIKELIHOODS = ("bernoulli", "gaussian")


class VAEOutput(NamedTuple):
    """One pass through the model for a batch of N examples."""
    mu: torch.Tensor      # (N, K) mean of q(z | x)
    logvar: torch.Tensor  # (N, K) log-variance of q(z | x)
    z: torch.Tensor       # (N, K) the reparameterised sample
    out: torch.Tensor     # (N, D) decoder output: logits (bernoulli) or mean (gaussian)


class VAE(nn.Module):
    """Encoder D -> H -> 2K and decoder K -> H -> D, both one tanh hidden layer.

    n_in: D pixels; n_hidden: H units; n_latent: K latent dimensions; likelihood:
    "bernoulli" (x in {0, 1}^D, decoder outputs logits) or "gaussian" (decoder outputs the
    mean of N(mean, sigma^2 I)). Parameters are created in ``dtype`` on the CPU.
    """

    def __init__(self, n_in: int, n_hidden: int, n_latent: int, likelihood: str = "bernoulli",
                 sigma: float = 1.0, dtype: torch.dtype = torch.float64):
        super().__init__()
        d = check_positive_int(n_in, "n_in")
        h = check_positive_int(n_hidden, "n_hidden")
        k = check_positive_int(n_latent, "n_latent")
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {LIKELIHOODS}; got {likelihood!r}")
        _check_positive_number(sigma, "sigma")
        self.n_in, self.n_latent = d, k
        self.likelihood, self.sigma = likelihood, float(sigma)
        f = {"dtype": dtype}
        self.encoder = nn.Sequential(nn.Linear(d, h, **f), nn.Tanh(), nn.Linear(h, 2 * k, **f))
        self.decoder = nn.Sequential(nn.Linear(k, h, **f), nn.Tanh(), nn.Linear(h, d, **f))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x: (N, D) -> mu: (N, K), logvar: (N, K)."""
        self._check_rows(x, self.n_in, "x")
        mu, logvar = self.encoder(x).chunk(2, dim=1)  # (N, 2K) -> 2 x (N, K)
        return mu, logvar

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z: (N, K) -> decoder output (N, D): Bernoulli logits or Gaussian mean."""
        self._check_rows(z, self.n_latent, "z")
        return self.decoder(z)

    def decoder_mean(self, z: torch.Tensor) -> torch.Tensor:
        """E[x | z], (N, K) -> (N, D): sigmoid(logits) or the Gaussian mean itself."""
        out = self.decode(z)
        return torch.sigmoid(out) if self.likelihood == "bernoulli" else out

    def forward(self, x: torch.Tensor, eps: torch.Tensor) -> VAEOutput:
        """x: (N, D), eps: (N, K) standard normal noise -> :class:`VAEOutput`."""
        mu, logvar = self.encode(x)
        z = reparameterize(mu, logvar, eps)
        return VAEOutput(mu, logvar, z, self.decode(z))

    def _check_rows(self, t, width: int, name: str) -> None:
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor; got {type(t).__name__}")
        if t.dim() != 2 or t.shape[1] != width:
            raise ValueError(f"{name} must be (N, {width}); got {tuple(t.shape)}")
        dtype = self.decoder[0].weight.dtype
        if t.dtype != dtype:
            raise TypeError(f"{name} must have the model's dtype {dtype}; got {t.dtype}")


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """z = mu + exp(logvar / 2) * eps: a sample of N(mu, diag(exp(logvar))) when eps ~ N(0, I).

    mu, logvar, eps: (N, K), the same shape -> z: (N, K). The randomness is all in eps, so z
    is a differentiable function of mu and logvar (the reparameterisation trick).
    """
    if not (mu.shape == logvar.shape == eps.shape):
        raise ValueError(f"mu, logvar and eps must have the same shape; got {tuple(mu.shape)}, "
                         f"{tuple(logvar.shape)} and {tuple(eps.shape)}")
    return mu + torch.exp(0.5 * logvar) * eps


class LossParts(NamedTuple):
    """The per-example terms of the negative ELBO (one-sample estimate), each (N,)."""
    loss: torch.Tensor   # recon + kl = -ELBO
    recon: torch.Tensor  # -log p(x | z)
    kl: torch.Tensor     # KL(q(z | x) || N(0, I)), closed form


def negative_elbo(model: VAE, x: torch.Tensor, eps: torch.Tensor) -> LossParts:
    """-ELBO(x) = -log p(x | z) + KL(N(mu, diag(exp(logvar))) || N(0, I)), z = mu + sd * eps.

    x: (N, D), eps: (N, K) -> :class:`LossParts` of (N,) tensors (train on ``.loss.mean()``).
    -log p(x | z) = sum_d softplus(o_d) - x_d o_d  (bernoulli, o = logits), or
                  = 1/2 sum_d [(x_d - o_d)^2 / sigma^2 + log(2 pi sigma^2)]  (gaussian, o = mean);
    KL = 1/2 sum_k [mu_k^2 + exp(logvar_k) - 1 - logvar_k].
    """
    if not isinstance(model, VAE):
        raise TypeError(f"model must be a dlnotes.torch_models.vae.VAE; "
                        f"got {type(model).__name__}")
    mu, logvar, _, out = model(x, eps)
    if model.likelihood == "bernoulli":
        if not bool(((x == 0) | (x == 1)).all()):
            raise ValueError("x must be binary (0 or 1) for a Bernoulli decoder")
        recon = nn.functional.binary_cross_entropy_with_logits(out, x, reduction="none").sum(1)
    else:
        var = model.sigma ** 2
        recon = 0.5 * ((x - out) ** 2 / var + math.log(2 * math.pi * var)).sum(1)
    kl = 0.5 * (mu ** 2 + torch.expm1(logvar) - logvar).sum(1)  # (N,)
    return LossParts(recon + kl, recon, kl)


class TrainedVAE(NamedTuple):
    """What :func:`train_vae` returns."""
    model: VAE
    history: np.ndarray  # (epochs,) mean -ELBO over each epoch's mini-batches


def train_vae(x, *, n_latent: int = 2, n_hidden: int = 64, likelihood: str = "bernoulli",
              sigma: float = 1.0, epochs: int = 30, batch_size: int = 64, lr: float = 3e-3,
              seed: int = 0) -> TrainedVAE:
    """Fit a :class:`VAE` to the rows of x with Adam (torch's defaults, betas (0.9, 0.999),
    eps 1e-8; :func:`dlnotes.torch_models.training.fit_adam`) on the mean -ELBO of
    mini-batches; the same seed gives the same model bit for bit. Every argument after x is
    keyword-only.

    x: (N, D) NumPy array (binary for "bernoulli"); n_latent, n_hidden, likelihood, sigma: as
    in :class:`VAE`; mini-batches of ``batch_size`` rows (the last one may be smaller), one eps
    (B, n_latent) per batch. Everything runs in float64 on the CPU: ``torch.manual_seed(seed)``
    fixes the initial weights, and one ``torch.Generator`` seeded with ``seed`` draws each
    epoch's shuffle and every eps, so no other random stream is used.
    Returns :class:`TrainedVAE`: the model (in eval mode) and history: (epochs,).
    """
    x = as_float_array(x, "x", ndim=2, shape_hint="(N, D)")
    if not np.all(np.isfinite(x)):
        raise ValueError("x must be finite")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int; got {seed!r}")
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    _check_positive_number(lr, "lr")
    N, D = x.shape
    cpu = torch.device("cpu")
    torch.manual_seed(int(seed))
    model = VAE(D, n_hidden, n_latent, likelihood, sigma, dtype=torch.float64)
    gen = torch.Generator(device=cpu).manual_seed(int(seed))
    data = torch.tensor(x, dtype=torch.float64, device=cpu)

    def batch_loss(idx):
        batch = data[idx]  # (B, D)
        eps = torch.randn(batch.shape[0], model.n_latent, generator=gen, dtype=torch.float64,
                          device=cpu)
        return negative_elbo(model, batch, eps).loss.mean()

    def shuffle():
        return torch.randperm(N, generator=gen, device=cpu)

    history = np.array(fit_adam(model, batch_loss, N, epochs=epochs, batch_size=batch_size,
                                lr=lr, shuffle=shuffle))
    return TrainedVAE(model.eval(), history)


def _check_positive_number(value, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or not (
            math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0; got {value!r}")


def lines_8x8(n: int, rng: np.random.Generator, half_width: float = 0.5
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n binary 8 x 8 images of a straight line, flattened to 64 pixels (row-major).

    A line is {(u, v): u cos(theta) + v sin(theta) = rho}, with pixel (i, j) at u = j - 3.5,
    v = 3.5 - i (the image's centre is the origin, v points up); a pixel is on when its centre
    is within ``half_width`` of the line. theta ~ U[0, pi) and rho ~ U[-2.5, 2.5], so every
    line crosses the image. Returns x: (n, 64) float64 in {0, 1} (``x[m].reshape(8, 8)`` is
    the image), theta: (n,) and rho: (n,).
    """
    n = check_positive_int(n, "n")
    check_rng(rng)
    if isinstance(half_width, bool) or not isinstance(half_width, (int, float)) or not (
            0 < half_width < 4):
        raise ValueError(f"half_width must be a number in (0, 4); got {half_width!r}")
    theta = rng.uniform(0.0, np.pi, size=n)
    rho = rng.uniform(-2.5, 2.5, size=n)
    centres = np.arange(8) - 3.5
    u, v = np.meshgrid(centres, centres[::-1])  # (8, 8) each: u = column, v = flipped row
    dist = np.abs(u * np.cos(theta)[:, None, None] + v * np.sin(theta)[:, None, None]
                  - rho[:, None, None])         # (n, 8, 8)
    return (dist < half_width).astype(np.float64).reshape(n, 64), theta, rho
