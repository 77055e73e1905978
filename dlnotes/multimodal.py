"""Joining two modalities: a shared embedding trained contrastively, and cross-modal distillation.

Chapter: 06-beyond/03-multimodal-learning. Examples are rows: a dense view ``a: (N, Da)``
(think image features), a sparse view ``b: (N, V)`` (a 0/1 bag of tags), embeddings
``za, zb: (N, E)``; row n of one view is paired with row n of the other.

* :func:`two_modalities` draws both views from one hidden cause ``z``.
* :func:`l2_normalize_forward` / :func:`l2_normalize_backward` put embeddings on the unit
  sphere; :func:`embed_forward` / :func:`embed_backward` are a linear encoder followed by it.
* :func:`info_nce_loss` is the symmetric contrastive loss of CLIP-style training,
  :func:`kl_distillation_loss` the teacher-student loss of SoundNet.
* :func:`retrieval_recall` scores cross-modal retrieval; :func:`train_contrastive` fits two
  linear encoders with Adam.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .activations import log_softmax
from .optim import Adam
from .validation import (
    as_float,
    as_float_array,
    as_int,
    check_cache,
    check_positive_int,
    check_rng,
    check_same_shape,
    safe_norm,
)

__all__ = ["TwoModalities", "two_modalities", "L2NormCache", "l2_normalize_forward",
           "l2_normalize_backward", "EmbedCache", "embed_forward", "embed_backward",
           "info_nce_loss", "kl_distillation_loss", "retrieval_recall", "train_contrastive"]


class TwoModalities(NamedTuple):
    """Paired samples of two views of one latent cause."""
    a: np.ndarray       # (N, Da) dense, real-valued
    b: np.ndarray       # (N, V) sparse 0/1 bag of tags
    z: np.ndarray       # (N, K) the hidden cause
    labels: np.ndarray  # (N,) int, the latent's class: argmax_c z . prototype_c


def two_modalities(n: int, rng: np.random.Generator, latent_dim: int = 4, dense_dim: int = 20,
                   vocab: int = 60, tags: tuple = (2, 8), noise: float = 0.2,
                   sharpness: float = 3.0, n_classes: int = 5) -> TwoModalities:
    """Draw n pairs (a_n, b_n) that share nothing but a latent z_n ~ N(0, I_K).

    a = tanh(z Wa^T + c) + noise * eps                 (dense; eps ~ N(0, I))
    b: m tags drawn without replacement with probabilities softmax(sharpness z Wb^T), m uniform in
       [tags[0], tags[1]] per item (Gumbel top-m sampling).  labels = argmax_c z . P_c.

    The maps Wa: (Da, K), c: (Da,), Wb: (V, K) and prototypes P: (C, K) are drawn from ``rng``
    first, then the data: one call is one "world", so split its rows into training and test
    pairs rather than calling twice. ``tags[0] = 0`` allows items without any tag.
    Returns a :class:`TwoModalities`: a (n, Da), b (n, V) float64, z (n, K), labels (n,) int64.
    """
    n = check_positive_int(n, "n")
    K = check_positive_int(latent_dim, "latent_dim")
    Da = check_positive_int(dense_dim, "dense_dim")
    V = check_positive_int(vocab, "vocab")
    C = check_positive_int(n_classes, "n_classes")
    check_rng(rng)
    if (not isinstance(tags, (tuple, list)) or len(tags) != 2
            or not all(isinstance(t, (int, np.integer)) and not isinstance(t, (bool, np.bool_))
                       for t in tags)
            or not 0 <= tags[0] <= tags[1] <= V or tags[1] < 1):
        raise ValueError(f"tags must be a pair (lo, hi) of ints with 0 <= lo <= hi <= vocab={V}, "
                         f"hi >= 1; got {tags!r}")
    noise = as_float(noise, "noise", nonnegative=True)
    sharpness = as_float(sharpness, "sharpness", nonnegative=True)
    w_a = rng.standard_normal((Da, K)) / np.sqrt(K)
    c_a = 0.3 * rng.standard_normal(Da)
    w_b = rng.standard_normal((V, K)) / np.sqrt(K)
    prototypes = rng.standard_normal((C, K))
    z = rng.standard_normal((n, K))                                       # (n, K)
    a = np.tanh(z @ w_a.T + c_a) + noise * rng.standard_normal((n, Da))   # (n, Da)
    # Gumbel top-m: the m largest of (logit + Gumbel noise) are a draw of m tags without
    # replacement, each next tag with probability proportional to its softmax weight.
    gumbel = -np.log(-np.log(rng.uniform(size=(n, V))))
    order = np.argsort(-(sharpness * z @ w_b.T + gumbel), axis=1)         # (n, V) best tag first
    m = rng.integers(tags[0], tags[1] + 1, size=n)                        # (n,) tags per item
    b = (np.argsort(order, axis=1) < m[:, None]).astype(np.float64)       # rank < m -> tag on
    labels = np.argmax(z @ prototypes.T, axis=1)
    return TwoModalities(a, b, z, labels)


class L2NormCache(NamedTuple):
    """What ``l2_normalize_backward`` needs from the forward pass (its own copies)."""
    x: np.ndarray     # (N, D) input
    norm: np.ndarray  # (N, 1) ||x_n||, before the clamp at eps
    eps: float


def l2_normalize_forward(x, eps: float = 1e-12) -> tuple[np.ndarray, L2NormCache]:
    """Scale each row to unit length: out_n = x_n / max(||x_n||, eps).

    x: (N, D) -> out: (N, D), in x's dtype. A row shorter than eps (a zero row: an item with
    no tags) is divided by eps instead, so it stays finite, as in torch. The norm is computed
    overflow-safe (rows near 1e200 or 1e-200 still come out of unit length, where
    ``torch.nn.functional.normalize`` gives 0 or NaN). NaN propagates, as in torch.
    Reference: ``torch.nn.functional.normalize(x, dim=1, eps=eps)``.
    """
    x = as_float_array(x, "x", ndim=2, shape_hint="(N, D)")
    eps = as_float(eps, "eps", positive=True)
    norm = safe_norm(x, axis=1, keepdims=True)          # (N, 1)
    with np.errstate(invalid="ignore"):                  # NaN rows stay NaN
        out = x / np.maximum(norm, eps)
    return out, L2NormCache(x.copy(), norm, eps)


def l2_normalize_backward(dout, cache: L2NormCache) -> np.ndarray:
    """dx_n = (dout_n - u_n (u_n . dout_n)) / r with r = ||x_n||, u_n = x_n / r (the Jacobian
    of x / ||x|| is (I - u u^T) / r); where r <= eps the divisor is the constant eps:
    dout_n / eps. Written with u rather than x / r^3, so huge rows do not overflow.

    dout: (N, D) -> dx: (N, D).
    """
    x, norm, eps = check_cache(cache, L2NormCache, "l2_normalize_backward")
    dout = as_float_array(dout, "dout", ndim=2, shape_hint="(N, D)")
    if dout.shape != x.shape:
        raise ValueError(f"dout must have the shape of the forward's output {x.shape}; "
                         f"got {dout.shape}")
    live = norm > eps                                     # (N, 1)
    r = np.where(live, norm, eps)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):   # NaN propagates
        u = np.where(live, x / r, 0.0)
        radial = np.sum(u * dout, axis=1, keepdims=True)  # 0 where not live
        return (dout - u * radial) / r


class EmbedCache(NamedTuple):
    """What ``embed_backward`` needs: the input, the weight and the normalisation's cache."""
    x: np.ndarray        # (N, D)
    w: np.ndarray        # (E, D)
    norm: L2NormCache


def embed_forward(x, w) -> tuple[np.ndarray, EmbedCache]:
    """A linear encoder onto the unit sphere: z = normalize(x w^T).

    x: (N, D);  w: (E, D)  ->  z: (N, E) with unit rows.
    Reference: ``F.normalize(F.linear(x, w), dim=1)``.
    """
    x = as_float_array(x, "x", ndim=2, shape_hint="(N, D)")
    w = as_float_array(w, "w", ndim=2, shape_hint="(E, D)")
    if w.shape[1] != x.shape[1]:
        raise ValueError(f"w must be (E, D) with D={x.shape[1]} to match x {x.shape}; "
                         f"got {w.shape}")
    with np.errstate(invalid="ignore", over="ignore"):   # NaN and inf propagate, as in torch
        z, ncache = l2_normalize_forward(x @ w.T)        # (N, E)
    return z, EmbedCache(x.copy(), w.copy(), ncache)


def embed_backward(dz, cache: EmbedCache) -> tuple[np.ndarray, np.ndarray]:
    """dz: (N, E) -> dx: (N, D), dw: (E, D)."""
    x, w, ncache = check_cache(cache, EmbedCache, "embed_backward")
    dz = as_float_array(dz, "dz", ndim=2, shape_hint="(N, E)")
    if dz.shape != ncache.x.shape:
        raise ValueError(f"dz must have the shape of the forward's output {ncache.x.shape}; "
                         f"got {dz.shape}")
    dh = l2_normalize_backward(dz, ncache)               # (N, E) gradient before normalising
    return dh @ w, dh.T @ x


def _check_pair_of_rows(za, zb, name_a: str, name_b: str):
    za = as_float_array(za, name_a, ndim=2, shape_hint="(N, E)")
    zb = as_float_array(zb, name_b, ndim=2, shape_hint="(N, E)")
    if za.shape[0] != zb.shape[0]:
        raise ValueError(f"{name_a} and {name_b} must hold the same number of paired rows; "
                         f"got {za.shape[0]} and {zb.shape[0]}")
    if za.shape[1] != zb.shape[1]:
        raise ValueError(f"{name_a} and {name_b} must live in the same embedding space; "
                         f"got widths {za.shape[1]} and {zb.shape[1]}")
    if za.shape[0] < 1:
        raise ValueError(f"{name_a} and {name_b} need at least one row")
    return za, zb


def info_nce_loss(za, zb, temperature: float) -> tuple[float, tuple[np.ndarray, np.ndarray]]:
    """Symmetric InfoNCE: cross-entropy over the similarity matrix, in both directions.

    S = za zb^T / T  (N, N);  the pair of row n is column n, so with P = softmax over rows
    and Q = softmax over columns,
        loss = 1/2 [ mean_n -log P_nn  +  mean_n -log Q_nn ],
        dS = ((P - I) + (Q - I)) / (2 N),   dza = dS zb / T,   dzb = dS^T za / T.
    The function takes za, zb as given: pass L2-normalised rows (see :func:`embed_forward`)
    to make S a matrix of cosine similarities, as CLIP does.

    za, zb: (N, E);  temperature > 0.  Returns (loss, (dza, dzb)).
    Reference: ``(F.cross_entropy(S, t) + F.cross_entropy(S.T, t)) / 2``, t = arange(N).
    NaN in za or zb propagates to the loss and the gradients, as in torch.
    """
    za, zb = _check_pair_of_rows(za, zb, "za", "zb")
    T = as_float(temperature, "temperature", positive=True)
    N = za.shape[0]
    with np.errstate(invalid="ignore", over="ignore"):   # NaN and inf propagate, as in torch
        S = za @ zb.T / T                                # (N, N) similarity logits
        log_p = log_softmax(S, axis=1)                   # a-to-b: each row over the gallery b
        log_q = log_softmax(S, axis=0)                   # b-to-a: each column over a
        diag = np.arange(N)
        loss = -0.5 * (log_p[diag, diag].mean() + log_q[diag, diag].mean())
        eye = np.eye(N)
        dS = ((np.exp(log_p) - eye) + (np.exp(log_q) - eye)) / (2 * N)
        return float(loss), (dS @ zb / T, dS.T @ za / T)


def kl_distillation_loss(teacher_logits, student_logits,
                         temperature: float = 1.0) -> tuple[float, np.ndarray]:
    """Mean over the batch of KL(teacher || student) between temperature-softened posteriors.

    p = softmax(t / T), q = softmax(s / T) row by row;  loss = mean_n sum_c p_nc log(p_nc / q_nc);
    dloss/ds = (q - p) / (T N). SoundNet's loss is the T = 1 case with a fixed visual teacher
    and a trained sound student; Hinton et al. (2015) multiply the loss by T^2 to keep the
    gradient's size independent of T (not done here).

    teacher_logits, student_logits: (N, C);  temperature > 0.  Returns (loss, dstudent).
    Reference: ``F.kl_div(F.log_softmax(s / T, 1), F.log_softmax(t / T, 1),
    reduction="batchmean", log_target=True)``. NaN propagates, as in torch.
    """
    t = as_float_array(teacher_logits, "teacher_logits", ndim=2, shape_hint="(N, C)")
    s = as_float_array(student_logits, "student_logits", ndim=2, shape_hint="(N, C)")
    check_same_shape(t, s, "teacher_logits", "student_logits")
    T = as_float(temperature, "temperature", positive=True)
    N = t.shape[0]
    if N < 1 or t.shape[1] < 1:
        raise ValueError("teacher_logits and student_logits need at least one row and one "
                         f"class; got shape {t.shape}")
    log_p, log_q = log_softmax(t / T, axis=1), log_softmax(s / T, axis=1)
    p = np.exp(log_p)
    loss = float(np.sum(p * (log_p - log_q)) / N)
    return loss, (np.exp(log_q) - p) / (T * N)


def retrieval_recall(queries, gallery, k: int) -> float:
    """Recall@k of cross-modal retrieval: the fraction of queries whose partner ranks in the top k.

    Query n is row n of ``queries``; its partner is row n of ``gallery``; candidates are ranked
    by the dot product (the cosine for unit rows). Ties count against the query: its rank is
    the number of *other* candidates scoring at least as high, and it is a hit when rank < k.

    queries, gallery: (N, E), finite (NaN or inf raises ValueError: a NaN score would rank
    first);  1 <= k <= N.  Returns a float in [0, 1]. Each query row and the whole gallery
    are divided by their largest |entry| first (no ranking changes), so entries near 1e300
    do not overflow into ties.
    """
    queries, gallery = _check_pair_of_rows(queries, gallery, "queries", "gallery")
    for name, arr in (("queries", queries), ("gallery", gallery)):
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must be finite (no NaN or inf)")
    N = queries.shape[0]
    k = as_int(k, "k")
    if not 1 <= k <= N:
        raise ValueError(f"k must be an int with 1 <= k <= N = {N}; got {k!r}")
    q_scale = np.max(np.abs(queries), axis=1, keepdims=True)
    queries = queries / np.where(q_scale > 0, q_scale, 1.0)
    g_scale = np.max(np.abs(gallery))
    gallery = gallery / (g_scale if g_scale > 0 else 1.0)
    scores = queries @ gallery.T                         # (N, N)
    own = np.diag(scores)[:, None]                       # (N, 1)
    rank = np.sum(scores >= own, axis=1) - 1             # others at least as good
    return float(np.mean(rank < k))


def train_contrastive(a, b, *, dim: int, temperature: float, lr: float, epochs: int,
                      batch_size: int, rng: np.random.Generator, wa=None, wb=None):
    """Fit linear encoders za = normalize(a wa^T), zb = normalize(b wb^T) with Adam on InfoNCE.

    Each epoch visits the pairs in the order ``rng.permutation(N)`` in batches of
    ``batch_size`` (a last batch of one pair is skipped: it has no negatives). Starting
    weights: ``wa``, ``wb`` if given (copied), else N(0, 1/D) entries drawn from ``rng``.

    a: (N, Da);  b: (N, Db), both finite (NaN or inf raises ValueError);  dim = E.
    Returns wa: (E, Da), wb: (E, Db) and the history of
    the mean training loss per epoch, (epochs,).
    """
    a = as_float_array(a, "a", ndim=2, shape_hint="(N, Da)")
    b = as_float_array(b, "b", ndim=2, shape_hint="(N, Db)")
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"a and b must hold the same number of paired rows; "
                         f"got {a.shape[0]} and {b.shape[0]}")
    if a.shape[0] < 2:
        raise ValueError(f"contrastive training needs at least 2 pairs; got {a.shape[0]}")
    for name, arr in (("a", a), ("b", b)):
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must be finite (no NaN or inf): training on it would "
                             "only produce NaN weights")
    E = check_positive_int(dim, "dim")
    T = as_float(temperature, "temperature", positive=True)
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    if batch_size < 2:
        raise ValueError("batch_size must be at least 2: a contrastive batch needs negatives")
    lr = as_float(lr, "lr", positive=True)
    check_rng(rng)
    N, Da = a.shape
    Db = b.shape[1]
    params = {"wa": _start(wa, (E, Da), rng, "wa"), "wb": _start(wb, (E, Db), rng, "wb")}
    opt = Adam(params, lr=lr)
    history = np.empty(epochs)
    for epoch in range(epochs):
        order, losses = rng.permutation(N), []
        for lo in range(0, N, batch_size):
            idx = order[lo:lo + batch_size]
            if len(idx) < 2:
                continue
            za, ca = embed_forward(a[idx], params["wa"])
            zb, cb = embed_forward(b[idx], params["wb"])
            loss, (dza, dzb) = info_nce_loss(za, zb, T)
            opt.step({"wa": embed_backward(dza, ca)[1], "wb": embed_backward(dzb, cb)[1]})
            losses.append(loss)
        history[epoch] = np.mean(losses)
    return params["wa"], params["wb"], history


def _start(w, shape, rng, name):
    if w is None:
        return rng.standard_normal(shape) / np.sqrt(shape[1])
    w = as_float_array(w, name, ndim=2)
    if w.shape != shape:
        raise ValueError(f"{name} must have shape {shape}; got {w.shape}")
    return w.astype(np.float64)  # a copy: Adam updates it in place
