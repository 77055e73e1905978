"""dlnotes.attention: scaled dot-product attention against torch's SDPA (float64, forward and
backward, with and without boolean masks), additive scores against the same network written
in torch, the mask helpers, and bad input."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlnotes import attention as att
from dlnotes.verify import check_pair, check_values, to_torch


def sdpa(q, k, v, mask=None):
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)


SHAPES = [  # (batch dims, L, S, d, dv)
    ((), 1, 1, 1, 1),
    ((1,), 4, 4, 8, 8),
    ((2,), 3, 7, 5, 2),         # L != S, dv != d
    ((1, 1), 6, 3, 4, 9),       # batch 1, one head
    ((2, 3), 5, 6, 4, 3),       # batch and heads
    ((3, 2), 8, 8, 16, 16),
]


@pytest.mark.parametrize("batch, L, S, d, dv", SHAPES)
def test_sdpa_matches_torch_without_mask(batch, L, S, d, dv, rng):
    q = rng.standard_normal((*batch, L, d))
    k = rng.standard_normal((*batch, S, d))
    v = rng.standard_normal((*batch, S, dv))
    check_pair("sdpa", att.scaled_dot_product_attention,
               att.scaled_dot_product_attention_backward, sdpa, (q, k, v), rng=rng)


@pytest.mark.parametrize("batch, L, S, d, dv", SHAPES)
def test_sdpa_matches_torch_with_random_mask(batch, L, S, d, dv, rng):
    q = rng.standard_normal((*batch, L, d))
    k = rng.standard_normal((*batch, S, d))
    v = rng.standard_normal((*batch, S, dv))
    mask = rng.random((*batch, L, S)) < 0.6
    mask[..., rng.integers(S)] = True          # every query keeps at least one key
    check_pair("sdpa masked", att.scaled_dot_product_attention,
               att.scaled_dot_product_attention_backward, sdpa, (q, k, v, mask), rng=rng)


@pytest.mark.parametrize("batch, L, S",
                         [((1,), 1, 1), ((2, 3), 5, 5), ((2,), 4, 7), ((1, 2), 6, 6)])
def test_sdpa_causal_mask_matches_torch_is_causal(batch, L, S, rng):
    d, dv = 4, 3
    q = rng.standard_normal((*batch, L, d))
    k = rng.standard_normal((*batch, S, d))
    v = rng.standard_normal((*batch, S, dv))
    mask = att.causal_mask(L, S)                # (L, S), broadcast over batch and heads
    check_pair("sdpa causal", att.scaled_dot_product_attention,
               att.scaled_dot_product_attention_backward, sdpa, (q, k, v, mask), rng=rng)
    out, _ = att.scaled_dot_product_attention(q, k, v, mask)
    ref = F.scaled_dot_product_attention(to_torch(q), to_torch(k), to_torch(v), is_causal=True)
    check_values("sdpa is_causal", out, ref)


def test_sdpa_padding_mask_ignores_padded_keys(rng):
    N, L, S, d = 3, 4, 6, 5
    lengths = np.array([6, 2, 4])
    q = rng.standard_normal((N, L, d))
    k = rng.standard_normal((N, S, d))
    v = rng.standard_normal((N, S, d))
    mask = att.padding_mask(lengths, S)[:, None, :]   # (N, 1, S)
    check_pair("sdpa padding", att.scaled_dot_product_attention,
               att.scaled_dot_product_attention_backward, sdpa, (q, k, v, mask), rng=rng)
    out, cache = att.scaled_dot_product_attention(q, k, v, mask)
    # Changing what sits in the padded slots must change nothing.
    k2, v2 = k.copy(), v.copy()
    k2[1, 2:] = 100.0
    v2[1, 2:] = -100.0
    out2, _ = att.scaled_dot_product_attention(q, k2, v2, mask)
    np.testing.assert_array_equal(out, out2)
    np.testing.assert_array_equal(cache.weights[1, :, 2:], 0.0)
    np.testing.assert_allclose(cache.weights.sum(-1), 1.0, rtol=0, atol=1e-14)


def test_sdpa_weights_are_torch_softmax_of_scaled_scores(rng):
    q = rng.standard_normal((2, 3, 4))
    k = rng.standard_normal((2, 5, 4))
    v = rng.standard_normal((2, 5, 2))
    _, cache = att.scaled_dot_product_attention(q, k, v)
    ref = torch.softmax(to_torch(q) @ to_torch(k).transpose(-1, -2) / 2.0, dim=-1)
    check_values("attention weights", cache.weights, ref)


def test_sdpa_is_stable_for_huge_scores(rng):
    q = 1e3 * rng.standard_normal((2, 3, 4))
    k = 1e3 * rng.standard_normal((2, 5, 4))
    v = rng.standard_normal((2, 5, 3))
    out, cache = att.scaled_dot_product_attention(q, k, v)
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(cache.weights))
    check_values("sdpa huge scores", out, sdpa(to_torch(q), to_torch(k), to_torch(v)))


def test_all_false_mask_row_raises(rng):
    q = rng.standard_normal((2, 3, 4))
    k = rng.standard_normal((2, 5, 4))
    v = rng.standard_normal((2, 5, 4))
    mask = np.ones((2, 3, 5), dtype=bool)
    mask[1, 2] = False
    with pytest.raises(ValueError, match=r"blocks every key for query \(1, 2\)"):
        att.scaled_dot_product_attention(q, k, v, mask)


@pytest.mark.parametrize("q_shape, k_shape, v_shape, message", [
    ((4,), (5, 4), (5, 4), r"q must have at least 2 dimensions"),
    ((3, 4), (5, 3), (5, 4), r"k must be \(\.\.\., S, d\)"),
    ((2, 3, 4), (3, 5, 4), (2, 5, 4), r"k must be \(\.\.\., S, d\) with batch dims \(2,\)"),
    ((3, 4), (5, 4), (6, 4), r"v must be \(\.\.\., S, dv\)"),
    ((0, 4), (5, 4), (5, 4), r"L, S and d must be positive"),
])
def test_sdpa_bad_shapes_raise(q_shape, k_shape, v_shape, message):
    with pytest.raises(ValueError, match=message):
        att.scaled_dot_product_attention(np.zeros(q_shape), np.zeros(k_shape), np.zeros(v_shape))


def test_sdpa_bad_masks_raise():
    q, k, v = np.zeros((2, 3, 4)), np.zeros((2, 5, 4)), np.zeros((2, 5, 4))
    with pytest.raises(TypeError, match=r"mask must be boolean"):
        att.scaled_dot_product_attention(q, k, v, np.zeros((3, 5)))
    with pytest.raises(ValueError, match=r"does not broadcast"):
        att.scaled_dot_product_attention(q, k, v, np.ones((3, 4), dtype=bool))
    with pytest.raises(ValueError, match=r"does not broadcast"):
        att.scaled_dot_product_attention(q, k, v, np.ones((4, 2, 3, 5), dtype=bool))


def test_sdpa_backward_wrong_upstream_raises(rng):
    _, cache = att.scaled_dot_product_attention(np.ones((3, 4)), np.ones((5, 4)), np.ones((5, 2)))
    with pytest.raises(ValueError, match=r"dout must be \(\.\.\., L, dv\) = \(3, 2\)"):
        att.scaled_dot_product_attention_backward(np.ones((3, 4)), cache)


def test_masks_match_their_definitions():
    np.testing.assert_array_equal(att.causal_mask(3, 4), [[1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0]])
    np.testing.assert_array_equal(att.causal_mask(2), [[1, 0], [1, 1]])
    np.testing.assert_array_equal(att.padding_mask(np.array([1, 3]), 3), [[1, 0, 0], [1, 1, 1]])
    assert att.causal_mask(3).dtype == bool and att.padding_mask(np.array([2]), 2).dtype == bool
    with pytest.raises(ValueError, match=r"L must be >= 1; got 0"):
        att.causal_mask(0)
    with pytest.raises(ValueError, match=r"every length must lie in \[1, S\]"):
        att.padding_mask(np.array([0, 2]), 3)
    with pytest.raises(ValueError, match=r"lengths must be a 1-D integer array"):
        att.padding_mask(np.array([1.0, 2.0]), 3)


def additive_reference(q, k, w_q, w_k, w_v):
    hidden = torch.tanh((q @ w_q.T).unsqueeze(-2) + (k @ w_k.T).unsqueeze(-3))
    return hidden @ w_v


@pytest.mark.parametrize("batch, L, S, dq, dk, H", [
    ((), 1, 1, 1, 1, 1), ((1,), 3, 5, 4, 6, 7), ((2, 3), 4, 2, 3, 3, 5), ((2,), 6, 6, 8, 2, 4),
])
def test_additive_scores_match_torch(batch, L, S, dq, dk, H, rng):
    q = rng.standard_normal((*batch, L, dq))
    k = rng.standard_normal((*batch, S, dk))
    w_q = rng.standard_normal((H, dq))
    w_k = rng.standard_normal((H, dk))
    w_v = rng.standard_normal(H)
    check_pair("additive scores", att.additive_scores_forward, att.additive_scores_backward,
               additive_reference, (q, k, w_q, w_k, w_v), rng=rng)


@pytest.mark.parametrize("shapes, message", [
    (((3, 4), (5, 4), (6, 5), (6, 4), (6,)), r"w_q must be \(H, dq\) with dq=4"),
    (((3, 4), (5, 4), (6, 4), (6, 3), (6,)), r"w_k must be \(H, dk\) = \(6, 4\)"),
    (((3, 4), (5, 4), (6, 4), (6, 4), (5,)), r"w_v must be \(H,\) = \(6,\)"),
    (((2, 3, 4), (3, 5, 4), (6, 4), (6, 4), (6,)), r"q and k must share batch dims"),
    (((2, 3, 4), (5, 4), (6, 4), (6, 4), (6,)), r"need the same rank"),
])
def test_additive_bad_shapes_raise(shapes, message):
    with pytest.raises(ValueError, match=message):
        att.additive_scores_forward(*(np.zeros(s) for s in shapes))


def test_additive_backward_wrong_upstream_raises():
    _, cache = att.additive_scores_forward(np.ones((3, 4)), np.ones((5, 4)), np.ones((2, 4)),
                                           np.ones((2, 4)), np.ones(2))
    with pytest.raises(ValueError, match=r"dscores must be \(\.\.\., L, S\) = \(3, 5\)"):
        att.additive_scores_backward(np.ones((5, 3)), cache)


def test_attention_output_is_not_the_cached_array():
    """Issue 12: the output was the array the cache kept, so ``out *= 2`` changed dq, dk."""
    rng = np.random.default_rng(4)
    q, k, v = rng.standard_normal((3, 4)), rng.standard_normal((5, 4)), rng.standard_normal((5, 2))
    out, cache = att.scaled_dot_product_attention(q, k, v)
    dout = rng.standard_normal(out.shape)
    before = att.scaled_dot_product_attention_backward(dout, cache)
    out *= 2
    out += 1
    for a, b in zip(before, att.scaled_dot_product_attention_backward(dout, cache), strict=True):
        np.testing.assert_array_equal(a, b)


def test_attention_backwards_refuse_each_others_cache():
    rng = np.random.default_rng(5)
    q, k = rng.standard_normal((3, 4)), rng.standard_normal((5, 4))
    _, sdpa_cache = att.scaled_dot_product_attention(q, k, rng.standard_normal((5, 2)))
    scores, add_cache = att.additive_scores_forward(q, k, rng.standard_normal((2, 4)),
                                                    rng.standard_normal((2, 4)),
                                                    rng.standard_normal(2))
    with pytest.raises(TypeError, match=r"additive_scores_backward got an AttentionCache"):
        att.additive_scores_backward(np.ones_like(scores), sdpa_cache)
    with pytest.raises(TypeError,
                       match=r"scaled_dot_product_attention_backward got an AdditiveCache"):
        att.scaled_dot_product_attention_backward(np.ones((3, 2)), add_cache)
