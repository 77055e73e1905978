"""dlnotes.word2vec: the negative-sampling loss and the batched skip-gram / CBOW losses against
torch autograd in float64 (large dot products included), the noise distribution, subsampling
keep-probabilities, phrase scores on hand-counted and course corpora, training, and bad input."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlnotes import corpus
from dlnotes import word2vec as w2v
from dlnotes.verify import check_loss


def _torch_ns(v_c, u_o, u_neg):
    return -F.logsigmoid(u_o @ v_c) - F.logsigmoid(-(u_neg @ v_c)).sum()


def _ours_wrt(which):
    order = {"v_c": (0, 1, 2), "u_o": (1, 0, 2), "u_neg": (2, 0, 1)}[which]

    def loss_fn(*args):
        v_c, u_o, u_neg = (args[order.index(i)] for i in range(3))
        loss, grads = w2v.negative_sampling_loss(v_c, u_o, u_neg)
        return loss, grads[order[0]]

    def reference(*args):
        return _torch_ns(*(args[order.index(i)] for i in range(3)))

    return loss_fn, reference, order


@pytest.mark.parametrize("d, k", [(1, 1), (3, 5), (8, 2), (17, 10)])
@pytest.mark.parametrize("scale", [0.1, 1.0, 30.0, 1000.0])
@pytest.mark.parametrize("which", ["v_c", "u_o", "u_neg"])
def test_negative_sampling_loss_matches_torch(d, k, scale, which, rng):
    args = (scale * rng.standard_normal(d), scale * rng.standard_normal(d),
            scale * rng.standard_normal((k, d)))
    loss_fn, reference, order = _ours_wrt(which)
    check_loss(f"ns wrt {which}", loss_fn, reference, tuple(args[i] for i in order))


def test_negative_sampling_loss_is_finite_for_huge_dot_products():
    v = np.full(4, 100.0)
    loss, (dv, du_o, du_neg) = w2v.negative_sampling_loss(v, -v, np.stack([v, -v]))
    # s_o = -4e4 and s_1 = +4e4 cost 4e4 each; s_2 = -4e4 costs (almost) nothing.
    assert loss == pytest.approx(8e4, rel=1e-12)
    assert all(np.all(np.isfinite(g)) for g in (dv, du_o, du_neg))
    assert np.allclose(du_o, -v) and np.allclose(du_neg, [v, 0 * v])


def test_negative_sampling_loss_at_zero_vectors_is_k_plus_one_log_two(rng):
    k = 6
    loss, (dv, du_o, du_neg) = w2v.negative_sampling_loss(np.zeros(3), rng.standard_normal(3),
                                                          np.zeros((k, 3)))
    assert loss == pytest.approx((k + 1) * np.log(2), rel=1e-14)
    assert np.allclose(du_o, 0) and np.allclose(du_neg, 0)


def _torch_skipgram(W_in, W_out, centers, contexts, negatives):
    v = W_in[centers]
    s_o = (W_out[contexts] * v).sum(1)
    s_n = torch.einsum("bkd,bd->bk", W_out[negatives], v)
    valid = negatives != contexts[:, None]
    return -F.logsigmoid(s_o).sum() - (F.logsigmoid(-s_n) * valid).sum()


def _batch(rng, V, B, K):
    return rng.integers(0, V, B), rng.integers(0, V, B), rng.integers(0, V, (B, K))


@pytest.mark.parametrize("V, D, B, K", [(1, 1, 1, 1), (3, 2, 7, 4), (11, 5, 40, 5), (50, 9, 3, 2)])
def test_skipgram_batch_loss_matches_torch_in_both_tables(V, D, B, K, rng):
    W_in, W_out = rng.standard_normal((V, D)), rng.standard_normal((V, D))
    centers, contexts, negatives = _batch(rng, V, B, K)
    negatives[0, 0] = contexts[0]                      # a collision that must be skipped
    check_loss("skipgram wrt W_in",
               lambda wi, wo, *rest: (w2v.skipgram_batch_loss(wi, wo, *rest)[0],
                                      w2v.skipgram_batch_loss(wi, wo, *rest)[1][0]),
               _torch_skipgram, (W_in, W_out, centers, contexts, negatives))
    check_loss("skipgram wrt W_out",
               lambda wo, wi, *rest: (w2v.skipgram_batch_loss(wi, wo, *rest)[0],
                                      w2v.skipgram_batch_loss(wi, wo, *rest)[1][1]),
               lambda wo, wi, *rest: _torch_skipgram(wi, wo, *rest),
               (W_out, W_in, centers, contexts, negatives))


def test_skipgram_batch_loss_is_the_sum_of_single_pair_losses(rng):
    V, D, B, K = 9, 4, 12, 3
    W_in, W_out = rng.standard_normal((V, D)), rng.standard_normal((V, D))
    centers, contexts, negatives = _batch(rng, V, B, K)
    negatives = (contexts[:, None] + 1 + np.arange(K)) % V   # never the true context
    loss, (dW_in, dW_out) = w2v.skipgram_batch_loss(W_in, W_out, centers, contexts, negatives)
    total, g_in, g_out = 0.0, np.zeros_like(W_in), np.zeros_like(W_out)
    for c, o, n in zip(centers, contexts, negatives, strict=True):
        pair_loss, (dv, du_o, du_n) = w2v.negative_sampling_loss(W_in[c], W_out[o], W_out[n])
        total += pair_loss
        g_in[c] += dv
        g_out[o] += du_o
        for j, row in enumerate(n):
            g_out[row] += du_n[j]
    assert loss == pytest.approx(total, rel=1e-12)
    assert np.allclose(dW_in, g_in, rtol=1e-12, atol=1e-14)
    assert np.allclose(dW_out, g_out, rtol=1e-12, atol=1e-14)


def _torch_cbow(W_in, W_out, ids, mask, centers, negatives):
    m = mask.to(W_in.dtype)
    h = (W_in[ids] * m[:, :, None]).sum(1) / m.sum(1, keepdim=True)
    s_o = (W_out[centers] * h).sum(1)
    s_n = torch.einsum("bkd,bd->bk", W_out[negatives], h)
    valid = negatives != centers[:, None]
    return -F.logsigmoid(s_o).sum() - (F.logsigmoid(-s_n) * valid).sum()


@pytest.mark.parametrize("V, D, B, S, K", [(2, 1, 1, 1, 1), (7, 3, 9, 4, 3), (20, 6, 30, 6, 5)])
def test_cbow_batch_loss_matches_torch_in_both_tables(V, D, B, S, K, rng):
    W_in, W_out = rng.standard_normal((V, D)), rng.standard_normal((V, D))
    ids = rng.integers(0, V, (B, S))
    mask = rng.random((B, S)) < 0.6
    mask[:, 0] = True
    centers, negatives = rng.integers(0, V, B), rng.integers(0, V, (B, K))
    check_loss("cbow wrt W_in",
               lambda wi, wo, *rest: (w2v.cbow_batch_loss(wi, wo, *rest)[0],
                                      w2v.cbow_batch_loss(wi, wo, *rest)[1][0]),
               _torch_cbow, (W_in, W_out, ids, mask, centers, negatives))
    check_loss("cbow wrt W_out",
               lambda wo, wi, *rest: (w2v.cbow_batch_loss(wi, wo, *rest)[0],
                                      w2v.cbow_batch_loss(wi, wo, *rest)[1][1]),
               lambda wo, wi, *rest: _torch_cbow(wi, wo, *rest),
               (W_out, W_in, ids, mask, centers, negatives))


def test_noise_distribution_is_the_three_quarter_power_and_sums_to_one():
    counts = np.array([1000, 100, 10, 1, 0])
    p = w2v.noise_distribution(counts)
    assert p.sum() == pytest.approx(1.0, abs=1e-15)
    expected = np.array([1000 ** 0.75, 100 ** 0.75, 10 ** 0.75, 1.0, 0.0])
    assert np.allclose(p, expected / expected.sum(), rtol=1e-14)
    # the flattening: the frequent word is drawn less often than it occurs, the rare more
    unigram = counts / counts.sum()
    assert p[0] < unigram[0] and p[3] > unigram[3] and p[4] == 0
    assert np.allclose(w2v.noise_distribution(counts[:4], power=0.0), 0.25)


def test_keep_probability_is_min_one_sqrt_t_over_f():
    counts = np.array([900, 90, 10])                    # f = 0.9, 0.09, 0.01
    keep = w2v.keep_probability(counts, t=0.01)
    assert np.allclose(keep, [np.sqrt(1 / 90), 1 / 3, 1.0], rtol=1e-14)
    assert np.allclose(w2v.keep_probability(counts, t=1.0), 1.0)


def test_phrase_scores_follow_the_formula_on_a_hand_counted_corpus():
    sents = [["new", "york", "is", "big"], ["new", "york"], ["york", "is"]]
    scores = dict(w2v.phrase_scores(sents, delta=1.0))
    # counts: new 2, york 3, is 2, big 1; (new york) 2, (york is) 2, (is big) 1
    assert scores[("new", "york")] == pytest.approx((2 - 1) / (2 * 3))
    assert scores[("york", "is")] == pytest.approx((2 - 1) / (3 * 2))
    assert scores[("is", "big")] == pytest.approx(0.0)
    # No bigram across sentences.
    assert ("big", "new") not in scores and ("york", "york") not in scores
    ranked = w2v.phrase_scores(sents, delta=0.0)
    assert [s for _, s in ranked] == sorted((s for _, s in ranked), reverse=True)


def test_phrase_scores_find_the_city_names_of_the_course_corpus():
    sents = corpus.template_corpus(2000, np.random.default_rng(0))
    top = [pair for pair, _ in w2v.phrase_scores(sents, delta=20.0)[:8]]
    for phrase in corpus.PHRASES:
        assert tuple(phrase.split()) in top
    assert ("the", "king") not in top


def test_join_phrases_merges_left_to_right():
    out = w2v.join_phrases([["a", "new", "york", "york"], ["new"]],
                           [("new", "york"), ("york", "york")])
    assert out == [["a", "new_york", "york"], ["new"]]


def test_build_vocab_orders_by_count_then_alphabet():
    vocab = w2v.build_vocab([["b", "a", "c", "a"], ["c", "d"]], min_count=1)
    assert vocab.words == ["a", "c", "b", "d"]
    assert vocab.counts.tolist() == [2, 2, 1, 1] and vocab.index["b"] == 2
    assert w2v.build_vocab([["b", "a", "c", "a"]], min_count=2).words == ["a"]


@pytest.fixture(scope="module")
def small_corpus():
    return corpus.template_corpus(1500, np.random.default_rng(3))


@pytest.mark.parametrize("trainer", [w2v.train_skipgram, w2v.train_cbow])
def test_training_reduces_the_loss_and_groups_topic_words(trainer, small_corpus):
    K = 5
    vocab, W_in, W_out, history = trainer(small_corpus, dim=20, window=2, negatives=K, epochs=6,
                                          lr=0.025, rng=np.random.default_rng(0),
                                          subsample=1e-2)
    assert history.shape == (6,) and W_in.shape == W_out.shape == (len(vocab.words), 20)
    assert history[0] < (K + 1) * np.log(2)            # the loss of the all-zero start
    assert history[-1] < 0.8 * history[0]
    unit = W_in / np.linalg.norm(W_in, axis=1, keepdims=True)
    topics = (("dog", corpus.ANIMALS), ("bread", corpus.FOODS), ("three", corpus.NUMBERS),
              ("paris", tuple(corpus.CAPITALS.values())))
    for word, topic in topics:                         # the two nearest share the topic
        sims = unit @ unit[vocab.index[word]]
        order = [vocab.words[i] for i in np.argsort(-sims) if vocab.words[i] != word][:2]
        assert set(order) <= set(topic), (word, order)


def test_noise_power_changes_training_and_three_quarters_is_the_default(small_corpus):
    kw = dict(dim=8, window=2, negatives=3, epochs=1, lr=0.05)
    default = w2v.train_skipgram(small_corpus, **kw, rng=np.random.default_rng(7))
    explicit = w2v.train_skipgram(small_corpus, **kw, rng=np.random.default_rng(7),
                                  noise_power=0.75)
    uniform = w2v.train_skipgram(small_corpus, **kw, rng=np.random.default_rng(7),
                                 noise_power=0.0)
    assert np.array_equal(default[1], explicit[1])
    assert not np.allclose(default[1], uniform[1])


def test_training_is_reproducible_and_depends_on_the_seed(small_corpus):
    kw = dict(dim=8, window=2, negatives=3, epochs=2, lr=0.05)
    a = w2v.train_skipgram(small_corpus, **kw, rng=np.random.default_rng(7))
    b = w2v.train_skipgram(small_corpus, **kw, rng=np.random.default_rng(7))
    c = w2v.train_skipgram(small_corpus, **kw, rng=np.random.default_rng(8))
    assert a[0].words == b[0].words
    for x, y in zip(a[1:], b[1:], strict=True):
        assert np.array_equal(x, y)
    assert not np.array_equal(a[1], c[1])


def test_training_examples_with_window_one_and_no_subsampling_are_all_neighbours(rng):
    ids, sid = np.array([0, 1, 2, 3, 4, 5]), np.array([0, 0, 0, 1, 1, 2])
    centers, contexts = w2v.training_examples(ids, sid, 1, np.ones(6), rng)
    got = sorted(zip(centers.tolist(), contexts.tolist(), strict=True))
    assert got == [(0, 1), (1, 0), (1, 2), (2, 1), (3, 4), (4, 3)]   # never across sentences
    ctx, mask, cen = w2v.training_examples(ids, sid, 1, np.ones(6), rng, model="cbow")
    assert cen.tolist() == [0, 1, 2, 3, 4]                             # 5 has no neighbour
    windows = [sorted(c[m].tolist()) for c, m in zip(ctx, mask, strict=True)]
    assert windows == [[1], [0, 2], [1], [4], [3]]


def test_training_examples_window_is_uniform_from_one_to_w():
    # One long sentence of distinct-position tokens: a centre's pair count is 2 b, b ~ U{1..3},
    # so the mean number of pairs per (interior) centre is 2 * 2 = 4.
    T, w = 20_000, 3
    centers, contexts = w2v.training_examples(np.zeros(T, dtype=np.int64),
                                              np.zeros(T, dtype=np.int64),
                                              w, np.ones(1), np.random.default_rng(0))
    assert centers.size / T == pytest.approx(4.0, abs=0.05)


def test_subsampling_keeps_each_word_with_its_keep_probability():
    # "the" makes half the corpus: with t = 0.005 its keep probability is sqrt(0.01) = 0.1;
    # every other word has f = 1/20000 < t and is always kept.
    sents = [["the", f"a{i}", "the", f"b{i}"] for i in range(5000)]
    vocab = w2v.build_vocab(sents)
    keep = w2v.keep_probability(vocab.counts, 0.005)
    assert keep[0] == pytest.approx(0.1) and np.all(keep[1:] == 1.0)
    ids, sid = w2v.encode(sents, vocab)
    ctx, mask, cen = w2v.training_examples(ids, sid, 10, keep, np.random.default_rng(1), "cbow")
    kept_the = np.sum(cen == vocab.index["the"])   # every kept token is a centre
    assert kept_the / 10_000 == pytest.approx(0.1, abs=4 * np.sqrt(0.09 / 10_000))
    assert np.sum(cen != vocab.index["the"]) == 10_000


BAD_TRAINING = [
    (dict(sentences=[]), ValueError, "empty"),
    (dict(sentences=[[], []]), ValueError, "empty"),
    (dict(sentences="the cat sat"), TypeError, "list of token lists"),
    (dict(window=0), ValueError, "window"),
    (dict(negatives=0), ValueError, "negatives"),
    (dict(dim=0), ValueError, "dim"),
    (dict(epochs=0), ValueError, "epochs"),
    (dict(lr=-0.1), ValueError, "lr"),
    (dict(subsample=-1e-3), ValueError, "^subsample"),
    (dict(lr=np.nan), ValueError, "lr"),
    (dict(lr="0.1"), TypeError, "lr"),
    (dict(noise_power=True), TypeError, "noise_power"),
    (dict(rng=0), TypeError, "Generator"),
    (dict(noise_power=-1.0), ValueError, "power"),
]


@pytest.mark.parametrize("trainer", [w2v.train_skipgram, w2v.train_cbow])
@pytest.mark.parametrize("change, error, words", BAD_TRAINING)
def test_training_rejects_bad_input(trainer, change, error, words):
    args = dict(sentences=[["a", "b", "c"]], dim=2, window=1, negatives=1, epochs=1, lr=0.1,
                rng=np.random.default_rng(0))
    args.update(change)
    with pytest.raises(error, match=words):
        trainer(**args)


def test_losses_and_helpers_reject_bad_input(rng):
    with pytest.raises(ValueError, match=r"\(K, D\)"):
        w2v.negative_sampling_loss(np.ones(3), np.ones(3), np.ones((2, 4)))
    with pytest.raises(ValueError, match="dimension"):
        w2v.negative_sampling_loss(np.ones((1, 3)), np.ones(3), np.ones((2, 3)))
    with pytest.raises(ValueError, match="word ids"):
        w2v.skipgram_batch_loss(np.ones((3, 2)), np.ones((3, 2)), [0], [3], [[0]])
    with pytest.raises(TypeError, match="integer"):
        w2v.skipgram_batch_loss(np.ones((3, 2)), np.ones((3, 2)), [0], [1.0], [[0]])
    with pytest.raises(ValueError, match="at least one context"):
        w2v.cbow_batch_loss(np.ones((3, 2)), np.ones((3, 2)), [[0, 1]], np.array([[False, False]]),
                            [0], [[1]])
    with pytest.raises(ValueError, match="delta"):
        w2v.phrase_scores([["a", "b"]], delta=-1)
    with pytest.raises(ValueError, match="counts"):
        w2v.noise_distribution(np.zeros(3))
    with pytest.raises(ValueError, match="positive counts"):
        w2v.keep_probability(np.array([3, 0]), t=1e-3)
    with pytest.raises(TypeError, match="phrase"):
        w2v.join_phrases([["a", "b"]], ["a b"])
    with pytest.raises(ValueError, match="min_count"):
        w2v.build_vocab([["a"]], min_count=2)


# --- issue 12: extreme magnitudes, probabilities, argument names --------------------------

@pytest.mark.parametrize("scale", [1e-300, 1e300])
def test_noise_and_keep_probabilities_at_extreme_counts(scale):
    # Old code: c ** power and c.sum() overflowed (NaN noise distribution, every word kept)
    # or underflowed.
    counts = np.array([5.0, 3.0, 1.0, 1.0])
    np.testing.assert_allclose(w2v.noise_distribution(counts * scale),
                               w2v.noise_distribution(counts), rtol=1e-12)
    np.testing.assert_allclose(w2v.noise_distribution(counts * scale, power=3.0),
                               w2v.noise_distribution(counts, power=3.0), rtol=1e-12)
    np.testing.assert_allclose(w2v.keep_probability(counts * scale, 0.3),
                               w2v.keep_probability(counts, 0.3), rtol=1e-12)
    assert w2v.keep_probability(np.array([1e300, 1e300]), 0.1).max() < 1


def test_training_examples_refuse_keep_outside_unit_interval():
    # Old code: NaN keep-probabilities silently dropped every token.
    ids = np.array([0, 1, 0, 1])
    sid = np.zeros(4, dtype=np.int64)
    for bad in (np.array([np.nan, 1.0]), np.array([1.5, 1.0]), np.array([-0.1, 1.0])):
        with pytest.raises(ValueError, match="keep"):
            w2v.training_examples(ids, sid, 1, bad, np.random.default_rng(0))


def test_scalar_arguments_accept_numpy_and_refuse_bools():
    counts = np.array([3.0, 1.0])
    np.testing.assert_allclose(w2v.noise_distribution(counts, np.float32(0.75)),
                               w2v.noise_distribution(counts, 0.75))
    with pytest.raises(TypeError, match="power"):
        w2v.noise_distribution(counts, True)
    with pytest.raises(TypeError, match="delta"):
        w2v.phrase_scores([["a", "b"]], "1")
    with pytest.raises(TypeError, match="vocab"):
        w2v.encode([["a"]], {"a": 0})
    with pytest.raises(TypeError, match="sep"):
        w2v.join_phrases([["a", "b"]], [("a", "b")], sep=0)
