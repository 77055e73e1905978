"""dlnotes.conv_transpose: transposed convolution against torch in float64, and its adjointness."""
import numpy as np
import pytest
import torch.nn.functional as F

from dlnotes import conv, conv_transpose
from dlnotes.verify import check_pair

# (N, C_in, H, W, C_out, HH, WW, stride, pad, output_padding)
CASES = [
    (2, 3, 4, 4, 2, 3, 3, 1, 0, 0),
    (1, 1, 3, 3, 1, 2, 2, 2, 0, 0),
    (2, 2, 5, 4, 3, 3, 3, 2, 1, 1),
    (1, 3, 4, 6, 2, 4, 3, 3, 2, 2),
    (3, 2, 3, 5, 4, 3, 2, (2, 3), (1, 0), (1, 2)),
    (1, 2, 1, 1, 2, 5, 5, 1, 2, 0),
    (2, 1, 6, 5, 1, 1, 1, 2, 0, 1),
]


def _inputs(case, rng):
    N, C_in, H, W, C_out, HH, WW = case[:7]
    return (rng.standard_normal((N, C_in, H, W)), rng.standard_normal((C_in, C_out, HH, WW)),
            rng.standard_normal(C_out))


@pytest.mark.parametrize("case", CASES)
def test_conv_transpose2d_matches_torch(case, rng):
    s, p, op = case[7:]
    check_pair("conv_transpose2d",
               lambda x, w, b: conv_transpose.conv_transpose2d_forward(x, w, b, s, p, op),
               conv_transpose.conv_transpose2d_backward,
               lambda x, w, b: F.conv_transpose2d(x, w, b, s, p, op), _inputs(case, rng), rng=rng)


@pytest.mark.parametrize("case", [c for c in CASES if c[9] == 0])
def test_conv_transpose_is_the_adjoint_of_conv(case, rng):
    # <conv(x), y> = <x, conv_T(y)> for the same weights (no bias), and conv_T(y) is conv's dx.
    N, C_in, H, W, C_out, HH, WW, s, p, _ = case
    y, w, _ = _inputs(case, rng)                      # y lives in conv's output space
    # The same w read by conv2d as (F, C, HH, WW) maps C_out channels to C_in channels.
    t, _ = conv_transpose.conv_transpose2d_forward(y, w, np.zeros(C_out), s, p)
    x = rng.standard_normal(t.shape)                  # conv's input space
    cx, cache = conv.conv2d_forward(x, w, np.zeros(C_in), s, p)
    assert cx.shape == y.shape
    np.testing.assert_allclose(np.sum(cx * y), np.sum(x * t), rtol=1e-12)
    dx, _, _ = conv.conv2d_backward(y, cache)
    np.testing.assert_allclose(dx, t, rtol=1e-12, atol=1e-12)


def test_float32_stays_float32(rng):
    x, w, b = (a.astype(np.float32) for a in _inputs(CASES[2], rng))
    out, cache = conv_transpose.conv_transpose2d_forward(x, w, b, 2, 1, 1)
    assert out.dtype == np.float32
    assert all(g.dtype == np.float32 for g in
               conv_transpose.conv_transpose2d_backward(np.ones_like(out), cache))


def _args(x_shape=(2, 3, 4, 4), w_shape=(3, 2, 3, 3), b_shape=(2,), stride=1, pad=0, op=0):
    return (np.zeros(x_shape), np.zeros(w_shape), np.zeros(b_shape), stride, pad, op)


@pytest.mark.parametrize("args, message", [
    (_args(w_shape=(2, 3, 3, 3)), r"w must be \(C_in, C_out, HH, WW\) with C_in=3 to match x"),
    (_args(b_shape=(3,)), r"b must be \(C_out,\) = \(2,\)"),
    (_args(stride=0), r"stride must be positive; got 0"),
    (_args(pad=-1), r"pad must be >= 0; got -1"),
    (_args(stride=2, op=2), r"output_padding must be smaller than stride"),
    (_args(x_shape=(1, 1, 1, 1), w_shape=(1, 1, 1, 1), b_shape=(1,), pad=1), r"pad=1 is too large"),
    (_args(x_shape=(3, 4, 4)), r"x must have 4 dimension\(s\) \(N, C_in, H, W\)"),
])
def test_conv_transpose2d_rejects_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        conv_transpose.conv_transpose2d_forward(*args)


def test_conv_transpose2d_backward_rejects_wrong_upstream_shape():
    out, cache = conv_transpose.conv_transpose2d_forward(*_args(stride=2, pad=1, op=1))
    assert out.shape == (2, 2, 8, 8)
    expected = r"dout must have the forward output's shape \(2, 2, 8, 8\)"
    with pytest.raises(ValueError, match=expected):
        conv_transpose.conv_transpose2d_backward(np.zeros((2, 2, 7, 7)), cache)


def test_conv_transpose_backward_refuses_a_convolution_cache():
    """Issue 12: a Conv2dCache (same field count) used to be read as a transposed one."""
    out, cache = conv.conv2d_forward(np.ones((1, 2, 4, 4)), np.ones((2, 2, 2, 2)), np.zeros(2))
    with pytest.raises(TypeError, match=r"conv_transpose2d_backward got a Conv2dCache"):
        conv_transpose.conv_transpose2d_backward(np.ones((1, 2, 5, 5)), cache)
