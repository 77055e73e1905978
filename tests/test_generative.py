"""The generative-model modules (likelihoods, variational, gan, naive_bayes) against torch in
float64: KL and log-likelihoods with their gradients, GAN losses against binary cross-entropy,
the optimal-discriminator identity, and bad input."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.distributions import Bernoulli, Independent, Normal, kl_divergence

from dlnotes import gan as GAN
from dlnotes import likelihoods as LL
from dlnotes import naive_bayes as NB
from dlnotes import variational as VI
from dlnotes.losses import kl_divergence as discrete_kl
from dlnotes.verify import check_loss, check_pair, check_values, to_torch

SHAPES = [(1, 1), (1, 5), (7, 3), (2, 3, 4), (6,)]


def _torch_kl(mu, logvar):
    q = Independent(Normal(mu, torch.exp(0.5 * logvar)), 1)
    prior = Independent(Normal(torch.zeros_like(mu), torch.ones_like(mu)), 1)
    return kl_divergence(q, prior)


@pytest.mark.parametrize("shape", SHAPES)
def test_gaussian_kl_and_its_gradients_match_torch(shape, rng):
    mu = rng.standard_normal(shape)
    logvar = rng.uniform(-3, 2, size=shape)
    check_pair("gaussian_kl", VI.gaussian_kl_forward, VI.gaussian_kl_backward, _torch_kl,
               (mu, logvar), rng=rng)
    check_values("gaussian_kl value", VI.gaussian_kl(mu, logvar),
                 _torch_kl(to_torch(mu), to_torch(logvar)))


def test_gaussian_kl_is_zero_only_at_the_prior(rng):
    assert np.all(VI.gaussian_kl(np.zeros((3, 4)), np.zeros((3, 4))) == 0.0)
    mu, logvar = rng.standard_normal((50, 4)), rng.standard_normal((50, 4))
    assert np.all(VI.gaussian_kl(mu, logvar) > 0)


def test_elbo_is_reconstruction_minus_kl_and_bounds_log_evidence(rng):
    # z ~ N(0, 1), x | z ~ N(z, 1): log p(x) = log N(x; 0, 2), and the exact posterior is
    # N(x/2, 1/2), where E_q[log p(x | z)] - KL is log p(x) exactly; any other q is lower.
    x = rng.standard_normal(5)
    log_px = -0.5 * (np.log(2 * np.pi * 2.0) + x ** 2 / 2.0)
    mu, logvar = x[:, None] / 2, np.full((5, 1), np.log(0.5))
    expected_rec = -0.5 * (np.log(2 * np.pi) + (x - x / 2) ** 2 + 0.5)
    exact = VI.elbo(expected_rec, mu, logvar)
    np.testing.assert_allclose(exact, log_px, rtol=1e-12)
    worse = VI.elbo(-0.5 * (np.log(2 * np.pi) + x ** 2 + 1.0), np.zeros((5, 1)), np.zeros((5, 1)))
    assert np.all(worse < log_px)
    rec = rng.standard_normal(4)
    mu, logvar = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    check_values("elbo", VI.elbo(rec, mu, logvar),
                 to_torch(rec) - _torch_kl(to_torch(mu), to_torch(logvar)))


@pytest.mark.parametrize("shape", SHAPES)
def test_gaussian_log_likelihood_matches_torch(shape, rng):
    x, mean = rng.standard_normal(shape), rng.standard_normal(shape)
    logvar = rng.uniform(-2, 2, size=shape)
    ref = Independent(Normal(to_torch(mean), torch.exp(0.5 * to_torch(logvar))), 1)
    check_values("gaussian_log_likelihood", LL.gaussian_log_likelihood(x, mean, logvar),
                 ref.log_prob(to_torch(x)))
    # one Gaussian of shape (D,) shared by every row
    m_row = mean.reshape(-1, shape[-1])[0]
    lv_row = logvar.reshape(-1, shape[-1])[0]
    ref_row = Independent(Normal(to_torch(m_row), torch.exp(0.5 * to_torch(lv_row))), 1)
    check_values("gaussian_log_likelihood (shared)", LL.gaussian_log_likelihood(x, m_row, lv_row),
                 ref_row.log_prob(to_torch(x)))


@pytest.mark.parametrize("scale", [1.0, 1000.0])
@pytest.mark.parametrize("shape", SHAPES)
def test_bernoulli_log_likelihood_and_gradient_match_torch(shape, scale, rng):
    logits = rng.standard_normal(shape) * scale
    x = rng.integers(0, 2, size=shape).astype(float)

    def reference(z, target):
        return -F.binary_cross_entropy_with_logits(z, target, reduction="none").sum(-1)

    check_pair("bernoulli_log_likelihood", LL.bernoulli_log_likelihood_forward,
               LL.bernoulli_log_likelihood_backward, reference, (logits, x), rng=rng,
               differentiable=[0])
    if scale == 1.0:
        ref = Independent(Bernoulli(logits=to_torch(logits)), 1).log_prob(to_torch(x))
        check_values("bernoulli vs distributions", LL.bernoulli_log_likelihood(logits, x), ref)


def _random_distribution(rng, n, zeros=0):
    p = rng.dirichlet(np.ones(n))
    if zeros:
        p[rng.choice(n, size=zeros, replace=False)] = 0.0
        p /= p.sum()
    return p


def test_optimal_discriminator_formula_and_zero_over_zero():
    d = GAN.optimal_discriminator([0.2, 0.0, 0.0, 0.3], [0.6, 0.5, 0.0, 0.3])
    np.testing.assert_array_equal(d, [0.25, 0.0, 0.5, 0.5])


@pytest.mark.parametrize("n, zeros", [(2, 0), (5, 0), (9, 3), (20, 0)])
def test_value_at_optimal_discriminator_is_two_js_minus_log_four(n, zeros, rng):
    for _ in range(20):
        p_data, p_g = _random_distribution(rng, n, zeros), _random_distribution(rng, n)
        d_star = GAN.optimal_discriminator(p_data, p_g)
        v_star = GAN.gan_value(d_star, p_data, p_g)
        assert v_star == pytest.approx(2 * GAN.js_divergence(p_data, p_g) - math.log(4),
                                       rel=1e-12, abs=1e-13)
        # D* is the best reply: every other discriminator scores lower
        other = np.clip(d_star + rng.normal(0, 0.05, size=n), 1e-6, 1 - 1e-6)
        assert GAN.gan_value(other, p_data, p_g) < v_star


def test_global_optimum_is_minus_log_four_at_p_g_equal_p_data(rng):
    p = _random_distribution(rng, 7)
    d_star = GAN.optimal_discriminator(p, p)
    np.testing.assert_allclose(d_star, 0.5, rtol=0, atol=0)
    assert GAN.gan_value(d_star, p, p) == pytest.approx(-math.log(4), rel=1e-14)


def test_js_symmetric_zero_iff_equal_bounded_and_matches_definition(rng):
    for _ in range(50):
        p, q = _random_distribution(rng, 6, zeros=2), _random_distribution(rng, 6, zeros=2)
        js = GAN.js_divergence(p, q)
        assert js == pytest.approx(GAN.js_divergence(q, p), rel=1e-13)
        assert 0 < js <= math.log(2)
        m = (p + q) / 2
        expected = 0.5 * discrete_kl(p, m, base=math.e) + 0.5 * discrete_kl(q, m, base=math.e)
        assert js == pytest.approx(expected, rel=1e-13)
        assert GAN.js_divergence(p, q, base=2) == pytest.approx(js / math.log(2), rel=1e-13)
        assert GAN.js_divergence(p, p) == pytest.approx(0.0, abs=1e-15)
    # disjoint supports reach the upper bound log 2
    assert GAN.js_divergence([1.0, 0.0], [0.0, 1.0]) == pytest.approx(math.log(2), rel=1e-15)


def test_js_batched_over_leading_axes(rng):
    p = rng.dirichlet(np.ones(4), size=3)
    q = rng.dirichlet(np.ones(4), size=3)
    batched = GAN.js_divergence(p, q)
    assert batched.shape == (3,)
    for i in range(3):
        assert batched[i] == pytest.approx(GAN.js_divergence(p[i], q[i]), rel=1e-14)


@pytest.mark.parametrize("scale", [1.0, 1000.0])
@pytest.mark.parametrize("n_real, n_fake", [(1, 1), (8, 5), (16, 16)])
def test_gan_losses_match_torch_bce(n_real, n_fake, scale, rng):
    r = rng.standard_normal(n_real) * scale
    f = rng.standard_normal(n_fake) * scale
    bce = F.binary_cross_entropy_with_logits

    def d_loss_real(r_, f_):
        return GAN.gan_losses(r_, f_)[0], GAN.gan_loss_grads(r_, f_)[0]

    def d_loss_fake(f_, r_):
        return GAN.gan_losses(r_, f_)[0], GAN.gan_loss_grads(r_, f_)[1]

    def g_loss(f_, r_, generator):
        return GAN.gan_losses(r_, f_, generator)[1], GAN.gan_loss_grads(r_, f_, generator)[2]

    def t_d_loss(tr, tf):
        return bce(tr, torch.ones_like(tr)) + bce(tf, torch.zeros_like(tf))

    check_loss("d_loss (real)", d_loss_real, t_d_loss, (r, f))
    check_loss("d_loss (fake)", d_loss_fake, lambda tf, tr: t_d_loss(tr, tf), (f, r))
    check_loss("g_loss (non-saturating)", lambda f_, r_: g_loss(f_, r_, "non-saturating"),
               lambda tf, tr: bce(tf, torch.ones_like(tf)), (f, r))
    check_loss("g_loss (minimax)", lambda f_, r_: g_loss(f_, r_, "minimax"),
               lambda tf, tr: -bce(tf, torch.zeros_like(tf)), (f, r))


def test_gan_losses_equal_minus_mean_logs_of_probabilities(rng):
    r, f = rng.standard_normal(6), rng.standard_normal(4)
    dr, df = 1 / (1 + np.exp(-r)), 1 / (1 + np.exp(-f))
    d_loss, g_loss = GAN.gan_losses(r, f)
    assert d_loss == pytest.approx(-np.mean(np.log(dr)) - np.mean(np.log(1 - df)), rel=1e-12)
    assert g_loss == pytest.approx(-np.mean(np.log(df)), rel=1e-12)


def test_gaussian_nb_recovers_parameters_and_samples(rng):
    mean = np.array([[-2.0, 0.0], [2.0, 1.0]])
    std = np.array([[0.5, 1.0], [1.0, 0.3]])
    y = rng.integers(0, 2, size=20000)
    x = mean[y] + std[y] * rng.standard_normal((20000, 2))
    model = NB.fit_gaussian_nb(x, y, 2)
    np.testing.assert_allclose(model.mean, mean, atol=0.03)
    np.testing.assert_allclose(np.exp(0.5 * model.logvar), std, rtol=0.03)
    post = NB.gaussian_nb_posterior(model, x)
    np.testing.assert_allclose(post.sum(axis=1), 1.0, rtol=1e-12)
    assert np.mean(post.argmax(axis=1) == y) > 0.95
    xs, ys = NB.sample_gaussian_nb(model, 20000, rng)
    assert xs.shape == (20000, 2) and set(np.unique(ys)) == {0, 1}
    np.testing.assert_allclose(xs[ys == 1].mean(axis=0), mean[1], atol=0.05)


def test_gaussian_nb_shared_variance_is_pooled_and_gives_linear_log_odds(rng):
    x = rng.standard_normal((40, 3)) + np.repeat([[0.0, 0.0, 0.0], [1.0, -1.0, 2.0]], 20, axis=0)
    y = np.repeat([0, 1], 20)
    model = NB.fit_gaussian_nb(x, y, 2, shared_variance=True)
    pooled = (np.sum((x[:20] - x[:20].mean(0)) ** 2, 0)
              + np.sum((x[20:] - x[20:].mean(0)) ** 2, 0)) / 40
    np.testing.assert_allclose(np.exp(model.logvar), np.stack([pooled, pooled]), rtol=1e-12)
    joint = NB.gaussian_nb_log_joint(model, x)
    w = (model.mean[1] - model.mean[0]) / pooled
    b = np.sum((model.mean[0] ** 2 - model.mean[1] ** 2) / (2 * pooled))
    np.testing.assert_allclose(joint[:, 1] - joint[:, 0], x @ w + b, rtol=1e-9, atol=1e-12)


def test_bad_input_raises_clear_errors():
    with pytest.raises(ValueError, match="binary"):
        LL.bernoulli_log_likelihood(np.zeros((2, 3)), np.full((2, 3), 0.5))
    with pytest.raises(ValueError, match="same shape"):
        VI.gaussian_kl(np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="last axis"):
        VI.gaussian_kl(np.float64(1.0), np.float64(0.0))
    with pytest.raises(ValueError, match="one value per example"):
        VI.elbo(np.zeros(3), np.zeros((2, 4)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="shape"):
        LL.gaussian_log_likelihood(np.zeros((2, 3)), np.zeros(2), np.zeros(3))
    with pytest.raises(ValueError, match="non-negative"):
        GAN.optimal_discriminator([0.5, -0.1], [0.5, 0.5])
    with pytest.raises(ValueError, match="same shape"):
        GAN.optimal_discriminator([0.5, 0.5], [1.0])
    with pytest.raises(ValueError, match="sum to 1"):
        GAN.js_divergence([0.5, 0.6], [0.5, 0.5])
    with pytest.raises(ValueError, match="non-negative"):
        GAN.js_divergence([1.2, -0.2], [0.5, 0.5])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        GAN.gan_value([1.5, 0.5], [0.5, 0.5], [0.5, 0.5])
    with pytest.raises(ValueError, match="generator"):
        GAN.gan_losses([0.0], [0.0], generator="wasserstein")
    with pytest.raises(ValueError, match="non-empty"):
        GAN.gan_losses([], [0.0])
    with pytest.raises(ValueError, match="dkl"):
        _, kl_cache = VI.gaussian_kl_forward(np.zeros((2, 2)), np.zeros((2, 2)))
        VI.gaussian_kl_backward(np.ones(3), kl_cache)
    with pytest.raises(ValueError, match="every class present"):
        NB.fit_gaussian_nb(np.zeros((4, 2)), np.array([0, 0, 2, 2]), 2)
    with pytest.raises(TypeError, match="Generator"):
        NB.sample_gaussian_nb(NB.GaussianNB(np.log([0.5, 0.5]), np.zeros((2, 1)), np.zeros((2, 1))),
                             3, rng=0)
