"""dlnotes.corpus: the planted structure is really there."""
from collections import Counter

import numpy as np
import pytest

from dlnotes import corpus


def test_reproducible_and_sized():
    a = corpus.template_corpus(200, np.random.default_rng(3))
    b = corpus.template_corpus(200, np.random.default_rng(3))
    assert a == b and len(a) == 200
    assert all(isinstance(t, str) and t == t.lower() for s in a for t in s)


def test_gender_pairs_cooccur_with_their_pronouns():
    sents = corpus.template_corpus(3000, np.random.default_rng(0))
    for male, female in corpus.GENDER_PAIRS:
        with_male = Counter(t for s in sents if male in s for t in s)
        with_female = Counter(t for s in sents if female in s for t in s)
        assert with_male["he"] > 0 and with_male["she"] == 0
        assert with_female["she"] > 0 and with_female["he"] == 0


def test_capitals_appear_only_with_their_country():
    sents = corpus.template_corpus(3000, np.random.default_rng(1))
    for country, capital in corpus.CAPITALS.items():
        other = set(corpus.CAPITALS) - {country}
        for s in sents:
            if capital in s and "capital" in s:
                assert country in s and not other & set(s)


def test_phrase_parts_never_occur_apart():
    sents = corpus.template_corpus(3000, np.random.default_rng(2))
    for phrase in corpus.PHRASES:
        first, second = phrase.split()
        for s in sents:
            for i, t in enumerate(s):
                if t == first:
                    assert i + 1 < len(s) and s[i + 1] == second


def test_sentiment_labels_follow_word_and_negation():
    sents, labels = corpus.sentiment_corpus(500, np.random.default_rng(4))
    assert labels.shape == (500,) and set(labels) == {0, 1}
    for s, y in zip(sents, labels, strict=True):
        positive = any(w in corpus.POSITIVE for w in s)
        assert y == int(positive != ("not" in s))


def test_corpus_text_round_trip():
    sents = corpus.template_corpus(10, np.random.default_rng(5))
    text = corpus.corpus_text(sents)
    assert [line.split() for line in text.splitlines()] == sents


@pytest.mark.parametrize("call, error", [
    (lambda: corpus.template_corpus(0, np.random.default_rng(0)), ValueError),
    (lambda: corpus.template_corpus(5, 0), TypeError),
    (lambda: corpus.sentiment_corpus(5, np.random.default_rng(0), negation_rate=2), ValueError),
    (lambda: corpus.corpus_text("a b"), TypeError),
])
def test_bad_input(call, error):
    with pytest.raises(error):
        call()


def test_negation_rate_goes_through_the_shared_probability_check():
    rng = np.random.default_rng(0)
    for bad, error in ((True, TypeError), ("0.5", TypeError), (float("nan"), ValueError),
                       (-0.1, ValueError)):
        with pytest.raises(error, match="negation_rate"):
            corpus.sentiment_corpus(3, rng, negation_rate=bad)
    sents, _ = corpus.sentiment_corpus(3, np.random.default_rng(0), negation_rate=np.float32(1))
    assert all("not" in s for s in sents)


def test_corpus_text_accepts_tuples_and_refuses_non_str_tokens():
    assert corpus.corpus_text((("a", "b"), ["c"])) == "a b\nc\n"
    with pytest.raises(TypeError, match="str"):
        corpus.corpus_text([["a", 1]])
