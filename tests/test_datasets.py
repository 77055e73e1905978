"""dlnotes.datasets: shapes, labels, reproducibility and bad input."""
import numpy as np
import pytest

from dlnotes import datasets


def test_two_blobs_shapes_and_balance(rng):
    x, y = datasets.two_blobs(50, rng)
    assert x.shape == (100, 2) and y.shape == (100,)
    assert np.bincount(y).tolist() == [50, 50]
    # The class means sit on the diagonal on either side of the origin.
    assert np.all(x[y == 0].mean(axis=0) < 0) and np.all(x[y == 1].mean(axis=0) > 0)


def test_spirals_shapes_radius_and_reproducibility():
    x, y = datasets.spirals(40, 3, np.random.default_rng(1))
    x2, y2 = datasets.spirals(40, 3, np.random.default_rng(1))
    assert x.shape == (120, 2) and sorted(np.unique(y)) == [0, 1, 2]
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    assert np.linalg.norm(x, axis=1).max() <= 1.0 + 1e-12


@pytest.mark.parametrize("call, error", [
    (lambda r: datasets.two_blobs(0, r), ValueError),
    (lambda r: datasets.two_blobs(5, r, std=0), ValueError),
    (lambda r: datasets.spirals(5, 0, r), ValueError),
    (lambda r: datasets.spirals(5, 2, r, noise=-1), ValueError),
    (lambda r: datasets.spirals(5, 2, 42), TypeError),
])
def test_bad_input_raises(call, error, rng):
    with pytest.raises(error):
        call(rng)


# --- issue 12: the boundary -----------------------------------------------------------------

@pytest.mark.parametrize("call, error, match", [
    (lambda r: datasets.two_blobs(5, r, distance=float("nan")), ValueError, "distance"),
    (lambda r: datasets.two_blobs(5, r, distance="2"), TypeError, "distance"),
    (lambda r: datasets.two_blobs(5, r, std=float("inf")), ValueError, "std"),
    (lambda r: datasets.spirals(5, 2, r, turns=float("nan")), ValueError, "turns"),
    (lambda r: datasets.spirals(5, 2, r, noise=float("nan")), ValueError, "noise"),
    (lambda r: datasets.spirals(5.0, 2, r), TypeError, "n_per_class"),
])
def test_bad_shape_parameters_are_named(call, error, match, rng):
    # NaN distances, turns and noise used to give NaN points without a word.
    with pytest.raises(error, match=match):
        call(rng)


def test_numpy_integers_are_accepted(rng):
    x, y = datasets.spirals(np.int64(4), np.int32(3), rng)
    assert x.shape == (12, 2) and y.shape == (12,)
