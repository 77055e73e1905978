"""Max and average pooling over 2-D windows, as forward/backward pairs.

Chapter: 02-convolutional-networks/02-pooling-and-backprop. Layouts and defaults follow
``torch.nn.functional.max_pool2d`` / ``avg_pool2d`` without padding: ``x: (N, C, H, W)``,
a ``kernel_size`` (int or ``(h, w)``) window moved by ``stride`` (default: the kernel size,
so windows tile the image), output ``(N, C, H', W')`` with ``H' = floor((H - k_h) / s_h) + 1``.
Rows and columns that no window reaches get no gradient.

Backward passes:
* max pooling sends each upstream gradient to the one input that won its window (the "max
  mask"). On ties the winner is the *first* maximum in row-major window order, as torch picks it;
* average pooling spreads each upstream gradient evenly, 1 / (k_h k_w) to every input of the window.
Overlapping windows (stride < kernel) add their contributions.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .conv import col2im, conv_output_size, pair
from .validation import as_float_array


class PoolCache(NamedTuple):
    """What a pooling backward needs; ``argmax`` (flat index in the window) only for max pooling."""
    x_shape: tuple[int, int, int, int]  # (N, C, H, W)
    kernel: tuple[int, int]
    stride: tuple[int, int]
    argmax: np.ndarray | None           # (N, C, H', W'), values in [0, k_h k_w)


def _windows(x, kernel_size, stride):
    """Check the arguments and return the pooling windows, (N, C, H', W', k_h * k_w)."""
    x = as_float_array(x, "x", ndim=4, shape_hint="(N, C, H, W)")
    kernel = pair(kernel_size, "kernel_size", 1)
    stride = kernel if stride is None else pair(stride, "stride", 1)
    N, C, H, W = x.shape
    if x.size == 0:
        raise ValueError(f"x must not be empty; got shape {x.shape}")
    if kernel[0] > H or kernel[1] > W:
        raise ValueError(f"kernel_size {kernel} is larger than the input's (H, W) = {(H, W)}")
    Ho = conv_output_size(H, kernel[0], 0, stride[0])
    Wo = conv_output_size(W, kernel[1], 0, stride[1])
    windows = sliding_window_view(x, kernel, axis=(2, 3))  # (N, C, H-k_h+1, W-k_w+1, k_h, k_w)
    sh, sw = stride
    windows = windows[:, :, :sh * (Ho - 1) + 1:sh, :sw * (Wo - 1) + 1:sw]  # (N, C, H', W', k_h, k_w)
    return windows.reshape(N, C, Ho, Wo, -1), x.shape, kernel, stride  # (N, C, H', W', k_h k_w)


def _scatter(dwindows: np.ndarray, cache: PoolCache) -> np.ndarray:
    """Add per-window gradients (N, C, H', W', k_h k_w) back onto the input grid (N, C, H, W)."""
    N, C, Ho, Wo, K = dwindows.shape
    cols = dwindows.transpose(1, 4, 0, 2, 3).reshape(C * K, N * Ho * Wo)  # col2im's layout
    return np.ascontiguousarray(col2im(cols, cache.x_shape, cache.kernel, cache.stride, (Ho, Wo)))


def _check_dout(dout, cache: PoolCache, name: str) -> np.ndarray:
    N, C, H, W = cache.x_shape
    Ho = conv_output_size(H, cache.kernel[0], 0, cache.stride[0])
    Wo = conv_output_size(W, cache.kernel[1], 0, cache.stride[1])
    dout = as_float_array(dout, "dout", ndim=4, shape_hint="(N, C, H', W')")
    if dout.shape != (N, C, Ho, Wo):
        raise ValueError(f"dout must have the {name} output's shape {(N, C, Ho, Wo)}; "
                         f"got {dout.shape}")
    return dout


def maxpool2d_forward(x, kernel_size, stride=None) -> tuple[np.ndarray, PoolCache]:
    """Maximum of each window: out[n, c, i, j] = max_{u, v} x[n, c, i s_h + u, j s_w + v].

    x: (N, C, H, W); kernel_size, stride: int or (h, w) (stride defaults to kernel_size)
    -> out: (N, C, H', W'). Reference: ``torch.nn.functional.max_pool2d(x, kernel_size, stride)``.
    """
    windows, x_shape, kernel, stride = _windows(x, kernel_size, stride)
    argmax = windows.argmax(axis=-1)  # np.argmax keeps the first maximum, as torch does
    out = np.take_along_axis(windows, argmax[..., None], axis=-1)[..., 0]
    return out, PoolCache(x_shape, kernel, stride, argmax)


def maxpool2d_backward(dout, cache: PoolCache) -> np.ndarray:
    """dx: each dout[n, c, i, j] goes to the position of its window's (first) maximum.

    dout: (N, C, H', W') -> dx: (N, C, H, W).
    """
    if cache.argmax is None:
        raise ValueError("maxpool2d_backward needs the cache of maxpool2d_forward; "
                         "got one from avgpool2d_forward (it has no argmax)")
    dout = _check_dout(dout, cache, "max pooling")
    K = cache.kernel[0] * cache.kernel[1]
    mask = np.arange(K) == cache.argmax[..., None]          # (N, C, H', W', K), one True each
    return _scatter(mask * dout[..., None], cache)


def avgpool2d_forward(x, kernel_size, stride=None) -> tuple[np.ndarray, PoolCache]:
    """Mean of each window: out[n, c, i, j] = mean_{u, v} x[n, c, i s_h + u, j s_w + v].

    x: (N, C, H, W); kernel_size, stride: int or (h, w) (stride defaults to kernel_size)
    -> out: (N, C, H', W'). Reference: ``torch.nn.functional.avg_pool2d(x, kernel_size, stride)``.
    """
    windows, x_shape, kernel, stride = _windows(x, kernel_size, stride)
    return windows.mean(axis=-1), PoolCache(x_shape, kernel, stride, None)


def avgpool2d_backward(dout, cache: PoolCache) -> np.ndarray:
    """dx: each dout[n, c, i, j] / (k_h k_w) goes to every input of its window.

    dout: (N, C, H', W') -> dx: (N, C, H, W).
    """
    dout = _check_dout(dout, cache, "average pooling")
    K = cache.kernel[0] * cache.kernel[1]
    share = np.broadcast_to(dout[..., None] / K, dout.shape + (K,))
    return _scatter(share, cache)
