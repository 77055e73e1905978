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
    (lambda: numerical_gradient(np.sum, np.ones(3), h=0), ValueError, "h must be positive"),
    (lambda: numerical_gradient(np.sum, np.ones(3, dtype=np.float32)), TypeError, "float64"),
    (lambda: numerical_gradient("f", np.ones(3)), TypeError, "f must be callable"),
    (lambda: relative_error(np.ones(2), np.ones(3)), ValueError, "same shape"),
])
def test_bad_input_raises(call, error, message):
    with pytest.raises(error, match=message):
        call()
