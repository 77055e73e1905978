"""n-gram language models with add-k smoothing: counting, probabilities, perplexity, sampling.

Chapter: 03-sequence-models/01-modelling-sequences. An n-gram model is a Markov model of
order n - 1 over words: it predicts each word from the n - 1 words before it,

    p(w | h) = (c(h, w) + k) / (c(h) + k |V|),      c(h) = sum_w c(h, w),

where c counts occurrences in the training sentences, V is the vocabulary the model predicts
over and k >= 0 is the smoothing constant (k = 0: maximum likelihood; k = 1: Laplace).
Every sentence is padded with n - 1 start symbols ``<s>`` and one end symbol ``</s>``, so the
model also learns how sentences begin and end; words never seen in training (or seen fewer
than ``min_count`` times) become ``<unk>``. V holds the training words, ``</s>`` and ``<unk>``
(never ``<s>``, which is only ever conditioned on).

Usage::

    model = NGramModel(n=2, k=0.5).fit([["the", "cat", "sat"], ["a", "dog", "ran"]])
    model.prob("cat", ["the"]); model.perplexity(held_out); model.sample(rng)
"""
from __future__ import annotations

import re
from collections import Counter

import numpy as np

from .validation import check_rng

__all__ = ["BOS", "EOS", "UNK", "tokenize", "NGramModel"]

BOS, EOS, UNK = "<s>", "</s>", "<unk>"
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def tokenize(text: str) -> list[list[str]]:
    """Split text into sentences (at ``.``, ``!``, ``?``) of lower-case word tokens.

    Punctuation other than an apostrophe inside a word is dropped; empty sentences vanish.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str; got {type(text).__name__}")
    sentences = (_WORD.findall(part) for part in re.split(r"[.!?]+", text.lower()))
    return [s for s in sentences if s]


class NGramModel:
    """An add-k smoothed n-gram model over word tokens.

    n: order (1 = unigram, 2 = bigram, ...), the context is the previous n - 1 tokens;
    k: smoothing constant >= 0;  min_count: training words seen fewer times become ``<unk>``.
    """

    def __init__(self, n: int, k: float = 1.0, min_count: int = 1):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"n (the model's order) must be an integer >= 1; got {n!r}")
        if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, float, np.integer,
                                                                 np.floating)) \
                or not np.isfinite(k) or k < 0:
            raise ValueError(f"k (add-k smoothing) must be a finite number >= 0; got {k!r}")
        if isinstance(min_count, bool) or not isinstance(min_count, (int, np.integer)) \
                or min_count < 1:
            raise ValueError(f"min_count must be an integer >= 1; got {min_count!r}")
        self.n, self.k, self.min_count = int(n), float(k), int(min_count)
        self.vocab: tuple[str, ...] = ()
        self.index: dict[str, int] = {}
        self._counts: dict[tuple[str, ...], np.ndarray] = {}

    # ----------------------------------------------------------------------------- fitting
    def fit(self, sentences) -> NGramModel:
        """Count every n-gram of the (padded) training sentences; returns ``self``.

        sentences: a non-empty sequence of sentences, each a list of str tokens.
        """
        sentences = _check_sentences(sentences, "sentences")
        if sum(len(s) for s in sentences) == 0:
            raise ValueError("the training corpus is empty: it holds no tokens to count")
        freq = Counter(w for s in sentences for w in s)
        words = sorted(w for w, c in freq.items() if c >= self.min_count and w != UNK)
        self.vocab = (*words, EOS, UNK)
        self.index = {w: i for i, w in enumerate(self.vocab)}
        self._counts = {}
        V = len(self.vocab)
        for sentence in sentences:
            padded = [BOS] * (self.n - 1) + [self._known(w) for w in sentence] + [EOS]
            for t in range(self.n - 1, len(padded)):
                context = tuple(padded[t - self.n + 1:t])
                row = self._counts.get(context)
                if row is None:
                    row = self._counts[context] = np.zeros(V, dtype=np.int64)
                row[self.index[padded[t]]] += 1
        return self

    # ------------------------------------------------------------------------ probabilities
    def context_of(self, history) -> tuple[str, ...]:
        """The last n - 1 tokens of ``history``, left-padded with ``<s>``, unknowns -> ``<unk>``."""
        self._check_fitted()
        history = [self._known(w) if w != BOS else BOS for w in _check_tokens(history, "context")]
        padded = [BOS] * (self.n - 1) + history
        return tuple(padded[len(padded) - (self.n - 1):])

    def counts(self, history=()) -> np.ndarray:
        """Integer counts c(h, w) for every w in ``vocab`` after context h: (V,) int64."""
        context = self.context_of(history)
        row = self._counts.get(context)
        return row.copy() if row is not None else np.zeros(len(self.vocab), dtype=np.int64)

    def distribution(self, history=()) -> np.ndarray:
        """p(w | h) for every w in ``vocab``, in that order: (V,), sums to 1.

        With k = 0 a context never seen in training has no estimate (0 / 0): ValueError.
        """
        c = self.counts(history)
        total = c.sum()
        if self.k == 0 and total == 0:
            raise ValueError(f"context {self.context_of(history)} never occurs in training and "
                             "k = 0: the maximum-likelihood estimate is 0/0; use k > 0")
        return (c + self.k) / (total + self.k * len(self.vocab))

    def prob(self, word: str, history=()) -> float:
        """p(word | h); a word outside the vocabulary is scored as ``<unk>``, and ``</s>``
        asks for the probability that the sentence ends here (``<s>`` raises ValueError)."""
        if not isinstance(word, str):
            raise TypeError(f"word must be a str; got {type(word).__name__}")
        if word == BOS:
            raise ValueError(f"word must not be {BOS}: the start symbol is only conditioned on, "
                             "never predicted (its probability would be that of <unk>)")
        return float(self.distribution(history)[self.index[self._known(word)]])

    def log_likelihood(self, sentence) -> float:
        """Natural-log probability of one sentence, its end symbol included:
        log p(w_1..w_T, </s>) = sum_t log p(w_t | w_{t-n+1}..w_{t-1})."""
        self._check_fitted()
        tokens = _check_tokens(sentence, "sentence")
        if BOS in tokens:
            raise ValueError(f"sentence must not contain the reserved symbol {BOS}")
        total = 0.0
        with np.errstate(divide="ignore"):
            for t, word in enumerate([*tokens, EOS]):
                total += float(np.log(self.prob(word, tokens[:t])))
        return total

    def perplexity(self, sentences) -> float:
        """exp of the mean negative log-likelihood per predicted token (``</s>`` included).

        A uniform model over V words has perplexity |V|; a probability of 0 gives inf.
        """
        self._check_fitted()
        sentences = _check_sentences(sentences, "sentences")
        n_tokens = sum(len(s) + 1 for s in sentences)
        return float(np.exp(-sum(self.log_likelihood(s) for s in sentences) / n_tokens))

    # ---------------------------------------------------------------------------- sampling
    def sample(self, rng: np.random.Generator, max_len: int = 30, prefix=()) -> list[str]:
        """Draw a sentence word by word from p(w | h) until ``</s>`` or ``max_len`` words.

        rng: a NumPy Generator (the only randomness: the same seed gives the same sentence);
        prefix: tokens to continue from. Returns the words after the prefix, without ``</s>``.
        """
        self._check_fitted()
        check_rng(rng)
        if isinstance(max_len, bool) or not isinstance(max_len, (int, np.integer)) or max_len < 1:
            raise ValueError(f"max_len must be a positive integer; got {max_len!r}")
        history = list(_check_tokens(prefix, "prefix"))
        out: list[str] = []
        while len(out) < max_len:
            cdf = np.cumsum(self.distribution(history))
            i = min(int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right")),
                    len(self.vocab) - 1)
            word = self.vocab[i]
            if word == EOS:
                break
            out.append(word)
            history.append(word)
        return out

    # ----------------------------------------------------------------------------- helpers
    def _known(self, word: str) -> str:
        return word if word in self.index else UNK

    def _check_fitted(self) -> None:
        if not self.vocab:
            raise RuntimeError("the model is not fitted yet: call fit(sentences) first")

    def __repr__(self) -> str:
        return (f"NGramModel(n={self.n}, k={self.k:g}, |V|={len(self.vocab)}, "
                f"contexts={len(self._counts)})")


def _check_tokens(tokens, name: str) -> list[str]:
    if isinstance(tokens, str) or not isinstance(tokens, (list, tuple)):
        raise TypeError(f"{name} must be a list of str tokens (split a string first); "
                        f"got {type(tokens).__name__}")
    for w in tokens:
        if not isinstance(w, str) or not w:
            raise TypeError(f"{name} must hold non-empty str tokens; found {w!r}")
        if w == EOS:
            raise ValueError(f"{name} must not contain the reserved symbol {EOS}")
    return list(tokens)


def _check_sentences(sentences, name: str) -> list[list[str]]:
    if isinstance(sentences, str) or not isinstance(sentences, (list, tuple)):
        raise TypeError(f"{name} must be a list of sentences (lists of str tokens); "
                        f"got {type(sentences).__name__}")
    if len(sentences) == 0:
        raise ValueError(f"{name} is empty: at least one sentence is needed")
    out = [_check_tokens(s, "each sentence") for s in sentences]
    if any(BOS in s for s in out):
        raise ValueError(f"sentences must not contain the reserved symbol {BOS}")
    return out
