"""Robustness cases for group g3: embeddings, debias, word2vec, bpe, corpus, ngram,
text_features, multimodal (see spec.py for what a case means).

References are torch in float64 where torch has the operation (cosine similarity, logsigmoid
losses with autograd, embedding_bag, normalize, cross-entropy, KL), otherwise an independent
definition: exact rationals (``fractions.Fraction``) for projections, PMI and retrieval ranks,
so that inputs near 1e300 neither overflow in the reference nor share our rescaling code,
and direct loops for counting. Where torch itself overflows at 1e300 (its norms square the
entries), the reference divides each vector by its largest |entry| first, which changes no
angle: the torch op still computes the answer.
"""
from __future__ import annotations

import math
from collections import Counter
from fractions import Fraction

import numpy as np

from dlnotes import bpe, corpus, debias, embeddings, multimodal, ngram, text_features, word2vec

from .spec import Case

EMB, DB, W2V, TF, MM = embeddings, debias, word2vec, text_features, multimodal

_NAN_TORCH = "propagates: NaN in, NaN out, as torch"
_CACHE = "a cache type (NamedTuple), not a function: the cache-mixing test covers it"
_CONTAINER = "a NamedTuple of results, not a function: nothing to call"


def _torch():
    import torch
    return torch


def _F():
    import torch.nn.functional as F
    return F


def _t(a):
    """A float64 tensor of a (possibly mutated) argument: ints, bools and lists become floats."""
    from dlnotes.verify import to_torch
    return to_torch(np.asarray(a, dtype=np.float64))


def _i(a):
    return _torch().as_tensor(np.asarray(a, dtype=np.int64))


def _n(t):
    from dlnotes.verify import to_numpy
    return to_numpy(t)


def _f64(a):
    return np.asarray(a, dtype=np.float64)


def _fr(a):
    """Exact rationals of a float array (nested lists of Fractions)."""
    return [Fraction(float(v)) for v in _f64(a).ravel()]


def _safe(s):
    """A divisor from max|entries|: 1 where that is 0 or not finite (NaN, inf stay as given)."""
    torch = _torch()
    return torch.where((s > 0) & torch.isfinite(s), s, torch.ones_like(s))


def _scale(t):
    """max|t| as a divisor (1 for an empty, zero or non-finite tensor)."""
    torch = _torch()
    return _safe(t.abs().max()) if t.numel() else torch.tensor(1.0, dtype=t.dtype)


def _rows_scaled(t):
    """Each row of a tensor divided by its largest |entry| (zero rows left alone)."""
    if t.numel() == 0:
        return t
    return t / _safe(t.abs().amax(dim=-1, keepdim=True))


# --- embeddings -------------------------------------------------------------------------------

_SENTS = [["the", "cat", "sat", "on", "the", "mat"], ["the", "dog", "sat"],
          ["a", "cat", "and", "a", "dog"]]
_WORDS = ["a", "b", "c", "d", "e", "f"]


def _counts(rng):
    c = rng.integers(0, 6, size=(5, 5)).astype(float)
    c = c + c.T
    c[0, 1] = c[1, 0] = 3.0                       # no all-zero row
    return c


def _cos_ref(kw):
    F = _F()
    u, v = _rows_scaled(_t(kw["u"])), _rows_scaled(_t(kw["v"]))
    return _n(F.cosine_similarity(u, v, dim=-1, eps=0.0))


def _ppmi_ref(kw):
    c = _f64(kw["counts"])
    fr = [[Fraction(float(x)) for x in row] for row in c]
    total = sum(sum(row) for row in fr)
    rows = [sum(row) for row in fr]
    cols = [sum(fr[a][b] for a in range(len(fr))) for b in range(len(fr))]
    out = np.zeros(c.shape)
    for a in range(c.shape[0]):
        for b in range(c.shape[1]):
            if fr[a][b] > 0:
                out[a, b] = max(0.0, math.log(fr[a][b] * total / (rows[a] * cols[b])))
    return out


def _svd_ref(kw):
    """torch.linalg.svd of the PPMI matrix, with the documented sign rule."""
    torch = _torch()
    m = _t(_ppmi_ref(kw))
    u, s, _ = torch.linalg.svd(m, full_matrices=False)
    k = kw["dim"]
    emb = u[:, :k] * s[:k]
    pivot = emb.abs().argmax(dim=0)
    signs = torch.sign(emb[pivot, torch.arange(k)])
    signs[signs == 0] = 1.0
    return _n(emb * signs)


def _svd_output(emb):
    return np.abs(emb)            # signs differ only on exact ties of |entry|


def _nearest_ref(kw):
    F = _F()
    vecs = _rows_scaled(_t(kw["vectors"]))
    q = _rows_scaled(_t(kw["query"])[None])
    sims = F.cosine_similarity(vecs, q.expand_as(vecs), dim=1, eps=0.0)
    order = sorted(range(len(_WORDS)), key=lambda i: (-float(sims[i]), i))[:kw["k"]]
    return [float(sims[i]) for i in order]


def _analogy_ref(kw):
    F = _F()
    torch = _torch()
    vecs = _t(kw["vectors"])
    vecs = vecs / _scale(vecs)
    idx = {w: i for i, w in enumerate(_WORDS)}
    q = vecs[idx["b"]] - vecs[idx["a"]] + vecs[idx["c"]]
    sims = F.cosine_similarity(vecs, q.expand_as(vecs), dim=1, eps=0.0)
    cand = [i for i in range(len(_WORDS)) if _WORDS[i] not in ("a", "b", "c")]
    order = sorted(cand, key=lambda i: (-float(sims[i]), i))[:2]
    del torch
    return [float(sims[i]) for i in order]


# --- debias -----------------------------------------------------------------------------------

def _proj_exact(e, g):
    e, g = _fr(e), _fr(g)
    coef = sum(a * b for a, b in zip(e, g, strict=True)) / sum(b * b for b in g)
    return [coef * b for b in g], e


def _projection_ref(kw):
    p, _ = _proj_exact(kw["e"], kw["g"])
    return np.array([float(x) for x in p])


def _neutralize_ref(kw):
    p, e = _proj_exact(kw["e"], kw["g"])
    return np.array([float(a - b) for a, b in zip(e, p, strict=True)])


def _equalize_ref(kw):
    torch = _torch()

    def unit(t):
        t = t / _scale(t)
        return t / torch.linalg.vector_norm(t)
    e1, e2, g = unit(_t(kw["e1"])), unit(_t(kw["e2"])), unit(_t(kw["g"]))
    mu = (e1 + e2) / 2
    mu_b = (mu @ g) * g
    nu = mu - mu_b
    d = (e1 @ g) * g - mu_b
    along = torch.sqrt(1 - nu @ nu) * d / torch.linalg.vector_norm(d)
    return _n(nu + along), _n(nu - along)


def _bias_ref(kw):
    torch = _torch()
    v = _t(kw["vectors"])
    v = _rows_scaled(v)
    v = v / torch.linalg.vector_norm(v, dim=1, keepdim=True)
    diffs = torch.stack([v[a] - v[b] for a, b in kw["pairs"]])
    _, _, vt = torch.linalg.svd(diffs, full_matrices=False)
    g = vt[0]
    if g @ diffs.mean(0) < 0:
        g = -g
    return _n(g)


def _debias_make(rng):
    return {"e": rng.standard_normal(4), "g": rng.standard_normal(4)}


def _equalize_make(rng):
    g = rng.standard_normal(4)
    base = rng.standard_normal(4)
    return {"e1": base + g, "e2": base - g, "g": g}


# --- word2vec ---------------------------------------------------------------------------------

def _noise_ref(kw):
    c = _t(kw["counts"])
    p = (c / c.max()) ** 0.75
    return _n(p / p.sum())


def _keep_ref(kw):
    c = _fr(kw["counts"])
    total = sum(c)
    return np.array([min(1.0, math.sqrt(0.01 / float(x / total))) for x in c])


def _nsl_make(rng):
    return {"v_c": rng.standard_normal(3), "u_o": rng.standard_normal(3),
            "u_neg": rng.standard_normal((2, 3))}


def _nsl_ref(kw):
    F = _F()
    v, uo, un = (_t(kw[k]).requires_grad_() for k in ("v_c", "u_o", "u_neg"))
    loss = -F.logsigmoid(uo @ v) - F.logsigmoid(-(un @ v)).sum()
    loss.backward()
    return loss.item(), _n(v.grad), _n(uo.grad), _n(un.grad)


def _batch_make(rng):
    return {"W_in": rng.standard_normal((5, 3)), "W_out": rng.standard_normal((5, 3)),
            "centers": np.array([0, 1, 2, 1]), "contexts": np.array([1, 2, 3, 4]),
            "negatives": np.array([[2, 3], [4, 0], [3, 3], [4, 1]])}


def _skipgram_ref(kw):
    F = _F()
    W_in, W_out = _t(kw["W_in"]).requires_grad_(), _t(kw["W_out"]).requires_grad_()
    loss = 0
    for c, o, negs in zip(_f64(kw["centers"]).astype(int), _f64(kw["contexts"]).astype(int),
                          _f64(kw["negatives"]).astype(int), strict=True):
        h = W_in[c]
        loss = loss - F.logsigmoid(W_out[o] @ h)
        for k in negs:
            if k != o:
                loss = loss - F.logsigmoid(-(W_out[k] @ h))
    loss.backward()
    return loss.item(), _n(W_in.grad), _n(W_out.grad)


def _cbow_make(rng):
    kw = _batch_make(rng)
    del kw["contexts"]
    kw["context_ids"] = np.array([[1, 2], [0, 3], [4, 4], [2, 0]])
    kw["context_mask"] = np.array([[True, True], [True, False], [True, True], [False, True]])
    return kw


def _cbow_ref(kw):
    F = _F()
    W_in, W_out = _t(kw["W_in"]).requires_grad_(), _t(kw["W_out"]).requires_grad_()
    ids = _f64(kw["context_ids"]).astype(int)
    loss = 0
    for b, c in enumerate(_f64(kw["centers"]).astype(int)):
        rows = [W_in[i] for i, m in zip(ids[b], kw["context_mask"][b], strict=True) if m]
        h = sum(rows) / len(rows)
        loss = loss - F.logsigmoid(W_out[c] @ h)
        for k in _f64(kw["negatives"]).astype(int)[b]:
            if k != c:
                loss = loss - F.logsigmoid(-(W_out[k] @ h))
    loss.backward()
    return loss.item(), _n(W_in.grad), _n(W_out.grad)


def _cbow_call(kw):
    return W2V.cbow_batch_loss(kw["W_in"], kw["W_out"], kw["context_ids"], kw["context_mask"],
                               kw["centers"], kw["negatives"])


def _w2v_vocab():
    return W2V.build_vocab(_SENTS)


def _encode_ref(kw):
    vocab = _w2v_vocab()
    pairs = [(vocab.index[t], i) for i, s in enumerate(kw["sentences"]) for t in s]
    return np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])


def _train_kwargs():
    return dict(dim=3, window=2, negatives=2, epochs=2, lr=0.05, batch_size=4,
                rng=np.random.default_rng(0), subsample=None)


def _phrase_ref(kw):
    uni = Counter(t for s in kw["sentences"] for t in s)
    bi = Counter((s[i], s[i + 1]) for s in kw["sentences"] for i in range(len(s) - 1))
    scored = {p: (n - kw["delta"]) / (uni[p[0]] * uni[p[1]]) for p, n in bi.items()}
    return sorted(scored.values(), reverse=True)


# --- text_features ----------------------------------------------------------------------------

def _ids(rng):
    return np.array([[0, 1, 2, 5], [3, 3, 5, 5], [4, 0, 1, 2]])      # pad = 5


def _bag_ref(kw):
    ids = _f64(kw["ids"]).astype(int)
    out = np.zeros((ids.shape[0], 6))
    for n, row in enumerate(ids):
        for i in row:
            if i != 5:
                out[n, i] += 1
    return out


def _bow_make(rng):
    return {"ids": _ids(rng), "scores": rng.standard_normal((6, 3)),
            "bias": rng.standard_normal(3), "pad": 5}


def _bow_ref(kw):
    F = _F()
    return _n(F.embedding_bag(_i(kw["ids"]), _t(kw["scores"]), mode="sum", padding_idx=5)
              + _t(kw["bias"]))


def _bow_backward_make(rng):
    kw = _bow_make(rng)
    kw["dlogits"] = rng.standard_normal((3, 3))
    return kw


def _bow_backward_call(kw):
    _, cache = TF.bow_forward(kw["ids"], kw["scores"], kw["bias"], 5)
    return TF.bow_backward(kw["dlogits"], cache)


def _bow_backward_ref(kw):
    F = _F()
    s, b = _t(kw["scores"]).requires_grad_(), _t(kw["bias"]).requires_grad_()
    out = F.embedding_bag(_i(kw["ids"]), s, mode="sum", padding_idx=5) + b
    (out * _t(kw["dlogits"])).sum().backward()
    return _n(s.grad), _n(b.grad)


def _cbow_tf_make(rng):
    return {"ids": _ids(rng), "emb": rng.standard_normal((6, 4)),
            "w": rng.standard_normal((3, 4)), "b": rng.standard_normal(3), "pad": 5}


def _cbow_tf_torch(kw, grad=False):
    F = _F()
    emb, w, b = (_t(kw[k]).requires_grad_(grad) for k in ("emb", "w", "b"))
    out = F.linear(F.embedding_bag(_i(kw["ids"]), emb, mode="sum", padding_idx=5), w, b)
    return out, (emb, w, b)


def _cbow_tf_backward_make(rng):
    kw = _cbow_tf_make(rng)
    kw["dlogits"] = rng.standard_normal((3, 3))
    return kw


def _cbow_tf_backward_call(kw):
    _, cache = TF.cbow_forward(kw["ids"], kw["emb"], kw["w"], kw["b"], 5)
    return TF.cbow_backward(kw["dlogits"], cache)


def _cbow_tf_backward_ref(kw):
    out, params = _cbow_tf_torch(kw, grad=True)
    (out * _t(kw["dlogits"])).sum().backward()
    return tuple(_n(p.grad) for p in params)


def _mce_make(rng):
    return {"logits": rng.standard_normal((3, 2, 4)),
            "targets": np.array([[0, 3], [-100, 2], [1, -100]]), "ignore_index": -100}


def _mce_torch(kw, grad=False):
    F = _F()
    logits = _t(kw["logits"]).requires_grad_(grad)
    C = logits.shape[-1]
    loss = F.cross_entropy(logits.reshape(-1, C), _i(kw["targets"]).reshape(-1),
                           ignore_index=-100)
    return loss, logits


def _mce_ref(kw):
    loss, logits = _mce_torch(kw, grad=True)
    loss.backward()
    return loss.item(), _n(logits.grad)


# --- multimodal -------------------------------------------------------------------------------

def _normalize_ref(kw):
    F = _F()
    torch = _torch()
    x = _t(kw["x"])
    if x.numel() == 0:
        return _n(F.normalize(x, dim=1))
    s = _safe(x.abs().amax(dim=1, keepdim=True))
    # x / max(|x|, eps) == (x / s) / max(|x / s|, eps / s): the normalisation of rows of
    # size ~1, whose squares cannot overflow (torch's normalize squares 1e300 to inf)
    xs = x / s
    return _n(xs / torch.maximum(torch.linalg.vector_norm(xs, dim=1, keepdim=True), 1e-12 / s))


def _normalize_backward_make(rng):
    return {"x": rng.standard_normal((4, 3)), "dout": rng.standard_normal((4, 3))}


def _normalize_backward_call(kw):
    _, cache = MM.l2_normalize_forward(kw["x"])
    return MM.l2_normalize_backward(kw["dout"], cache)


def _normalize_backward_ref(kw):
    F = _F()
    x = _t(kw["x"])
    s = _scale(x)
    xs = (x / s).requires_grad_()
    (F.normalize(xs, dim=1) * _t(kw["dout"])).sum().backward()
    return _n(xs.grad / s)


def _embed_make(rng):
    return {"x": rng.standard_normal((4, 3)), "w": rng.standard_normal((2, 3))}


def _embed_ref(kw):
    F = _F()
    x, w = _t(kw["x"]), _t(kw["w"])
    return _n(F.normalize(F.linear(x / _scale(x), w / _scale(w)), dim=1))


def _embed_backward_make(rng):
    kw = _embed_make(rng)
    kw["dz"] = rng.standard_normal((4, 2))
    return kw


def _embed_backward_call(kw):
    _, cache = MM.embed_forward(kw["x"], kw["w"])
    return MM.embed_backward(kw["dz"], cache)


def _embed_backward_ref(kw):
    F = _F()
    x, w = _t(kw["x"]), _t(kw["w"])
    sx, sw = _scale(x), _scale(w)
    xs, ws = (x / sx).requires_grad_(), (w / sw).requires_grad_()
    (F.normalize(F.linear(xs, ws), dim=1) * _t(kw["dz"])).sum().backward()
    return _n(xs.grad / sx), _n(ws.grad / sw)


def _pairs_make(rng):
    return {"za": rng.standard_normal((4, 3)), "zb": rng.standard_normal((4, 3)),
            "temperature": 0.5}


def _info_nce_ref(kw):
    F = _F()
    torch = _torch()
    za, zb = _t(kw["za"]).requires_grad_(), _t(kw["zb"]).requires_grad_()
    S = za @ zb.T / kw["temperature"]
    t = torch.arange(S.shape[0])
    loss = (F.cross_entropy(S, t) + F.cross_entropy(S.T, t)) / 2
    loss.backward()
    return loss.item(), _n(za.grad), _n(zb.grad)


def _kl_make(rng):
    return {"teacher_logits": rng.standard_normal((4, 3)),
            "student_logits": rng.standard_normal((4, 3)), "temperature": 2.0}


def _kl_ref(kw):
    F = _F()
    t = _t(kw["teacher_logits"])
    s = _t(kw["student_logits"]).requires_grad_()
    T = kw["temperature"]
    loss = F.kl_div(F.log_softmax(s / T, 1), F.log_softmax(t / T, 1), reduction="batchmean",
                    log_target=True)
    loss.backward()
    return loss.item(), _n(s.grad)


def _recall_make(rng):
    q = rng.standard_normal((6, 3))
    return {"queries": q, "gallery": q + 0.8 * rng.standard_normal((6, 3)), "k": 2}


def _recall_ref(kw):
    q = [_fr(row) for row in _f64(kw["queries"])]
    g = [_fr(row) for row in _f64(kw["gallery"])]
    hits = 0
    for n, qn in enumerate(q):
        scores = [sum(a * b for a, b in zip(qn, gm, strict=True)) for gm in g]
        rank = sum(1 for m, s in enumerate(scores) if m != n and s >= scores[n])
        hits += rank < kw["k"]
    return hits / len(q)


# --- ngram and bpe ----------------------------------------------------------------------------

_TINY = [["a", "b", "a"], ["b", "a"]]


def _ngram():
    return ngram.NGramModel(2, k=0.5).fit(_TINY)


def _bigram_prob_ref(word, prev):
    """Add-0.5 bigram estimate counted by hand; V = {a, b, </s>, <unk>}."""
    padded = [["<s>", *s, "</s>"] for s in _TINY]
    pairs = Counter((s[i], s[i + 1]) for s in padded for i in range(len(s) - 1))
    total = sum(n for (h, _), n in pairs.items() if h == prev)
    return (pairs[(prev, word)] + 0.5) / (total + 0.5 * 4)


def _bpe(text="low lower lowest newer wider " * 10, size=266):
    return bpe.BPETokenizer().train(text, size)


_ANY_COUNTS = {"transposed": "valid: the transpose of a count matrix is a count matrix"}

CASES: list[Case] = [
    # embeddings
    Case("dlnotes.embeddings.cosine_similarity",
         make=lambda rng: {"u": rng.standard_normal((4, 3)), "v": rng.standard_normal((4, 3))},
         arrays=("u", "v"), reference=_cos_ref),
    Case("dlnotes.embeddings.cooccurrence_matrix",
         make=lambda rng: {"sentences": _SENTS, "window": 2},
         output=lambda r: r[0],
         reference=lambda kw: _cooc_ref(kw["sentences"], kw["window"])),
    Case("dlnotes.embeddings.ppmi", make=lambda rng: {"counts": _counts(rng)},
         arrays=("counts",), reference=_ppmi_ref, expect=_ANY_COUNTS),
    Case("dlnotes.embeddings.svd_embeddings", make=lambda rng: {"counts": _counts(rng), "dim": 2},
         arrays=("counts",), reference=lambda kw: _svd_output(_svd_ref(kw)),
         output=_svd_output, expect=_ANY_COUNTS, rtol=1e-9, atol=1e-10),
    Case("dlnotes.embeddings.nearest",
         make=lambda rng: {"query": rng.standard_normal(3), "vectors": rng.standard_normal((6, 3)),
                           "vocab": _WORDS, "k": 3},
         arrays=("query", "vectors"),
         output=lambda r: [s for _, s in r], reference=_nearest_ref),
    Case("dlnotes.embeddings.analogy",
         make=lambda rng: {"a": "a", "b": "b", "c": "c", "vectors": rng.standard_normal((6, 3)),
                           "vocab": _WORDS, "k": 2},
         arrays=("vectors",), output=lambda r: [s for _, s in r], reference=_analogy_ref),
    # debias
    Case("dlnotes.debias.projection", make=_debias_make, arrays=("e", "g"),
         reference=_projection_ref, rtol=1e-12, atol=1e-14),
    Case("dlnotes.debias.neutralize", make=_debias_make, arrays=("e", "g"),
         reference=_neutralize_ref, rtol=1e-12, atol=1e-14),
    Case("dlnotes.debias.equalize", make=_equalize_make, arrays=("e1", "e2", "g"),
         reference=_equalize_ref, rtol=1e-12, atol=1e-14),
    Case("dlnotes.debias.bias_direction",
         make=lambda rng: {"pairs": [(0, 1), (2, 3), (4, 5)],
                           "vectors": rng.standard_normal((6, 4))},
         arrays=("vectors",), reference=_bias_ref, rtol=1e-10, atol=1e-12,
         skip={"transposed": "a (4, 6) table has no rows 4 and 5: the pair check names them"}),
    # word2vec
    Case("dlnotes.word2vec.build_vocab", make=lambda rng: {"sentences": _SENTS},
         output=lambda v: v.counts,
         reference=lambda kw: np.array(sorted(Counter(t for s in _SENTS for t in s).values(),
                                              reverse=True))),
    Case("dlnotes.word2vec.noise_distribution",
         make=lambda rng: {"counts": rng.integers(1, 9, size=5).astype(float)},
         arrays=("counts",), reference=_noise_ref),
    Case("dlnotes.word2vec.keep_probability",
         make=lambda rng: {"counts": rng.integers(1, 9, size=5).astype(float), "t": 0.01},
         arrays=("counts",), reference=_keep_ref),
    Case("dlnotes.word2vec.negative_sampling_loss", make=_nsl_make,
         arrays=("v_c", "u_o", "u_neg"),
         output=lambda r: (r[0], *r[1]), reference=_nsl_ref, expect={"nan": _NAN_TORCH},
         skip={"huge": "u . v of two 1e300 vectors is 1e600: torch overflows to inf - inf"}),
    # (one case for the float tables, one for the id arrays: ``expect`` is per mutation)
    Case("dlnotes.word2vec.skipgram_batch_loss", make=_batch_make, arrays=("W_in", "W_out"),
         output=lambda r: (r[0], *r[1]), reference=_skipgram_ref,
         expect={"nan": _NAN_TORCH},
         skip={"huge": "dot products of 1e300 rows overflow in torch as well"}),
    Case("dlnotes.word2vec.skipgram_batch_loss", make=_batch_make,
         arrays=("centers", "contexts", "negatives"),
         output=lambda r: (r[0], *r[1]), reference=_skipgram_ref),
    Case("dlnotes.word2vec.cbow_batch_loss", make=_cbow_make, arrays=("W_in", "W_out"),
         call=_cbow_call, output=lambda r: (r[0], *r[1]), reference=_cbow_ref,
         expect={"nan": _NAN_TORCH},
         skip={"huge": "dot products of 1e300 rows overflow in torch as well"}),
    Case("dlnotes.word2vec.cbow_batch_loss", make=_cbow_make,
         arrays=("context_ids", "context_mask", "centers", "negatives"),
         call=_cbow_call, output=lambda r: (r[0], *r[1]), reference=_cbow_ref),
    Case("dlnotes.word2vec.train_skipgram", make=lambda rng: {"sentences": _SENTS},
         call=lambda kw: W2V.train_skipgram(kw["sentences"], **_train_kwargs()),
         output=lambda r: (r[1], r[2], r[3])),
    Case("dlnotes.word2vec.train_cbow", make=lambda rng: {"sentences": _SENTS},
         call=lambda kw: W2V.train_cbow(kw["sentences"], **_train_kwargs()),
         output=lambda r: (r[1], r[2], r[3])),
    Case("dlnotes.word2vec.encode", make=lambda rng: {"sentences": _SENTS},
         call=lambda kw: W2V.encode(kw["sentences"], _w2v_vocab()), reference=_encode_ref),
    Case("dlnotes.word2vec.training_examples",
         make=lambda rng: {"ids": np.array([0, 1, 2, 0, 3, 1]),
                           "sentence_ids": np.array([0, 0, 0, 1, 1, 1]),
                           "keep": np.array([1.0, 0.9, 1.0, 0.8])},
         arrays=("ids", "sentence_ids", "keep"),
         call=lambda kw: W2V.training_examples(kw["ids"], kw["sentence_ids"], 2, kw["keep"],
                                               np.random.default_rng(0))),
    Case("dlnotes.word2vec.phrase_scores", make=lambda rng: {"sentences": _SENTS, "delta": 0.5},
         output=lambda r: [s for _, s in r], reference=_phrase_ref),
    Case("dlnotes.word2vec.join_phrases",
         make=lambda rng: {"sentences": _SENTS, "phrases": [("the", "cat"), ("a", "dog")]},
         output=lambda r: [len(s) for s in r], reference=lambda kw: [5, 3, 4]),
    # bpe
    Case("dlnotes.bpe.pretokenize", make=lambda rng: {"text": "Hello, world! It's 2024."},
         output=lambda r: len(r), reference=lambda kw: 8),   # Hello , ␣world ! ␣It 's ␣2024 .
    Case("dlnotes.bpe.BPETokenizer", make=lambda rng: {},
         call=lambda kw: bpe.BPETokenizer().vocab_size, reference=lambda kw: 256),
    Case("dlnotes.bpe.BPETokenizer.train", make=lambda rng: {"text": "aaab aab ab " * 5},
         call=lambda kw: bpe.BPETokenizer().train(kw["text"], 258).merges,
         output=lambda m: [i for pair in m for i in pair],
         # (a, a) and (a, b) both occur 15 times: the smaller pair (97, 97) first; then
         # (a, b) is the most frequent pair (10) of the merged text
         reference=lambda kw: [97, 97, 97, 98]),
    Case("dlnotes.bpe.BPETokenizer.from_merges",
         make=lambda rng: {"merges": np.array(_bpe().merges, dtype=np.int64)},
         call=lambda kw: bpe.BPETokenizer.from_merges(kw["merges"]).encode("lowest wider"),
         reference=lambda kw: _bpe().encode("lowest wider")),
    Case("dlnotes.bpe.BPETokenizer.encode", make=lambda rng: {"text": "lower newest ✓"},
         call=lambda kw: _bpe().decode(_bpe().encode(kw["text"])) == kw["text"],
         reference=lambda kw: True),
    Case("dlnotes.bpe.BPETokenizer.decode",
         make=lambda rng: {"ids": np.array(list(b"lower"), dtype=np.int64)},
         call=lambda kw: _bpe().decode(kw["ids"]) == "lower", reference=lambda kw: True),
    Case("dlnotes.bpe.BPETokenizer.id_to_bytes", make=lambda rng: {"i": np.int64(65)},
         call=lambda kw: _bpe().id_to_bytes(kw["i"]) == b"A", reference=lambda kw: True),
    Case("dlnotes.bpe.BPETokenizer.token_strings", make=lambda rng: {"ids": [65, 0xe4]},
         call=lambda kw: _bpe().token_strings(kw["ids"]) == ["A", "<e4>"],
         reference=lambda kw: True),
    # corpus
    Case("dlnotes.corpus.template_corpus", make=lambda rng: {"n_sentences": 5},
         call=lambda kw: len(corpus.template_corpus(kw["n_sentences"],
                                                     np.random.default_rng(0))),
         reference=lambda kw: 5),
    Case("dlnotes.corpus.sentiment_corpus", make=lambda rng: {"n_sentences": 5},
         call=lambda kw: corpus.sentiment_corpus(kw["n_sentences"], np.random.default_rng(0),
                                                 negation_rate=0.0)[1],
         output=lambda y: y.shape, reference=lambda kw: (5,)),
    Case("dlnotes.corpus.corpus_text", make=lambda rng: {"sentences": [["a", "b"], ["c"]]},
         output=lambda s: s == "a b\nc\n", reference=lambda kw: True),
    # ngram
    Case("dlnotes.ngram.tokenize", make=lambda rng: {"text": "The cat. A dog!"},
         output=lambda r: [len(s) for s in r], reference=lambda kw: [2, 2]),
    Case("dlnotes.ngram.NGramModel", make=lambda rng: {"n": np.int64(2), "k": 0.5},
         call=lambda kw: len(ngram.NGramModel(**kw).fit(_TINY).vocab), reference=lambda kw: 4),
    Case("dlnotes.ngram.NGramModel.fit", make=lambda rng: {"sentences": _TINY},
         call=lambda kw: ngram.NGramModel(2, k=0.5).fit(kw["sentences"]).counts(["a"]),
         reference=lambda kw: np.array([0, 1, 2, 0])),     # after "a": b once, </s> twice
    Case("dlnotes.ngram.NGramModel.prob", make=lambda rng: {"word": "b", "history": ["a"]},
         call=lambda kw: _ngram().prob(kw["word"], kw["history"]),
         reference=lambda kw: _bigram_prob_ref("b", "a")),
    Case("dlnotes.ngram.NGramModel.distribution", make=lambda rng: {"history": ["b"]},
         call=lambda kw: _ngram().distribution(kw["history"]),
         reference=lambda kw: np.array([_bigram_prob_ref(w, "b")
                                        for w in ("a", "b", "</s>", "<unk>")])),
    Case("dlnotes.ngram.NGramModel.counts", make=lambda rng: {"history": ["<s>"]},
         call=lambda kw: _ngram().counts(kw["history"]),
         reference=lambda kw: np.array([1, 1, 0, 0])),
    Case("dlnotes.ngram.NGramModel.context_of", make=lambda rng: {"history": ["a", "zebra"]},
         call=lambda kw: _ngram().context_of(kw["history"]) == ("<unk>",),
         reference=lambda kw: True),
    Case("dlnotes.ngram.NGramModel.log_likelihood", make=lambda rng: {"sentence": ["a", "b"]},
         call=lambda kw: _ngram().log_likelihood(kw["sentence"]),
         reference=lambda kw: sum(math.log(_bigram_prob_ref(w, h)) for h, w in
                                  (("<s>", "a"), ("a", "b"), ("b", "</s>")))),
    Case("dlnotes.ngram.NGramModel.perplexity", make=lambda rng: {"sentences": [["a", "b"]]},
         call=lambda kw: _ngram().perplexity(kw["sentences"]),
         reference=lambda kw: math.exp(-sum(math.log(_bigram_prob_ref(w, h)) for h, w in
                                            (("<s>", "a"), ("a", "b"), ("b", "</s>"))) / 3)),
    Case("dlnotes.ngram.NGramModel.sample", make=lambda rng: {"max_len": np.int64(4)},
         call=lambda kw: len(_ngram().sample(np.random.default_rng(0), kw["max_len"])) <= 4,
         reference=lambda kw: True),
    # text_features
    Case("dlnotes.text_features.Vocabulary",
         make=lambda rng: {"sentences": [["a", "<unk>", "b"], ["b"]]},
         call=lambda kw: TF.Vocabulary(kw["sentences"]).tokens,
         output=len, reference=lambda kw: 6),
    Case("dlnotes.text_features.Vocabulary.ids", make=lambda rng: {"tokens": ["b", "zebra"]},
         call=lambda kw: TF.Vocabulary([["a", "b"]]).ids(kw["tokens"]),
         reference=lambda kw: [1, 3]),
    Case("dlnotes.text_features.Vocabulary.encode",
         make=lambda rng: {"sentences": [["a"], ["b", "a"]]},
         call=lambda kw: TF.Vocabulary([["a", "b"]]).encode(kw["sentences"]),
         reference=lambda kw: (np.array([[0, 5], [1, 0]]), np.array([1, 2]))),
    Case("dlnotes.text_features.Vocabulary.lm_batch", make=lambda rng: {"sentences": [["a"]]},
         call=lambda kw: TF.Vocabulary([["a", "b"]]).lm_batch(kw["sentences"]),
         reference=lambda kw: (np.array([[4], [0]]), np.array([[0], [2]]))),
    Case("dlnotes.text_features.bag_counts",
         make=lambda rng: {"ids": _ids(rng), "vocab_size": 6, "pad": 5}, arrays=("ids",),
         reference=_bag_ref,
         expect={"transposed": "valid: a (T, N) int array is another batch of sentences"}),
    Case("dlnotes.text_features.bow_forward", make=_bow_make, arrays=("scores", "bias"),
         output=lambda r: r[0], reference=_bow_ref, expect={"nan": _NAN_TORCH}),
    Case("dlnotes.text_features.bow_forward", make=_bow_make, arrays=("ids",),
         output=lambda r: r[0], reference=_bow_ref,
         expect={"transposed": "valid: a (T, N) id array is another batch of sentences"}),
    Case("dlnotes.text_features.bow_backward", make=_bow_backward_make, arrays=("dlogits",),
         call=_bow_backward_call, reference=_bow_backward_ref, expect={"nan": _NAN_TORCH}),
    Case("dlnotes.text_features.cbow_forward", make=_cbow_tf_make,
         arrays=("emb", "w", "b"), output=lambda r: r[0],
         reference=lambda kw: _n(_cbow_tf_torch(kw)[0]), expect={"nan": _NAN_TORCH}),
    Case("dlnotes.text_features.cbow_forward", make=_cbow_tf_make, arrays=("ids",),
         output=lambda r: r[0], reference=lambda kw: _n(_cbow_tf_torch(kw)[0]),
         expect={"transposed": "valid: a (T, N) id array is another batch of sentences"}),
    Case("dlnotes.text_features.cbow_backward", make=_cbow_tf_backward_make,
         arrays=("dlogits",), call=_cbow_tf_backward_call, reference=_cbow_tf_backward_ref,
         expect={"nan": _NAN_TORCH}),
    Case("dlnotes.text_features.masked_cross_entropy", make=_mce_make, arrays=("targets",),
         reference=_mce_ref),
    Case("dlnotes.text_features.masked_cross_entropy", make=_mce_make,
         arrays=("logits",), reference=_mce_ref, expect={"nan": _NAN_TORCH},
         skip={"huge": "softmax of logits near 1e300 is exact in both, but the gradient's "
                       "difference of huge terms is not comparable"}),
    Case("dlnotes.text_features.perplexity",
         make=lambda rng: {"log_probs": -rng.random((3, 4)) - 0.1}, arrays=("log_probs",),
         reference=lambda kw: _torch().exp(-_t(kw["log_probs"]).mean()).item(),
         expect={"transposed": "valid: any shape of per-token log-probabilities",
                 "extra_axis": "valid: any shape of per-token log-probabilities",
                 "missing_axis": "valid: any shape of per-token log-probabilities"}),
    Case("dlnotes.text_features.contrast_reviews", make=lambda rng: {"n_pairs": np.int64(3)},
         call=lambda kw: TF.contrast_reviews(kw["n_pairs"], np.random.default_rng(0))[1],
         output=lambda y: y.reshape(-1, 2).sum(axis=1), reference=lambda kw: np.ones(3)),
    # multimodal
    Case("dlnotes.multimodal.two_modalities", make=lambda rng: {"n": np.int64(6)},
         call=lambda kw: MM.two_modalities(kw["n"], np.random.default_rng(0)).a.shape,
         reference=lambda kw: (6, 20)),
    Case("dlnotes.multimodal.l2_normalize_forward",
         make=lambda rng: {"x": rng.standard_normal((4, 3))},
         arrays=("x",), output=lambda r: r[0], reference=_normalize_ref,
         expect={"nan": _NAN_TORCH,
                 "transposed": "valid: (3, 4) rows are another batch of vectors",
                 "empty": "valid: an empty batch normalises to an empty batch"}),
    Case("dlnotes.multimodal.l2_normalize_backward", make=_normalize_backward_make,
         arrays=("dout",), call=_normalize_backward_call, reference=_normalize_backward_ref,
         expect={"nan": _NAN_TORCH}),
    Case("dlnotes.multimodal.embed_forward", make=_embed_make, arrays=("x", "w"),
         output=lambda r: r[0], reference=_embed_ref, expect={"nan": _NAN_TORCH}),
    Case("dlnotes.multimodal.embed_backward", make=_embed_backward_make, arrays=("dz",),
         call=_embed_backward_call, reference=_embed_backward_ref, expect={"nan": _NAN_TORCH}),
    Case("dlnotes.multimodal.info_nce_loss", make=_pairs_make, arrays=("za", "zb"),
         output=lambda r: (r[0], *r[1]), reference=_info_nce_ref, expect={"nan": _NAN_TORCH},
         skip={"huge": "similarities of 1e300 rows are 1e600: inf in torch as well"}),
    Case("dlnotes.multimodal.kl_distillation_loss", make=_kl_make,
         arrays=("teacher_logits", "student_logits"), output=lambda r: (r[0], r[1]),
         reference=_kl_ref, expect={"nan": _NAN_TORCH},
         skip={"huge": "a difference of logits near 1e300 is not comparable term by term"}),
    Case("dlnotes.multimodal.retrieval_recall", make=_recall_make, arrays=("queries", "gallery"),
         reference=_recall_ref),
    Case("dlnotes.multimodal.train_contrastive",
         make=lambda rng: {"a": rng.standard_normal((6, 4)), "b": rng.standard_normal((6, 5))},
         arrays=("a", "b"),
         call=lambda kw: MM.train_contrastive(kw["a"], kw["b"], dim=2, temperature=0.5,
                                              lr=0.01, epochs=2, batch_size=3,
                                              rng=np.random.default_rng(0)),
         expect={"huge": "valid: the encoders normalise, so 1e300 inputs train as well"}),
]


def _cooc_ref(sentences, window):
    vocab = sorted({t for s in sentences for t in s})
    idx = {t: i for i, t in enumerate(vocab)}
    out = np.zeros((len(vocab), len(vocab)), dtype=np.int64)
    for s in sentences:
        for i, a in enumerate(s):
            for j, b in enumerate(s):
                if 1 <= abs(i - j) <= window:
                    out[idx[a], idx[b]] += 1
    return out


EXCLUDED: dict[str, str] = {
    "dlnotes.word2vec.Vocab": _CONTAINER + " (build_vocab returns it)",
    "dlnotes.multimodal.TwoModalities": _CONTAINER + " (two_modalities returns it)",
    "dlnotes.text_features.BOWCache": _CACHE,
    "dlnotes.text_features.CBOWCache": _CACHE,
    "dlnotes.multimodal.L2NormCache": _CACHE,
    "dlnotes.multimodal.EmbedCache": _CACHE,
}
