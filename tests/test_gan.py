"""dlnotes.gan at the boundary (issue 12): float32 distributions, huge densities, the base.

The identities and torch comparisons are in test_generative.py.
"""
import numpy as np
import pytest

from dlnotes import gan as GAN
from dlnotes.activations import softmax


def test_js_divergence_accepts_float32_softmax_rows():
    # Old code refused them: the float32 sums miss 1 by ~1e-7, and the tolerance was 1e-9.
    logits = np.random.default_rng(0).standard_normal((50, 10))
    p64 = softmax(logits, axis=-1)
    p32 = p64.astype(np.float32)
    worst = np.argsort(-np.abs(p32.sum(axis=-1) - np.float32(1)))[:2]   # the rows furthest off
    p64, p32 = p64[worst], p32[worst]
    assert np.all(np.abs(p32.sum(axis=-1) - np.float32(1)) > 1e-9)
    ours = GAN.js_divergence(p32[0], p32[1])
    assert ours == pytest.approx(GAN.js_divergence(p64[0], p64[1]), rel=1e-5)
    d = GAN.optimal_discriminator(p32[0], p32[1])
    assert GAN.gan_value(d, p32[0], p32[1]) == pytest.approx(2 * ours - np.log(4), abs=1e-5)


def test_js_divergence_refuses_bad_bases():
    p, q = np.array([0.5, 0.5]), np.array([1.0, 0.0])
    assert GAN.js_divergence(p, q, base=np.float32(2)) == pytest.approx(
        GAN.js_divergence(p, q) / np.log(2))
    for base in (np.inf, 1.0, 0.0, -2.0, np.nan):
        with pytest.raises(ValueError, match="base"):
            GAN.js_divergence(p, q, base=base)
    with pytest.raises(TypeError, match="base"):
        GAN.js_divergence(p, q, base="2")


def test_optimal_discriminator_with_densities_near_the_float_limit():
    # Old code: p_data + p_g overflowed to inf and D* came out 0 instead of 1/2 and 1/4.
    np.testing.assert_allclose(GAN.optimal_discriminator([1e308, 1e308], [1e308, 1.5e308]),
                               [0.5, 0.4], rtol=1e-15)
    assert GAN.optimal_discriminator([0.0], [0.0])[0] == 0.5
