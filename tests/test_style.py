"""dlnotes.style: the triplet loss, Gram matrices and the content and style costs of neural
style transfer, against torch autograd in float64 (forward and backward, random upstream)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlnotes import style as S
from dlnotes.verify import check_loss, check_pair, to_torch


# ----------------------------------------------------------------------------- triplet loss
def torch_triplet_sum(a, p, n, margin):
    hinge = ((a - p) ** 2).sum(1) - ((a - n) ** 2).sum(1) + margin
    return torch.relu(hinge).sum()


@pytest.mark.parametrize("n, d", [(1, 1), (1, 8), (7, 3), (16, 5)])
@pytest.mark.parametrize("margin", [0.0, 0.2, 2.0])
def test_triplet_loss_matches_torch(n, d, margin, rng):
    a, p, neg = (rng.standard_normal((n, d)) for _ in range(3))
    check_loss("triplet_loss", lambda *t: S.triplet_loss(*t, margin),
               lambda *t: torch_triplet_sum(*t, margin), (a, p, neg))
    check_pair("triplet_loss_forward/backward",
               lambda *t: S.triplet_loss_forward(*t, margin), S.triplet_loss_backward,
               lambda *t: torch_triplet_sum(*t, margin), (a, p, neg), rng=rng)


def test_triplet_loss_hand_value():
    a = np.array([[0.0, 0.0], [0.0, 0.0]])
    p = np.array([[1.0, 0.0], [3.0, 0.0]])      # d(a, p)^2 = 1 and 9
    n = np.array([[0.0, 2.0], [0.0, 1.0]])      # d(a, n)^2 = 4 and 1
    loss, grad = S.triplet_loss(a, p, n, margin=0.5)
    assert loss == pytest.approx(0.0 + (9 - 1 + 0.5), rel=1e-15)   # the first triplet is satisfied
    np.testing.assert_allclose(grad, [[0.0, 0.0], 2 * (n[1] - p[1])], rtol=1e-15)


def test_triplet_loss_is_not_torchs_triplet_margin_loss(rng):
    a, p, n = (rng.standard_normal((5, 4)) for _ in range(3))
    ours, _ = S.triplet_loss(a, p, n, margin=1.0)
    torchs = F.triplet_margin_loss(to_torch(a), to_torch(p), to_torch(n), margin=1.0).item()
    assert abs(ours - torchs) > 0.1
    # torch: unsquared distances of (x - y + eps), mean over the batch
    eps = 1e-6
    d_ap = np.linalg.norm(a - p + eps, axis=1)
    d_an = np.linalg.norm(a - n + eps, axis=1)
    assert np.mean(np.maximum(d_ap - d_an + 1.0, 0.0)) == pytest.approx(torchs, rel=1e-12)


def test_triplet_loss_rejects_bad_input(rng):
    a = rng.standard_normal((3, 2))
    with pytest.raises(ValueError, match="margin"):
        S.triplet_loss(a, a, a, margin=-0.1)
    with pytest.raises(TypeError, match="margin"):
        S.triplet_loss(a, a, a, margin=None)
    with pytest.raises(ValueError, match="same shape"):
        S.triplet_loss(a, a, a[:2])
    with pytest.raises(ValueError, match=r"\(N, D\)"):
        S.triplet_loss(a[0], a[0], a[0])
    _, cache = S.triplet_loss_forward(a, a, a)
    with pytest.raises(ValueError, match="scalar"):
        S.triplet_loss_backward(np.ones(3), cache)


# ----------------------------------------------------------------------------- style transfer
SHAPES = [(1, 1, 1), (3, 5, 2), (4, 1, 7), (2, 6, 6)]


def torch_content(a_g, a_c):
    C, H, W = a_c.shape
    return ((a_c - a_g) ** 2).sum() / (4 * C * H * W)


def torch_style(a_g, a_s):
    C, H, W = a_s.shape
    g_s = a_s.reshape(C, -1) @ a_s.reshape(C, -1).T
    g_g = a_g.reshape(C, -1) @ a_g.reshape(C, -1).T
    return ((g_s - g_g) ** 2).sum() / (4 * C ** 2 * (H * W) ** 2)


@pytest.mark.parametrize("shape", SHAPES)
def test_gram_matrix_matches_torch(shape, rng):
    a = rng.standard_normal(shape)
    check_pair("gram_matrix", S.gram_matrix_forward, S.gram_matrix_backward,
               lambda t: t.reshape(shape[0], -1) @ t.reshape(shape[0], -1).T, (a,), rng=rng)
    G = S.gram_matrix(a)
    np.testing.assert_array_equal(G, G.T)
    assert np.all(np.linalg.eigvalsh(G) > -1e-10)   # positive semi-definite


def test_gram_matrix_layout_matches_the_notes(rng):
    a_chw = rng.standard_normal((3, 4, 5))
    a_hwc = a_chw.transpose(1, 2, 0)                # the notes' (n_H, n_W, n_C)
    unrolled = a_hwc.reshape(-1, 3).T               # (n_C, n_H n_W)
    np.testing.assert_allclose(S.gram_matrix(a_chw), unrolled @ unrolled.T, rtol=1e-14)


@pytest.mark.parametrize("shape", SHAPES)
def test_content_and_style_costs_match_torch(shape, rng):
    a_c, a_g = rng.standard_normal(shape), rng.standard_normal(shape)
    check_loss("content_cost", lambda g, c: S.content_cost(c, g), torch_content, (a_g, a_c))
    check_loss("style_layer_cost", lambda g, s: S.style_layer_cost(s, g), torch_style, (a_g, a_c))


def test_cost_normalisations_by_hand():
    # a_g = 1 everywhere against zeros: both costs are exactly 1/4 for every shape.
    for shape in SHAPES:
        ones, zeros = np.ones(shape), np.zeros(shape)
        assert S.content_cost(zeros, ones)[0] == pytest.approx(0.25, rel=1e-15)
        assert S.style_layer_cost(zeros, ones)[0] == pytest.approx(0.25, rel=1e-15)
        assert S.style_layer_cost(ones, ones)[0] == 0.0


def test_style_cost_is_the_weighted_sum(rng):
    acts_s = [rng.standard_normal((2, 3, 3)), rng.standard_normal((4, 2, 1))]
    acts_g = [rng.standard_normal((2, 3, 3)), rng.standard_normal((4, 2, 1))]
    total, grads = S.style_cost(acts_s, acts_g, [0.3, 0.7])
    parts = [S.style_layer_cost(s, g) for s, g in zip(acts_s, acts_g, strict=True)]
    assert total == pytest.approx(0.3 * parts[0][0] + 0.7 * parts[1][0], rel=1e-14)
    np.testing.assert_allclose(grads[1], 0.7 * parts[1][1], rtol=1e-14)
    with pytest.raises(ValueError, match="weights need one entry per layer"):
        S.style_cost(acts_s, acts_g, [1.0])


def test_style_functions_reject_bad_input(rng):
    a = rng.standard_normal((2, 3, 3))
    with pytest.raises(ValueError, match="same shape"):
        S.content_cost(a, a[:, :2])
    with pytest.raises(ValueError, match="same shape"):
        S.style_layer_cost(a, a[:1])
    with pytest.raises(ValueError, match=r"\(C, H, W\)"):
        S.gram_matrix(a[0])
    with pytest.raises(ValueError, match="non-empty"):
        S.gram_matrix(np.zeros((2, 0, 3)))
    _, cache = S.gram_matrix_forward(a)
    with pytest.raises(ValueError, match=r"\(C, C\)"):
        S.gram_matrix_backward(np.ones((3, 3)), cache)


# --- issue 12 --------------------------------------------------------------------------------

def test_triplet_loss_keeps_float32():
    """Silent-wrong case: float32 embeddings came back as a float64 gradient."""
    rng = np.random.default_rng(0)
    a, p, n = (rng.standard_normal((4, 3)).astype(np.float32) for _ in range(3))
    _, grad = S.triplet_loss(a, p, n, margin=5.0)
    assert grad.dtype == np.float32
    _, cache = S.triplet_loss_forward(a, p, n, 5.0)
    assert all(g.dtype == np.float32 for g in S.triplet_loss_backward(1.0, cache))


def test_triplet_loss_of_huge_embeddings_is_finite_and_right():
    """||a - p||^2 - ||a - n||^2 = (1e400 + 1) - 1e400 overflowed to inf - inf = NaN near
    1e200, and the NaN hinge was dropped: the loss came out 0 instead of 1 + margin."""
    a, p, n = np.array([[1e200, 0.0]]), np.array([[0.0, 1.0]]), np.array([[0.0, 0.0]])
    loss, grad = S.triplet_loss(a, p, n, margin=0.5)
    assert loss == 1.5
    np.testing.assert_array_equal(grad, 2 * (n - p))


def test_triplet_loss_propagates_nan():
    a = np.array([[np.nan, 0.0]])
    loss, _ = S.triplet_loss(a, np.zeros((1, 2)), np.ones((1, 2)))
    assert np.isnan(loss)


def test_style_backwards_refuse_each_others_cache():
    rng = np.random.default_rng(1)
    _, gram_cache = S.gram_matrix_forward(rng.standard_normal((2, 3, 3)))
    _, triplet_cache = S.triplet_loss_forward(*(rng.standard_normal((2, 3)) for _ in range(3)))
    with pytest.raises(TypeError, match="triplet_loss_backward got a GramCache"):
        S.triplet_loss_backward(1.0, gram_cache)
    with pytest.raises(TypeError, match="gram_matrix_backward got a TripletCache"):
        S.gram_matrix_backward(np.ones((2, 2)), triplet_cache)


def test_style_cost_names_the_layer_and_checks_the_weights():
    a = np.ones((2, 3, 3))
    with pytest.raises(ValueError, match=r"acts_g\[1\] must have 3 dimension"):
        S.style_cost([a, a], [a, np.ones((2, 3))], [1.0, 1.0])
    with pytest.raises(TypeError, match=r"weights\[0\] must be a real number"):
        S.style_cost([a], [a], ["1"])
    with pytest.raises(TypeError, match="dloss must be a real number"):
        S.triplet_loss_backward("1", S.triplet_loss_forward(a[0], a[0], a[0])[1])
