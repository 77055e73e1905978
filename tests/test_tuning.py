"""dlnotes.tuning: splits, log-uniform sampling, grid/random search, zoom and diagnose."""
import math

import numpy as np
import pytest

from dlnotes import tuning

SPACE = {"lr": (1e-4, 1.0, "log"), "beta": (0.0, 1.0)}


# --- train_dev_test_split -------------------------------------------------------------------

@pytest.mark.parametrize("n, fractions, sizes", [
    (1000, (0.6, 0.2, 0.2), [600, 200, 200]),
    (1_000_003, (0.98, 0.01, 0.01), [980_003, 10_000, 10_000]),
    (7, (0.6, 0.2, 0.2), [5, 1, 1]),
    (100, (0.5, 0.25, 0.125, 0.125), [51, 25, 12, 12]),
])
def test_split_sizes_are_floors_and_training_takes_the_rest(n, fractions, sizes, rng):
    parts = tuning.train_dev_test_split(n, fractions, rng)
    assert [len(p) for p in parts] == sizes


def test_split_is_a_disjoint_cover_and_reproducible():
    parts = tuning.train_dev_test_split(503, (0.7, 0.15, 0.15), np.random.default_rng(3))
    np.testing.assert_array_equal(np.sort(np.concatenate(parts)), np.arange(503))
    again = tuning.train_dev_test_split(503, (0.7, 0.15, 0.15), np.random.default_rng(3))
    for a, b in zip(parts, again, strict=True):
        np.testing.assert_array_equal(a, b)
    other = tuning.train_dev_test_split(503, (0.7, 0.15, 0.15), np.random.default_rng(4))
    assert not np.array_equal(parts[1], other[1])
    # Shuffled: the dev part is not a block of consecutive indices.
    assert np.any(np.diff(np.sort(parts[1])) > 1)


@pytest.mark.parametrize("n, fractions, error", [
    (0, (0.5, 0.5), ValueError),
    (10, (1.0,), ValueError),
    (10, (0.6, 0.3), ValueError),
    (10, (1.2, -0.2), ValueError),
    (10, (0.5, float("nan"), 0.5), ValueError),
    (10, (0.95, 0.05), ValueError),          # the second part would be empty
    (10.0, (0.5, 0.5), TypeError),
    (10, ("0.5", "0.5"), TypeError),
    (10, (0.5, 0.5j), TypeError),
])
def test_split_bad_input_raises(n, fractions, error, rng):
    with pytest.raises(error):
        tuning.train_dev_test_split(n, fractions, rng)


def test_split_needs_a_generator():
    with pytest.raises(TypeError, match="Generator"):
        tuning.train_dev_test_split(10, (0.5, 0.5), 0)


# --- log_uniform ----------------------------------------------------------------------------

def test_log_uniform_bounds_and_equal_share_per_decade():
    x = tuning.log_uniform(1e-4, 1.0, 200_000, np.random.default_rng(0))
    assert x.shape == (200_000,) and x.min() >= 1e-4 and x.max() < 1.0
    share = np.histogram(np.log10(x), bins=[-4, -3, -2, -1, 0])[0] / x.size
    # Each decade holds 1/4; the binomial standard error is sqrt(0.25 * 0.75 / n) ~ 1e-3.
    np.testing.assert_allclose(share, 0.25, atol=5e-3)
    # Uniform sampling on the same range puts about 90% into the top decade instead.
    u = np.random.default_rng(0).uniform(1e-4, 1.0, 200_000)
    assert abs(np.mean(u >= 0.1) - 0.9 / (1 - 1e-4)) < 5e-3


def test_log_uniform_shape_tuple():
    assert tuning.log_uniform(1.0, 10.0, (3, 4), np.random.default_rng(0)).shape == (3, 4)


@pytest.mark.parametrize("low, high", [(0.0, 1.0), (-1.0, 1.0), (1.0, 1.0), (2.0, 1.0),
                                       (1e-3, float("inf"))])
def test_log_uniform_bad_bounds_raise(low, high, rng):
    with pytest.raises(ValueError):
        tuning.log_uniform(low, high, 5, rng)


# --- grid_points / random_points ------------------------------------------------------------

def test_grid_points_are_cell_centres_on_each_scale():
    pts = tuning.grid_points(SPACE, 2)
    assert pts.shape == (4, 2)
    # log axis [1e-4, 1]: cells [1e-4, 1e-2] and [1e-2, 1], centres 1e-3 and 1e-1.
    np.testing.assert_allclose(pts[:, 0], [1e-3, 1e-3, 1e-1, 1e-1], rtol=1e-12)
    np.testing.assert_allclose(pts[:, 1], [0.25, 0.75, 0.25, 0.75], rtol=1e-12)


@pytest.mark.parametrize("k", [1, 3, 5])
def test_grid_tests_only_k_distinct_values_per_axis(k):
    pts = tuning.grid_points(SPACE, k)
    assert pts.shape == (k * k, 2)
    assert len(np.unique(pts[:, 0])) == k and len(np.unique(pts[:, 1])) == k


def test_random_points_shape_bounds_and_distinct_values(rng):
    pts = tuning.random_points(SPACE, 25, rng)
    assert pts.shape == (25, 2)
    assert len(np.unique(pts[:, 0])) == 25
    assert np.all((pts[:, 0] >= 1e-4) & (pts[:, 0] <= 1.0))
    assert np.all((pts[:, 1] >= 0.0) & (pts[:, 1] <= 1.0))


@pytest.mark.parametrize("space", [
    {}, {"lr": (1.0,)}, {"lr": (1.0, 0.5)}, {"lr": (0.0, 1.0, "log")},
    {"lr": (1e-3, 1.0, "ln")}, [("lr", (0.0, 1.0))],
])
def test_bad_space_raises(space, rng):
    with pytest.raises((ValueError, TypeError)):
        tuning.random_points(space, 3, rng)


def test_bad_counts_raise(rng):
    with pytest.raises(ValueError):
        tuning.grid_points(SPACE, 0)
    with pytest.raises(TypeError, match="n_trials must be an int"):
        tuning.random_points(SPACE, 2.5, rng)


# --- searches -------------------------------------------------------------------------------

def _bowl(points):
    """A bowl in (log10 lr, beta) with its minimum 0 at lr = 1e-2, beta = 0.3."""
    return (np.log10(points[:, 0]) + 2.0) ** 2 + (points[:, 1] - 0.3) ** 2


def test_grid_search_best_is_the_argmin_of_the_scores():
    res = tuning.grid_search(_bowl, SPACE, 4)
    assert res.points.shape == (16, 2) and res.scores.shape == (16,)
    manual = min(range(16), key=lambda i: _bowl(res.points[i:i + 1])[0])
    assert res.best_index == manual
    assert res.best_score == pytest.approx(float(_bowl(res.points[manual:manual + 1])[0]))
    assert set(res.best) == {"lr", "beta"}


def test_random_search_with_many_trials_gets_close_to_the_minimum():
    res = tuning.random_search(_bowl, SPACE, 400, np.random.default_rng(0))
    assert res.best_score < 0.03
    assert abs(math.log10(res.best["lr"]) + 2) < 0.2 and abs(res.best["beta"] - 0.3) < 0.2


def test_nan_scores_rank_last():
    scores = np.array([np.nan, 3.0, 1.0, np.nan])
    res = tuning.evaluate(lambda p: scores, SPACE, tuning.grid_points(SPACE, 2))
    assert res.best_index == 2


@pytest.mark.parametrize("objective, error", [
    (lambda p: np.zeros(len(p) + 1), ValueError),
    (lambda p: np.full(len(p), np.nan), ValueError),
    ("not callable", TypeError),
])
def test_bad_objective_raises(objective, error):
    with pytest.raises(error):
        tuning.grid_search(objective, SPACE, 2)


def test_evaluate_refuses_points_of_the_wrong_width():
    with pytest.raises(ValueError, match="D = 2"):
        tuning.evaluate(_bowl, SPACE, np.ones((3, 3)))


def test_zoom_spans_the_best_trials_and_keeps_the_scale():
    res = tuning.random_search(_bowl, SPACE, 30, np.random.default_rng(1))
    new = tuning.zoom(SPACE, res, 5)
    top = np.argsort(res.scores)[:5]
    assert new["lr"] == (res.points[top, 0].min(), res.points[top, 0].max(), "log")
    assert new["beta"] == (res.points[top, 1].min(), res.points[top, 1].max(), "linear")
    # The new box contains the best trial and is smaller than the old one.
    assert new["lr"][0] <= res.best["lr"] <= new["lr"][1]
    assert new["beta"][1] - new["beta"][0] < 1.0


def test_zoom_bad_keep_raises():
    res = tuning.random_search(_bowl, SPACE, 5, np.random.default_rng(1))
    for keep in (1, 6):
        with pytest.raises(ValueError):
            tuning.zoom(SPACE, res, keep)
    with pytest.raises(ValueError, match="searched over"):
        tuning.zoom({"beta": (0.0, 1.0), "lr": (1e-4, 1.0, "log")}, res, 2)


# --- diagnose -------------------------------------------------------------------------------

@pytest.mark.parametrize("rates, expected", [
    ((0.01, 0.08, 0.09, 0.10), (0.07, 0.01, 0.01, "avoidable bias")),
    ((0.075, 0.08, 0.10, 0.10), (0.005, 0.02, 0.0, "variance")),
    ((0.01, 0.015, 0.02, 0.09), (0.005, 0.005, 0.07, "data mismatch")),
    ((0.02, 0.03, 0.05, 0.04), (0.01, 0.02, -0.01, "variance")),
])
def test_diagnose_gaps_and_focus(rates, expected):
    d = tuning.diagnose(*rates)
    np.testing.assert_allclose(d[:3], expected[:3], atol=1e-12)
    assert d.focus == expected[3]
    # The three gaps add up to dev - human.
    assert sum(d[:3]) == pytest.approx(rates[3] - rates[0])


@pytest.mark.parametrize("rates, error", [
    ((0.01, 1.2, 0.1, 0.1), ValueError),
    ((-0.01, 0.1, 0.1, 0.1), ValueError),
    ((0.01, float("nan"), 0.1, 0.1), ValueError),
    ((0.01, "0.1", 0.1, 0.1), TypeError),
    ((0.01, 0.1, True, 0.1), TypeError),
])
def test_diagnose_bad_input_raises(rates, error):
    with pytest.raises(error):
        tuning.diagnose(*rates)


# --- issue 12: the boundary -----------------------------------------------------------------

def test_fractions_given_as_strings_are_refused_not_converted(rng):
    with pytest.raises(TypeError, match="fractions"):
        tuning.train_dev_test_split(10, ["0.5", "0.5"], rng)


def test_numpy_integers_are_accepted_as_counts(rng):
    parts = tuning.train_dev_test_split(np.int64(10), (0.5, 0.5), rng)
    assert sum(len(p) for p in parts) == 10
    assert tuning.grid_points({"a": (0.0, 1.0)}, np.int32(3)).shape == (3, 1)
    assert tuning.random_points({"a": (0.0, 1.0)}, np.int64(4), rng).shape == (4, 1)


def test_complex_scores_are_refused_not_truncated():
    # np.asarray(..., dtype=float64) used to drop the imaginary part (with only a warning).
    with pytest.raises(TypeError, match="scores the objective returned"):
        tuning.grid_search(lambda p: np.zeros(len(p)) + 1j, SPACE, 2)


def test_points_must_be_finite_real_numbers():
    with pytest.raises(ValueError, match="points must be finite"):
        tuning.evaluate(_bowl, SPACE, np.array([[np.nan, 0.5]]))
    with pytest.raises(TypeError, match="points"):
        tuning.evaluate(_bowl, SPACE, np.array([["0.1", "0.5"]]))


def test_a_bad_size_is_named(rng):
    with pytest.raises(ValueError, match="size must be >= 0"):
        tuning.log_uniform(1e-3, 1.0, -1, rng)
    with pytest.raises(TypeError, match="size"):
        tuning.log_uniform(1e-3, 1.0, 2.5, rng)
    assert tuning.log_uniform(1e-3, 1.0, (np.int64(2), 3), rng).shape == (2, 3)


def test_zoom_needs_a_search_result():
    with pytest.raises(TypeError, match="SearchResult"):
        tuning.zoom(SPACE, (("lr", "beta"), np.ones((3, 2)), np.ones(3), 0), 2)


def test_numpy_rates_are_accepted_by_diagnose():
    d = tuning.diagnose(np.float32(0.01), np.float64(0.08), 0.09, 0.10)
    assert d.focus == "avoidable bias"
