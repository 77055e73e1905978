"""Count-based word vectors: co-occurrence counts, PPMI, truncated SVD, cosine similarity.

Chapter: 04-language/01-representing-words. The distributional recipe in four steps, then
analogies:

1. :func:`cooccurrence_matrix` counts, for every pair of words (a, b), how often b occurs
   within ``window`` tokens of a, giving a symmetric (V, V) matrix ``C``;
2. :func:`ppmi` reweights the counts by positive pointwise mutual information,
   ``max(0, log(C_ab * C_total / (C_a * C_b)))``, so that frequent words stop dominating;
3. :func:`svd_embeddings` keeps the top ``dim`` singular directions: ``E = U_k S_k``, one
   dense (dim,) vector per word instead of a sparse (V,) row;
4. :func:`cosine_similarity` compares two vectors by angle, and :func:`nearest` lists the
   words whose vectors point in the most similar directions;
5. :func:`analogy` answers a : b :: c : ? with the word nearest to b - a + c (used again by
   04-language/02-word2vec).

Words are rows: ``counts: (V, V)``, ``vectors: (V, D)``; ``vocab[i]`` names row i. The
vocabulary is always sorted, so the same corpus gives the same matrix in the same order.
References: Deerwester et al. (1990) for SVD of count matrices; Church and Hanks (1990) and
Levy and Goldberg (2014) for PMI.
"""
from __future__ import annotations

import numpy as np

from .validation import as_float_array, check_positive_int, check_same_shape

__all__ = ["TRANSFORMS", "cosine_similarity", "cooccurrence_matrix", "ppmi", "svd_embeddings",
           "nearest", "analogy"]

TRANSFORMS = ("none", "log", "ppmi")


def cosine_similarity(u, v):
    """Cosine of the angle between two vectors, or between matching rows of two matrices.

    u, v: (D,) -> float;   u, v: (N, D) -> (N,) with entry n = cos(u[n], v[n]).

        cos(u, v) = u . v / (||u|| ||v||),   in [-1, 1].

    Each row is first divided by its largest absolute entry (which changes no angle), so
    entries near 1e300 or 1e-300 neither overflow nor underflow. A zero vector has no
    direction: it raises ``ValueError`` (``torch.nn.functional.cosine_similarity`` returns 0
    for it instead, because of its ``eps``). NaN or inf raises ``ValueError``. Shapes must
    match exactly; nothing broadcasts.
    """
    u = as_float_array(u, "u")
    v = as_float_array(v, "v")
    if u.ndim not in (1, 2):
        raise ValueError(f"u must be a vector (D,) or a matrix (N, D); got shape {u.shape}")
    check_same_shape(u, v, "u", "v")
    if u.shape[-1] == 0:
        raise ValueError(f"vectors must have at least one entry; got shape {u.shape}")
    for name, a in (("u", u), ("v", v)):
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name} must be finite (no inf or NaN)")
    u2, v2 = np.atleast_2d(u), np.atleast_2d(v)                  # (N, D)
    for name, a in (("u", u2), ("v", v2)):
        zero = np.flatnonzero(np.all(a == 0, axis=1))
        if zero.size:
            where = "" if u.ndim == 1 else f" (row {zero[0]})"
            raise ValueError(f"{name} is a zero vector{where}: its cosine similarity is undefined")
    u2 = u2 / np.abs(u2).max(axis=1, keepdims=True)
    v2 = v2 / np.abs(v2).max(axis=1, keepdims=True)
    dots = np.einsum("nd,nd->n", u2, v2)                            # (N,)
    cos = dots / (np.linalg.norm(u2, axis=1) * np.linalg.norm(v2, axis=1))
    cos = np.clip(cos, -1.0, 1.0)                                   # round-off can reach 1 + 2e-16
    return float(cos[0]) if u.ndim == 1 else cos


def _check_sentences(sentences) -> list[list[str]]:
    if not isinstance(sentences, (list, tuple)):
        raise TypeError(f"sentences must be a list of token lists; got {type(sentences).__name__}")
    for i, s in enumerate(sentences):
        if not isinstance(s, (list, tuple)) or not all(isinstance(t, str) for t in s):
            raise TypeError(f"sentence {i} must be a list of str tokens; got {s!r:.60}")
    if sum(len(s) for s in sentences) == 0:
        raise ValueError("the corpus is empty: no sentence holds a token")
    return [list(s) for s in sentences]


def cooccurrence_matrix(sentences, window: int) -> tuple[np.ndarray, list[str]]:
    """Symmetric word-word co-occurrence counts within a window.

    sentences: list of token lists, e.g. ``[["the", "cat", "sat"], ...]``;
    window: w >= 1, the number of tokens looked at on *each* side of a word.
    Returns (counts, vocab): vocab is the sorted list of the V distinct tokens, and

        counts[a, b] = #{(s, i, j): |i - j| in 1..w, sentence s has vocab[a] at i, vocab[b] at j},

    an int64 (V, V) array with counts == counts.T. Windows stop at sentence boundaries, every
    position within the window counts 1 (no distance weighting), and a word does count a
    repeat of itself ("the cat saw the dog" adds 2 to counts[the, the] for w >= 3).
    The matrix is dense, so memory grows as V^2.
    """
    sentences = _check_sentences(sentences)
    w = check_positive_int(window, "window")
    vocab = sorted({t for s in sentences for t in s})
    index = {t: i for i, t in enumerate(vocab)}
    V = len(vocab)
    counts = np.zeros((V, V), dtype=np.int64)
    for s in sentences:
        ids = np.array([index[t] for t in s], dtype=np.int64)     # (T,)
        for d in range(1, min(w, len(ids) - 1) + 1):
            left, right = ids[:-d], ids[d:]                        # pairs at distance d
            np.add.at(counts, (left, right), 1)
            np.add.at(counts, (right, left), 1)
    return counts, vocab


def _check_counts(counts) -> np.ndarray:
    c = as_float_array(counts, "counts", ndim=2, shape_hint="(V, V)")
    if c.shape[0] != c.shape[1] or c.shape[0] == 0:
        raise ValueError(f"counts must be a non-empty square (V, V) matrix; got shape {c.shape}")
    if not np.all(np.isfinite(c)) or np.any(c < 0):
        raise ValueError("counts must be finite and non-negative (no NaN, inf or negative "
                         "entries)")
    return c.astype(np.float64)


def ppmi(counts) -> np.ndarray:
    """Positive pointwise mutual information of a (V, V) count matrix; returns (V, V).

        PMI[a, b] = log( C[a, b] * C_total / (C[a, :].sum() * C[:, b].sum()) ),
        PPMI = max(PMI, 0),   and 0 wherever C[a, b] = 0 (where PMI would be -inf).

    PMI compares how often a and b meet with how often they would meet if independent, so a
    pair of two frequent words ("the", "of") gets no credit just for being frequent.
    PMI does not change when every count is multiplied by one constant, so the counts are
    first divided by the largest one: counts near 1e300 or 1e-300 give the same result.
    NaN, inf and negative counts raise ValueError.
    """
    c = _check_counts(counts)
    if not np.any(c > 0):
        raise ValueError("counts are all zero: PMI is undefined")
    c = c / c.max()                                # in [0, 1]: no product below over/underflows
    total = c.sum()
    rows, cols = c.sum(axis=1, keepdims=True), c.sum(axis=0, keepdims=True)   # (V, 1), (1, V)
    out = np.zeros_like(c)
    seen = c > 0                                   # so rows and cols are > 0 there too
    expected = (rows @ cols)[seen] / total
    out[seen] = np.maximum(np.log(c[seen] / expected), 0.0)
    return out


def svd_embeddings(counts, dim: int, transform: str = "ppmi") -> np.ndarray:
    """Dense word vectors from a truncated SVD of a (transformed) co-occurrence matrix.

    counts: (V, V) non-negative;  dim: k with 1 <= k <= V;  transform: what the SVD sees,
    ``"ppmi"`` (default, :func:`ppmi`), ``"log"`` (log(1 + C)) or ``"none"`` (C itself).
    With M = transform(C) = U S W^T (singular values in decreasing order), returns

        E = U[:, :k] * S[:k]                                    (V, k)

    which equals M W_k: row a is word a's row of M written in the orthonormal basis of the
    top-k right singular vectors. Hence E E^T = M M^T whenever k >= rank(M): the dot products
    (and cosines) between the rows of M survive exactly, and for smaller k it is the best
    rank-k approximation (Eckart-Young). The sign of each singular vector is arbitrary, so
    every column of E is flipped to make its largest-magnitude entry positive (the first one
    on a tie): the output is the same on every machine.
    """
    c = _check_counts(counts)
    V = c.shape[0]
    k = check_positive_int(dim, "dim")
    if k > V:
        raise ValueError(f"dim must be at most V={V} (the number of words); got {k}")
    if not isinstance(transform, str) or transform not in TRANSFORMS:
        raise ValueError(f"transform must be one of {TRANSFORMS}; got {transform!r}")
    m = {"none": lambda a: a, "log": np.log1p, "ppmi": ppmi}[transform](c)
    u, s, _ = np.linalg.svd(m, full_matrices=False)               # u: (V, V), s: (V,)
    emb = u[:, :k] * s[:k]                                         # (V, k)
    pivot = np.argmax(np.abs(emb), axis=0)                         # (k,) first largest |entry|
    signs = np.sign(emb[pivot, np.arange(k)])
    signs[signs == 0] = 1.0
    return emb * signs


def nearest(query, vectors, vocab, k: int, exclude=()) -> list[tuple[str, float]]:
    """The k words whose vectors have the largest cosine similarity with the query.

    query: a word of ``vocab`` (str) or a vector (D,);  vectors: (V, D), row i for vocab[i];
    vocab: V distinct words;  k >= 1;  exclude: words never to return (e.g. the three words
    of an analogy). A word query is never returned as its own neighbour.
    Returns [(word, cosine), ...] sorted by decreasing cosine; ties keep vocab order.
    NaN or inf in ``vectors`` or ``query`` raises ValueError.
    """
    vectors = as_float_array(vectors, "vectors", ndim=2, shape_hint="(V, D)")
    V, D = vectors.shape
    if not isinstance(vocab, (list, tuple)) or not all(isinstance(w, str) for w in vocab):
        raise TypeError("vocab must be a list of str")
    if len(vocab) != V:
        raise ValueError(f"vocab has {len(vocab)} words but vectors has {V} rows")
    index = {w: i for i, w in enumerate(vocab)}
    if len(index) != V:
        raise ValueError("vocab must not contain a word twice")
    if not np.all(np.isfinite(vectors)):
        raise ValueError("vectors must be finite (no inf or NaN)")
    k = check_positive_int(k, "k")
    if isinstance(exclude, str):
        raise TypeError(f"exclude must be a collection of words, not the single str {exclude!r}")
    skip = set()
    for w in ([query] if isinstance(query, str) else []) + list(exclude):
        if w not in index:
            raise ValueError(f"unknown word {w!r}: it is not in the vocabulary of {V} words")
        skip.add(index[w])
    if isinstance(query, str):
        q = vectors[index[query]]
    else:
        q = as_float_array(query, "query", ndim=1, shape_hint="(D,)")
        if q.shape != (D,):
            raise ValueError(f"query must be a word or a vector of shape ({D},); got {q.shape}")
        if not np.all(np.isfinite(q)):
            raise ValueError("query must be finite (no inf or NaN)")
    if not np.any(q):
        raise ValueError("the query vector is zero: it has no direction to compare")
    zero_rows = np.flatnonzero(~np.any(vectors, axis=1))
    if zero_rows.size:
        raise ValueError(f"vectors: the vector of {vocab[zero_rows[0]]!r} (row {zero_rows[0]}) "
                         "is zero: cosine is undefined")
    candidates = np.array([i for i in range(V) if i not in skip], dtype=np.int64)
    if k > candidates.size:
        raise ValueError(f"k={k} but only {candidates.size} words are left to return")
    sims = cosine_similarity(np.broadcast_to(q, (candidates.size, D)), vectors[candidates])
    order = np.argsort(-sims, kind="stable")[:k]
    return [(vocab[candidates[i]], float(sims[i])) for i in order]


def analogy(a: str, b: str, c: str, vectors, vocab, k: int = 1) -> list[tuple[str, float]]:
    """Solve the analogy a : b :: c : ? by vector offsets ("man : king :: woman : ?").

    a, b, c: three words of ``vocab``;  vectors: (V, D), row i for vocab[i];  vocab: V
    distinct words;  k >= 1. The query is the offset from a to b added to c,

        q = vectors[b] - vectors[a] + vectors[c]                        (D,)

    and the answer is the k words with the largest cos(q, vectors[w]), never one of a, b, c
    (without that rule the answer is very often b itself). Returns [(word, cosine), ...]
    sorted by decreasing cosine, as :func:`nearest`. The rows are used as given: pass
    unit-length rows for the usual recipe (Mikolov et al., 2013, "3CosAdd"), in which every
    word weighs the same in the offset.
    """
    vectors = as_float_array(vectors, "vectors", ndim=2, shape_hint="(V, D)")
    if not isinstance(vocab, (list, tuple)) or not all(isinstance(w, str) for w in vocab):
        raise TypeError("vocab must be a list of str")
    if len(vocab) != vectors.shape[0]:
        raise ValueError(f"vocab has {len(vocab)} words but vectors has {vectors.shape[0]} rows")
    index = {w: i for i, w in enumerate(vocab)}
    for name, w in (("a", a), ("b", b), ("c", c)):
        if not isinstance(w, str):
            raise TypeError(f"{name} must be a word (str); got {type(w).__name__}")
        if w not in index:
            raise ValueError(f"unknown word {w!r}: it is not in the vocabulary of "
                             f"{len(vocab)} words")
    if not np.all(np.isfinite(vectors)):
        raise ValueError("vectors must be finite (no inf or NaN)")
    # The offset is formed after dividing by the largest |entry| (cosines do not change), so
    # rows near 1e300 do not overflow in b - a + c.
    scale = float(np.max(np.abs(vectors))) if vectors.size else 0.0
    scaled = vectors / scale if scale > 0 else vectors
    query = scaled[index[b]] - scaled[index[a]] + scaled[index[c]]    # (D,)
    return nearest(query, scaled, vocab, k, exclude=(a, b, c))
