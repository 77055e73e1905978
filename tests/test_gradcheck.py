"""dlnotes.gradcheck: central differences agree with analytic gradients, to O(h^2)."""
import numpy as np
import pytest

from dlnotes.gradcheck import numerical_gradient, relative_error


def test_numerical_gradient_of_a_known_function(rng):
    x = rng.standard_normal((3, 4))
    numeric = numerical_gradient(lambda v: np.sum(np.sin(v) * v ** 2), x)
    exact = np.cos(x) * x ** 2 + 2 * x * np.sin(x)
    assert relative_error(numeric, exact) < 1e-9


def test_input_is_restored(rng):
    x = rng.standard_normal(5)
    before = x.copy()
    numerical_gradient(lambda v: float(np.sum(v ** 3)), x)
    np.testing.assert_array_equal(x, before)


def test_error_shrinks_like_h_squared():
    x = np.array([0.7])
    exact = np.exp(0.7)
    errs = [abs(numerical_gradient(lambda v: float(np.exp(v[0])), x, h=h)[0] - exact)
            for h in (1e-2, 1e-3)]
    # Central difference: error ~ f'''(x) h^2 / 6, so a 10x smaller h gives ~100x less error.
    assert 80 < errs[0] / errs[1] < 120


def test_relative_error_properties():
    a = np.array([1.0, 2.0])
    assert relative_error(a, a) == 0.0
    assert relative_error(np.zeros(2), np.zeros(2)) == 0.0
    assert relative_error(a, -a) == pytest.approx(1.0)


@pytest.mark.parametrize("call, error, message", [
    (lambda: numerical_gradient(lambda v: v, np.ones(3)), ValueError, "f must return a scalar"),
    (lambda: numerical_gradient(np.sum, np.ones(3), h=0), ValueError, "h must be > 0"),
    (lambda: numerical_gradient(np.sum, np.ones(3, dtype=np.float32)), TypeError, "float64"),
    (lambda: numerical_gradient("f", np.ones(3)), TypeError, "f must be callable"),
    (lambda: relative_error(np.ones(2), np.ones(3)), ValueError, "same shape"),
])
def test_bad_input_raises(call, error, message):
    with pytest.raises(error, match=message):
        call()


# --- issue 12: the boundary -----------------------------------------------------------------

@pytest.mark.parametrize("h, x", [(1e-300, np.ones(3)), (1e-17, np.ones(3)),
                                  (1e-6, np.array([1.0, 1e12]))])
def test_a_step_that_rounds_away_is_refused(h, x):
    # h = 1e-300 used to give a gradient of zeros without a word.
    with pytest.raises(ValueError, match="h=.* is too small"):
        numerical_gradient(lambda v: float(np.sum(v ** 2)), x, h=h)


@pytest.mark.parametrize("h, error", [(float("nan"), ValueError), (float("inf"), ValueError),
                                      (-1e-6, ValueError), ("1e-6", TypeError)])
def test_a_bad_h_is_named(h, error):
    with pytest.raises(error, match="h must"):
        numerical_gradient(np.sum, np.ones(3), h=h)


def test_non_finite_x_is_refused():
    with pytest.raises(ValueError, match="x must be finite"):
        numerical_gradient(np.sum, np.array([1.0, np.nan]))


@pytest.mark.parametrize("scale", [1e200, 1e-200, 1e300, 1e-300])
def test_relative_error_is_scale_free_at_extreme_magnitudes(scale):
    # At 1e200 the squared norms overflowed: orthogonal vectors gave NaN instead of 1/sqrt 2.
    a, b = np.array([scale, 0.0]), np.array([0.0, scale])
    assert relative_error(a, b) == pytest.approx(1 / np.sqrt(2), rel=1e-12)
    assert relative_error(a, a * (1 + 1e-9)) == pytest.approx(0.5e-9, rel=1e-5)


def test_relative_error_of_nan_is_nan():
    assert np.isnan(relative_error(np.array([np.nan, 1.0]), np.ones(2)))
    assert np.isnan(relative_error(np.array([np.inf, 1.0]), np.ones(2)))
