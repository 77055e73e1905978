"""dlnotes.debias: projections, neutralise and equalise against torch in float64, their
geometric properties (orthogonality, idempotence, symmetry, unit norm, equal cosines), the bias
direction against torch's eigendecomposition and a planted axis, and bad input."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlnotes import debias as db
from dlnotes.verify import check_values, to_torch

DIMS = [1, 2, 3, 7, 50, 300]


def _cos(u, v):
    return u @ v / (np.linalg.norm(u) * np.linalg.norm(v))


def _torch_projection(e, g):
    return (e @ g) / (g @ g) * g


def _torch_equalize(e1, e2, g):
    # Bolukbasi et al. 2016 written independently with torch ops.
    e1, e2 = e1 / torch.linalg.vector_norm(e1), e2 / torch.linalg.vector_norm(e2)
    mu = (e1 + e2) / 2
    mu_b = _torch_projection(mu, g)
    nu = mu - mu_b
    out = []
    for e in (e1, e2):
        d = _torch_projection(e, g) - mu_b
        out.append(nu + torch.sqrt(1 - nu @ nu) * d / torch.linalg.vector_norm(d))
    return out


def _notes_equalize(e1, e2, g):
    # Note 004's formula: the denominator is |(e_i - nu) - mu_B| = |e_i - mu|.
    e1, e2 = e1 / np.linalg.norm(e1), e2 / np.linalg.norm(e2)
    mu = (e1 + e2) / 2
    mu_b = db.projection(mu, g)
    nu = mu - mu_b
    return [nu + np.sqrt(abs(1 - nu @ nu)) * (db.projection(e, g) - mu_b)
            / np.linalg.norm((e - nu) - mu_b) for e in (e1, e2)]


@pytest.mark.parametrize("d", DIMS)
@pytest.mark.parametrize("g_scale", [1e-3, 1.0, 40.0])
def test_projection_and_neutralize_match_torch(d, g_scale, rng):
    e, g = rng.standard_normal(d), g_scale * rng.standard_normal(d)
    te, tg = to_torch(e), to_torch(g)
    check_values("projection", db.projection(e, g), _torch_projection(te, tg))
    check_values("neutralize", db.neutralize(e, g), te - _torch_projection(te, tg))
    e_unit = db.neutralize(e, g, unit=True) if d > 1 else None
    if e_unit is not None:
        check_values("neutralize, unit", e_unit,
                     F.normalize(te - _torch_projection(te, tg), dim=0))


@pytest.mark.parametrize("d", DIMS[1:])
def test_neutralized_vector_is_orthogonal_and_neutralize_is_idempotent(d, rng):
    for _ in range(5):
        e, g = 3 * rng.standard_normal(d), rng.standard_normal(d)
        once = db.neutralize(e, g)
        assert abs(once @ g) / np.linalg.norm(g) < 1e-12
        np.testing.assert_allclose(db.neutralize(once, g), once, rtol=0, atol=1e-14)
        # what was removed is the projection, which lies along g
        removed = e - once
        np.testing.assert_allclose(removed, (e @ g) / (g @ g) * g, rtol=1e-12, atol=1e-14)
        # only g's direction matters, not its length or sign
        np.testing.assert_allclose(db.neutralize(e, -7.5 * g), once, rtol=1e-12, atol=1e-14)
        unit = db.neutralize(e, g, unit=True)
        assert np.linalg.norm(unit) == pytest.approx(1.0, abs=1e-14)
        np.testing.assert_allclose(db.neutralize(unit, g, unit=True), unit, atol=1e-14)


def test_neutralize_of_a_vector_along_g_is_zero():
    g = np.array([0.0, 2.0, 0.0])
    np.testing.assert_array_equal(db.neutralize(3 * g, g), np.zeros(3))
    np.testing.assert_array_equal(db.neutralize(np.array([1.0, 0.0, -4.0]), g),
                                  np.array([1.0, 0.0, -4.0]))


@pytest.mark.parametrize("d", DIMS[1:])
@pytest.mark.parametrize("g_scale", [0.01, 1.0, 25.0])
def test_equalize_matches_torch(d, g_scale, rng):
    e1, e2, g = rng.standard_normal(d), rng.standard_normal(d), g_scale * rng.standard_normal(d)
    out1, out2 = db.equalize(e1, e2, g)
    ref1, ref2 = _torch_equalize(to_torch(e1), to_torch(e2), to_torch(g))
    check_values("equalize e1", out1, ref1)
    check_values("equalize e2", out2, ref2)


@pytest.mark.parametrize("d", DIMS[1:])
def test_equalized_pair_is_unit_symmetric_with_equal_orthogonal_parts(d, rng):
    for _ in range(5):
        e1, e2, g = 2 * rng.standard_normal(d), rng.standard_normal(d), rng.standard_normal(d)
        a, b = db.equalize(e1, e2, g)
        g_hat = g / np.linalg.norm(g)
        assert np.linalg.norm(a) == pytest.approx(1.0, abs=1e-12)
        assert np.linalg.norm(b) == pytest.approx(1.0, abs=1e-12)
        assert abs(a @ g_hat + b @ g_hat) < 1e-12          # equal and opposite along g
        assert abs(a @ g_hat) > 1e-3                       # and not both zero
        np.testing.assert_allclose(db.neutralize(a, g), db.neutralize(b, g), atol=1e-12)
        # each word stays on its own side of the axis
        u1, u2 = e1 / np.linalg.norm(e1), e2 / np.linalg.norm(e2)
        assert np.sign(a @ g) == np.sign((u1 - u2) @ g)
        # every neutral word is equally similar to both
        for _ in range(3):
            w = db.neutralize(rng.standard_normal(d), g)
            assert _cos(w, a) == pytest.approx(_cos(w, b), abs=1e-12)


def test_equalize_in_one_dimension_gives_plus_and_minus_the_axis():
    a, b = db.equalize(np.array([0.3]), np.array([-2.0]), np.array([-5.0]))
    np.testing.assert_allclose([a[0], b[0]], [1.0, -1.0], atol=1e-15)


def test_equalize_of_an_already_equalized_pair_changes_nothing(rng):
    g = rng.standard_normal(6)
    a, b = db.equalize(rng.standard_normal(6), rng.standard_normal(6), g)
    a2, b2 = db.equalize(a, b, g)
    np.testing.assert_allclose(a2, a, atol=1e-13)
    np.testing.assert_allclose(b2, b, atol=1e-13)


def test_notes_formula_is_short_of_unit_length_unless_the_difference_lies_along_g(rng):
    g = rng.standard_normal(5)
    e1, e2 = rng.standard_normal(5), rng.standard_normal(5)
    notes = _notes_equalize(e1, e2, g)
    ours = db.equalize(e1, e2, g)
    assert all(np.linalg.norm(v) < 0.999 for v in notes)
    # both agree on the orthogonal part and on the direction along g, not the length along g
    np.testing.assert_allclose(db.neutralize(notes[0], g), db.neutralize(ours[0], g), atol=1e-13)
    # for unit inputs e1 - e2 is parallel to g only when the pair is already symmetric; then
    # the two denominators coincide, and both formulas return the pair unchanged
    nu = db.neutralize(rng.standard_normal(5), g)
    nu *= 0.6 / np.linalg.norm(nu)
    g_hat = g / np.linalg.norm(g)
    f1, f2 = nu + 0.8 * g_hat, nu - 0.8 * g_hat
    for n, o, f in zip(_notes_equalize(f1, f2, g), db.equalize(f1, f2, g), (f1, f2), strict=True):
        np.testing.assert_allclose(n, o, atol=1e-13)
        np.testing.assert_allclose(o, f, atol=1e-13)


@pytest.mark.parametrize("n_pairs, d", [(1, 4), (2, 3), (8, 10), (20, 50)])
@pytest.mark.parametrize("normalize", [True, False])
def test_bias_direction_pca_matches_torch_eigh(n_pairs, d, normalize, rng):
    table = rng.standard_normal((2 * n_pairs, d))
    pairs = [(2 * p, 2 * p + 1) for p in range(n_pairs)]
    g = db.bias_direction(pairs, table, method="pca", normalize=normalize)
    t = to_torch(table)
    if normalize:
        t = F.normalize(t, dim=1)
    diffs = t[0::2] - t[1::2]                                   # (P, D)
    centred = torch.cat([diffs / 2, -diffs / 2])                # each word minus its pair's mean
    _, vecs = torch.linalg.eigh(centred.T @ centred)
    top = vecs[:, -1]
    top = top * torch.sign(top @ diffs.mean(dim=0))
    check_values("bias_direction (pca)", g, top)


def test_bias_direction_mean_and_mapping_input(rng):
    words = {w: rng.standard_normal(5) for w in ("he", "she", "man", "woman")}
    pairs = [("he", "she"), ("man", "woman")]
    g = db.bias_direction(pairs, words, method="mean")
    unit = {w: v / np.linalg.norm(v) for w, v in words.items()}
    mean = ((unit["he"] - unit["she"]) + (unit["man"] - unit["woman"])) / 2
    check_values("bias_direction (mean)", g, F.normalize(to_torch(mean), dim=0))
    # a single pair: both methods give the normalised difference, oriented from b to a
    one = db.bias_direction([("she", "he")], words, normalize=False)
    diff = words["she"] - words["he"]
    np.testing.assert_allclose(one, diff / np.linalg.norm(diff), rtol=1e-12)


def test_bias_direction_recovers_a_planted_axis(rng):
    d, axis = 20, np.eye(20)[3]
    words = {}
    for p in range(10):
        shared = rng.standard_normal(d)
        words[f"m{p}"] = shared + 0.8 * axis + 0.05 * rng.standard_normal(d)
        words[f"f{p}"] = shared - 0.8 * axis + 0.05 * rng.standard_normal(d)
    pairs = [(f"m{p}", f"f{p}") for p in range(10)]
    for method in ("pca", "mean"):
        g = db.bias_direction(pairs, words, method=method, normalize=False)
        assert g @ axis > 0.99
        assert np.linalg.norm(g) == pytest.approx(1.0, abs=1e-14)
    flipped = db.bias_direction([(b, a) for a, b in pairs], words, normalize=False)
    assert flipped @ axis < -0.99


def test_functions_do_not_modify_their_inputs(rng):
    e1, e2, g = rng.standard_normal(4), rng.standard_normal(4), rng.standard_normal(4)
    copies = [x.copy() for x in (e1, e2, g)]
    db.neutralize(e1, g, unit=True)
    db.equalize(e1, e2, g)
    db.projection(e2, g)
    for x, c in zip((e1, e2, g), copies, strict=True):
        np.testing.assert_array_equal(x, c)


@pytest.mark.parametrize("call, match", [
    (lambda: db.projection(np.ones(3), np.zeros(3)), "must be non-zero"),
    (lambda: db.equalize(np.ones(3), -np.ones(3), np.zeros(3)), "must be non-zero"),
    (lambda: db.neutralize(np.ones(3), np.ones(4)), "same dimension"),
    (lambda: db.projection(np.ones(2), np.ones(3)), "same dimension"),
    (lambda: db.equalize(np.ones(3), np.ones(2), np.ones(3)), "same dimension"),
    (lambda: db.neutralize(np.ones((2, 3)), np.ones(3)), "must have 1 dimension"),
    (lambda: db.neutralize(np.ones(3), np.ones((3, 1))), "must have 1 dimension"),
    (lambda: db.projection(np.float64(2.0), np.ones(1)), "must have 1 dimension"),
    (lambda: db.neutralize(np.array([]), np.array([])), "at least one component"),
    (lambda: db.neutralize(np.array([1.0, np.nan]), np.ones(2)), "finite"),
    (lambda: db.neutralize(np.array([2.0, 0.0]), np.array([1.0, 0.0]), unit=True), "length 0"),
    (lambda: db.equalize(np.zeros(3), np.ones(3), np.ones(3)), "length 0"),
    (lambda: db.equalize(np.array([1.0, 2.0]), np.array([-1.0, 2.0]), np.array([0.0, 1.0])),
     "same component along g"),
    (lambda: db.bias_direction([], np.eye(2)), "non-empty"),
    (lambda: db.bias_direction([(0, 1, 2)], np.eye(3)), r"pairs\[0\] must be a pair"),
    (lambda: db.bias_direction(["ab"], {"a": np.ones(2), "b": np.ones(2)}), "must be a pair"),
    (lambda: db.bias_direction([("he", "she")], {"he": np.ones(2)}), "has no vector"),
    (lambda: db.bias_direction([(0, 5)], np.eye(3)), "has no vector"),
    (lambda: db.bias_direction([("a", "b")], {"a": np.ones(2), "b": np.ones(3)}),
     "same shape"),
    (lambda: db.bias_direction([(0, 1)], np.ones((2, 3))), "no direction"),
    (lambda: db.bias_direction([(0, 1), (1, 0)], np.eye(2), method="mean"), "no direction"),
    (lambda: db.bias_direction([(0, 1)], np.eye(2), method="svd"), "method must be"),
    (lambda: db.bias_direction([(0, 1)], np.ones(4)), "must have 2 dimension"),
])
def test_bad_input_raises_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_non_numeric_input_raises_type_error():
    with pytest.raises(TypeError, match="real numeric"):
        db.neutralize(np.array(["a", "b"]), np.ones(2))


# --- issue 12: overflow-safe norms, dtypes, argument checks --------------------------------

@pytest.mark.parametrize("scale", [1e-200, 1e200, 1e300])
def test_projection_and_neutralize_are_right_at_extreme_magnitudes(scale):
    # Old code: e . g and |g|^2 overflowed (inf / inf = NaN, or 0) or underflowed ("g must be
    # non-zero") at these magnitudes.
    g = np.array([1.0, 0.0, 0.0]) * scale
    e = np.array([1.0, 1.0, 0.0]) * scale
    np.testing.assert_allclose(db.projection(e, g), [scale, 0, 0], rtol=1e-15)
    np.testing.assert_allclose(db.neutralize(e, g), [0, scale, 0], rtol=1e-15)
    orthogonal = np.array([0.0, 1.0, 0.0]) * scale
    assert np.all(db.projection(orthogonal, g) == 0)
    np.testing.assert_array_equal(db.neutralize(orthogonal, g), orthogonal)
    np.testing.assert_allclose(db.neutralize(e, g, unit=True), [0, 1, 0], atol=1e-15)
    # g of one size, e of another
    np.testing.assert_allclose(db.projection(np.array([1.0, 2, 0]), g), [1, 0, 0], rtol=1e-15)


@pytest.mark.parametrize("scale", [1e-200, 1e200, 1e300])
def test_equalize_is_right_at_extreme_magnitudes(scale):
    # Old code: "e1 and e2 have the same component along g" for a perfectly good pair.
    g = np.array([1.0, 0.0, 0.0]) * scale
    e1, e2 = np.array([0.6, 0.8, 0.0]) * scale, np.array([-0.8, 0.6, 0.0]) * scale
    want = db.equalize(e1 / scale, e2 / scale, g / scale)
    got = db.equalize(e1, e2, g)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-15)
        assert abs(np.linalg.norm(a) - 1) < 1e-14


def test_equalize_keeps_float32():
    # Old code: float32 in, float64 out.
    g = np.array([1, 0, 0], np.float32)
    e1, e2 = np.array([1, 0.5, 0], np.float32), np.array([-1, 0.5, 0.1], np.float32)
    out = db.equalize(e1, e2, g)
    assert all(a.dtype == np.float32 for a in out)
    want = db.equalize(e1.astype(float), e2.astype(float), g.astype(float))
    for a, b in zip(out, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert db.projection(e1, g).dtype == np.float32
    assert db.neutralize(e1, g).dtype == np.float32


def test_bool_keys_and_flags_are_refused():
    with pytest.raises(TypeError, match="bool"):
        db.bias_direction([(True, 0)], np.eye(2))
    with pytest.raises(TypeError, match="unit"):
        db.neutralize(np.ones(2), np.array([1.0, 0]), unit="yes")
    with pytest.raises(TypeError, match="normalize"):
        db.bias_direction([(0, 1)], np.eye(2), normalize=None)


def test_bias_direction_of_huge_vectors():
    vectors = np.array([[1.0, 1.0], [-1.0, 1.0]]) * 1e300
    for method in ("pca", "mean"):
        np.testing.assert_allclose(db.bias_direction([(0, 1)], vectors, method=method,
                                                     normalize=False), [1, 0], atol=1e-15)
