"""dlnotes.embeddings: cosine similarity against torch (vectors, rows, batch 1, extreme scales),
co-occurrence counts against a brute-force count, PPMI against its definition, SVD embeddings
(reconstruction at full rank, agreement with torch.linalg.svd), nearest neighbours, analogies
(against a brute-force search, and their argument order), bad input."""
import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlnotes.embeddings import (
    analogy,
    cooccurrence_matrix,
    cosine_similarity,
    nearest,
    ppmi,
    svd_embeddings,
)
from dlnotes.verify import check_values, to_numpy, to_torch

TINY = [["the", "cat", "sat", "on", "the", "mat"], ["the", "dog", "sat"], ["a", "cat"], ["dog"]]


# ---------------------------------------------------------------- cosine similarity
@pytest.mark.parametrize("shape", [(1, 5), (7, 3), (4, 1), (2, 64)])
def test_cosine_rows_match_torch(rng, shape):
    u, v = rng.standard_normal(shape), rng.standard_normal(shape)
    ours = cosine_similarity(u, v)
    assert ours.shape == (shape[0],)
    check_values(f"cosine rows {shape}", ours, F.cosine_similarity(to_torch(u), to_torch(v), dim=1))


@pytest.mark.parametrize("d", [1, 2, 9])
def test_cosine_vectors_match_torch_and_return_a_float(rng, d):
    u, v = rng.standard_normal(d), rng.standard_normal(d)
    ours = cosine_similarity(u, v)
    assert isinstance(ours, float)
    check_values(f"cosine (D={d})", ours, F.cosine_similarity(to_torch(u), to_torch(v), dim=0))


def test_cosine_of_parallel_orthogonal_and_opposite_vectors():
    u = np.array([3.0, 4.0, 0.0])
    assert cosine_similarity(u, 2.5 * u) == 1.0                    # clipped, never 1 + eps
    assert cosine_similarity(u, -u) == -1.0
    assert cosine_similarity(u, np.array([-4.0, 3.0, 7.0])) == 0.0
    assert cosine_similarity([1, 1], [1, 0]) == pytest.approx(1 / np.sqrt(2), rel=1e-15)


def test_cosine_survives_extreme_scales(rng):
    u, v = rng.standard_normal((3, 6)), rng.standard_normal((3, 6))
    reference = to_numpy(F.cosine_similarity(to_torch(u), to_torch(v), dim=1))
    for scale in (1e-300, 1e300):
        check_values(f"cosine at scale {scale:.0e}", cosine_similarity(scale * u, v), reference)
        check_values(f"cosine at scale {scale:.0e}, both", cosine_similarity(scale * u, scale * v),
                     reference)


def test_cosine_bad_input():
    with pytest.raises(ValueError, match="zero vector"):
        cosine_similarity(np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match=r"v is a zero vector \(row 1\)"):
        cosine_similarity(np.ones((2, 3)), np.array([[1.0, 2, 3], [0, 0, 0]]))
    with pytest.raises(ValueError, match="same shape"):
        cosine_similarity(np.ones(3), np.ones((1, 3)))
    with pytest.raises(ValueError, match="vector"):
        cosine_similarity(np.ones((2, 2, 2)), np.ones((2, 2, 2)))
    with pytest.raises(ValueError, match="finite"):
        cosine_similarity(np.array([1.0, np.nan]), np.ones(2))
    with pytest.raises(ValueError, match="at least one entry"):
        cosine_similarity(np.ones((2, 0)), np.ones((2, 0)))
    with pytest.raises(TypeError):
        cosine_similarity(["a", "b"], ["c", "d"])


# ---------------------------------------------------------------- co-occurrence counts
def brute_force_counts(sentences, window):
    vocab = sorted({t for s in sentences for t in s})
    counts = {(a, b): 0 for a in vocab for b in vocab}
    for s in sentences:
        for i, j in itertools.product(range(len(s)), repeat=2):
            if 1 <= abs(i - j) <= window:
                counts[s[i], s[j]] += 1
    return np.array([[counts[a, b] for b in vocab] for a in vocab]), vocab


@pytest.mark.parametrize("window", [1, 2, 3, 10])
def test_counts_match_brute_force_and_are_symmetric(window):
    counts, vocab = cooccurrence_matrix(TINY, window)
    expected, expected_vocab = brute_force_counts(TINY, window)
    assert vocab == expected_vocab == sorted(vocab)
    assert counts.dtype == np.int64
    np.testing.assert_array_equal(counts, expected)
    np.testing.assert_array_equal(counts, counts.T)


def test_counts_by_hand():
    counts, vocab = cooccurrence_matrix([["a", "b", "a"]], window=1)
    assert vocab == ["a", "b"]
    np.testing.assert_array_equal(counts, [[0, 2], [2, 0]])
    counts, _ = cooccurrence_matrix([["a", "b", "a"]], window=2)       # a sees itself at distance 2
    np.testing.assert_array_equal(counts, [[2, 2], [2, 0]])
    # each token has at most 2w neighbours, so row sums are 2w per token away from the edges
    counts, vocab = cooccurrence_matrix([list("abcdefg")], window=2)
    np.testing.assert_array_equal(counts.sum(axis=1), [2, 3, 4, 4, 4, 3, 2])


def test_windows_do_not_cross_sentences():
    joined, _ = cooccurrence_matrix([["x", "y"]], window=5)
    split, _ = cooccurrence_matrix([["x"], ["y"]], window=5)
    assert joined[0, 1] == 1 and split[0, 1] == 0


def test_counts_on_random_corpus_match_brute_force(rng):
    words = list("abcdef")
    sentences = [[words[i] for i in rng.integers(0, 6, size=int(rng.integers(1, 12)))]
                 for _ in range(30)]
    for window in (1, 4):
        counts, _ = cooccurrence_matrix(sentences, window)
        np.testing.assert_array_equal(counts, brute_force_counts(sentences, window)[0])


def test_cooccurrence_bad_input():
    for empty in ([], [[]], [[], []]):
        with pytest.raises(ValueError, match="empty"):
            cooccurrence_matrix(empty, 2)
    for window in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="window"):
            cooccurrence_matrix(TINY, window)
    with pytest.raises(TypeError, match="sentence 1"):
        cooccurrence_matrix([["a"], "b c"], 1)
    with pytest.raises(TypeError, match="list of token lists"):
        cooccurrence_matrix("the cat sat", 1)


# ---------------------------------------------------------------- PPMI and SVD
def test_ppmi_matches_its_definition():
    counts, _ = cooccurrence_matrix(TINY, 2)
    c = counts.astype(float)
    out = ppmi(counts)
    total = c.sum()
    for a, b in itertools.product(range(len(c)), repeat=2):
        if c[a, b] == 0:
            assert out[a, b] == 0.0
        else:
            pmi = np.log(c[a, b] * total / (c[a].sum() * c[:, b].sum()))
            assert out[a, b] == pytest.approx(max(pmi, 0.0), rel=1e-12, abs=1e-15)
    assert np.all(out >= 0) and np.array_equal(out, out.T)


def test_ppmi_of_independent_counts_is_zero():
    p = np.array([1.0, 2.0, 4.0])
    np.testing.assert_allclose(ppmi(np.outer(p, p)), 0.0, atol=1e-15)  # C_ab = C_a C_b / total


@pytest.mark.parametrize("transform", ["none", "log", "ppmi"])
def test_svd_embeddings_reconstruct_at_full_rank(rng, transform):
    V, r = 9, 5
    counts = (rng.random((V, r)) @ rng.random((r, V))) * 10      # non-negative, rank 5
    counts = counts + counts.T
    m = {"none": counts, "log": np.log1p(counts), "ppmi": ppmi(counts)}[transform]
    rank = np.linalg.matrix_rank(m)
    emb = svd_embeddings(counts, rank, transform=transform)
    assert emb.shape == (V, rank)
    # the dot products between rows of M survive ...
    check_values("E E^T = M M^T", emb @ emb.T, to_torch(m) @ to_torch(m).T, atol=1e-10)
    # ... and M itself is recovered from E by a linear map (E = M W_k, so M = E W_k^T)
    w_t = np.linalg.lstsq(emb, m, rcond=None)[0]
    np.testing.assert_allclose(emb @ w_t, m, rtol=1e-9, atol=1e-9)
    # with one dimension fewer it is not recovered
    short = svd_embeddings(counts, rank - 1, transform=transform)
    assert not np.allclose(short @ np.linalg.lstsq(short, m, rcond=None)[0], m, atol=1e-6)


def test_svd_embeddings_match_torch_svd_with_sign_rule(rng):
    counts = rng.integers(0, 20, size=(12, 12))
    counts = counts + counts.T
    m = ppmi(counts)
    for k in (1, 4, 7):
        emb = svd_embeddings(counts, k)
        u, s, _ = torch.linalg.svd(to_torch(m))
        ref = u[:, :k] * s[:k]                                      # (V, k)
        pivot = ref.abs().argmax(dim=0)
        ref = ref * torch.sign(ref[pivot, torch.arange(k, device=ref.device)])
        check_values(f"U S, first {k} columns", emb, ref)
        assert np.all(emb[np.argmax(np.abs(emb), axis=0), np.arange(k)] > 0)


def test_svd_embeddings_bad_input(rng):
    counts = rng.integers(0, 5, size=(4, 4))
    with pytest.raises(ValueError, match="at most V=4"):
        svd_embeddings(counts, 5)
    for dim in (0, -2, 2.0):
        with pytest.raises(ValueError, match="dim"):
            svd_embeddings(counts, dim)
    with pytest.raises(ValueError, match="transform"):
        svd_embeddings(counts, 2, transform="sqrt")
    with pytest.raises(ValueError, match="square"):
        svd_embeddings(np.ones((3, 4)), 2)
    with pytest.raises(ValueError, match="non-negative"):
        svd_embeddings(-np.ones((3, 3)), 2)
    with pytest.raises(ValueError, match="all zero"):
        ppmi(np.zeros((3, 3)))


# ---------------------------------------------------------------- nearest neighbours
VOCAB = ["apple", "banana", "car", "cherry", "truck"]
VECS = np.array([[1.0, 0.1, 0.0],      # apple
                 [0.9, 0.3, 0.0],      # banana
                 [0.0, 0.2, 1.0],      # car
                 [2.0, 0.0, 0.1],      # cherry (longer, same direction as apple)
                 [0.1, 0.0, 3.0]])     # truck


def test_nearest_by_word_excludes_the_word():
    got = nearest("apple", VECS, VOCAB, 2)
    assert [w for w, _ in got] == ["cherry", "banana"]
    expected = [cosine_similarity(VECS[0], VECS[VOCAB.index(w)]) for w, _ in got]
    assert [s for _, s in got] == expected
    assert [w for w, _ in nearest("car", VECS, VOCAB, 1)] == ["truck"]
    assert "apple" not in [w for w, _ in nearest("apple", VECS, VOCAB, 4)]


def test_nearest_by_vector_and_exclude():
    q = VECS[0] + VECS[2] * 0.01
    assert [w for w, _ in nearest(q, VECS, VOCAB, 1)] == ["apple"]   # a vector excludes nothing
    got = nearest(q, VECS, VOCAB, 2, exclude=("apple",))
    assert [w for w, _ in got] == ["cherry", "banana"]
    sims = [s for _, s in nearest(q, VECS, VOCAB, 5)]
    assert sims == sorted(sims, reverse=True)


def test_nearest_ties_keep_vocab_order():
    vecs = np.array([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0], [0.0, 1.0]])
    assert [w for w, _ in nearest("d", vecs, ["a", "b", "c", "d"], 3)] == ["a", "b", "c"]


def test_nearest_bad_input():
    with pytest.raises(ValueError, match="unknown word 'kiwi'"):
        nearest("kiwi", VECS, VOCAB, 1)
    with pytest.raises(ValueError, match="unknown word 'kiwi'"):
        nearest("apple", VECS, VOCAB, 1, exclude=("kiwi",))
    for k in (0, -1):
        with pytest.raises(ValueError, match="k must be"):
            nearest("apple", VECS, VOCAB, k)
    with pytest.raises(ValueError, match="only 4 words"):
        nearest("apple", VECS, VOCAB, 5)
    with pytest.raises(ValueError, match="vocab has 4 words"):
        nearest("apple", VECS, VOCAB[:4], 1)
    with pytest.raises(ValueError, match="twice"):
        nearest("apple", VECS, ["apple", "apple", "car", "cherry", "truck"], 1)
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        nearest(np.ones(4), VECS, VOCAB, 1)
    with pytest.raises(ValueError, match="query vector is zero"):
        nearest(np.zeros(3), VECS, VOCAB, 1)
    zero_row = VECS.copy()
    zero_row[2] = 0
    with pytest.raises(ValueError, match=r"vectors: the vector of 'car' \(row 2\) is zero"):
        nearest("apple", zero_row, VOCAB, 1)


# ---------------------------------------------------------------- analogies
def brute_force_analogy(a, b, c, vectors, vocab, k):
    # every word outside {a, b, c}, scored one at a time by the textbook cosine
    row = {w: np.asarray(vectors[i], dtype=float) for i, w in enumerate(vocab)}
    q = row[b] - row[a] + row[c]
    scored = [(w, float(q @ row[w] / (np.sqrt(q @ q) * np.sqrt(row[w] @ row[w]))))
              for w in vocab if w not in (a, b, c)]
    scored.sort(key=lambda ws: -ws[1])                   # stable: ties keep vocab order
    return scored[:k]


GENDER_VOCAB = ["king", "man", "queen", "woman", "apple", "prince", "princess"]
GENDER_VECS = np.array([[1.0, 1.0, 0.0],     # king:  royal, male
                        [0.0, 1.0, 0.0],     # man
                        [1.0, -1.0, 0.0],    # queen: royal, female
                        [0.0, -1.0, 0.0],    # woman
                        [0.0, 0.0, 1.0],     # apple
                        [0.9, 1.0, 0.3],     # prince
                        [0.9, -1.0, 0.3]])   # princess


def test_analogy_argument_order_is_a_to_b_as_c_to_what():
    # man : king :: woman : ?  asks for b - a + c = king - man + woman = queen
    assert analogy("man", "king", "woman", GENDER_VECS, GENDER_VOCAB)[0][0] == "queen"
    # king : man :: queen : ?  is the same relation read the other way
    assert analogy("king", "man", "queen", GENDER_VECS, GENDER_VOCAB)[0][0] == "woman"
    # man : woman :: prince : ?
    assert analogy("man", "woman", "prince", GENDER_VECS, GENDER_VOCAB)[0][0] == "princess"
    got = analogy("man", "king", "woman", GENDER_VECS, GENDER_VOCAB, k=4)
    assert len(got) == 4 and not {"man", "king", "woman"} & {w for w, _ in got}


@pytest.mark.parametrize("k", [1, 3, 17])
def test_analogy_matches_brute_force(rng, k):
    vocab = [f"w{i}" for i in range(20)]
    vectors = rng.standard_normal((20, 6))
    for _ in range(10):
        a, b, c = (vocab[i] for i in rng.choice(20, size=3, replace=False))
        got = analogy(a, b, c, vectors, vocab, k=k)
        expected = brute_force_analogy(a, b, c, vectors, vocab, k)
        assert [w for w, _ in got] == [w for w, _ in expected]
        np.testing.assert_allclose([s for _, s in got], [s for _, s in expected],
                                   rtol=1e-12, atol=1e-15)


def test_analogy_uses_rows_as_given():
    # scaling one row changes the offset, so unit rows and raw rows can disagree
    vecs = GENDER_VECS.copy()
    vecs[GENDER_VOCAB.index("woman")] *= 10.0
    q = vecs[0] - vecs[1] + vecs[3]
    expected = nearest(q, vecs, GENDER_VOCAB, 2, exclude=("man", "king", "woman"))
    got = analogy("man", "king", "woman", vecs, GENDER_VOCAB, k=2)
    assert [w for w, _ in got] == [w for w, _ in expected]
    np.testing.assert_allclose([s for _, s in got], [s for _, s in expected], rtol=1e-14)


def test_analogy_bad_input():
    with pytest.raises(ValueError, match="unknown word 'duke'"):
        analogy("man", "duke", "woman", GENDER_VECS, GENDER_VOCAB)
    with pytest.raises(TypeError, match="c must be a word"):
        analogy("man", "king", 3, GENDER_VECS, GENDER_VOCAB)
    with pytest.raises(ValueError, match="vocab has 6 words"):
        analogy("man", "king", "woman", GENDER_VECS, GENDER_VOCAB[:6])
    with pytest.raises(TypeError, match="vocab must be a list of str"):
        analogy("man", "king", "woman", GENDER_VECS, "king man")
    with pytest.raises(ValueError, match="k must be"):
        analogy("man", "king", "woman", GENDER_VECS, GENDER_VOCAB, k=0)
    with pytest.raises(ValueError, match="only 4 words"):
        analogy("man", "king", "woman", GENDER_VECS, GENDER_VOCAB, k=5)
    with pytest.raises(ValueError, match="query vector is zero"):   # b - a + c = 0
        analogy("p", "q", "r", np.array([[1.0, 1], [1, 0], [0, 1], [1, 2]]), ["p", "q", "r", "s"])
    with pytest.raises(ValueError, match=r"\(V, D\)"):
        analogy("man", "king", "woman", np.ones(7), GENDER_VOCAB)


# --- issue 12: extreme magnitudes, messages that name the caller's argument ----------------

def test_ppmi_is_scale_invariant_at_extreme_magnitudes():
    # Old code: the products rows @ cols overflowed (PPMI all 0) or underflowed (inf).
    counts = np.array([[0, 3, 1], [3, 0, 2], [1, 2, 4]], dtype=float)
    want = ppmi(counts)
    assert want.max() > 0
    for scale in (1e-300, 1e-200, 1e200, 1e300):
        np.testing.assert_allclose(ppmi(counts * scale), want, rtol=1e-12, atol=1e-14)


def test_nearest_names_the_callers_arguments():
    # Old code: "u and v must be finite", naming cosine_similarity's internal arguments.
    vocab = ["a", "b", "c"]
    vectors = np.eye(3)
    bad = vectors.copy()
    bad[1, 1] = np.nan
    with pytest.raises(ValueError, match="^vectors must be finite"):
        nearest("a", bad, vocab, 1)
    with pytest.raises(ValueError, match="^query must be finite"):
        nearest(np.array([np.nan, 1, 0]), vectors, vocab, 1)
    with pytest.raises(ValueError, match="^vectors must be finite"):
        analogy("a", "b", "c", bad, vocab)
    with pytest.raises(ValueError, match="^v must be finite"):
        cosine_similarity(np.ones(2), np.array([1, np.inf]))
    with pytest.raises(TypeError, match="exclude"):
        nearest("a", vectors, vocab, 1, exclude="b")


def test_analogy_of_huge_vectors():
    vecs = GENDER_VECS * 1e300
    got = analogy("man", "king", "woman", vecs, GENDER_VOCAB, k=2)
    want = analogy("man", "king", "woman", GENDER_VECS, GENDER_VOCAB, k=2)
    assert [w for w, _ in got] == [w for w, _ in want]
    np.testing.assert_allclose([s for _, s in got], [s for _, s in want], rtol=1e-12)
