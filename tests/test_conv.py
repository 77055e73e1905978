"""dlnotes.conv: conv2d (vectorised and loops) against torch in float64, sizes, receptive fields."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlnotes import conv
from dlnotes.verify import check_pair, device, to_numpy, to_torch

# (N, C, H, W, F, HH, WW, stride, pad): batch 1, odd and non-square sizes, strides 1-3,
# paddings 0-2, (h, w) pairs, a kernel as large as the padded input, 1x1 kernels.
CASES = [
    (2, 3, 7, 7, 4, 3, 3, 1, 1),
    (1, 1, 5, 5, 1, 3, 3, 1, 0),
    (1, 2, 9, 6, 3, 3, 2, 2, 1),
    (3, 2, 8, 11, 2, 5, 3, 3, 2),
    (2, 4, 10, 7, 5, 1, 1, 2, 0),
    (1, 3, 6, 9, 2, 2, 4, (2, 3), (1, 2)),
    (2, 1, 4, 4, 3, 6, 6, 1, 1),
    (1, 2, 13, 12, 3, 4, 3, (3, 1), (0, 2)),
]


def _inputs(case, rng):
    N, C, H, W, F_, HH, WW, _, _ = case
    return (rng.standard_normal((N, C, H, W)), rng.standard_normal((F_, C, HH, WW)),
            rng.standard_normal(F_))


@pytest.mark.parametrize("case", CASES)
def test_conv2d_matches_torch(case, rng):
    stride, pad = case[7], case[8]
    check_pair("conv2d", lambda x, w, b: conv.conv2d_forward(x, w, b, stride, pad),
               conv.conv2d_backward, lambda x, w, b: F.conv2d(x, w, b, stride, pad),
               _inputs(case, rng), rng=rng)


@pytest.mark.parametrize("case", CASES[:5])
def test_conv2d_loops_match_torch(case, rng):
    stride, pad = case[7], case[8]
    check_pair("conv2d naive", lambda x, w, b: conv.conv2d_forward_naive(x, w, b, stride, pad),
               conv.conv2d_backward_naive, lambda x, w, b: F.conv2d(x, w, b, stride, pad),
               _inputs(case, rng), rng=rng)


@pytest.mark.parametrize("case", CASES)
def test_naive_and_vectorised_agree(case, rng):
    x, w, b = _inputs(case, rng)
    stride, pad = case[7], case[8]
    out_v, cache_v = conv.conv2d_forward(x, w, b, stride, pad)
    out_n, cache_n = conv.conv2d_forward_naive(x, w, b, stride, pad)
    np.testing.assert_allclose(out_v, out_n, rtol=1e-12, atol=1e-12)
    dout = rng.standard_normal(out_v.shape)
    for g, h in zip(conv.conv2d_backward(dout, cache_v),
                    conv.conv2d_backward_naive(dout, cache_n), strict=True):
        np.testing.assert_allclose(g, h, rtol=1e-12, atol=1e-12)


def test_naive_and_vectorised_caches_are_not_mixed():
    """Each forward has its own cache type (issue 12); the backwards refuse the other's."""
    args = (np.ones((1, 2, 4, 4)), np.ones((3, 2, 2, 2)), np.zeros(3))
    out, cache_v = conv.conv2d_forward(*args)
    _, cache_n = conv.conv2d_forward_naive(*args)
    with pytest.raises(TypeError, match="conv2d_backward got a Conv2dNaiveCache"):
        conv.conv2d_backward(np.ones_like(out), cache_n)
    with pytest.raises(TypeError, match="conv2d_backward_naive got a Conv2dCache"):
        conv.conv2d_backward_naive(np.ones_like(out), cache_v)


def test_float32_is_computed_in_float32(rng):
    x, w, b = _inputs((2, 3, 8, 7, 4, 3, 3, 1, 1), rng)
    out64, cache64 = conv.conv2d_forward(x, w, b, 1, 1)
    out32, cache32 = conv.conv2d_forward(x.astype(np.float32), w.astype(np.float32),
                                         b.astype(np.float32), 1, 1)
    dout = rng.standard_normal(out64.shape)
    grads32 = conv.conv2d_backward(dout.astype(np.float32), cache32)
    assert out32.dtype == np.float32 and all(g.dtype == np.float32 for g in grads32)
    np.testing.assert_allclose(out32, out64, rtol=1e-4, atol=1e-4)
    for g32, g64 in zip(grads32, conv.conv2d_backward(dout, cache64), strict=True):
        np.testing.assert_allclose(g32, g64, rtol=1e-4, atol=1e-4)


def test_im2col_and_col2im_are_adjoint(rng):
    x_pad = rng.standard_normal((2, 3, 9, 8))
    kernel, stride, out_size = (3, 2), (2, 3), (4, 3)
    cols = conv.im2col(x_pad, kernel, stride, out_size)
    c = rng.standard_normal(cols.shape)
    back = conv.col2im(c, x_pad.shape, kernel, stride, out_size)
    assert back.shape == x_pad.shape
    np.testing.assert_allclose(np.sum(cols * c), np.sum(x_pad * back), rtol=1e-12)


@pytest.mark.parametrize("n, f, p, s", [(7, 3, 0, 1), (7, 3, 1, 2), (8, 3, 1, 2), (5, 5, 0, 3),
                                        (32, 5, 2, 1), (11, 4, 2, 3), (1, 1, 0, 1)])
def test_conv_output_size_matches_torch(n, f, p, s):
    out = F.conv2d(torch.zeros(1, 1, n, n, dtype=torch.float64),
                   torch.zeros(1, 1, f, f, dtype=torch.float64), stride=s, padding=p)
    assert conv.conv_output_size(n, f, p, s) == out.shape[-1]


@pytest.mark.parametrize("n, f, p, s, op", [(4, 3, 0, 1, 0), (4, 3, 1, 2, 1), (5, 4, 1, 2, 0),
                                            (3, 5, 2, 3, 2), (1, 1, 0, 1, 0)])
def test_conv_transpose_output_size_matches_torch(n, f, p, s, op):
    out = F.conv_transpose2d(torch.zeros(1, 1, n, n, dtype=torch.float64),
                             torch.zeros(1, 1, f, f, dtype=torch.float64), stride=s, padding=p,
                             output_padding=op)
    assert conv.conv_transpose_output_size(n, f, p, s, op) == out.shape[-1]


@pytest.mark.parametrize("n, f, p, s", [(5, 3, 0, 1), (6, 3, 1, 2), (9, 4, 2, 3)])
def test_conv_transpose_size_inverts_conv_size(n, f, p, s):
    m = conv.conv_output_size(n, f, p, s)
    back = conv.conv_transpose_output_size(m, f, p, s, output_padding=(n + 2 * p - f) % s)
    assert back == n


@pytest.mark.parametrize("call, message", [
    (lambda: conv.conv_output_size(3, 5), r"kernel length f=5 is larger than the padded input"),
    (lambda: conv.conv_output_size(5, 3, stride=0), r"stride must be positive; got 0"),
    (lambda: conv.conv_output_size(5, 3, pad=-1), r"pad must be >= 0; got -1"),
    (lambda: conv.conv_transpose_output_size(5, 3, stride=2, output_padding=2),
     r"output_padding must be smaller than stride"),
    (lambda: conv.conv_transpose_output_size(1, 1, pad=1), r"pad=1 is too large"),
    (lambda: conv.conv_output_size((5, 5), 3), r"n must be an int; got \(5, 5\)"),
    (lambda: conv.conv_output_size(5, 3.0), r"f must be an int; got 3.0"),
])
def test_size_functions_reject_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def _bad_conv(x_shape=(2, 3, 5, 5), w_shape=(4, 3, 3, 3), b_shape=(4,), stride=1, pad=0):
    return (np.zeros(x_shape), np.zeros(w_shape), np.zeros(b_shape), stride, pad)


@pytest.mark.parametrize("forward", [conv.conv2d_forward, conv.conv2d_forward_naive])
@pytest.mark.parametrize("args, message", [
    (_bad_conv(w_shape=(4, 3, 6, 3)), r"kernel \(6, 3\) is larger than the padded input \(5, 5\)"),
    (_bad_conv(w_shape=(4, 2, 3, 3)), r"w must be \(F, C, HH, WW\) with C=3 to match x"),
    (_bad_conv(b_shape=(3,)), r"b must be \(F,\) = \(4,\)"),
    (_bad_conv(stride=0), r"stride must be positive; got 0"),
    (_bad_conv(stride=(1, -2)), r"stride must be positive; got \(1, -2\)"),
    (_bad_conv(pad=-1), r"pad must be >= 0; got -1"),
    (_bad_conv(pad=(1, 2, 3)), r"pad must be an int or a pair of ints"),
    (_bad_conv(stride=1.5), r"stride must be an int or a pair of ints"),
    (_bad_conv(x_shape=(3, 5, 5)), r"x must have 4 dimension\(s\) \(N, C, H, W\); got shape"),
    (_bad_conv(w_shape=(4, 3, 3)), r"w must have 4 dimension\(s\) \(F, C, HH, WW\)"),
    (_bad_conv(x_shape=(0, 3, 5, 5)), r"x and w must not be empty"),
])
def test_conv2d_rejects_bad_input(forward, args, message):
    with pytest.raises(ValueError, match=message):
        forward(*args)


@pytest.mark.parametrize("forward, backward", [
    (conv.conv2d_forward, conv.conv2d_backward),
    (conv.conv2d_forward_naive, conv.conv2d_backward_naive)])
def test_conv2d_backward_rejects_wrong_upstream_shape(forward, backward):
    _, cache = forward(*_bad_conv(stride=2, pad=1))
    expected = r"dout must have the forward output's shape \(2, 4, 3, 3\)"
    with pytest.raises(ValueError, match=expected):
        backward(np.zeros((2, 4, 5, 5)), cache)


def _brute_force_receptive_field(layers, size=64):
    """Extent of the non-zero gradient of one output unit with respect to the input, by autograd.

    Each layer is a single-channel convolution with all-one weights and no padding, so the
    gradient is a positive count inside the receptive field and exactly zero outside.
    """
    x = to_torch(np.ones((1, 1, size, size)), requires_grad=True)
    h = x
    for k, s in layers:
        h = F.conv2d(h, torch.ones(1, 1, k, k, dtype=torch.float64, device=device()), stride=s)
    h[0, 0, h.shape[2] // 2, h.shape[3] // 2].backward()
    rows = np.flatnonzero(to_numpy(x.grad)[0, 0].any(axis=1))
    return rows[-1] - rows[0] + 1, len(rows)


@pytest.mark.parametrize("layers", [
    [(3, 1)], [(3, 1), (3, 1), (3, 1)], [(5, 2), (3, 1)], [(3, 2), (3, 2), (3, 2)],
    [(7, 2), (3, 2), (3, 1), (3, 1)], [(2, 2), (5, 3), (3, 1)], [(1, 1), (4, 2), (1, 3), (2, 1)],
])
def test_receptive_field_matches_autograd_footprint(layers):
    extent, _ = _brute_force_receptive_field(layers)
    assert conv.receptive_field(layers) == extent


def test_receptive_field_is_an_extent_that_may_have_holes():
    # A stride larger than the next kernel skips input rows: 10 rows spanned, only 8 used.
    layers = [(4, 2), (1, 3), (2, 1)]
    assert conv.receptive_field(layers) == 10
    assert _brute_force_receptive_field(layers) == (10, 8)


def test_receptive_field_known_values():
    assert conv.receptive_field([]) == 1
    assert conv.receptive_field([(3, 1)] * 5) == 11
    # AlexNet-style start: 11/4 conv, 3/2 pool, 5/1 conv -> 11 + 2*4 + 4*8 = 51
    assert conv.receptive_field([(11, 4), (3, 2), (5, 1)]) == 51


@pytest.mark.parametrize("layers, message", [
    ([(3, 1), (0, 1)], r"layers\[1\] kernel_size must be positive; got 0"),
    ([(3, 0)], r"layers\[0\] stride must be positive; got 0"),
    ([(3, 1, 1)], r"layers\[0\] must be a \(kernel_size, stride\) pair"),
    ([3], r"layers\[0\] must be a \(kernel_size, stride\) pair"),
    ([(3, True)], r"layers\[0\] stride must be an int; got True"),
])
def test_receptive_field_rejects_bad_input(layers, message):
    with pytest.raises(ValueError, match=message):
        conv.receptive_field(layers)


@pytest.mark.parametrize("backward", [conv.conv2d_backward, conv.conv2d_backward_naive])
def test_conv_backward_refuses_a_transposed_convolution_cache(backward):
    """Issue 12: a ConvTranspose2dCache has five fields too; it must be refused by type."""
    from dlnotes import conv_transpose
    out, cache = conv_transpose.conv_transpose2d_forward(np.ones((1, 2, 3, 3)),
                                                         np.ones((2, 2, 2, 2)), np.zeros(2))
    with pytest.raises(TypeError, match=rf"{backward.__name__} got a ConvTranspose2dCache"):
        backward(np.ones((1, 2, 3, 3)), cache)
