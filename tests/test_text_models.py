"""dlnotes.torch_models.text_models: output shapes, the torch models against the NumPy formulas
with the same weights, padding invariance, the CNN's receptive field, what bag models cannot do
(negation square, contrast pairs), reproducible seeded training that leaves torch's global state
alone, perplexity, and bad input."""
import numpy as np
import pytest
import torch

from dlnotes import text_features as tf
from dlnotes.activations import log_softmax
from dlnotes.corpus import sentiment_corpus, template_corpus
from dlnotes.gated import gru_forward
from dlnotes.torch_models import text_models as tm
from dlnotes.verify import check_values

SQUARE = [["the", "film", "was", "good"], ["the", "film", "was", "not", "good"],
          ["the", "film", "was", "bad"], ["the", "film", "was", "not", "bad"]]
SQUARE_LABELS = np.array([1, 0, 0, 1])


@pytest.fixture(scope="module")
def reviews():
    sentences, labels = sentiment_corpus(60, np.random.default_rng(0))
    pairs, pair_labels = tf.contrast_reviews(10, np.random.default_rng(1))
    vocab = tf.Vocabulary(sentences + pairs)
    return vocab, sentences, labels, pairs, pair_labels


def _np(t):
    return t.detach().numpy()


# ----------------------------------------------------------------------------------- shapes
@pytest.mark.parametrize("kind", tm.CLASSIFIERS)
@pytest.mark.parametrize("n, t, c", [(1, 1, 2), (1, 5, 3), (7, 4, 2)])
def test_classifier_output_shape(kind, n, t, c):
    model = tm.classifier(kind, 9, c, 8, seed=0, dim=5, hidden=6, window=3)
    ids = torch.as_tensor(np.random.default_rng(0).integers(0, 8, size=(n, t)))
    out = model(ids)
    assert out.shape == (n, c) and out.dtype == torch.float64


@pytest.mark.parametrize("kind, kw", [("loglinear", {"order": 2}), ("loglinear", {"order": 4}),
                                      ("gru", {"dim": 3, "hidden": 5})])
@pytest.mark.parametrize("t, n", [(1, 1), (6, 3)])
def test_language_model_output_shape(kind, kw, t, n):
    model = tm.language_model(kind, 12, 10, 11, 10, seed=0, **kw)
    out = model(torch.as_tensor(np.random.default_rng(0).integers(0, 12, size=(t, n))))
    assert out.shape == (t, n, 10)


# ------------------------------------------------------------ torch model == NumPy formula
def test_bow_and_cbow_models_compute_the_numpy_scores(reviews):
    vocab, sentences, *_ = reviews
    ids, _ = vocab.encode(sentences)
    bow = tm.classifier("bow", len(vocab), 2, vocab.pad, seed=3)
    ours, _ = tf.bow_forward(ids, _np(bow.scores.weight), _np(bow.bias), vocab.pad)
    check_values("BOW model", ours, bow(torch.as_tensor(ids)))
    cbow = tm.classifier("cbow", len(vocab), 2, vocab.pad, seed=3, dim=4)
    ours, _ = tf.cbow_forward(ids, _np(cbow.emb.weight), _np(cbow.out.weight),
                              _np(cbow.out.bias), vocab.pad)
    check_values("CBOW model", ours, cbow(torch.as_tensor(ids)))


def test_gru_language_model_is_numpy_gru_plus_softmax(rng):
    vocab = tf.Vocabulary(template_corpus(30, np.random.default_rng(2)))
    inputs, targets = vocab.lm_batch(template_corpus(5, np.random.default_rng(3)))
    model = tm.language_model("gru", len(vocab), vocab.n_out, vocab.pad, vocab.bos, seed=1,
                              dim=4, hidden=6)
    g = model.gru
    h, _ = gru_forward(_np(model.emb.weight)[inputs], np.zeros((inputs.shape[1], 6)),
                       _np(g.weight_ih_l0), _np(g.weight_hh_l0), _np(g.bias_ih_l0),
                       _np(g.bias_hh_l0))
    logp = log_softmax(h @ _np(model.out.weight).T + _np(model.out.bias), axis=-1)
    ours = np.take_along_axis(logp, np.minimum(targets, vocab.n_out - 1)[..., None], -1)[..., 0]
    ours[targets == vocab.pad] = np.nan
    theirs = tm.token_log_probs(model, inputs, targets, vocab.pad)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
    keep = ~np.isnan(ours)
    check_values("GRU LM log-probs", ours[keep], theirs[keep])


def test_loglinear_lm_adds_one_table_row_per_context_word(rng):
    model = tm.language_model("loglinear", 6, 4, 5, 4, seed=2, order=3)
    with torch.no_grad():
        for table in model.tables:
            table.weight.normal_()
        model.bias.normal_()
    inputs = np.array([[4, 4], [0, 1], [2, 5], [3, 5]])          # (T, N), <s> = 4, pad = 5
    w0, w1 = (_np(t.weight) for t in model.tables)
    b = _np(model.bias)
    expected = np.empty((4, 2, 4))
    for t in range(4):
        for n in range(2):
            prev = inputs[t - 1, n] if t >= 1 else 4
            expected[t, n] = b + w0[inputs[t, n]] + w1[prev]
    check_values("log-linear LM", expected, model(torch.as_tensor(inputs)))


# ------------------------------------------------------------------------ padding, windows
@pytest.mark.parametrize("kind", tm.CLASSIFIERS)
def test_padding_changes_nothing(kind, reviews):
    vocab, sentences, *_ = reviews
    ids, lengths = vocab.encode(sentences[:12])
    assert lengths.min() < ids.shape[1]                        # some rows are padded
    wider = np.hstack([ids, np.full((12, 3), vocab.pad)])
    model = tm.classifier(kind, len(vocab), 2, vocab.pad, seed=5)
    batch = _np(model(torch.as_tensor(wider)))
    alone = np.vstack([_np(model(torch.as_tensor(ids[n:n + 1, :lengths[n]])))
                       for n in range(12)])                    # each sentence without padding
    np.testing.assert_allclose(batch, alone, rtol=1e-12, atol=1e-12)


def test_cnn_feature_sees_only_its_window():
    window = 3
    model = tm.classifier("cnn", 10, 2, 9, seed=4, window=window)
    ids = torch.as_tensor([[1, 2, 3, 4, 5, 6, 7, 8]])
    base = model.features(ids)                                 # (1, F, T + window - 1)
    for pos in range(8):
        changed = ids.clone()
        changed[0, pos] = 0
        diff = (model.features(changed) - base).abs().amax(dim=1)[0]   # (T + window - 1,)
        sees = torch.zeros_like(diff, dtype=torch.bool)
        sees[pos:pos + window] = True                          # outputs j = pos .. pos + w - 1
        assert torch.all(diff[~sees] == 0)
        assert torch.all(diff[sees] > 0)


# ---------------------------------------------------------------- what bag models cannot do
def test_trained_bow_misses_part_of_the_negation_square_deepcbow_does_not():
    vocab = tf.Vocabulary(SQUARE)
    ids, _ = vocab.encode(SQUARE)
    for kind, expected in (("bow", False), ("cbow", False), ("deepcbow", True)):
        model = tm.classifier(kind, len(vocab), 2, vocab.pad, seed=0, dim=8, hidden=8)
        tm.train_classifier(model, ids, SQUARE_LABELS, epochs=300, lr=0.05, batch_size=4, seed=0)
        assert (tm.accuracy(model, ids, SQUARE_LABELS) == 1.0) is expected, kind
        if not expected:
            assert tm.accuracy(model, ids, SQUARE_LABELS) <= 0.75


@pytest.mark.parametrize("kind", ["bow", "cbow", "deepcbow"])
def test_bag_models_score_both_halves_of_a_contrast_pair_alike(kind, reviews):
    vocab, _, _, pairs, _ = reviews
    ids, _ = vocab.encode(pairs)
    out = _np(tm.classifier(kind, len(vocab), 2, vocab.pad, seed=6)(torch.as_tensor(ids)))
    np.testing.assert_allclose(out[0::2], out[1::2], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", ["cnn", "gru"])
def test_order_aware_models_tell_the_halves_apart(kind, reviews):
    vocab, _, _, pairs, _ = reviews
    ids, _ = vocab.encode(pairs)
    out = _np(tm.classifier(kind, len(vocab), 2, vocab.pad, seed=6)(torch.as_tensor(ids)))
    assert np.all(np.abs(out[0::2] - out[1::2]).max(axis=1) > 1e-6)


# ------------------------------------------------------------------------------- training
def _train_once(seed_model, seed_train, reviews):
    vocab, sentences, labels, *_ = reviews
    ids, _ = vocab.encode(sentences)
    model = tm.classifier("gru", len(vocab), 2, vocab.pad, seed=seed_model, dim=4, hidden=5)
    history = tm.train_classifier(model, ids, labels, epochs=2, lr=0.01, batch_size=16,
                                  seed=seed_train, held_out=(ids, labels))
    return np.concatenate([_np(p).ravel() for p in model.parameters()]), history


def test_training_is_reproducible_and_depends_on_both_seeds(reviews):
    w1, h1 = _train_once(0, 0, reviews)
    w2, h2 = _train_once(0, 0, reviews)
    assert np.array_equal(w1, w2) and h1 == h2
    assert len(h1.loss) == 2 and len(h1.metric) == 2
    assert not np.array_equal(w1, _train_once(1, 0, reviews)[0])
    assert not np.array_equal(w1, _train_once(0, 1, reviews)[0])


def test_training_leaves_global_torch_state_alone(reviews):
    torch.manual_seed(123)
    state, threads = torch.random.get_rng_state(), torch.get_num_threads()
    _train_once(0, 0, reviews)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert torch.get_num_threads() == threads


def test_adam_update_matches_torch_optim(reviews):
    vocab, sentences, labels, *_ = reviews
    ids = torch.as_tensor(vocab.encode(sentences)[0])
    ours = tm.classifier("cbow", len(vocab), 2, vocab.pad, seed=7)
    ref = tm.classifier("cbow", len(vocab), 2, vocab.pad, seed=7)
    tm.train_classifier(ours, ids.numpy(), labels, epochs=3, lr=0.02, batch_size=len(labels),
                        seed=0)
    opt = torch.optim.Adam(ref.parameters(), lr=0.02)
    for _ in range(3):                                         # one full batch per epoch
        opt.zero_grad()
        torch.nn.functional.cross_entropy(ref(ids), torch.as_tensor(labels)).backward()
        opt.step()
    for p, q in zip(ours.parameters(), ref.parameters(), strict=True):
        check_values("Adam", _np(p), q.detach(), rtol=1e-9, atol=1e-12)


def test_language_model_training_lowers_held_out_perplexity():
    sentences = template_corpus(120, np.random.default_rng(5))
    vocab = tf.Vocabulary(sentences)
    inputs, targets = vocab.lm_batch(sentences)
    model = tm.language_model("loglinear", len(vocab), vocab.n_out, vocab.pad, vocab.bos,
                              seed=0, order=2)
    history = tm.train_language_model(model, inputs, targets, vocab.pad, epochs=5, lr=0.05,
                                      batch_size=30, seed=0, held_out=(inputs, targets))
    assert history.metric[-1] < 0.5 * history.metric[0]
    assert history.loss[-1] == pytest.approx(np.log(history.metric[-1]), rel=0.2)


def test_a_zero_model_has_perplexity_equal_to_the_output_vocabulary():
    vocab = tf.Vocabulary(template_corpus(40, np.random.default_rng(6)))
    inputs, targets = vocab.lm_batch(template_corpus(8, np.random.default_rng(7)))
    model = tm.language_model("loglinear", len(vocab), vocab.n_out, vocab.pad, vocab.bos, seed=0)
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
    assert tm.perplexity(model, inputs, targets, vocab.pad) == pytest.approx(vocab.n_out,
                                                                             rel=1e-12)
    lp = tm.token_log_probs(model, inputs, targets, vocab.pad)
    assert np.array_equal(np.isnan(lp), targets == vocab.pad)


# -------------------------------------------------------------------------------- bad input
def test_bad_input_is_refused(reviews):
    vocab, sentences, labels, *_ = reviews
    ids, _ = vocab.encode(sentences)
    with pytest.raises(ValueError, match="kind"):
        tm.classifier("lstm", 10, 2, 0, seed=0)
    with pytest.raises(ValueError, match="pad"):
        tm.classifier("bow", 10, 2, 10, seed=0)
    with pytest.raises(ValueError, match="seed"):
        tm.classifier("bow", 10, 2, 0, seed=-1)
    with pytest.raises(ValueError, match="window"):
        tm.classifier("cnn", 10, 2, 0, seed=0, window=0)
    with pytest.raises(ValueError, match="kind"):
        tm.language_model("transformer", 10, 8, 9, 8, seed=0)
    with pytest.raises(ValueError, match="n_out"):
        tm.language_model("gru", 10, 11, 9, 8, seed=0)
    with pytest.raises(ValueError, match="order"):
        tm.language_model("loglinear", 10, 8, 9, 8, seed=0, order=1)
    model = tm.classifier("bow", len(vocab), 2, vocab.pad, seed=0)
    with pytest.raises(ValueError, match="same sentences"):
        tm.train_classifier(model, ids, labels[:-1], epochs=1, lr=0.1, batch_size=4, seed=0)
    with pytest.raises(ValueError, match="lr"):
        tm.train_classifier(model, ids, labels, epochs=1, lr=0.0, batch_size=4, seed=0)
    with pytest.raises(ValueError, match="epochs"):
        tm.train_classifier(model, ids, labels, epochs=0, lr=0.1, batch_size=4, seed=0)
    with pytest.raises(TypeError, match="integer"):
        tm.predict(model, ids.astype(float))
    with pytest.raises(ValueError, match="labels"):
        tm.accuracy(model, ids, labels[:3])
