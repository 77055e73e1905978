"""dlnotes.ngram: normalisation of every conditional distribution (exactly, in rational
arithmetic), probabilities and perplexity against hand-computed values, torch's log_softmax
and Categorical, reproducible sampling, and bad input."""
import itertools
from fractions import Fraction
from itertools import pairwise

import numpy as np
import pytest
import torch

from dlnotes.ngram import BOS, EOS, UNK, NGramModel, tokenize
from dlnotes.verify import check_values, to_torch

TINY = [["a", "b"], ["a"]]
SMALL = tokenize("The cat sat on the mat. The dog sat on the cat! A cat ran. "
                 "The mat was red? The dog ran on the mat.")


def all_contexts(model):
    """Every possible (n-1)-token context: start symbols and vocabulary words in any order."""
    symbols = [BOS] + [w for w in model.vocab if w != EOS]
    return list(itertools.product(symbols, repeat=model.n - 1))


@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("k", [0.25, 0.5, 1.0, 3.0])
def test_every_conditional_sums_to_one_exactly(n, k):
    model = NGramModel(n, k).fit(SMALL)
    V = len(model.vocab)
    for context in all_contexts(model):
        counts = model.counts(context)
        p = model.distribution(context)
        # k is a dyadic rational, so c + k and C + kV are exact in float64: each entry must be
        # the correctly rounded value of the exact fraction, and those fractions sum to one.
        exact = [(Fraction(int(c)) + Fraction(k)) / (Fraction(int(counts.sum())) + Fraction(k) * V)
                 for c in counts]
        assert sum(exact) == 1
        assert [float(e) for e in exact] == p.tolist()
        assert abs(p.sum() - 1.0) <= 4 * np.finfo(float).eps


@pytest.mark.parametrize("n", [1, 2, 4])
def test_conditionals_sum_to_one_for_non_dyadic_k_and_unseen_contexts(n):
    model = NGramModel(n, k=0.1).fit(SMALL)
    for context in [*all_contexts(model)[:200], ("zebra",) * (n - 1)]:
        p = model.distribution(list(context))
        assert p.shape == (len(model.vocab),) and np.all(p > 0)
        assert abs(p.sum() - 1.0) <= 1e-14


def test_counts_are_the_training_bigrams():
    model = NGramModel(2, k=1).fit(TINY)
    assert model.vocab == ("a", "b", EOS, UNK)
    np.testing.assert_array_equal(model.counts([]), [2, 0, 0, 0])        # after <s>
    np.testing.assert_array_equal(model.counts(["a"]), [0, 1, 1, 0])
    np.testing.assert_array_equal(model.counts(["x", "b"]), [0, 0, 1, 0])  # only the last word
    np.testing.assert_array_equal(model.counts(["zebra"]), [0, 0, 0, 0])   # -> <unk>, unseen


def test_probabilities_and_perplexity_of_a_hand_computed_case():
    # Bigrams of "a b" and "a": (<s> a) x2, (a b), (b </s>), (a </s>); V = {a, b, </s>, <unk>}.
    # With k = 1: p(a|<s>) = 3/6, p(b|a) = 2/6, p(</s>|b) = 2/5, so p("a b") = 1/15 and the
    # perplexity over its 3 predicted tokens is 15^(1/3).
    model = NGramModel(2, k=1).fit(TINY)
    assert model.prob("a", []) == 0.5
    assert model.prob("b", ["a"]) == pytest.approx(1 / 3, rel=1e-15)
    assert model.prob(EOS, ["a", "b"]) == pytest.approx(2 / 5, rel=1e-15)
    assert model.prob("q", ["b"]) == pytest.approx(1 / 5, rel=1e-15)      # unknown -> <unk>
    assert model.log_likelihood(["a", "b"]) == pytest.approx(np.log(1 / 15), rel=1e-14)
    assert model.perplexity([["a", "b"]]) == pytest.approx(15 ** (1 / 3), rel=1e-14)
    # Two sentences pool their tokens: p("a") = 1/2 * 2/6 (p(</s>|a) = 2/6), 5 tokens in all.
    assert model.perplexity([["a", "b"], ["a"]]) == pytest.approx((1 / 15 / 6) ** (-1 / 5),
                                                                  rel=1e-14)


def test_unigram_mle_and_perplexity():
    model = NGramModel(1, k=0).fit(TINY)       # tokens: a a b </s> </s>
    np.testing.assert_allclose(model.distribution(), [2 / 5, 1 / 5, 2 / 5, 0.0], rtol=1e-15)
    assert model.perplexity([["a"]]) == pytest.approx((2 / 5 * 2 / 5) ** -0.5, rel=1e-14)
    assert model.perplexity([["zebra"]]) == np.inf            # <unk> has probability 0


def test_k_zero_unseen_context_raises_and_large_k_tends_to_uniform():
    model = NGramModel(2, k=0).fit(TINY)
    with pytest.raises(ValueError, match=r"never occurs in training and k = 0"):
        model.distribution(["b", "zebra"])
    wide = NGramModel(2, k=1e9).fit(SMALL)
    np.testing.assert_allclose(wide.distribution(["the"]), 1 / len(wide.vocab), rtol=1e-6)


def test_min_count_maps_rare_words_to_unk():
    model = NGramModel(1, k=0, min_count=2).fit(SMALL)
    assert "red" not in model.vocab and "cat" in model.vocab
    assert model.prob(UNK) == model.prob("red") > 0


def test_log_probabilities_match_torch_log_softmax_of_log_counts():
    model = NGramModel(2, k=0.5).fit(SMALL)
    for context in (["the"], [], ["zebra"]):
        logits = np.log(model.counts(context) + model.k)
        check_values("ngram log p", np.log(model.distribution(context)),
                     torch.log_softmax(to_torch(logits), dim=-1))


def test_sentence_log_likelihood_matches_torch_categorical():
    model = NGramModel(3, k=0.25).fit(SMALL)
    sentence = ["the", "cat", "ran", "on", "the", "zebra"]
    probs = np.stack([model.distribution(sentence[:t]) for t in range(len(sentence) + 1)])
    targets = np.array([model.index.get(w, model.index[UNK]) for w in sentence]
                       + [model.index[EOS]])
    ref = torch.distributions.Categorical(probs=to_torch(probs)).log_prob(to_torch(targets)).sum()
    check_values("ngram sentence log-likelihood", model.log_likelihood(sentence), ref)


def test_sampling_is_reproducible_and_follows_the_model():
    model = NGramModel(2, k=0.1).fit(SMALL)
    draws = [model.sample(np.random.default_rng(7), max_len=12) for _ in range(2)]
    assert draws[0] == draws[1]
    assert all(w in model.vocab and w != EOS for w in draws[0]) and len(draws[0]) <= 12
    others = [model.sample(np.random.default_rng(s), max_len=12) for s in range(8)]
    assert len({tuple(o) for o in others}) > 1
    # With k = 0 every sampled bigram occurred in training.
    strict = NGramModel(2, k=0).fit(SMALL)
    rng = np.random.default_rng(3)
    seen = {(s[i], s[i + 1]) for s in SMALL for i in range(len(s) - 1)}
    for _ in range(20):
        words = strict.sample(rng, max_len=40)
        assert all(pair in seen for pair in pairwise(words))
        assert words and words[0] in {s[0] for s in SMALL}     # (<s>, w) was seen as well


def test_sampling_frequencies_match_the_distribution():
    model = NGramModel(1, k=0).fit(TINY)         # p(a) = 2/5, p(b) = 1/5, p(</s>) = 2/5
    rng = np.random.default_rng(0)
    first = [tuple(model.sample(rng, max_len=1)) for _ in range(20000)]
    freq_a = first.count(("a",)) / len(first)
    assert abs(freq_a - 0.4) < 0.02                 # 6 standard errors


@pytest.mark.parametrize("kwargs, error, message", [
    ({"n": 0}, ValueError, r"n \(the model's order\) must be an integer >= 1"),
    ({"n": 2.0}, ValueError, r"n \(the model's order\)"),
    ({"n": 2, "k": -0.1}, ValueError, r"k \(add-k smoothing\) must be a finite number >= 0"),
    ({"n": 2, "k": float("nan")}, ValueError, r"k \(add-k smoothing\)"),
    ({"n": 2, "min_count": 0}, ValueError, r"min_count must be an integer >= 1"),
])
def test_bad_constructor_arguments_raise(kwargs, error, message):
    with pytest.raises(error, match=message):
        NGramModel(**kwargs)


@pytest.mark.parametrize("corpus, error, message", [
    ([], ValueError, r"sentences is empty"),
    ([[], []], ValueError, r"the training corpus is empty"),
    ("the cat sat", TypeError, r"must be a list of sentences"),
    (["the cat sat"], TypeError, r"split a string first"),
    ([["the", 3]], TypeError, r"non-empty str tokens"),
    ([["the", "</s>"]], ValueError, r"reserved symbol </s>"),
    ([["<s>", "the"]], ValueError, r"reserved symbol <s>"),
])
def test_bad_corpus_raises(corpus, error, message):
    with pytest.raises(error, match=message):
        NGramModel(2).fit(corpus)


def test_use_before_fit_and_bad_sampling_arguments_raise():
    with pytest.raises(RuntimeError, match=r"not fitted"):
        NGramModel(2).perplexity([["a"]])
    model = NGramModel(2).fit(TINY)
    with pytest.raises(TypeError, match=r"numpy.random.Generator"):
        model.sample(np.random.RandomState(0))
    with pytest.raises(ValueError, match=r"max_len must be a positive integer"):
        model.sample(np.random.default_rng(0), max_len=0)
    with pytest.raises(ValueError, match=r"sentences is empty"):
        model.perplexity([])
    with pytest.raises(ValueError, match=r"reserved symbol <s>"):
        model.log_likelihood(["a", "<s>"])
    with pytest.raises(TypeError, match=r"word must be a str"):
        model.prob(1, ["a"])


def test_tokenize_splits_sentences_and_words():
    assert tokenize("The cat's hat. A dog!  Why? ") == [["the", "cat's", "hat"], ["a", "dog"],
                                                      ["why"]]
    with pytest.raises(TypeError, match=r"text must be a str"):
        tokenize(["a"])


def test_start_symbol_is_never_predicted_and_complex_k_is_refused():
    # Old code: prob("<s>") silently answered with p(<unk>); a complex k ended in a bare
    # "'<' not supported" TypeError.
    model = NGramModel(2).fit(TINY)
    with pytest.raises(ValueError, match="word must not be <s>"):
        model.prob("<s>", ["a"])
    with pytest.raises(ValueError, match=r"k \(add-k smoothing\)"):
        NGramModel(2, k=1 + 1j)
    assert NGramModel(np.int64(2), k=np.float32(0.5), min_count=np.int64(1)).n == 2
