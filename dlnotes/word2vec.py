"""word2vec: skip-gram and CBOW with negative sampling, subsampling and phrase detection.

Chapter: 04-language/02-word2vec. Two tables of vectors, ``W_in: (V, D)`` (the word vectors
one keeps) and ``W_out: (V, D)`` (the "context" vectors), both rows-are-words. For a centre
word c, a true context word o and K noise words k drawn from the unigram distribution raised to
the power 3/4, the negative-sampling loss is

    L = -log sigma(u_o . v_c) - sum_k log sigma(-u_k . v_c),     v = W_in[.], u = W_out[.]

(Mikolov et al. 2013, "Distributed representations of words and phrases"). Skip-gram takes
v_c = W_in[centre] and predicts each context word; CBOW takes the mean of the context words'
W_in rows and predicts the centre. Training is plain SGD on mini-batches of examples with
``np.add.at`` scatter updates, so a word that appears twice in a batch gets both updates.
"""
from __future__ import annotations

from collections import Counter
from itertools import pairwise
from typing import NamedTuple

import numpy as np

from .validation import (
    as_float,
    as_float_array,
    as_int_array,
    check_in_closed_unit_interval,
    check_positive_int,
    check_rng,
)

__all__ = ["NOISE_POWER", "Vocab", "build_vocab", "noise_distribution", "keep_probability",
           "negative_sampling_loss", "skipgram_batch_loss", "cbow_batch_loss", "train_skipgram",
           "train_cbow", "encode", "training_examples", "phrase_scores", "join_phrases"]

NOISE_POWER = 0.75


class Vocab(NamedTuple):
    """Words sorted by decreasing count (ties alphabetically); ``index[word]`` is its row."""
    words: list
    index: dict
    counts: np.ndarray   # (V,) int64


def _check_sentences(sentences) -> list[list[str]]:
    if isinstance(sentences, str) or not isinstance(sentences, (list, tuple)):
        raise TypeError(f"sentences must be a list of token lists; got {type(sentences).__name__}")
    for i, s in enumerate(sentences):
        if isinstance(s, str) or not isinstance(s, (list, tuple)) or \
                not all(isinstance(t, str) and t for t in s):
            raise TypeError(f"sentence {i} must be a list of non-empty str tokens; got {s!r:.60}")
    if sum(len(s) for s in sentences) == 0:
        raise ValueError("the corpus is empty: no sentence holds a token")
    return [list(s) for s in sentences]


def build_vocab(sentences, min_count: int = 1) -> Vocab:
    """Count the tokens and keep the words seen at least ``min_count`` times."""
    sentences = _check_sentences(sentences)
    min_count = check_positive_int(min_count, "min_count")
    counts = Counter(t for s in sentences for t in s)
    kept = sorted((w for w in counts if counts[w] >= min_count), key=lambda w: (-counts[w], w))
    if not kept:
        raise ValueError(f"no word occurs at least min_count={min_count} times")
    return Vocab(kept, {w: i for i, w in enumerate(kept)},
                 np.array([counts[w] for w in kept], dtype=np.int64))


def noise_distribution(counts, power: float = NOISE_POWER) -> np.ndarray:
    """P_n(w) = count(w)^power / sum_w' count(w')^power; counts: (V,) -> (V,), sums to 1.

    power = 3/4 (Mikolov et al. 2013) lifts rare words above their unigram share and
    lowers frequent ones: "the" is drawn less often than it occurs. The counts are divided
    by the largest one first (which changes no ratio), so counts near 1e300 or 1e-300 and
    large powers neither overflow nor underflow. NaN, inf and negative counts raise.
    """
    c = as_float_array(counts, "counts", ndim=1, shape_hint="(V,)")
    if c.size == 0 or not np.all(np.isfinite(c)) or np.any(c < 0) or not np.any(c > 0):
        raise ValueError("counts must be a non-empty (V,) array of finite non-negative "
                         "numbers, not all zero")
    power = as_float(power, "power", nonnegative=True)
    c = c / c.max()                                      # the largest term is 1 ** power = 1
    with np.errstate(under="ignore"):                    # a tiny share may round to 0
        p = c ** power
    p[c == 0] = 0.0                                      # 0 ** 0 would be 1
    return p / p.sum()


def keep_probability(counts, t: float) -> np.ndarray:
    """Probability of keeping each occurrence of a word when subsampling; counts: (V,) -> (V,).

        keep(w) = min(1, sqrt(t / f(w))),   f(w) = count(w) / sum_w' count(w')

    the formula of the paper (discard with probability 1 - sqrt(t / f)). Words rarer than
    the threshold t are always kept; a word with frequency f keeps on average
    sqrt(t f) * total of its f * total occurrences. (The released C code uses the slightly
    gentler sqrt(t / f) + t / f.) The frequencies are computed after dividing by the
    largest count, so counts near 1e300 do not overflow in the sum. NaN, inf and counts
    <= 0 raise ValueError.
    """
    c = as_float_array(counts, "counts", ndim=1, shape_hint="(V,)")
    if c.size == 0 or not np.all(np.isfinite(c)) or np.any(c <= 0):
        raise ValueError("counts must be a non-empty (V,) array of positive counts")
    t = as_float(t, "t (the subsampling threshold)", positive=True)
    c = c / c.max()
    f = c / c.sum()
    return np.minimum(1.0, np.sqrt(t / f))


def _log_sigmoid(x: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -x)                        # -softplus(-x): finite for any x


def _sigmoid(x: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def negative_sampling_loss(v_c, u_o, u_neg):
    """Loss and gradients of one (centre, context) pair with K negatives.

    v_c: (D,) centre vector;  u_o: (D,) true context vector;  u_neg: (K, D) noise vectors.

        L = -log sigma(u_o . v_c) - sum_k log sigma(-u_k . v_c)
        dL/dv_c = (sigma(s_o) - 1) u_o + sum_k sigma(s_k) u_k,   s = u . v_c
        dL/du_o = (sigma(s_o) - 1) v_c,    dL/du_k = sigma(s_k) v_c

    -log sigma(x) is computed as log(1 + e^{-x}) with ``np.logaddexp``, finite at |x| = 1e4.
    NaN in any input propagates to the loss and the gradients, as in torch.
    Returns (loss: float, (dv_c: (D,), du_o: (D,), du_neg: (K, D))).
    """
    v_c = as_float_array(v_c, "v_c", ndim=1, shape_hint="(D,)")
    u_o = as_float_array(u_o, "u_o", ndim=1, shape_hint="(D,)")
    u_neg = as_float_array(u_neg, "u_neg", ndim=2, shape_hint="(K, D)")
    D = v_c.shape[0]
    if u_o.shape != (D,) or u_neg.shape[1] != D or u_neg.shape[0] < 1:
        raise ValueError(f"need v_c: (D,), u_o: (D,), u_neg: (K, D) with K >= 1 and one D; "
                         f"got {v_c.shape}, {u_o.shape}, {u_neg.shape}")
    with np.errstate(invalid="ignore", over="ignore"):   # NaN and inf propagate, as in torch
        s_o, s_neg = u_o @ v_c, u_neg @ v_c              # (), (K,)
        loss = -_log_sigmoid(s_o) - np.sum(_log_sigmoid(-s_neg))
        g_o, g_neg = _sigmoid(s_o) - 1.0, _sigmoid(s_neg)    # dL/ds_o, dL/ds_k
        dv_c = g_o * u_o + g_neg @ u_neg
        return float(loss), (dv_c, g_o * v_c, g_neg[:, None] * v_c)


def _batch_terms(h, W_out, targets, negatives):
    """Shared core: loss summed over the batch and the gradients w.r.t. h and W_out."""
    with np.errstate(invalid="ignore", over="ignore"):   # NaN and inf propagate, as in torch
        return _batch_terms_unchecked(h, W_out, targets, negatives)


def _batch_terms_unchecked(h, W_out, targets, negatives):
    u_o, u_neg = W_out[targets], W_out[negatives]        # (B, D), (B, K, D)
    valid = negatives != targets[:, None]                # (B, K): the true word is no negative
    s_o = np.einsum("bd,bd->b", u_o, h)                  # (B,)
    s_neg = np.einsum("bkd,bd->bk", u_neg, h)            # (B, K)
    # A skipped negative contributes nothing at all (np.where, not a 0 * term that would turn
    # an inf term into NaN, as torch never forms it either).
    loss = -np.sum(_log_sigmoid(s_o)) - np.sum(np.where(valid, _log_sigmoid(-s_neg), 0.0))
    g_o, g_neg = _sigmoid(s_o) - 1.0, np.where(valid, _sigmoid(s_neg), 0.0)
    live = valid[:, :, None]
    dh = g_o[:, None] * u_o + np.where(live, g_neg[:, :, None] * u_neg, 0.0).sum(axis=1)
    dW_out = np.zeros_like(W_out)
    _scatter_add(dW_out, targets, g_o[:, None] * h)
    _scatter_add(dW_out, negatives.ravel(),
                 np.where(live, g_neg[:, :, None] * h[:, None, :], 0.0).reshape(-1, h.shape[1]))
    return float(loss), dh, dW_out


def _scatter_add(out: np.ndarray, rows: np.ndarray, values: np.ndarray) -> None:
    """out[rows[i]] += values[i] for every i, repeats included: ``np.add.at`` on the flat
    view, which numpy runs several times faster than the same call on rows of a 2-D array."""
    D = out.shape[1]
    np.add.at(out.reshape(-1), (rows[:, None] * D + np.arange(D)).ravel(), values.ravel())


def _check_batch(W_in, W_out, targets, negatives, targets_name):
    W_in = as_float_array(W_in, "W_in", ndim=2, shape_hint="(V, D)")
    W_out = as_float_array(W_out, "W_out", ndim=2, shape_hint="(V, D)")
    if W_in.shape != W_out.shape:
        raise ValueError(f"W_in and W_out must both be (V, D); got {W_in.shape} and {W_out.shape}")
    targets = as_int_array(targets, targets_name, ndim=1)
    negatives = as_int_array(negatives, "negatives", ndim=2)
    if negatives.shape[0] != targets.shape[0]:
        raise ValueError(f"negatives must be (B, K) with B = len({targets_name}) = "
                         f"{targets.shape[0]}; got {negatives.shape}")
    V = W_in.shape[0]
    for name, a in ((targets_name, targets), ("negatives", negatives)):
        if a.size and (a.min() < 0 or a.max() >= V):
            raise ValueError(f"{name} must be word ids in [0, {V}); "
                             f"got range [{a.min()}, {a.max()}]")
    return W_in, W_out, targets, negatives


def skipgram_batch_loss(W_in, W_out, centers, contexts, negatives):
    """Summed negative-sampling loss of B skip-gram pairs and its gradients.

    W_in, W_out: (V, D);  centers, contexts: (B,) word ids;  negatives: (B, K) word ids.
    L = sum_b [-log sigma(W_out[o_b] . W_in[c_b]) - sum_k log sigma(-W_out[n_bk] . W_in[c_b])],
    where a negative equal to the pair's true context word is skipped (as in the C code).
    Returns (loss, (dW_in: (V, D), dW_out: (V, D))), rows summed over repeated ids.
    """
    W_in, W_out, contexts, negatives = _check_batch(W_in, W_out, contexts, negatives,
                                                    "contexts")
    centers = as_int_array(centers, "centers", ndim=1)
    if centers.shape != contexts.shape or (centers.size and not 0 <= centers.min() <= centers.max()
                                           < W_in.shape[0]):
        raise ValueError(f"centers must be (B,) word ids in [0, {W_in.shape[0]}) matching contexts")
    return _skipgram_terms(W_in, W_out, centers, contexts, negatives)


def _skipgram_terms(W_in, W_out, centers, contexts, negatives):
    with np.errstate(invalid="ignore", over="ignore"):   # NaN and inf propagate, as in torch
        return _skipgram_terms_unchecked(W_in, W_out, centers, contexts, negatives)


def _skipgram_terms_unchecked(W_in, W_out, centers, contexts, negatives):
    loss, dh, dW_out = _batch_terms(W_in[centers], W_out, contexts, negatives)
    dW_in = np.zeros_like(W_in)
    _scatter_add(dW_in, centers, dh)
    return loss, (dW_in, dW_out)


def cbow_batch_loss(W_in, W_out, context_ids, context_mask, centers, negatives):
    """Summed negative-sampling loss of B CBOW examples and its gradients.

    context_ids: (B, S) word ids, context_mask: (B, S) bool (at least one True per row);
    h_b = mean of W_in[context_ids[b, s]] over the s with mask True, and h_b predicts the
    centre word: L = sum_b [-log sigma(W_out[c_b] . h_b) - sum_k log sigma(-W_out[n_bk] . h_b)].
    Returns (loss, (dW_in: (V, D), dW_out: (V, D))).
    """
    W_in, W_out, centers, negatives = _check_batch(W_in, W_out, centers, negatives, "centers")
    ids = as_int_array(context_ids, "context_ids", ndim=2)
    mask = np.asarray(context_mask)
    if mask.dtype != bool or mask.shape != ids.shape or ids.shape[0] != centers.shape[0]:
        raise ValueError(f"context_mask must be a bool array shaped like context_ids "
                         f"(B={centers.shape[0]}, S); "
                         f"got {mask.dtype} {mask.shape} and {ids.shape}")
    if ids.size and (ids.min() < 0 or ids.max() >= W_in.shape[0]):
        raise ValueError(f"context_ids must be word ids in [0, {W_in.shape[0]})")
    n = mask.sum(axis=1)                                 # (B,)
    if np.any(n == 0):
        raise ValueError("every CBOW example needs at least one context word in its mask")
    return _cbow_terms(W_in, W_out, ids, mask, centers, negatives)


def _cbow_terms(W_in, W_out, ids, mask, centers, negatives):
    with np.errstate(invalid="ignore", over="ignore"):   # NaN and inf propagate, as in torch
        return _cbow_terms_unchecked(W_in, W_out, ids, mask, centers, negatives)


def _cbow_terms_unchecked(W_in, W_out, ids, mask, centers, negatives):
    # Masked-out positions are left out with np.where (not multiplied by 0), so an inf row
    # that is not in the window cannot turn into NaN.
    n = mask.sum(axis=1)                                 # (B,)
    m = mask[:, :, None]
    h = np.where(m, W_in[ids], 0.0).sum(axis=1) / n[:, None]            # (B, D)
    loss, dh, dW_out = _batch_terms(h, W_out, centers, negatives)
    dW_in = np.zeros_like(W_in)
    share = np.where(m, (dh / n[:, None])[:, None, :], 0.0)             # (B, S, D)
    _scatter_add(dW_in, ids.ravel(), share.reshape(-1, W_in.shape[1]))
    return loss, (dW_in, dW_out)


def train_skipgram(sentences, *, dim, window, negatives, epochs, lr, rng, subsample=1e-3,
                   batch_size=128, min_count=1, noise_power=NOISE_POWER):
    """Skip-gram with negative sampling; returns (vocab, W_in, W_out, history)."""
    return _train("skipgram", sentences, dim, window, negatives, epochs, lr, rng, subsample,
                  batch_size, min_count, noise_power)


def train_cbow(sentences, *, dim, window, negatives, epochs, lr, rng, subsample=1e-3,
               batch_size=128, min_count=1, noise_power=NOISE_POWER):
    """CBOW (mean of the context vectors) with negative sampling; same contract as skip-gram."""
    return _train("cbow", sentences, dim, window, negatives, epochs, lr, rng, subsample,
                  batch_size, min_count, noise_power)


def _train(model, sentences, dim, window, negatives, epochs, lr, rng, subsample, batch_size,
           min_count, noise_power):
    """The trainer behind :func:`train_skipgram` and :func:`train_cbow`.

    sentences: list of token lists;  dim = D, window = w (maximum distance), negatives = K,
    epochs, batch_size, min_count: positive ints;  lr > 0;  rng: numpy Generator;
    subsample: threshold t of :func:`keep_probability`, or None for no subsampling;
    noise_power: the exponent of :func:`noise_distribution` (3/4 in word2vec).
    Each epoch, as in word2vec: every occurrence is kept with probability keep(w) (drawn
    afresh), each kept centre draws its own window b ~ U{1..w} (so near words count more),
    windows stop at sentence ends, examples are shuffled and cut into batches, each example
    draws K noise words from P_n (:func:`noise_distribution`), and SGD steps with the summed
    batch gradient at a rate falling linearly from lr to lr / 1e4.
    W_in starts U(-0.5/D, 0.5/D), W_out at 0. Returns vocab (:class:`Vocab`), W_in: (V, D),
    W_out: (V, D) and history: (epochs,) the mean loss per example in each epoch.
    """
    sentences = _check_sentences(sentences)
    D = check_positive_int(dim, "dim")
    w = check_positive_int(window, "window")
    K = check_positive_int(negatives, "negatives")
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    lr = as_float(lr, "lr", positive=True)
    check_rng(rng)
    # Checked here so that a message names the trainer's own arguments.
    if subsample is not None:
        subsample = as_float(subsample, "subsample", positive=True)
    noise_power = as_float(noise_power, "noise_power", nonnegative=True)
    min_count = check_positive_int(min_count, "min_count")
    vocab = build_vocab(sentences, min_count)
    V = len(vocab.words)
    keep = np.ones(V) if subsample is None else keep_probability(vocab.counts, subsample)
    cdf = np.cumsum(noise_distribution(vocab.counts, noise_power))
    ids, sent = encode(sentences, vocab)
    W_in = (rng.random((V, D)) - 0.5) / D
    W_out = np.zeros((V, D))
    terms = _skipgram_terms if model == "skipgram" else _cbow_terms
    history = np.empty(epochs)
    for epoch in range(epochs):
        examples = training_examples(ids, sent, w, keep, rng, model)
        n = examples[-1].shape[0]
        if n == 0:
            raise ValueError("no training example: sentences are too short after subsampling")
        order, total = rng.permutation(n), 0.0
        for lo in range(0, n, batch_size):
            b = order[lo:lo + batch_size]
            noise = np.searchsorted(cdf, rng.random((b.size, K)) * cdf[-1], side="right")
            noise = np.minimum(noise, V - 1)             # (B, K) draws from P_n
            loss, (dW_in, dW_out) = terms(W_in, W_out, *(e[b] for e in examples), noise)
            step = lr * max(1.0 - (epoch * n + lo) / (epochs * n), 1e-4)
            W_in -= step * dW_in
            W_out -= step * dW_out
            total += loss
        history[epoch] = total / n
    return vocab, W_in, W_out, history


def encode(sentences, vocab: Vocab) -> tuple[np.ndarray, np.ndarray]:
    """The corpus as word ids (T,) and sentence ids (T,); words outside ``vocab`` are dropped."""
    sentences = _check_sentences(sentences)
    if not isinstance(vocab, Vocab):
        raise TypeError(f"vocab must be a Vocab from build_vocab; got {type(vocab).__name__}")
    pairs = [(vocab.index[t], i) for i, s in enumerate(sentences) for t in s if t in vocab.index]
    arr = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    return arr[:, 0].copy(), arr[:, 1].copy()


def training_examples(ids, sentence_ids, window: int, keep, rng: np.random.Generator,
                      model: str = "skipgram"):
    """One epoch's examples, drawn as word2vec draws them.

    ids, sentence_ids: (T,) from :func:`encode`;  keep: (V,) keep-probabilities (ones for
    no subsampling). Each token is kept with probability keep[id] (the dropped ones vanish,
    so the window then reaches further); each kept centre draws a window b ~ U{1..window};
    context positions lie within b of the centre and in the same sentence.
    Returns for "skipgram" (centers: (P,), contexts: (P,)), one pair per (centre, context);
    for "cbow" (context_ids: (N, 2w), context_mask: (N, 2w) bool, centers: (N,)), one row per
    centre with at least one context word.
    """
    ids = as_int_array(ids, "ids", ndim=1)
    sid = as_int_array(sentence_ids, "sentence_ids", ndim=1)
    w = check_positive_int(window, "window")
    keep = as_float_array(keep, "keep", ndim=1, shape_hint="(V,)")
    check_in_closed_unit_interval(keep, "keep")          # probabilities (NaN refused)
    if sid.shape != ids.shape:
        raise ValueError(f"ids and sentence_ids must be (T,) alike; got {ids.shape} and "
                         f"{sid.shape}")
    if ids.size and (ids.min() < 0 or ids.max() >= keep.size):
        raise ValueError(f"ids must be word ids in [0, len(keep)) = [0, {keep.size}); got range "
                         f"[{ids.min()}, {ids.max()}]")
    if model not in ("skipgram", "cbow"):
        raise ValueError(f"model must be 'skipgram' or 'cbow'; got {model!r}")
    check_rng(rng)
    kept = rng.random(ids.size) < keep[ids]
    tok, sid = ids[kept], sid[kept]                                        # (T',)
    T = tok.size
    reach = rng.integers(1, w + 1, size=T)                                 # each centre's b
    offsets = np.concatenate([np.arange(-w, 0), np.arange(1, w + 1)])      # (2w,)
    at = np.arange(T)[:, None] + offsets                                   # (T', 2w)
    ok = (at >= 0) & (at < T) & (np.abs(offsets) <= reach[:, None])
    pos = np.clip(at, 0, max(T - 1, 0))
    ok &= sid[pos] == sid[:, None]                                         # same sentence
    if model == "skipgram":
        rows, cols = np.nonzero(ok)
        return tok[rows], tok[pos[rows, cols]]
    has = ok.any(axis=1)
    return tok[pos[has]], ok[has], tok[has]


def phrase_scores(sentences, delta: float, min_count: int = 1) -> list:
    """Bigram scores for phrase detection (Mikolov et al. 2013, section 4).

        score(a, b) = (count(a b) - delta) / (count(a) * count(b))

    over adjacent pairs inside a sentence; delta >= 0 discounts pairs seen only a few
    times. Returns [((a, b), score), ...] for every bigram seen at least ``min_count``
    times, sorted by decreasing score (ties alphabetically). The scale shrinks as the
    corpus grows (word2phrase multiplies by the number of tokens to compensate).
    """
    sentences = _check_sentences(sentences)
    min_count = check_positive_int(min_count, "min_count")
    delta = as_float(delta, "delta", nonnegative=True)
    uni = Counter(t for s in sentences for t in s)
    bi = Counter(pair for s in sentences for pair in pairwise(s))
    scored = [((a, b), (n - delta) / (uni[a] * uni[b])) for (a, b), n in bi.items()
              if n >= min_count]
    return sorted(scored, key=lambda item: (-item[1], item[0]))


def join_phrases(sentences, phrases, sep: str = "_") -> list[list[str]]:
    """Rewrite each occurrence of a bigram in ``phrases`` as one token ("new", "york" ->
    "new_york"), scanning left to right so that overlapping bigrams are not both merged."""
    sentences = _check_sentences(sentences)
    if not isinstance(sep, str):
        raise TypeError(f"sep must be a str; got {type(sep).__name__}")
    if isinstance(phrases, (str, bytes)):
        raise TypeError("phrases must be a collection of (str, str) tuples, not a single str")
    wanted = set()
    for p in phrases:
        if not (isinstance(p, tuple) and len(p) == 2 and all(isinstance(t, str) for t in p)):
            raise TypeError(f"each phrase must be a (str, str) tuple; got {p!r}")
        wanted.add(p)
    out = []
    for s in sentences:
        merged, i = [], 0
        while i < len(s):
            if i + 1 < len(s) and (s[i], s[i + 1]) in wanted:
                merged.append(s[i] + sep + s[i + 1])
                i += 2
            else:
                merged.append(s[i])
                i += 1
        out.append(merged)
    return out
