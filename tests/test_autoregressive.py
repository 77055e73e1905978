"""dlnotes.autoregressive: normalisation by enumeration, log-probabilities and hand-written
gradients against the same models written in torch (float64), the autoregressive property,
sampling (reproducible, equal to step-by-step sampling, frequencies matching exp(log_prob)),
training, the toy images, and bad input."""
import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlnotes import autoregressive as ar
from dlnotes.verify import check_loss, check_values, to_torch

# The 0.999 quantile of the chi-square distribution with 7 degrees of freedom (2^3 - 1 cells):
# a correct sampler exceeds it with probability 0.001, and the seeds below are fixed.
CHI2_7_Q999 = 24.322


def _random_model(kind, n, rng, scale=1.0, hidden=3):
    """A model with every parameter drawn ~ N(0, scale^2), far from its initialisation."""
    if kind == "bernoulli":
        model = ar.Bernoulli(n)
    elif kind == "fvsbn":
        model = ar.FVSBN(n, rng)
    else:
        model = ar.NADE(n, hidden, rng)
    for p in model.params.values():
        p[...] = scale * rng.standard_normal(p.shape)
    return model


def _torch_logits(kind, params, x):
    """The same models written directly in torch: FVSBN through a masked matrix, NADE with an
    explicit loop over the dimensions (no running-sum trick), Bernoulli as a broadcast bias."""
    N, n = x.shape
    if kind == "bernoulli":
        return params["b"].expand(N, n)
    if kind == "fvsbn":
        mask = torch.tril(torch.ones(n, n, dtype=x.dtype, device=x.device), diagonal=-1)
        return x @ (params["W"] * mask).T + params["b"]
    W, c, V, b = params["W"], params["c"], params["V"], params["b"]
    columns = []
    for i in range(n):
        h = torch.sigmoid(c + x[:, :i] @ W[:, :i].T)              # (N, H)
        columns.append(b[i] + h @ V[i])
    return torch.stack(columns, dim=1)


def _torch_log_prob(kind, params, x):
    z = _torch_logits(kind, params, x)
    return -F.binary_cross_entropy_with_logits(z, x, reduction="none").sum(dim=1)


def _binary(N, n, rng):
    return (rng.random((N, n)) < 0.5).astype(np.float64)


KINDS = ["bernoulli", "fvsbn", "nade"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n, scale", [(1, 1.0), (3, 2.0), (8, 1.0), (10, 3.0)])
def test_probabilities_of_all_binary_vectors_sum_to_one(kind, n, scale, rng):
    model = _random_model(kind, n, rng, scale)
    log_p = model.log_prob(ar.all_binary_vectors(n))                # (2^n,)
    total = np.exp(log_p).sum()
    assert abs(total - 1.0) < 1e-12, f"{kind}, n = {n}: the probabilities sum to {total!r}"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("N, n, hidden", [(1, 1, 1), (1, 6, 2), (7, 5, 3), (16, 9, 4), (4, 12, 1)])
def test_log_prob_matches_torch(kind, N, n, hidden, rng):
    model = _random_model(kind, n, rng, hidden=hidden)
    x = _binary(N, n, rng)
    tparams = {k: to_torch(v) for k, v in model.params.items()}
    check_values(f"{kind} log_prob", model.log_prob(x), _torch_log_prob(kind, tparams, to_torch(x)))


def _check_all_gradients(kind, model, x):
    """check_loss once per parameter: that parameter first, the others and x held fixed."""
    keys = list(model.params)
    N = x.shape[0]
    for key in keys:
        order = [key] + [k for k in keys if k != key]

        def ours(*arrays, order=order, key=key):
            *ps, xx = arrays
            for k, p in zip(order, ps, strict=True):
                model.params[k] = np.array(p, dtype=np.float64)
            loss, grads = model.nll_and_grads(xx)
            assert set(grads) == set(keys)
            assert all(grads[k].shape == model.params[k].shape for k in keys)
            return loss, grads[key]

        def reference(*tensors, order=order):
            *ts, xt = tensors
            z = _torch_logits(kind, dict(zip(order, ts, strict=True)), xt)
            return F.binary_cross_entropy_with_logits(z, xt, reduction="sum") / N

        check_loss(f"{kind} mean NLL, gradient in {key}", ours, reference,
                   [model.params[k].copy() for k in order] + [x])


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("N, n, hidden", [(1, 1, 1), (1, 7, 3), (6, 4, 2), (13, 10, 5), (3, 16, 1)])
def test_nll_gradients_match_torch_autograd(kind, N, n, hidden, rng):
    model = _random_model(kind, n, rng, hidden=hidden)
    _check_all_gradients(kind, model, _binary(N, n, rng))


@pytest.mark.parametrize("kind", KINDS)
def test_saturated_models_stay_finite_and_match_torch(kind, rng):
    model = _random_model(kind, 6, rng, scale=400.0, hidden=4)
    x = _binary(9, 6, rng)
    loss, grads = model.nll_and_grads(x)
    assert np.isfinite(loss) and all(np.all(np.isfinite(g)) for g in grads.values())
    _check_all_gradients(kind, model, x)


def test_nade_last_column_of_w_gets_no_gradient(rng):
    model = _random_model("nade", 5, rng, hidden=3)
    _, grads = model.nll_and_grads(_binary(8, 5, rng))
    assert np.all(grads["W"][:, -1] == 0) and np.all(grads["W"][:, :-1] != 0)


def test_fvsbn_upper_triangle_is_ignored_and_not_updated(rng):
    model = _random_model("fvsbn", 5, rng)
    x = _binary(8, 5, rng)
    before = model.log_prob(x)
    model.params["W"][np.triu_indices(5)] += 100.0
    np.testing.assert_array_equal(model.log_prob(x), before)
    _, grads = model.nll_and_grads(x)
    assert np.all(grads["W"][np.triu_indices(5)] == 0)


@pytest.mark.parametrize("kind", ["fvsbn", "nade"])
def test_logit_i_depends_on_earlier_dimensions_only(kind, rng):
    n = 7
    model = _random_model(kind, n, rng, hidden=4)
    x = _binary(20, n, rng)
    z = model.logits(x)
    for j in range(n):
        flipped = x.copy()
        flipped[:, j] = 1 - flipped[:, j]
        changed = np.any(model.logits(flipped) != z, axis=0)        # (n,)
        assert not changed[:j + 1].any(), f"flipping x_{j} moved logits {np.flatnonzero(changed)}"
        assert changed[j + 1:].all(), f"flipping x_{j} left a later logit unchanged"


@pytest.mark.parametrize("kind", KINDS)
def test_sampling_is_reproducible_and_seed_dependent(kind, rng):
    model = _random_model(kind, 9, rng, hidden=3)
    a = model.sample(50, np.random.default_rng(4))
    b = model.sample(50, np.random.default_rng(4))
    c = model.sample(50, np.random.default_rng(5))
    assert a.shape == (50, 9) and set(np.unique(a)) <= {0.0, 1.0}
    np.testing.assert_array_equal(a, b)
    assert np.any(a != c)


@pytest.mark.parametrize("kind", KINDS)
def test_sample_equals_sampling_with_one_full_evaluation_per_dimension(kind, rng):
    model = _random_model(kind, 11, rng, hidden=4)
    calls = []

    def counted_logits(x):
        calls.append(1)
        return model.logits(x)

    fast = model.sample(40, np.random.default_rng(9))
    slow = ar.sequential_sample(counted_logits, 11, 40, np.random.default_rng(9))
    np.testing.assert_array_equal(fast, slow)
    assert len(calls) == 11


def _chi_square(samples, log_p):
    """Pearson's statistic of the counts of each of the 2^n vectors against N exp(log_p)."""
    n = samples.shape[1]
    # The same order as all_binary_vectors.
    codes = samples.astype(int) @ (1 << np.arange(n - 1, -1, -1))
    observed = np.bincount(codes, minlength=2 ** n)
    expected = len(samples) * np.exp(log_p)
    return float(np.sum((observed - expected) ** 2 / expected))


@pytest.mark.parametrize("kind", KINDS)
def test_sample_frequencies_match_exp_log_prob(kind, rng):
    model = _random_model(kind, 3, rng, scale=1.5, hidden=2)
    log_p = model.log_prob(ar.all_binary_vectors(3))
    assert np.exp(log_p).min() > 1e-3                                # every cell expects > 100
    samples = model.sample(200_000, np.random.default_rng(21))
    assert _chi_square(samples, log_p) < CHI2_7_Q999


def test_the_frequency_check_rejects_a_wrong_sampler(rng):
    # The statistic has power: samples from a correlated NADE do not pass as samples from the
    # independent model with the same marginals.
    model = _random_model("nade", 3, rng, scale=3.0, hidden=2)
    samples = model.sample(200_000, np.random.default_rng(21))
    independent = ar.Bernoulli(3)
    marginals = samples.mean(axis=0)
    independent.params["b"][...] = np.log(marginals / (1 - marginals))
    assert _chi_square(samples, independent.log_prob(ar.all_binary_vectors(3))) > 10 * CHI2_7_Q999


def test_fit_reaches_the_closed_form_bernoulli_estimate(rng):
    x = (rng.random((500, 6)) < np.linspace(0.1, 0.8, 6)).astype(float)
    model = ar.Bernoulli(6)
    losses = ar.fit(model, x, steps=800, lr=0.05, rng=rng)
    mean = x.mean(axis=0)
    np.testing.assert_allclose(model.params["b"], np.log(mean / (1 - mean)), atol=1e-3)
    assert losses.shape == (800,) and losses[-1] < losses[0]


@pytest.mark.parametrize("kind", ["fvsbn", "nade"])
def test_fit_lowers_the_nll_below_the_independent_baseline(kind):
    data = ar.binary_shapes(300, 5, np.random.default_rng(0))
    model = _random_model(kind, 25, np.random.default_rng(1), scale=0.1, hidden=8)
    baseline = ar.Bernoulli(25)
    ar.fit(baseline, data, 300, 0.05, np.random.default_rng(2))
    losses = ar.fit(model, data, 300, 0.05, np.random.default_rng(2), batch_size=64)
    assert losses.shape == (300,)
    assert -model.log_prob(data).mean() < -baseline.log_prob(data).mean() - 1.0


def test_binary_shapes_are_seeded_binary_and_non_empty():
    a = ar.binary_shapes(200, 6, np.random.default_rng(3))
    b = ar.binary_shapes(200, 6, np.random.default_rng(3))
    assert a.shape == (200, 36)
    np.testing.assert_array_equal(a, b)
    assert set(np.unique(a)) == {0.0, 1.0}
    assert a.sum(axis=1).min() >= 3                                  # every shape has 3+ pixels
    noisy = ar.binary_shapes(200, 6, np.random.default_rng(3), noise=0.1)
    assert 0.05 < np.mean(noisy != a) < 0.15


def test_all_binary_vectors_enumerates_in_binary_order():
    expected = np.array(list(itertools.product([0, 1], repeat=4)), dtype=float)
    np.testing.assert_array_equal(ar.all_binary_vectors(4), expected)


def test_bernoulli_log_prob_matches_torch(rng):
    x, z = _binary(6, 4, rng), 50 * rng.standard_normal((6, 4))
    check_values("bernoulli_log_prob", ar.bernoulli_log_prob(x, z),
                 -F.binary_cross_entropy_with_logits(to_torch(z), to_torch(x),
                                                     reduction="none").sum(dim=1))


@pytest.mark.parametrize("bad", [0.5, 2.0, -1.0, np.nan])
@pytest.mark.parametrize("kind", KINDS)
def test_non_binary_data_is_refused(kind, bad, rng):
    model = _random_model(kind, 4, rng)
    x = _binary(3, 4, rng)
    x[1, 2] = bad
    for call in (model.log_prob, model.nll_and_grads, model.logits):
        with pytest.raises(ValueError, match="binary"):
            call(x)


@pytest.mark.parametrize("kind", KINDS)
def test_mismatched_shapes_are_refused(kind, rng):
    model = _random_model(kind, 4, rng)
    with pytest.raises(ValueError, match=r"\(N, n=4\)"):
        model.log_prob(_binary(3, 5, rng))
    with pytest.raises(ValueError, match="2 dimension"):
        model.log_prob(np.ones(4))
    with pytest.raises(ValueError, match="at least one example"):
        model.log_prob(np.zeros((0, 4)))
    with pytest.raises(ValueError, match="num"):
        model.sample(0, rng)
    with pytest.raises(TypeError, match="Generator"):
        model.sample(3, 0)


def test_bad_constructor_and_helper_arguments(rng):
    x = _binary(10, 4, rng)
    with pytest.raises(ValueError, match="n must be"):
        ar.FVSBN(0, rng)
    with pytest.raises(ValueError, match="hidden"):
        ar.NADE(4, 0, rng)
    with pytest.raises(TypeError, match="Generator"):
        ar.NADE(4, 2, 7)
    with pytest.raises(ValueError, match="batch_size"):
        ar.fit(ar.Bernoulli(4), x, 5, 0.1, rng, batch_size=11)
    with pytest.raises(ValueError, match="lr"):
        ar.fit(ar.Bernoulli(4), x, 5, -0.1, rng)
    with pytest.raises(TypeError, match="model"):
        ar.fit("nade", x, 5, 0.1, rng)
    with pytest.raises(ValueError, match="size"):
        ar.binary_shapes(5, 3, rng)
    with pytest.raises(ValueError, match="noise"):
        ar.binary_shapes(5, 6, rng, noise=0.7)
    with pytest.raises(ValueError, match="at most 20"):
        ar.all_binary_vectors(21)
    with pytest.raises(ValueError, match="same shape"):
        ar.bernoulli_log_prob(x, np.zeros((10, 3)))
    with pytest.raises(ValueError, match="logits_fn"):
        ar.sequential_sample(lambda z: z[:, :2], 4, 3, rng)


# --- issue 12: bad and extreme input ---------------------------------------------------------

@pytest.mark.parametrize("bad", [0.5, 7.0, np.nan, -1.0])
def test_bernoulli_log_prob_refuses_non_binary_data(bad):
    # Old code returned -2 log 2 for x = [[0.5, 7]]: a number that is no log-probability.
    x = np.array([[0.0, bad]])
    with pytest.raises(ValueError, match=r"x must be binary"):
        ar.bernoulli_log_prob(x, np.zeros((1, 2)))


def test_bernoulli_log_prob_float32_nan_and_infinite_logits():
    x = np.array([[0.0, 1.0, 1.0]], dtype=np.float32)
    z = np.array([[0.5, -2.0, 3.0]], dtype=np.float32)
    assert ar.bernoulli_log_prob(x, z).dtype == np.float32
    assert np.isnan(ar.bernoulli_log_prob(x[:, :2], np.array([[np.nan, 0.0]])))[0]
    assert ar.bernoulli_log_prob(np.array([[1.0, 0.0]]), np.array([[np.inf, -np.inf]]))[0] == 0.0
