"""dlnotes.multimodal: the contrastive and distillation losses, L2 normalisation and the linear
encoder against torch autograd in float64 (random upstream gradients, awkward shapes), retrieval
recall against an independent ranking, the two-modality generator, training, and bad input."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlnotes import multimodal as mm
from dlnotes.verify import check_loss, check_pair, check_values, to_numpy, to_torch


def _torch_info_nce(za, zb, temperature):
    s = za @ zb.T / temperature
    target = torch.arange(s.shape[0], device=s.device)
    return 0.5 * (F.cross_entropy(s, target) + F.cross_entropy(s.T, target))


def _info_nce_wrt_zb(zb, za, temperature):
    loss, (_, dzb) = mm.info_nce_loss(za, zb, float(temperature))
    return loss, dzb


def _info_nce_wrt_za(za, zb, temperature):
    loss, (dza, _) = mm.info_nce_loss(za, zb, float(temperature))
    return loss, dza


def _unit_rows(shape, rng):
    x = rng.standard_normal(shape)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.mark.parametrize("n, e", [(1, 1), (1, 4), (2, 3), (7, 5), (16, 2), (33, 8)])
@pytest.mark.parametrize("temperature", [0.07, 1.0, 3.5])
@pytest.mark.parametrize("unit", [True, False])
def test_info_nce_matches_torch_cross_entropy_both_ways(n, e, temperature, unit, rng):
    za = _unit_rows((n, e), rng) if unit else 2.0 * rng.standard_normal((n, e))
    zb = _unit_rows((n, e), rng) if unit else 2.0 * rng.standard_normal((n, e))
    t = np.array(temperature)
    check_loss("info_nce wrt za", _info_nce_wrt_za, _torch_info_nce, (za, zb, t))
    check_loss("info_nce wrt zb", _info_nce_wrt_zb,
               lambda b, a, tt: _torch_info_nce(a, b, tt), (zb, za, t))


def test_info_nce_is_stable_for_a_tiny_temperature(rng):
    za, zb = _unit_rows((6, 3), rng), _unit_rows((6, 3), rng)
    loss, (dza, dzb) = mm.info_nce_loss(za, zb, 1e-4)   # logits up to 1e4
    assert np.isfinite(loss) and np.all(np.isfinite(dza)) and np.all(np.isfinite(dzb))
    check_loss("info_nce, T = 1e-4", _info_nce_wrt_za, _torch_info_nce, (za, zb, np.array(1e-4)))


def test_info_nce_of_identical_orthonormal_rows_has_the_closed_form():
    # za = zb = I_N: diagonal cosine 1, off-diagonal 0 -> loss = log(1 + (N - 1) e^{-1/T}).
    n, temperature = 5, 0.5
    loss, _ = mm.info_nce_loss(np.eye(n), np.eye(n), temperature)
    assert loss == pytest.approx(np.log1p((n - 1) * np.exp(-1 / temperature)), rel=1e-13)


@pytest.mark.parametrize("n, c", [(1, 2), (1, 7), (5, 3), (12, 10)])
@pytest.mark.parametrize("temperature", [0.5, 1.0, 4.0])
@pytest.mark.parametrize("scale", [1.0, 1000.0])
def test_kl_distillation_matches_torch_kl_div(n, c, temperature, scale, rng):
    teacher = scale * rng.standard_normal((n, c))
    student = scale * rng.standard_normal((n, c))

    def ours(s, t, tt):
        return mm.kl_distillation_loss(t, s, float(tt))

    def reference(s, t, tt):
        return F.kl_div(F.log_softmax(s / tt, dim=1), F.log_softmax(t / tt, dim=1),
                        reduction="batchmean", log_target=True)

    check_loss("kl_distillation", ours, reference, (student, teacher, np.array(temperature)))


def test_kl_distillation_is_zero_for_equal_logits_and_positive_otherwise(rng):
    t = rng.standard_normal((4, 6))
    loss, grad = mm.kl_distillation_loss(t, t + 3.0, 2.0)   # a shift leaves the softmax unchanged
    assert loss == pytest.approx(0.0, abs=1e-14) and np.allclose(grad, 0.0, atol=1e-15)
    assert mm.kl_distillation_loss(t, rng.standard_normal((4, 6)), 2.0)[0] > 0.01


@pytest.mark.parametrize("shape", [(1, 1), (1, 5), (4, 3), (9, 2)])
def test_l2_normalize_matches_torch(shape, rng):
    x = rng.standard_normal(shape) * rng.uniform(0.1, 10.0, size=(shape[0], 1))
    check_pair("l2_normalize", mm.l2_normalize_forward, mm.l2_normalize_backward,
               lambda t: F.normalize(t, dim=1), (x,), rng)


def test_l2_normalize_of_a_zero_row_matches_torch(rng):
    x = np.vstack([rng.standard_normal((2, 3)), np.zeros((1, 3)), 1e-14 * np.ones((1, 3))])
    out, _ = mm.l2_normalize_forward(x)
    assert np.all(out[2] == 0.0)
    check_pair("l2_normalize with a zero row", mm.l2_normalize_forward, mm.l2_normalize_backward,
               lambda t: F.normalize(t, dim=1), (x,), rng)


@pytest.mark.parametrize("n, d, e", [(1, 1, 1), (1, 6, 2), (5, 3, 4), (8, 60, 8)])
def test_embed_matches_torch(n, d, e, rng):
    x, w = rng.standard_normal((n, d)), rng.standard_normal((e, d))
    check_pair("embed", mm.embed_forward, mm.embed_backward,
               lambda xt, wt: F.normalize(F.linear(xt, wt), dim=1), (x, w), rng)


def test_pipeline_gradient_matches_autograd(rng):
    a, b = rng.standard_normal((10, 6)), rng.integers(0, 2, size=(10, 9)).astype(float)
    wa, wb = rng.standard_normal((4, 6)), rng.standard_normal((4, 9))

    def ours(wa_, wb_, a_, b_):
        za, ca = mm.embed_forward(a_, wa_)
        zb, cb = mm.embed_forward(b_, wb_)
        loss, (dza, _) = mm.info_nce_loss(za, zb, 0.2)
        return loss, mm.embed_backward(dza, ca)[1]

    def reference(wa_, wb_, a_, b_):
        return _torch_info_nce(F.normalize(a_ @ wa_.T, dim=1), F.normalize(b_ @ wb_.T, dim=1), 0.2)

    check_loss("embed + info_nce, gradient in wa", ours, reference, (wa, wb, a, b))


def _torch_recall(q, g, k):
    scores = to_torch(q) @ to_torch(g).T
    top = torch.topk(scores, k, dim=1).indices
    hits = (top == torch.arange(len(q), device=top.device)[:, None]).any(dim=1)
    return hits.double().mean()


@pytest.mark.parametrize("n, e", [(1, 3), (6, 2), (40, 5)])
def test_recall_matches_a_torch_topk_ranking(n, e, rng):
    q, g = rng.standard_normal((n, e)), rng.standard_normal((n, e))
    for k in range(1, n + 1):
        check_values(f"recall@{k}", np.array(mm.retrieval_recall(q, g, k)), _torch_recall(q, g, k))


def test_recall_of_perfectly_aligned_embeddings_is_one(rng):
    z = _unit_rows((50, 6), rng)
    assert mm.retrieval_recall(z, z, 1) == 1.0
    assert mm.retrieval_recall(z, 3.0 * z, 1) == 1.0   # the scale does not change the ranking


def test_recall_counts_swapped_partners_and_ties_exactly():
    z = np.eye(4)
    swapped = z[[1, 0, 2, 3]]        # queries 0 and 1 find each other's partner first
    assert mm.retrieval_recall(z, swapped, 1) == 0.5
    assert mm.retrieval_recall(z, swapped, 3) == 0.5   # their partners tie with two others at 0
    assert mm.retrieval_recall(z, swapped, 4) == 1.0
    near = swapped + 0.5 * z[:, :]                     # partners now second, no ties
    near[2:] = z[2:]
    assert mm.retrieval_recall(z, near, 1) == 0.5
    assert mm.retrieval_recall(z, near, 2) == 1.0
    tied = np.ones((4, 2))                             # every candidate scores the same
    assert mm.retrieval_recall(tied, tied, 3) == 0.0
    assert mm.retrieval_recall(tied, tied, 4) == 1.0


def test_two_modalities_shapes_sparsity_and_reproducibility():
    d1 = mm.two_modalities(300, np.random.default_rng(7), vocab=30, tags=(1, 5), n_classes=4)
    d2 = mm.two_modalities(300, np.random.default_rng(7), vocab=30, tags=(1, 5), n_classes=4)
    assert d1.a.shape == (300, 20) and d1.b.shape == (300, 30) and d1.z.shape == (300, 4)
    for x, y in zip(d1, d2, strict=True):
        np.testing.assert_array_equal(x, y)
    counts = d1.b.sum(axis=1)
    assert set(np.unique(d1.b)) <= {0.0, 1.0}
    assert counts.min() >= 1 and counts.max() <= 5 and len(np.unique(counts)) == 5
    assert set(np.unique(d1.labels)) <= set(range(4))
    assert np.mean(d1.a != 0) == 1.0                     # dense
    assert np.mean(d1.b != 0) < 0.2                      # sparse


def test_two_modalities_tags_follow_the_latent(rng):
    # Items whose latents are close share more tags than random pairs do.
    d = mm.two_modalities(2000, rng)
    zn = d.z / np.linalg.norm(d.z, axis=1, keepdims=True)
    cos = np.sum(zn[:-1] * zn[1:], axis=1)
    shared = np.sum(d.b[:-1] * d.b[1:], axis=1)
    assert shared[cos > 0.9].mean() > 3 * shared[cos < -0.9].mean()


def test_training_improves_held_out_recall_and_is_deterministic():
    d = mm.two_modalities(700, np.random.default_rng(0))
    rng0 = np.random.default_rng(1)
    wa0, wb0 = rng0.standard_normal((8, 20)), rng0.standard_normal((8, 60))

    def recall(wa, wb):
        za, _ = mm.embed_forward(d.a[500:], wa)
        zb, _ = mm.embed_forward(d.b[500:], wb)
        return mm.retrieval_recall(za, zb, 5)

    runs = [mm.train_contrastive(d.a[:500], d.b[:500], dim=8, temperature=0.1, lr=0.01,
                                 epochs=20, batch_size=64, rng=np.random.default_rng(2),
                                 wa=wa0, wb=wb0) for _ in range(2)]
    wa, wb, hist = runs[0]
    np.testing.assert_array_equal(wa, runs[1][0])
    assert hist[-1] < 0.6 * hist[0]
    assert recall(wa0, wb0) < 0.1 and recall(wa, wb) > 0.25   # chance: 5 / 200
    assert np.array_equal(wa0, np.random.default_rng(1).standard_normal((8, 20)))  # not modified


@pytest.mark.parametrize("call, message", [
    (lambda: mm.info_nce_loss(np.ones((3, 2)), np.ones((4, 2)), 0.1), "same number"),
    (lambda: mm.info_nce_loss(np.ones((3, 2)), np.ones((3, 5)), 0.1), "same embedding"),
    (lambda: mm.info_nce_loss(np.ones((3, 2)), np.ones((3, 2)), 0.0), "temperature"),
    (lambda: mm.info_nce_loss(np.ones((3, 2)), np.ones((3, 2)), -1.0), "temperature"),
    (lambda: mm.info_nce_loss(np.ones(3), np.ones(3), 1.0), "dimension"),
    (lambda: mm.kl_distillation_loss(np.ones((3, 2)), np.ones((2, 2))), "same shape"),
    (lambda: mm.kl_distillation_loss(np.ones((3, 2)), np.ones((3, 2)), 0), "temperature"),
    (lambda: mm.retrieval_recall(np.ones((3, 2)), np.ones((3, 2)), 0), "k must"),
    (lambda: mm.retrieval_recall(np.ones((3, 2)), np.ones((3, 2)), 4), "k must"),
    (lambda: mm.retrieval_recall(np.ones((3, 2)), np.ones((2, 2)), 1), "same number"),
    (lambda: mm.l2_normalize_forward(np.ones((3, 2)), eps=0.0), "eps"),
    (lambda: mm.embed_forward(np.ones((3, 2)), np.ones((4, 3))), "to match x"),
    (lambda: mm.two_modalities(10, np.random.default_rng(0), tags=(3, 2)), "tags"),
    (lambda: mm.two_modalities(10, np.random.default_rng(0), noise=-1.0), "noise"),
    (lambda: mm.two_modalities(0, np.random.default_rng(0)), "positive integer"),
    (lambda: mm.train_contrastive(np.ones((4, 2)), np.ones((4, 3)), dim=2,
                                  temperature=0.1, lr=0.01, epochs=1,
                                  batch_size=1, rng=np.random.default_rng(0)), "batch_size"),
    (lambda: mm.train_contrastive(np.ones((4, 2)), np.ones((5, 3)), dim=2,
                                  temperature=0.1, lr=0.01, epochs=1,
                                  batch_size=2, rng=np.random.default_rng(0)), "same number"),
    (lambda: mm.train_contrastive(np.ones((1, 2)), np.ones((1, 3)), dim=2,
                                  temperature=0.1, lr=0.01, epochs=1,
                                  batch_size=2, rng=np.random.default_rng(0)), "at least 2 pairs"),
    (lambda: mm.info_nce_loss(np.ones((3, 2)), np.ones((3, 2)), np.inf), "temperature"),
])
def test_bad_input_raises_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_bad_types_raise_type_error():
    with pytest.raises(TypeError, match="Generator"):
        mm.two_modalities(5, 0)
    with pytest.raises(TypeError, match="real numeric"):
        mm.info_nce_loss(np.array([["a"]]), np.array([["b"]]), 1.0)
    with pytest.raises(TypeError, match="temperature"):
        mm.info_nce_loss(np.ones((3, 2)), np.ones((3, 2)), np.array([0.1, 0.2]))
    with pytest.raises(TypeError, match="temperature"):
        mm.kl_distillation_loss(np.ones((3, 2)), np.ones((3, 2)), True)


def test_upstream_gradient_of_the_wrong_shape_is_refused(rng):
    _, cache = mm.l2_normalize_forward(rng.standard_normal((3, 2)))
    with pytest.raises(ValueError, match="shape of the forward's output"):
        mm.l2_normalize_backward(np.ones((2, 3)), cache)


def test_to_numpy_round_trip_of_the_torch_helper(rng):
    z = _unit_rows((5, 3), rng)
    loss_t = _torch_info_nce(to_torch(z), to_torch(z), 0.3)
    assert float(to_numpy(loss_t)) == pytest.approx(mm.info_nce_loss(z, z, 0.3)[0], rel=1e-12)


# --- issue 12: NaN, huge rows, cache identity and aliasing ---------------------------------

def test_retrieval_recall_refuses_nan_embeddings():
    # Old code: NaN scores compare False, every rank was -1 and recall@1 came out as 1.0.
    q = np.full((4, 3), np.nan)
    g = np.eye(4, 3)
    with pytest.raises(ValueError, match="^queries must be finite"):
        mm.retrieval_recall(q, g, 1)
    with pytest.raises(ValueError, match="^gallery must be finite"):
        mm.retrieval_recall(g, q, 1)
    with pytest.raises(TypeError, match="k must be an int"):
        mm.retrieval_recall(g, g, 1.0)
    assert mm.retrieval_recall(g, g, np.int64(1)) == mm.retrieval_recall(g, g, 1)


def test_retrieval_recall_of_huge_embeddings(rng):
    q, g = rng.standard_normal((20, 5)), rng.standard_normal((20, 5))
    g[::2] += q[::2]                                   # half the pairs are easy
    want = mm.retrieval_recall(q, g, 3)
    assert 0 < want < 1
    assert mm.retrieval_recall(q * 1e300, g * 1e300, 3) == want
    assert mm.retrieval_recall(q * 1e-300, g * 1e-300, 3) == want


@pytest.mark.parametrize("scale", [1e-200, 1e200, 1e300])
def test_l2_normalize_at_extreme_magnitudes(rng, scale):
    # Old code: ||x|| overflowed to inf (every row became 0) or underflowed below eps.
    x = rng.standard_normal((4, 3))
    out, cache = mm.l2_normalize_forward(x * scale, eps=1e-300 if scale < 1 else 1e-12)
    want, want_cache = mm.l2_normalize_forward(x)
    np.testing.assert_allclose(out, want, rtol=1e-14, atol=1e-16)
    dout = rng.standard_normal((4, 3))
    np.testing.assert_allclose(mm.l2_normalize_backward(dout, cache) * scale,
                               mm.l2_normalize_backward(dout, want_cache), rtol=1e-12,
                               atol=1e-14)


def test_multimodal_caches_are_typed_and_private(rng):
    x, w = rng.standard_normal((4, 3)), rng.standard_normal((2, 3))
    z, ecache = mm.embed_forward(x, w)
    _, ncache = mm.l2_normalize_forward(x)
    with pytest.raises(TypeError, match="embed_backward got an? L2NormCache"):
        mm.embed_backward(np.ones((4, 2)), ncache)
    with pytest.raises(TypeError, match="l2_normalize_backward got an EmbedCache"):
        mm.l2_normalize_backward(np.ones((4, 3)), ecache)
    dz = rng.standard_normal(z.shape)
    before = mm.embed_backward(dz, ecache)
    x *= 2                                             # the caller's arrays change afterwards
    w *= 3
    z *= 5
    after = mm.embed_backward(dz, ecache)
    for a, b in zip(before, after, strict=True):
        np.testing.assert_array_equal(a, b)
