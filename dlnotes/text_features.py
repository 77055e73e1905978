"""Text as arrays: a vocabulary, padded batches of ids, bag-of-words scorers, a masked LM loss.

Chapter: 04-language/03-language-models-and-classifiers. The torch models trained there live
in ``dlnotes.text_models``; this module is the NumPy side that they are checked against.

Conventions. A batch of N sentences of at most T tokens is an int64 array ``ids: (N, T)``,
left-aligned and padded on the right with the vocabulary's ``pad`` id. A language-model batch
is time-major, as in ``torch.nn.GRU``: ``inputs, targets: (T, N)`` with inputs
``<s> w_1 .. w_L`` and targets ``w_1 .. w_L </s>``, so the model predicts every word and the
end of the sentence, never the start symbol.

The two bag-of-words classifiers, for C classes and a vocabulary of V ids:

    BOW:   logits = b + sum_t S[w_t]             S: (V, C) one score vector per word
    CBOW:  logits = W (sum_t E[w_t]) + b         E: (V, D) embeddings, W: (C, D)

Both are sums over the words, so a sentence's logits depend only on its word counts:
``logits = counts @ S + b`` and ``logits = counts @ E @ W.T + b``.
"""
from __future__ import annotations

from collections import Counter
from typing import NamedTuple

import numpy as np

from .corpus import NEGATIVE, POSITIVE, THINGS
from .layers import DenseCache, dense_backward, dense_forward
from .losses import cross_entropy
from .validation import (
    as_float_array,
    as_int,
    as_int_array,
    check_cache,
    check_positive_int,
    check_rng,
)

__all__ = ["PAD", "BOS", "EOS", "UNK", "Vocabulary", "bag_counts", "BOWCache", "bow_forward",
           "bow_backward", "CBOWCache", "cbow_forward", "cbow_backward", "masked_cross_entropy",
           "perplexity", "contrast_reviews"]

PAD, BOS, EOS, UNK = "<pad>", "<s>", "</s>", "<unk>"


class Vocabulary:
    """Token <-> id maps built from training sentences.

    Ids, in order: the words seen at least ``min_count`` times (sorted), ``</s>``, ``<unk>``
    (these ``n_out`` ids are what a language model predicts, the same set as
    ``dlnotes.ngram.NGramModel.vocab``), then ``<s>`` and ``<pad>`` (inputs only).
    Unknown words map to ``<unk>``; a ``<unk>`` already in the training sentences is that
    same id (it is never counted as a word of its own).
    """

    def __init__(self, sentences, min_count: int = 1):
        sentences = _check_sentences(sentences)
        min_count = check_positive_int(min_count, "min_count")
        freq = Counter(w for s in sentences for w in s)
        words = sorted(w for w, c in freq.items() if c >= min_count and w != UNK)
        self.tokens: tuple[str, ...] = (*words, EOS, UNK, BOS, PAD)
        self.index = {w: i for i, w in enumerate(self.tokens)}
        self.eos, self.unk, self.bos, self.pad = (self.index[t] for t in (EOS, UNK, BOS, PAD))
        self.n_out = self.bos          # words, </s>, <unk>

    def __len__(self) -> int:
        return len(self.tokens)

    def ids(self, tokens) -> list[int]:
        """Ids of a list of tokens (unknown words -> ``<unk>``)."""
        return [self.index.get(w, self.unk) for w in _check_sentences([tokens], "tokens")[0]]

    def encode(self, sentences) -> tuple[np.ndarray, np.ndarray]:
        """Sentences -> (ids: (N, T) int64 right-padded with ``pad``, lengths: (N,) int64)."""
        rows = [self.ids(s) for s in _check_sentences(sentences)]
        lengths = np.array([len(r) for r in rows], dtype=np.int64)
        ids = np.full((len(rows), int(lengths.max())), self.pad, dtype=np.int64)
        for n, r in enumerate(rows):
            ids[n, :len(r)] = r
        return ids, lengths

    def lm_batch(self, sentences) -> tuple[np.ndarray, np.ndarray]:
        """Sentences -> (inputs, targets), both (T, N) int64 with T = longest length + 1.

        inputs[:, n] = <s> w_1 .. w_L <pad>..;  targets[:, n] = w_1 .. w_L </s> <pad>..
        """
        ids, lengths = self.encode(sentences)                  # (N, L)
        N, L = ids.shape
        inputs = np.full((N, L + 1), self.pad, dtype=np.int64)
        inputs[:, 0] = self.bos
        inputs[:, 1:] = ids
        targets = np.full((N, L + 1), self.pad, dtype=np.int64)
        targets[:, :L] = ids
        targets[np.arange(N), lengths] = self.eos
        return inputs.T.copy(), targets.T.copy()               # (T, N)


def bag_counts(ids, vocab_size: int, pad: int) -> np.ndarray:
    """How often each id occurs in each sentence, padding excluded.

    ids: (N, T) int;  vocab_size: V;  pad: the padding id  ->  counts: (N, V) float64.
    """
    ids = _check_ids(ids, vocab_size, pad)
    N = ids.shape[0]
    counts = np.zeros((N, vocab_size))
    rows = np.repeat(np.arange(N), ids.shape[1]).reshape(ids.shape)
    keep = ids != pad
    np.add.at(counts, (rows[keep], ids[keep]), 1.0)
    return counts


class BOWCache(NamedTuple):
    """What ``bow_backward`` needs: the ids, which of them count, and the table's shape."""
    ids: np.ndarray        # (N, T) int
    keep: np.ndarray       # (N, T) bool, ids != pad
    vocab_size: int        # V
    n_classes: int         # C, the width of the logits


def _bag_sum(table: np.ndarray, ids: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """sum_{t: keep[n, t]} table[ids[n, t]]: (N, T) ids -> (N, width).

    Only the rows that occur are added (as ``torch.nn.functional.embedding_bag`` does), so an
    inf in the row of a word that a sentence lacks cannot reach that sentence as 0 * inf.
    """
    with np.errstate(invalid="ignore", over="ignore"):         # NaN, inf propagate as in torch
        return np.where(keep[:, :, None], table[ids], 0).sum(axis=1, dtype=table.dtype)


def _bag_scatter(grad: np.ndarray, ids: np.ndarray, keep: np.ndarray, V: int) -> np.ndarray:
    """The backward of :func:`_bag_sum`: out[v] = sum of grad[n] over the kept (n, t) with
    ids[n, t] = v."""
    out = np.zeros((V, grad.shape[1]), dtype=grad.dtype)
    rows = np.broadcast_to(np.arange(ids.shape[0])[:, None], ids.shape)
    with np.errstate(invalid="ignore", over="ignore"):
        np.add.at(out, ids[keep], grad[rows[keep]])
    return out


def bow_forward(ids, scores, bias, pad: int) -> tuple[np.ndarray, BOWCache]:
    """Bag-of-words logits: one score vector per word, summed, plus a bias.

    ids: (N, T) int;  scores: (V, C);  bias: (C,);  pad: id that contributes nothing
    ->  logits: (N, C) = sum_{t: ids[n,t] != pad} scores[ids[n, t]] + bias.
    Reference: ``torch.nn.functional.embedding_bag(ids, scores, mode="sum", padding_idx=pad)
    + bias``. The logits have the dtype of scores and bias together (float32 stays float32);
    NaN propagates, as in torch.
    """
    scores = as_float_array(scores, "scores", ndim=2, shape_hint="(V, C)")
    bias = as_float_array(bias, "bias", ndim=1, shape_hint="(C,)")
    V, C = scores.shape
    if V == 0:
        raise ValueError(f"scores must have one row per word id (V >= 1); got {scores.shape}")
    if bias.shape != (C,):
        raise ValueError(f"bias must be (C,) = ({C},) to match scores {scores.shape}; "
                         f"got {bias.shape}")
    ids = _check_ids(ids, V, pad)
    keep = ids != pad
    with np.errstate(invalid="ignore", over="ignore"):         # NaN, inf propagate as in torch
        logits = _bag_sum(scores, ids, keep) + bias            # (N, C)
    return logits, BOWCache(ids.copy(), keep, V, C)


def bow_backward(dlogits, cache: BOWCache) -> tuple[np.ndarray, np.ndarray]:
    """dscores = counts^T dlogits, dbias = sum_n dlogits.  dlogits: (N, C) -> (V, C), (C,).

    dlogits must have exactly the forward's shape (N, C): a gradient of another width is
    refused, not turned into a score table of the wrong shape.
    """
    ids, keep, V, C = check_cache(cache, BOWCache, "bow_backward")
    dlogits = as_float_array(dlogits, "dlogits", ndim=2, shape_hint="(N, C)")
    if dlogits.shape != (ids.shape[0], C):
        raise ValueError(f"dlogits must be (N, C) = ({ids.shape[0]}, {C}), the shape of the "
                         f"forward's logits; got {dlogits.shape}")
    with np.errstate(invalid="ignore", over="ignore"):         # NaN, inf propagate as in torch
        return _bag_scatter(dlogits, ids, keep, V), dlogits.sum(axis=0)


class CBOWCache(NamedTuple):
    """What ``cbow_backward`` needs."""
    ids: np.ndarray        # (N, T) int
    keep: np.ndarray       # (N, T) bool, ids != pad
    vocab_size: int        # V
    dense: DenseCache      # of the output layer, x = summed embeddings (N, D)


def cbow_forward(ids, emb, w, b, pad: int) -> tuple[np.ndarray, CBOWCache]:
    """Continuous bag of words: sum the word embeddings, then one linear layer.

    ids: (N, T) int;  emb: (V, D);  w: (C, D);  b: (C,);  pad: id whose row is never used
    ->  logits: (N, C) = (sum_t emb[ids[n, t]]) w^T + b.
    Reference: ``F.linear(F.embedding_bag(ids, emb, mode="sum", padding_idx=pad), w, b)``.
    The logits have the inputs' common dtype; NaN propagates, as in torch.
    """
    emb = as_float_array(emb, "emb", ndim=2, shape_hint="(V, D)")
    if emb.shape[0] == 0:
        raise ValueError(f"emb must have one row per word id (V >= 1); got {emb.shape}")
    w = as_float_array(w, "w", ndim=2, shape_hint="(C, D)")
    b = as_float_array(b, "b", ndim=1, shape_hint="(C,)")
    if w.shape[1] != emb.shape[1]:
        raise ValueError(f"w must be (C, D) with D={emb.shape[1]} to match emb {emb.shape}; "
                         f"got {w.shape}")
    if b.shape != (w.shape[0],):
        raise ValueError(f"b must be (C,) = ({w.shape[0]},) to match w {w.shape}; "
                         f"got {b.shape}")
    ids = _check_ids(ids, emb.shape[0], pad)
    keep = ids != pad
    with np.errstate(invalid="ignore", over="ignore"):         # NaN, inf propagate as in torch
        logits, dense = dense_forward(_bag_sum(emb, ids, keep), w, b)   # (N, D) -> (N, C)
    return logits, CBOWCache(ids.copy(), keep, emb.shape[0], dense)


def cbow_backward(dlogits, cache: CBOWCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients (demb: (V, D), dw: (C, D), db: (C,)); demb[v] = counts[:, v] . dsum."""
    ids, keep, V, dense = check_cache(cache, CBOWCache, "cbow_backward")
    dlogits = as_float_array(dlogits, "dlogits", ndim=2, shape_hint="(N, C)")
    want = (ids.shape[0], dense.w.shape[0])
    if dlogits.shape != want:
        raise ValueError(f"dlogits must be (N, C) = {want}, the shape of the forward's logits; "
                         f"got {dlogits.shape}")
    with np.errstate(invalid="ignore", over="ignore"):       # NaN, inf propagate as in torch
        dsum, dw, db = dense_backward(dlogits, dense)        # dsum: (N, D)
        return _bag_scatter(dsum, ids, keep, V), dw, db


def masked_cross_entropy(logits, targets, ignore_index: int) -> tuple[float, np.ndarray]:
    """Mean cross-entropy over the positions whose target is not ``ignore_index``.

    logits: (..., C), e.g. (T, N, C);  targets: (...) int, e.g. (T, N)
    ->  (loss, dloss/dlogits of shape (..., C), zero at ignored positions).
    loss = -(1/M) sum_{kept i} log softmax(logits_i)[targets_i], M = number kept.
    Reference: ``F.cross_entropy(logits.reshape(-1, C), targets.reshape(-1),
    ignore_index=ignore_index)``. NaN or inf logits give NaN, as in torch.
    """
    logits = as_float_array(logits, "logits")
    targets = as_int_array(targets, "targets")
    ignore_index = as_int(ignore_index, "ignore_index")
    if logits.ndim < 2 or logits.shape[:-1] != targets.shape:
        raise ValueError(f"logits must be targets.shape + (C,) = {targets.shape} + (C,); "
                         f"got {logits.shape}")
    C = logits.shape[-1]
    if C == 0:
        raise ValueError(f"logits must hold at least one class; got shape {logits.shape}")
    flat_logits, flat_targets = logits.reshape(-1, C), targets.reshape(-1)
    keep = flat_targets != ignore_index
    if not keep.any():
        raise ValueError(f"every target equals ignore_index = {ignore_index}: nothing to score")
    outside = keep & ((flat_targets < 0) | (flat_targets >= C))
    if outside.any():
        raise ValueError(f"targets holds class {flat_targets[outside][0]}, outside [0, {C}) for "
                         f"{C} classes (and not ignore_index = {ignore_index})")
    loss, grad_kept = cross_entropy(flat_logits[keep], flat_targets[keep])   # mean over M
    grad = np.zeros_like(flat_logits)
    grad[keep] = grad_kept
    return loss, grad.reshape(logits.shape)


def perplexity(log_probs) -> float:
    """exp(-mean log p) of per-token natural-log probabilities (any shape, at least one).

    A log-probability of -inf (p = 0) gives inf; NaN raises ValueError.
    """
    log_probs = as_float_array(log_probs, "log_probs")
    if log_probs.size == 0:
        raise ValueError("log_probs is empty: perplexity needs at least one token")
    if np.any(np.isnan(log_probs)):
        raise ValueError("log_probs must not hold NaN")
    if np.any(log_probs > 0):
        raise ValueError("log_probs must be log-probabilities (<= 0); found a positive value")
    with np.errstate(over="ignore"):                          # a huge mean: inf, exactly
        return float(np.exp(-np.mean(log_probs, dtype=np.float64)))


def contrast_reviews(n_pairs: int, rng: np.random.Generator) -> tuple[list[list[str]], np.ndarray]:
    """Pairs of reviews with the same words in a different order and opposite labels.

    Pair k is "the THING was A and not B" (label of A) and "the THING was B and not A"
    (label of B), with A and B of opposite polarity drawn from ``dlnotes.corpus``'s word lists.
    Returns 2 * n_pairs sentences (pair k at rows 2k, 2k + 1) and labels (2 * n_pairs,) int64,
    1 = positive. Any model that sees only the bag of words scores both rows of a pair alike.
    """
    n = check_positive_int(n_pairs, "n_pairs")
    check_rng(rng)
    sentences, labels = [], np.empty(2 * n, dtype=np.int64)
    for k in range(n):
        good = POSITIVE[int(rng.integers(len(POSITIVE)))]
        bad = NEGATIVE[int(rng.integers(len(NEGATIVE)))]
        thing = THINGS[int(rng.integers(len(THINGS)))]
        first_positive = bool(rng.integers(2))
        a, b = (good, bad) if first_positive else (bad, good)
        sentences += [f"the {thing} was {a} and not {b}".split(),
                      f"the {thing} was {b} and not {a}".split()]
        labels[2 * k:2 * k + 2] = (int(first_positive), int(not first_positive))
    return sentences, labels


def _check_ids(ids, vocab_size, pad) -> np.ndarray:
    ids = as_int_array(ids, "ids", ndim=2)
    vocab_size = check_positive_int(vocab_size, "vocab_size")
    if isinstance(pad, (bool, np.bool_)) or not isinstance(pad, (int, np.integer)) \
            or not 0 <= pad < vocab_size:
        raise ValueError(f"pad must be an id in [0, {vocab_size}); got {pad!r}")
    if ids.size and (ids.min() < 0 or ids.max() >= vocab_size):
        bad = ids[(ids < 0) | (ids >= vocab_size)][0]
        raise ValueError(f"ids holds {bad}, outside [0, {vocab_size}) for a vocabulary of "
                         f"{vocab_size}")
    return ids


def _check_sentences(sentences, name: str = "sentences") -> list[list[str]]:
    """``name`` is the caller's argument: "sentences", or "tokens" for one sentence."""
    one = name != "sentences"
    if isinstance(sentences, str) or not isinstance(sentences, (list, tuple)):
        raise TypeError("sentences must be a list of token lists (split strings first); "
                        f"got {type(sentences).__name__}")
    if len(sentences) == 0:
        raise ValueError("sentences is empty: at least one sentence is needed")
    for s in sentences:
        if isinstance(s, str) or not isinstance(s, (list, tuple)) or len(s) == 0:
            what = "tokens must be a non-empty list" if one else \
                "each sentence must be a non-empty list"
            raise TypeError(f"{what} of str tokens (split strings first); got {s!r:.60}")
        for w in s:
            if not isinstance(w, str) or not w:
                raise TypeError(f"tokens must be non-empty str; found {w!r}")
            if w in (PAD, BOS, EOS):
                raise ValueError(f"{name} must not contain the reserved token {w}")
    return [list(s) for s in sentences]
