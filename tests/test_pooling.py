"""dlnotes.pooling: max and average pooling against torch in float64, ties included."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlnotes import pooling
from dlnotes.verify import check_pair

# (x shape, kernel_size, stride): tiling windows, overlapping windows (stride < kernel),
# gaps (stride > kernel), leftover rows/columns, non-square kernels, batch 1.
CASES = [
    ((2, 3, 8, 8), 2, None),
    ((1, 1, 7, 7), 3, 2),
    ((2, 2, 9, 6), (3, 2), (2, 1)),
    ((1, 3, 5, 11), 2, 3),
    ((3, 1, 6, 6), (1, 4), None),
    ((1, 2, 4, 4), 4, 1),
]


@pytest.mark.parametrize("shape, k, s", CASES)
def test_maxpool_matches_torch(shape, k, s, rng):
    x = rng.standard_normal(shape)
    check_pair("max_pool2d", lambda x: pooling.maxpool2d_forward(x, k, s),
               pooling.maxpool2d_backward, lambda x: F.max_pool2d(x, k, s), (x,), rng=rng)


@pytest.mark.parametrize("shape, k, s", CASES)
def test_avgpool_matches_torch(shape, k, s, rng):
    x = rng.standard_normal(shape)
    check_pair("avg_pool2d", lambda x: pooling.avgpool2d_forward(x, k, s),
               pooling.avgpool2d_backward, lambda x: F.avg_pool2d(x, k, s), (x,), rng=rng)


@pytest.mark.parametrize("shape, k, s", CASES)
def test_maxpool_ties_route_like_torch(shape, k, s, rng):
    # Values from {0, 1, 2}: most windows hold several equal maxima.
    x = rng.integers(0, 3, size=shape).astype(np.float64)
    check_pair("max_pool2d with ties", lambda x: pooling.maxpool2d_forward(x, k, s),
               pooling.maxpool2d_backward, lambda x: F.max_pool2d(x, k, s), (x,), rng=rng)


def test_maxpool_tie_goes_to_first_in_row_major_order():
    x = np.array([[[[1.0, 5.0], [5.0, 5.0]]]])
    out, cache = pooling.maxpool2d_forward(x, 2)
    dx = pooling.maxpool2d_backward(np.array([[[[3.0]]]]), cache)
    np.testing.assert_array_equal(out, [[[[5.0]]]])
    np.testing.assert_array_equal(dx, [[[[0.0, 3.0], [0.0, 0.0]]]])


def test_avgpool_spreads_evenly():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    out, cache = pooling.avgpool2d_forward(x, 2)
    np.testing.assert_array_equal(out, [[[[2.5, 4.5], [10.5, 12.5]]]])
    dx = pooling.avgpool2d_backward(np.array([[[[4.0, 8.0], [0.0, -4.0]]]]), cache)
    np.testing.assert_array_equal(dx[0, 0], [[1, 1, 2, 2], [1, 1, 2, 2], [0, 0, -1, -1],
                                             [0, 0, -1, -1]])


def test_float32_stays_float32(rng):
    x = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
    for fwd, bwd in ((pooling.maxpool2d_forward, pooling.maxpool2d_backward),
                     (pooling.avgpool2d_forward, pooling.avgpool2d_backward)):
        out, cache = fwd(x, 2)
        assert out.dtype == np.float32
        assert bwd(np.ones_like(out), cache).dtype == np.float32


@pytest.mark.parametrize("forward", [pooling.maxpool2d_forward, pooling.avgpool2d_forward])
@pytest.mark.parametrize("args, message", [
    ((np.zeros((1, 1, 3, 3)), 4),
     r"kernel_size \(4, 4\) is larger than the \(H, W\) = \(3, 3\) of x"),
    ((np.zeros((1, 1, 4, 4)), 0), r"kernel_size must be positive; got 0"),
    ((np.zeros((1, 1, 4, 4)), 2, 0), r"stride must be positive; got 0"),
    ((np.zeros((1, 4, 4)), 2), r"x must have 4 dimension\(s\) \(N, C, H, W\)"),
    ((np.zeros((1, 1, 4, 4)), (2, 2, 2)), r"kernel_size must be an int or a pair of ints"),
])
def test_pooling_rejects_bad_input(forward, args, message):
    with pytest.raises(ValueError, match=message):
        forward(*args)


def test_pooling_backward_rejects_bad_upstream_and_wrong_cache():
    _, max_cache = pooling.maxpool2d_forward(np.zeros((1, 2, 6, 6)), 2)
    _, avg_cache = pooling.avgpool2d_forward(np.zeros((1, 2, 6, 6)), 2)
    expected = r"dout must have the max pooling output's shape \(1, 2, 3, 3\)"
    with pytest.raises(ValueError, match=expected):
        pooling.maxpool2d_backward(np.zeros((1, 2, 6, 6)), max_cache)
    with pytest.raises(ValueError, match=r"dout must have the average pooling output's shape"):
        pooling.avgpool2d_backward(np.zeros((1, 2, 2, 2)), avg_cache)
    with pytest.raises(TypeError, match=r"maxpool2d_backward got an AvgPool2dCache"):
        pooling.maxpool2d_backward(np.zeros((1, 2, 3, 3)), avg_cache)


def test_avgpool2d_backward_refuses_a_max_pool_cache():
    """Silent-wrong case (issue 12): the max-pool cache gave the average gradient."""
    _, max_cache = pooling.maxpool2d_forward(np.arange(16.0).reshape(1, 1, 4, 4), 2)
    with pytest.raises(TypeError, match=r"avgpool2d_backward got a MaxPool2dCache"):
        pooling.avgpool2d_backward(np.ones((1, 1, 2, 2)), max_cache)


@pytest.mark.parametrize("position", [0, 1, 3])
def test_maxpool2d_propagates_nan_as_torch(position):
    """A NaN anywhere in a window wins it (torch's rule), not only in the first position."""
    x = np.array([[[[1.0, 5.0], [3.0, 2.0]]]])
    x.flat[position] = np.nan
    out, cache = pooling.maxpool2d_forward(x, 2)
    xt = torch.tensor(x, requires_grad=True)
    ref = F.max_pool2d(xt, 2)
    ref.backward(torch.ones_like(ref))
    assert np.isnan(out).all() and torch.isnan(ref).all()
    np.testing.assert_array_equal(pooling.maxpool2d_backward(np.ones((1, 1, 1, 1)), cache),
                                  xt.grad.numpy())
