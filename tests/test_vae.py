"""dlnotes.torch_models.vae: shapes, the loss against dlnotes.likelihoods/variational and
torch.distributions, the reparameterised gradient, reproducible training, and bad input."""
import numpy as np
import pytest
import torch
from torch.distributions import Independent, Normal, kl_divergence

from dlnotes import likelihoods, variational
from dlnotes.torch_models import vae
from dlnotes.verify import check_values, to_numpy

CPU = torch.device("cpu")


def _batch(n, likelihood, rng):
    x, _, _ = vae.lines_8x8(n, rng)
    if likelihood == "gaussian":
        x = x + 0.3 * rng.standard_normal(x.shape)
    return torch.tensor(x, dtype=torch.float64, device=CPU)


@pytest.mark.parametrize("n, hidden, latent", [(1, 5, 1), (7, 16, 2), (12, 9, 3)])
def test_shapes(n, hidden, latent):
    torch.manual_seed(0)
    model = vae.VAE(64, hidden, latent)
    x = _batch(n, "bernoulli", np.random.default_rng(0))
    eps = torch.randn(n, latent, dtype=torch.float64)
    mu, logvar, z, out = model(x, eps)
    assert mu.shape == logvar.shape == z.shape == (n, latent)
    assert out.shape == (n, 64)
    assert model.decoder_mean(z).shape == (n, 64)
    parts = vae.negative_elbo(model, x, eps)
    assert all(t.shape == (n,) for t in parts)
    assert all(p.dtype == torch.float64 for p in model.parameters())


def test_reparameterize_is_mu_plus_sd_eps():
    rng = np.random.default_rng(1)
    mu, logvar, eps = (rng.standard_normal((4, 3)) for _ in range(3))
    z = vae.reparameterize(*(torch.tensor(a) for a in (mu, logvar, eps)))
    check_values("reparameterize", mu + np.exp(logvar / 2) * eps, z)


@pytest.mark.parametrize("likelihood, sigma", [("bernoulli", 1.0), ("gaussian", 1.0),
                                               ("gaussian", 0.3)])
@pytest.mark.parametrize("n, latent", [(1, 1), (6, 2), (9, 5)])
def test_loss_is_minus_elbo_of_dlnotes_variational(likelihood, sigma, n, latent):
    rng = np.random.default_rng(2)
    torch.manual_seed(3)
    model = vae.VAE(64, 11, latent, likelihood=likelihood, sigma=sigma)
    x = _batch(n, likelihood, rng)
    eps = torch.tensor(rng.standard_normal((n, latent)))
    parts = vae.negative_elbo(model, x, eps)
    with torch.no_grad():
        mu, logvar, _, out = (to_numpy(t) for t in model(x, eps))
    xn = to_numpy(x)
    if likelihood == "bernoulli":
        log_px = likelihoods.bernoulli_log_likelihood(out, xn)
    else:
        log_px = likelihoods.gaussian_log_likelihood(xn, out, np.full(64, 2 * np.log(sigma)))
    check_values("-log p(x|z)", -log_px, parts.recon)
    check_values("KL term", variational.gaussian_kl(mu, logvar), parts.kl)
    check_values("negative_elbo", -variational.elbo(log_px, mu, logvar), parts.loss)


def test_kl_term_matches_torch_distributions():
    rng = np.random.default_rng(4)
    torch.manual_seed(5)
    model = vae.VAE(64, 8, 3)
    with torch.no_grad():  # large weights: the KL then spans several orders of magnitude
        for p in model.encoder.parameters():
            p.mul_(4.0)
    x = _batch(10, "bernoulli", rng)
    parts = vae.negative_elbo(model, x, torch.zeros(10, 3, dtype=torch.float64))
    mu, logvar = model.encode(x)
    q = Independent(Normal(mu, torch.exp(0.5 * logvar)), 1)
    prior = Independent(Normal(torch.zeros_like(mu), torch.ones_like(mu)), 1)
    check_values("KL vs torch.distributions", to_numpy(parts.kl), kl_divergence(q, prior))


def test_reparameterised_gradient_is_unbiased():
    # d/dmu E[sum z^2] = 2 mu and d/dlogvar E[sum z^2] = exp(logvar) for z ~ N(mu, exp(logvar)).
    # Per sample the estimates are 2 z and s eps z (s = exp(logvar / 2)), whose standard
    # deviations are 2 s and s sqrt(mu^2 + 2 s^2); the mean of M samples lies within 5 of
    # those divided by sqrt(M) except with probability < 1e-6, so a failure means bias.
    M = 200_000
    mu0, lv0 = np.array([0.7, -1.3]), np.array([0.4, -0.8])
    mu = torch.tensor(np.tile(mu0, (M, 1)), requires_grad=True)
    logvar = torch.tensor(np.tile(lv0, (M, 1)), requires_grad=True)
    gen = torch.Generator().manual_seed(6)
    eps = torch.randn(M, 2, generator=gen, dtype=torch.float64)
    (vae.reparameterize(mu, logvar, eps) ** 2).sum().backward()
    s = np.exp(lv0 / 2)
    g_mu, g_lv = to_numpy(mu.grad).mean(0), to_numpy(logvar.grad).mean(0)
    assert np.all(np.abs(g_mu - 2 * mu0) < 5 * 2 * s / np.sqrt(M))
    assert np.all(np.abs(g_lv - s ** 2) < 5 * s * np.sqrt(mu0 ** 2 + 2 * s ** 2) / np.sqrt(M))


def test_training_is_deterministic_and_learns():
    x, _, _ = vae.lines_8x8(300, np.random.default_rng(7))
    kw = dict(n_latent=2, n_hidden=16, epochs=8, batch_size=50, lr=1e-2)
    a, b = vae.train_vae(x, seed=3, **kw), vae.train_vae(x, seed=3, **kw)
    c = vae.train_vae(x, seed=4, **kw)
    np.testing.assert_array_equal(a.history, b.history)
    for pa, pb in zip(a.model.parameters(), b.model.parameters(), strict=True):
        assert torch.equal(pa, pb)
    assert not np.array_equal(a.history, c.history)
    assert a.history[-1] < 0.7 * a.history[0]
    assert all(p.device.type == "cpu" and p.dtype == torch.float64 for p in a.model.parameters())


def test_training_matches_torch_optim_adam():
    # The same loop written with torch.optim.Adam: train_vae's hand-written Adam step must
    # give the same losses and weights (up to round-off) over 3 epochs of 6 mini-batches.
    x, _, _ = vae.lines_8x8(60, np.random.default_rng(10))
    ours = vae.train_vae(x, n_latent=2, n_hidden=7, epochs=3, batch_size=10, lr=5e-3, seed=11)
    torch.manual_seed(11)
    model = vae.VAE(64, 7, 2)
    gen = torch.Generator().manual_seed(11)
    data = torch.tensor(x)
    opt = torch.optim.Adam(model.parameters(), lr=5e-3)
    history = []
    for _ in range(3):
        order, total = torch.randperm(60, generator=gen), 0.0
        for start in range(0, 60, 10):
            eps = torch.randn(10, 2, generator=gen, dtype=torch.float64)
            loss = vae.negative_elbo(model, data[order[start:start + 10]], eps).loss.mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * 10
        history.append(total / 60)
    np.testing.assert_allclose(ours.history, history, rtol=1e-10)
    for p_ours, p_ref in zip(ours.model.parameters(), model.parameters(), strict=True):
        check_values("weights after training", to_numpy(p_ours), p_ref)


def test_lines_8x8():
    x, theta, rho = vae.lines_8x8(500, np.random.default_rng(8))
    assert x.shape == (500, 64) and theta.shape == rho.shape == (500,)
    assert set(np.unique(x)) == {0.0, 1.0}
    assert x.sum(1).min() >= 1
    # a horizontal line through the middle rows: theta = pi / 2, rho = 0.5 lights row 3
    img = x[np.argmin(np.abs(theta - np.pi / 2) + np.abs(rho - 0.5))].reshape(8, 8)
    assert img[3].sum() == 8
    x2, _, _ = vae.lines_8x8(500, np.random.default_rng(8))
    np.testing.assert_array_equal(x, x2)


def test_bad_input():
    model = vae.VAE(64, 8, 2)
    x = _batch(3, "bernoulli", np.random.default_rng(9))
    eps = torch.zeros(3, 2, dtype=torch.float64)
    with pytest.raises(ValueError, match=r"x must be \(N, 64\)"):
        model(x[:, :10], eps)
    with pytest.raises(TypeError, match="torch.Tensor"):
        model(to_numpy(x), eps)
    with pytest.raises(TypeError, match="dtype"):
        model(x.float(), eps.float())
    with pytest.raises(ValueError, match="same shape"):
        model(x, torch.zeros(3, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match="binary"):
        vae.negative_elbo(model, x * 0.5, eps)
    with pytest.raises(TypeError, match="dlnotes.torch_models.vae.VAE"):
        vae.negative_elbo(torch.nn.Linear(64, 2), x, eps)
    with pytest.raises(ValueError, match="z must be"):
        model.decode(torch.zeros(3, 5, dtype=torch.float64))
    with pytest.raises(ValueError, match="likelihood"):
        vae.VAE(64, 8, 2, likelihood="poisson")
    with pytest.raises(ValueError, match="sigma"):
        vae.VAE(64, 8, 2, likelihood="gaussian", sigma=0.0)
    with pytest.raises(ValueError, match="n_latent"):
        vae.VAE(64, 8, 0)
    data = to_numpy(x)
    with pytest.raises(ValueError, match="dimension"):
        vae.train_vae(data[0])
    with pytest.raises(ValueError, match="seed"):
        vae.train_vae(data, seed=-1)
    with pytest.raises(ValueError, match="lr"):
        vae.train_vae(data, lr=0.0)
    with pytest.raises(ValueError, match="finite"):
        vae.train_vae(np.full((3, 64), np.nan))
    with pytest.raises(TypeError, match="rng"):
        vae.lines_8x8(5, 0)
    with pytest.raises(ValueError, match="n must"):
        vae.lines_8x8(0, np.random.default_rng(0))
