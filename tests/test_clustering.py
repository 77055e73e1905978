"""dlnotes.clustering: distances and objective against torch in float64, Lloyd's monotone
objective over many seeds, k-means++ seeding, restarts, empty clusters and bad input."""
import numpy as np
import pytest
import torch

from dlnotes import clustering as KM
from dlnotes.verify import check_values, to_torch


def _blobs(rng, centres, n_per, std):
    centres = np.asarray(centres, dtype=float)
    x = np.repeat(centres, n_per, axis=0) + std * rng.standard_normal((len(centres) * n_per,
                                                                       centres.shape[1]))
    return x, np.repeat(np.arange(len(centres)), n_per)


def _torch_sq_dist(x, c):
    # The exact (non-matrix-multiply) path, so float64 agreement can be tight.
    return torch.cdist(to_torch(x), to_torch(c), compute_mode="donot_use_mm_for_euclid_dist") ** 2


@pytest.mark.parametrize("n, k, d", [(1, 1, 1), (5, 1, 3), (1, 4, 2), (37, 5, 2), (30, 30, 7)])
def test_distances_match_torch_cdist(n, k, d, rng):
    x, c = rng.standard_normal((n, d)), rng.standard_normal((k, d))
    check_values("squared distances", KM.pairwise_sq_distances(x, c), _torch_sq_dist(x, c))


def test_distances_of_nearby_points_are_not_lost_to_cancellation():
    x = np.array([[1e8, 1e8]])
    c = np.array([[1e8 + 1.0, 1e8 - 2.0]])
    assert KM.pairwise_sq_distances(x, c)[0, 0] == 5.0


@pytest.mark.parametrize("n, k, d", [(1, 1, 2), (40, 3, 2), (25, 6, 4)])
def test_objective_matches_torch(n, k, d, rng):
    x, c = rng.standard_normal((n, d)), rng.standard_normal((k, d))
    labels = rng.integers(0, k, size=n)
    x_t, c_t = to_torch(x), to_torch(c)
    reference = ((x_t - c_t[to_torch(labels)]) ** 2).sum()
    check_values("k-means objective", KM.kmeans_objective(x, c, labels), reference)


def _data_sets(seed):
    rng = np.random.default_rng(seed)
    blobs, _ = _blobs(rng, [[0, 0], [3, 0], [0, 3], [4, 4]], 25, 0.8)
    uniform = rng.random((60, 3))
    grid = np.repeat(rng.integers(0, 4, size=(20, 2)).astype(float), 3, axis=0)  # duplicates
    return [blobs, uniform, grid]


@pytest.mark.parametrize("seed", range(40))
def test_objective_never_increases(seed):
    for x in _data_sets(seed):
        n_distinct = len(np.unique(x, axis=0))
        for k in (1, 2, 3, 5, 8):
            if k > n_distinct:
                continue
            rng = np.random.default_rng(1000 + seed)
            _, labels, history = KM.kmeans(x, k, rng)
            # Exact arithmetic never increases J; allow only round-off.
            assert np.all(np.diff(history) <= 1e-12 * history[0]), history
            # Also from uniformly random (not k-means++) starting centroids, where Lloyd's
            # iterations meet empty clusters more often.
            start = x[rng.integers(0, len(x), size=k)] + rng.standard_normal((k, x.shape[1]))
            _, _, history = KM.lloyd(x, start)
            j0 = KM.kmeans_objective(x, start, KM.assign(x, start))
            assert history[0] <= j0 * (1 + 1e-12)
            assert np.all(np.diff(history) <= 1e-12 * history[0]), history


def test_labels_are_nearest_centroids_and_centroids_are_means_at_convergence():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((200, 2))
    centroids, labels, history = KM.kmeans(x, 6, rng, max_iter=300)
    assert len(history) < 300  # converged
    d2 = ((x[:, None, :] - centroids[None]) ** 2).sum(-1)
    np.testing.assert_array_equal(labels, np.argmin(d2, axis=1))
    for j in range(6):
        np.testing.assert_allclose(centroids[j], x[labels == j].mean(axis=0), rtol=1e-12)
    assert history[-1] == pytest.approx(KM.kmeans_objective(x, centroids, labels), rel=1e-14)


def test_labels_are_nearest_centroids_also_when_stopped_early():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((300, 2))
    centroids, labels, history = KM.kmeans(x, 10, rng, max_iter=1)
    assert len(history) == 1
    np.testing.assert_array_equal(labels, np.argmin(((x[:, None] - centroids) ** 2).sum(-1), 1))


def test_recovers_well_separated_blobs():
    rng = np.random.default_rng(0)
    x, truth = _blobs(rng, [[0, 0], [10, 0], [0, 10]], 30, 0.5)
    _, labels, _ = KM.kmeans(x, 3, rng)
    # The same partition up to a renaming of the clusters.
    pairs = set(zip(truth.tolist(), labels.tolist(), strict=True))
    assert len(pairs) == 3 and len({p[1] for p in pairs}) == 3


def test_kmeans_plus_plus_picks_distinct_points_of_x():
    for seed in range(30):
        rng = np.random.default_rng(seed)
        x = np.repeat(rng.integers(0, 5, size=(12, 2)).astype(float), 2, axis=0)
        n_distinct = len(np.unique(x, axis=0))
        centres = KM.kmeans_plus_plus(x, n_distinct, rng)  # as many as there are
        assert centres.shape == (n_distinct, 2)
        assert len(np.unique(centres, axis=0)) == n_distinct
        for c in centres:
            assert np.any(np.all(x == c, axis=1))


def test_kmeans_plus_plus_is_reproducible_and_returns_a_copy():
    x = np.random.default_rng(0).standard_normal((50, 3))
    a = KM.kmeans_plus_plus(x, 4, np.random.default_rng(11))
    b = KM.kmeans_plus_plus(x, 4, np.random.default_rng(11))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, KM.kmeans_plus_plus(x, 4, np.random.default_rng(12)))
    a[0] = 1e9
    assert not np.any(x == 1e9)


def test_kmeans_plus_plus_draws_with_probability_proportional_to_squared_distance():
    """x = 0, 1, 3 on a line, k = 2: P(pair) = 1/3 (d^2 / sum d^2 from each first point)."""
    x = np.array([[0.0], [1.0], [3.0]])
    d2 = (x - x.T) ** 2
    p_second = d2 / d2.sum(axis=1, keepdims=True)
    expected = {(i, j): p_second[i, j] / 3 for i in range(3) for j in range(3) if i != j}
    rng = np.random.default_rng(2024)
    n = 6000
    counts = dict.fromkeys(expected, 0)
    for _ in range(n):
        c = KM.kmeans_plus_plus(x, 2, rng)[:, 0]
        counts[(int(c[0]) if c[0] < 2 else 2, int(c[1]) if c[1] < 2 else 2)] += 1
    for pair, p in expected.items():
        assert abs(counts[pair] / n - p) < 4 * np.sqrt(p * (1 - p) / n), (pair, counts, p)


def test_n_init_keeps_the_run_with_the_lowest_objective():
    x = np.random.default_rng(1).random((80, 2))
    k, n_init = 7, 6
    centroids, labels, history = KM.kmeans(x, k, np.random.default_rng(9), n_init=n_init)
    replay = np.random.default_rng(9)
    runs = [KM.lloyd(x, KM.kmeans_plus_plus(x, k, replay)) for _ in range(n_init)]
    finals = [r[2][-1] for r in runs]
    assert len(set(np.round(finals, 10))) > 1  # the runs really differ
    best = int(np.argmin(finals))
    assert history[-1] == min(finals)
    np.testing.assert_array_equal(history, runs[best][2])
    np.testing.assert_array_equal(centroids, runs[best][0])
    np.testing.assert_array_equal(labels, runs[best][1])
    single = KM.kmeans(x, k, np.random.default_rng(9), n_init=1)
    assert history[-1] <= single[2][-1]


def test_an_empty_cluster_is_moved_onto_the_farthest_point():
    x = np.array([[0.0, 0.0], [1.0, 0.0], [10.0, 0.0], [11.0, 0.0]])
    start = np.array([[5.0, 0.0], [100.0, 100.0]])  # nobody chooses the second centroid
    assert np.all(KM.assign(x, start) == 0)
    centroids, labels, history = KM.lloyd(x, start, max_iter=1)
    # Cluster 0 moves to the mean 5.5; the farthest points from it are 0 and 11 (5.5 each),
    # the first of which (stable order) takes the empty centroid.
    np.testing.assert_array_equal(centroids, [[5.5, 0.0], [0.0, 0.0]])
    assert np.all(np.isfinite(centroids))
    centroids, labels, history = KM.lloyd(x, start)
    np.testing.assert_array_equal(np.sort(centroids[:, 0]), [0.5, 10.5])
    assert history[-1] == pytest.approx(1.0)
    assert np.all(np.diff(history) <= 0)


def test_lloyd_does_not_modify_the_initial_centroids():
    x = np.random.default_rng(0).standard_normal((20, 2))
    start = x[:3].copy()
    keep = start.copy()
    KM.lloyd(x, start)
    np.testing.assert_array_equal(start, keep)


@pytest.mark.parametrize("x, k, match", [
    (np.ones((3, 2)), 4, r"k = 4 clusters need at least 4 points"),
    (np.ones((3, 2)), 0, r"k must be at least 1"),
    (np.ones((3, 2)), -2, r"k must be at least 1"),
    (np.ones((3, 2)), 2.0, r"k must be an integer"),
    (np.ones(5), 2, r"x must have 2 dimension"),
    (np.ones((2, 3, 2)), 2, r"x must have 2 dimension"),
    (np.ones((0, 2)), 1, r"at least one point"),
    (np.array([[0.0, np.nan], [1.0, 1.0]]), 1, r"finite"),
])
def test_bad_input_raises(x, k, match):
    with pytest.raises(ValueError, match=match):
        KM.kmeans(x, k, np.random.default_rng(0))
    with pytest.raises(ValueError, match=match):
        KM.kmeans_plus_plus(x, k, np.random.default_rng(0))


def test_too_few_distinct_points_raise():
    x = np.array([[1.0, 1.0], [1.0, 1.0], [2.0, 0.0]])
    with pytest.raises(ValueError, match=r"only 2 distinct point\(s\), fewer than k = 3"):
        KM.kmeans(x, 3, np.random.default_rng(0))


def test_bad_settings_raise():
    x = np.ones((4, 2))
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        KM.kmeans(x, 2, 0)
    with pytest.raises(ValueError, match="n_init must be a positive integer"):
        KM.kmeans(x, 2, np.random.default_rng(0), n_init=0)
    with pytest.raises(ValueError, match="max_iter must be a positive integer"):
        KM.lloyd(x, x[:2], max_iter=0)
    with pytest.raises(ValueError, match=r"centroids must be \(K, D\) with K >= 1 and D = 2"):
        KM.lloyd(x, np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\)"):
        KM.kmeans_objective(x, x[:2], np.array([0, 1, 2, 0]))
    with pytest.raises(TypeError, match="labels must be integers"):
        KM.kmeans_objective(x, x[:2], np.zeros(4))


# --- issue 12: bad and extreme input ---------------------------------------------------------

@pytest.mark.parametrize("gap", [1e-200, 1e-300, 1e-320])
def test_kmeans_plus_plus_with_points_a_tiny_distance_apart(gap):
    # Old code: squared distances underflowed to 0 and the draw ended in a bare IndexError.
    x = np.array([[0.0], [gap], [2 * gap], [3 * gap]])
    for seed in range(5):
        seeds = KM.kmeans_plus_plus(x, 4, np.random.default_rng(seed))
        assert sorted(seeds[:, 0]) == sorted(x[:, 0])
    centroids, labels, _ = KM.kmeans(x, 2, np.random.default_rng(0))
    assert len(set(labels.tolist())) == 2


def test_lloyd_refuses_more_centroids_than_points():
    # Old code returned three centroids at 0 for two points, without a word.
    with pytest.raises(ValueError, match=r"centroids has K = 3 rows but x has only 2"):
        KM.lloyd(np.zeros((2, 1)), np.array([[0.0], [1.0], [2.0]]))


def test_assign_at_huge_magnitudes_goes_to_the_nearest_centroid():
    # Every squared distance is inf here; the old argmin then gave every point label 0.
    x = np.array([[1e200], [1.2e200], [3e200], [3.1e200]])
    centroids = np.array([[0.0], [4e200]])
    np.testing.assert_array_equal(KM.assign(x, centroids), [0, 0, 1, 1])
    found, labels, _ = KM.lloyd(x, x[[0, 3]])
    np.testing.assert_array_equal(labels, [0, 0, 1, 1])
    np.testing.assert_allclose(found[:, 0], [1.1e200, 3.05e200], rtol=1e-12)


def test_k_accepts_numpy_integers():
    x = np.arange(8.0).reshape(4, 2)
    assert KM.kmeans_plus_plus(x, np.int64(2), np.random.default_rng(0)).shape == (2, 2)
