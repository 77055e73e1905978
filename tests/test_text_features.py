"""dlnotes.text_features: the vocabulary and its batches, bag counts, the BOW and CBOW scorers
(forward and backward against torch in float64 with random upstream gradients), the masked
cross-entropy, perplexity, the negation square that no bag-of-words model can get right, the
contrast pairs, and bad input."""
import numpy as np
import pytest
import torch.nn.functional as F

from dlnotes import text_features as tf
from dlnotes.corpus import sentiment_corpus, template_corpus
from dlnotes.ngram import NGramModel
from dlnotes.verify import check_loss, check_pair

SQUARE = [["the", "film", "was", "good"], ["the", "film", "was", "not", "good"],
          ["the", "film", "was", "bad"], ["the", "film", "was", "not", "bad"]]
SQUARE_LABELS = np.array([1, 0, 0, 1])


def _random_ids(rng, n, t, v, pad):
    ids = rng.integers(0, v, size=(n, t))
    lengths = rng.integers(0, t + 1, size=n)
    ids[np.arange(t)[None, :] >= lengths[:, None]] = pad
    return ids


# ------------------------------------------------------------------------------ vocabulary
def test_vocabulary_layout_matches_the_ngram_model():
    sentences = template_corpus(200, np.random.default_rng(0))
    vocab = tf.Vocabulary(sentences)
    ngram = NGramModel(2).fit(sentences)
    assert vocab.tokens[:vocab.n_out] == ngram.vocab
    assert (vocab.eos, vocab.unk, vocab.bos, vocab.pad) == (vocab.n_out - 2, vocab.n_out - 1,
                                                           vocab.n_out, vocab.n_out + 1)
    assert len(vocab) == vocab.n_out + 2


def test_min_count_sends_rare_words_to_unk():
    vocab = tf.Vocabulary([["a", "b"], ["a", "c"]], min_count=2)
    assert vocab.tokens == ("a", tf.EOS, tf.UNK, tf.BOS, tf.PAD)
    assert vocab.ids(["a", "b", "zebra"]) == [0, vocab.unk, vocab.unk]


def test_encode_pads_on_the_right():
    vocab = tf.Vocabulary([["x", "y", "z"], ["y"]])
    ids, lengths = vocab.encode([["y"], ["z", "x", "y"]])
    assert lengths.tolist() == [1, 3]
    assert ids.tolist() == [[1, vocab.pad, vocab.pad], [2, 0, 1]]
    assert ids.dtype == np.int64


def test_lm_batch_shifts_targets_by_one_and_ends_with_eos():
    vocab = tf.Vocabulary([["a", "b", "c"], ["c"]])
    inputs, targets = vocab.lm_batch([["a", "b"], ["c"]])
    a, b, c = 0, 1, 2
    assert inputs.T.tolist() == [[vocab.bos, a, b], [vocab.bos, c, vocab.pad]]
    assert targets.T.tolist() == [[a, b, vocab.eos], [c, vocab.eos, vocab.pad]]
    # every input after <s> is the previous step's target (up to the end of the sentence)
    keep = (targets[:-1] != vocab.pad) & (targets[:-1] != vocab.eos)
    assert np.array_equal(inputs[1:][keep], targets[:-1][keep])


def test_bag_counts_against_a_python_count(rng):
    ids = _random_ids(rng, 9, 7, 5, pad=4)
    counts = tf.bag_counts(ids, 5, 4)
    expected = np.array([[sum(1 for w in row if w == v and w != 4) for v in range(5)]
                         for row in ids])
    assert np.array_equal(counts, expected)


# ---------------------------------------------------------------------- BOW and CBOW vs torch
@pytest.mark.parametrize("n, t, v, c", [(1, 1, 2, 1), (1, 6, 5, 2), (4, 3, 7, 3), (11, 9, 13, 5)])
def test_bow_matches_torch_embedding_bag(n, t, v, c, rng):
    pad = v - 1
    ids = _random_ids(rng, n, t, v, pad)
    scores, bias = rng.standard_normal((v, c)), rng.standard_normal(c)
    check_pair("bow", lambda i, s, b: tf.bow_forward(i, s, b, pad), tf.bow_backward,
               lambda i, s, b: F.embedding_bag(i, s, mode="sum", padding_idx=pad) + b,
               (ids, scores, bias), rng)


@pytest.mark.parametrize("n, t, v, d, c", [(1, 1, 2, 1, 1), (3, 4, 6, 5, 2), (8, 9, 11, 3, 4)])
def test_cbow_matches_torch(n, t, v, d, c, rng):
    pad = 0
    ids = _random_ids(rng, n, t, v, pad)
    emb, w, b = rng.standard_normal((v, d)), rng.standard_normal((c, d)), rng.standard_normal(c)
    check_pair("cbow", lambda i, e, w_, b_: tf.cbow_forward(i, e, w_, b_, pad), tf.cbow_backward,
               lambda i, e, w_, b_: F.linear(F.embedding_bag(i, e, mode="sum", padding_idx=pad),
                                             w_, b_),
               (ids, emb, w, b), rng)


def test_cbow_is_a_bow_with_scores_emb_w_transposed(rng):
    ids = _random_ids(rng, 6, 5, 8, pad=7)
    emb, w, b = rng.standard_normal((8, 3)), rng.standard_normal((2, 3)), rng.standard_normal(2)
    cbow, _ = tf.cbow_forward(ids, emb, w, b, 7)
    bow, _ = tf.bow_forward(ids, emb @ w.T, b, 7)
    np.testing.assert_allclose(cbow, bow, rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------- the negation square
def test_negation_square_defeats_every_bag_of_words_scorer(rng):
    vocab = tf.Vocabulary(SQUARE)
    ids, _ = vocab.encode(SQUARE)
    counts = tf.bag_counts(ids, len(vocab), vocab.pad)
    # "good" + "not bad" and "not good" + "bad" hold the same words:
    assert np.array_equal(counts[0] + counts[3], counts[1] + counts[2])
    for _ in range(200):
        scores, bias = 3 * rng.standard_normal((len(vocab), 2)), rng.standard_normal(2)
        logits, _ = tf.bow_forward(ids, scores, bias, vocab.pad)
        margin = logits[:, 1] - logits[:, 0]                  # > 0 means "positive"
        np.testing.assert_allclose(margin[0] + margin[3], margin[1] + margin[2], atol=1e-12)
        correct = np.where(SQUARE_LABELS == 1, margin > 0, margin < 0)
        assert correct.sum() <= 3


# ------------------------------------------------------------------------ loss, perplexity
@pytest.mark.parametrize("shape, c", [((1,), 1), ((1,), 4), ((5,), 3), ((4, 3), 7), ((2, 3, 2), 5)])
def test_masked_cross_entropy_matches_torch_ignore_index(shape, c, rng):
    ignore = -100 if len(shape) == 1 else c + 1
    targets = rng.integers(0, c, size=shape)
    mask = rng.random(shape) < 0.3
    mask.flat[0] = False                                      # keep at least one position
    targets[mask] = ignore
    logits = 4 * rng.standard_normal((*shape, c))
    check_loss("masked cross-entropy", lambda z, y: tf.masked_cross_entropy(z, y, ignore),
               lambda z, y: F.cross_entropy(z.reshape(-1, c), y.reshape(-1), ignore_index=ignore),
               (logits, targets))


def test_masked_cross_entropy_is_stable_and_zero_at_ignored(rng):
    targets = np.array([[0, 9], [2, 1]])
    logits = 1000 * rng.standard_normal((2, 2, 3))
    loss, grad = tf.masked_cross_entropy(logits, targets, 9)
    assert np.isfinite(loss) and np.all(np.isfinite(grad))
    assert np.all(grad[0, 1] == 0)


def test_perplexity_of_a_uniform_model_is_the_vocabulary_size():
    assert tf.perplexity(np.full((7, 3), -np.log(42.0))) == pytest.approx(42.0, rel=1e-13)
    assert tf.perplexity(np.log([0.5, 0.25])) == pytest.approx(np.sqrt(8), rel=1e-13)


# --------------------------------------------------------------------------- contrast pairs
def test_contrast_pairs_share_their_words_and_differ_in_label():
    sentences, labels = tf.contrast_reviews(25, np.random.default_rng(3))
    assert len(sentences) == 50 and labels.shape == (50,)
    for k in range(25):
        a, b = sentences[2 * k], sentences[2 * k + 1]
        assert sorted(a) == sorted(b) and a != b
        assert labels[2 * k] + labels[2 * k + 1] == 1
    again, labels_again = tf.contrast_reviews(25, np.random.default_rng(3))
    assert again == sentences and np.array_equal(labels, labels_again)


def test_contrast_label_is_the_polarity_of_the_affirmed_word():
    from dlnotes.corpus import POSITIVE
    sentences, labels = tf.contrast_reviews(40, np.random.default_rng(4))
    for s, y in zip(sentences, labels, strict=True):
        assert y == int(s[3] in POSITIVE)


# -------------------------------------------------------------------------------- bad input
def test_bad_input_is_refused(rng):
    vocab = tf.Vocabulary(sentiment_corpus(20, np.random.default_rng(0))[0])
    with pytest.raises(TypeError, match="list of token lists"):
        tf.Vocabulary("the film was good")
    with pytest.raises(ValueError, match="empty"):
        tf.Vocabulary([])
    with pytest.raises(ValueError, match="reserved"):
        vocab.encode([["the", "<pad>"]])
    with pytest.raises(TypeError, match="non-empty list"):
        vocab.encode([[]])
    with pytest.raises(ValueError, match="min_count"):
        tf.Vocabulary([["a"]], min_count=0)
    ids = np.array([[0, 1, 2]])
    with pytest.raises(TypeError, match="integer"):
        tf.bag_counts(ids.astype(float), 5, 4)
    with pytest.raises(ValueError, match="outside"):
        tf.bag_counts(np.array([[0, 7]]), 5, 4)
    with pytest.raises(ValueError, match="pad"):
        tf.bag_counts(ids, 5, 5)
    with pytest.raises(ValueError, match="bias"):
        tf.bow_forward(ids, np.zeros((5, 2)), np.zeros(3), 4)
    with pytest.raises(ValueError, match="w must be"):
        tf.cbow_forward(ids, np.zeros((5, 3)), np.zeros((2, 4)), np.zeros(2), 4)
    with pytest.raises(ValueError, match="targets.shape"):
        tf.masked_cross_entropy(np.zeros((3, 4)), np.zeros(2, dtype=int), -1)
    with pytest.raises(ValueError, match="nothing to score"):
        tf.masked_cross_entropy(np.zeros((2, 4)), np.array([-1, -1]), -1)
    with pytest.raises(ValueError, match="positive"):
        tf.perplexity([0.1])
    with pytest.raises(ValueError, match="empty"):
        tf.perplexity([])
    with pytest.raises(ValueError, match="n_pairs"):
        tf.contrast_reviews(0, rng)
    with pytest.raises(TypeError, match="Generator"):
        tf.contrast_reviews(3, 0)


# --- issue 12: silent wrong answers and cache identity -------------------------------------

def test_vocabulary_with_unk_in_the_corpus_has_it_once():
    # Old code: "<unk>" became a word *and* the unknown id, so the vocabulary held it twice
    # and the id of "<unk>" in a sentence differed from that of an unknown word.
    vocab = tf.Vocabulary([["a", "<unk>", "b"], ["<unk>"]])
    assert vocab.tokens.count("<unk>") == 1
    assert len(set(vocab.tokens)) == len(vocab.tokens)
    assert vocab.ids(["<unk>", "zebra", "a"]) == [vocab.unk, vocab.unk, vocab.index["a"]]
    assert vocab.n_out == 4           # a, b, </s>, <unk>


def test_bow_backward_refuses_a_gradient_of_another_class_count():
    # Old code: a (N, C') gradient with C' != C gave a (V, C') score gradient without a word.
    ids = np.array([[0, 1, 2], [2, 2, 3]])
    scores, bias = np.ones((4, 3)), np.zeros(3)
    _, cache = tf.bow_forward(ids, scores, bias, pad=3)
    with pytest.raises(ValueError, match=r"dlogits must be \(N, C\) = \(2, 3\)"):
        tf.bow_backward(np.ones((2, 5)), cache)
    _, other = tf.bow_forward(ids, np.ones((4, 5)), np.zeros(5), pad=3)
    dscores, _ = tf.bow_backward(np.ones((2, 5)), other)
    assert dscores.shape == (4, 5)


def test_text_backwards_refuse_each_others_caches():
    ids = np.array([[0, 1, 2]])
    _, bow_cache = tf.bow_forward(ids, np.ones((4, 2)), np.zeros(2), pad=3)
    _, cbow_cache = tf.cbow_forward(ids, np.ones((4, 3)), np.ones((2, 3)), np.zeros(2), pad=3)
    with pytest.raises(TypeError, match="bow_backward got a CBOWCache"):
        tf.bow_backward(np.ones((1, 2)), cbow_cache)
    with pytest.raises(TypeError, match="cbow_backward got a BOWCache"):
        tf.cbow_backward(np.ones((1, 2)), bow_cache)
    with pytest.raises(TypeError, match="cbow_backward got a tuple"):
        tf.cbow_backward(np.ones((1, 2)), tuple(cbow_cache))
    with pytest.raises(ValueError, match=r"dlogits must be \(N, C\)"):
        tf.cbow_backward(np.ones((1, 5)), cbow_cache)


def test_float32_logits_and_caller_names():
    ids = np.array([[0, 1, 2]])
    scores = np.ones((4, 2), np.float32)
    logits, _ = tf.bow_forward(ids, scores, np.zeros(2, np.float32), pad=3)
    assert logits.dtype == np.float32
    logits, _ = tf.cbow_forward(ids, scores, np.ones((2, 2), np.float32), np.zeros(2, np.float32),
                             pad=3)
    assert logits.dtype == np.float32
    # Old code: dense_forward's "to match x", an array the caller never passed.
    with pytest.raises(ValueError, match="to match emb"):
        tf.cbow_forward(ids, np.ones((4, 3)), np.ones((2, 5)), np.zeros(2), pad=3)
    # Old code: cross_entropy's "target holds class 7" (the caller's argument is targets).
    with pytest.raises(ValueError, match="^targets holds class 7"):
        tf.masked_cross_entropy(np.zeros((2, 3)), np.array([0, 7]), ignore_index=-100)
    with pytest.raises(TypeError, match="ignore_index"):
        tf.masked_cross_entropy(np.zeros((2, 3)), np.array([0, 1]), ignore_index=0.5)
    with pytest.raises(ValueError, match="NaN"):
        tf.perplexity(np.array([-1.0, np.nan]))
    with pytest.raises(TypeError, match="^tokens must be a non-empty list"):
        tf.Vocabulary([["a"]]).ids([])
