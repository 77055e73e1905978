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

from .conv import conv_output_size
from .validation import as_float_array, check_cache, pair

__all__ = ["MaxPool2dCache", "AvgPool2dCache", "maxpool2d_forward", "maxpool2d_backward",
           "avgpool2d_forward", "avgpool2d_backward"]


class MaxPool2dCache(NamedTuple):
    """What ``maxpool2d_backward`` needs: the winner of each window."""
    x_shape: tuple[int, int, int, int]  # (N, C, H, W)
    kernel: tuple[int, int]
    stride: tuple[int, int]
    argmax: np.ndarray                  # (N, C, H', W'), flat index in the window, [0, k_h k_w)


class AvgPool2dCache(NamedTuple):
    """What ``avgpool2d_backward`` needs (shapes only: the average spreads evenly)."""
    x_shape: tuple[int, int, int, int]  # (N, C, H, W)
    kernel: tuple[int, int]
    stride: tuple[int, int]


def _offsets(kernel: tuple[int, int], stride: tuple[int, int], out_hw: tuple[int, int]):
    """For each window offset (u, v) in row-major order, the slices of the input it reads.

    Offset (u, v) of every window, taken together, is a strided sub-grid of the input of shape
    (H', W'): rows u, u + s_h, ..., columns v, v + s_w, .... Pooling reduces across these
    k_h k_w sub-grids elementwise, which NumPy does far faster than a reduction over a short
    trailing window axis, and no two windows meet inside one sub-grid.
    """
    (kh, kw), (sh, sw), (Ho, Wo) = kernel, stride, out_hw
    return [(slice(u, u + sh * (Ho - 1) + 1, sh), slice(v, v + sw * (Wo - 1) + 1, sw))
            for u in range(kh) for v in range(kw)]


def _check_input(x, kernel_size, stride):
    """Check the arguments; return x, kernel, stride and the output size (H', W')."""
    x = as_float_array(x, "x", ndim=4, shape_hint="(N, C, H, W)")
    kernel = pair(kernel_size, "kernel_size", 1)
    stride = kernel if stride is None else pair(stride, "stride", 1)
    N, C, H, W = x.shape
    if x.size == 0:
        raise ValueError(f"x must not be empty; got shape {x.shape}")
    if kernel[0] > H or kernel[1] > W:
        raise ValueError(f"kernel_size {kernel} is larger than the (H, W) = {(H, W)} of x "
                         f"{x.shape}")
    Ho = conv_output_size(H, kernel[0], 0, stride[0])
    Wo = conv_output_size(W, kernel[1], 0, stride[1])
    return x, kernel, stride, (Ho, Wo)


def _out_hw(cache) -> tuple[int, int]:
    N, C, H, W = cache.x_shape
    return (conv_output_size(H, cache.kernel[0], 0, cache.stride[0]),
            conv_output_size(W, cache.kernel[1], 0, cache.stride[1]))


def _check_dout(dout, cache, name: str) -> np.ndarray:
    N, C, H, W = cache.x_shape
    Ho, Wo = _out_hw(cache)
    dout = as_float_array(dout, "dout", ndim=4, shape_hint="(N, C, H', W')")
    if dout.shape != (N, C, Ho, Wo):
        raise ValueError(f"dout must have the {name} output's shape {(N, C, Ho, Wo)}; "
                         f"got {dout.shape}")
    return dout


def maxpool2d_forward(x, kernel_size, stride=None) -> tuple[np.ndarray, MaxPool2dCache]:
    """Maximum of each window: out[n, c, i, j] = max_{u, v} x[n, c, i s_h + u, j s_w + v].

    x: (N, C, H, W); kernel_size, stride: int or (h, w) (stride defaults to kernel_size)
    -> out: (N, C, H', W'). Reference: ``torch.nn.functional.max_pool2d(x, kernel_size, stride)``.
    NaN as in torch: a window holding a NaN outputs NaN, and its gradient goes to that NaN.
    """
    x, kernel, stride, out_hw = _check_input(x, kernel_size, stride)
    offsets = _offsets(kernel, stride, out_hw)
    out = x[:, :, offsets[0][0], offsets[0][1]].copy()          # (N, C, H', W')
    argmax = np.zeros(out.shape, dtype=np.intp)
    for k, (rows, cols) in enumerate(offsets[1:], start=1):
        candidate = x[:, :, rows, cols]
        # strict: on ties the first maximum stays; a NaN always wins (the last one), as in torch
        better = (candidate > out) | np.isnan(candidate)
        np.copyto(out, candidate, where=better)
        np.copyto(argmax, k, where=better)
    return out, MaxPool2dCache(x.shape, kernel, stride, argmax)


def maxpool2d_backward(dout, cache: MaxPool2dCache) -> np.ndarray:
    """dx: each dout[n, c, i, j] goes to the position of its window's (first) maximum.

    dout: (N, C, H', W') -> dx: (N, C, H, W). Overlapping windows add their contributions.
    cache: the MaxPool2dCache of ``maxpool2d_forward`` (any other cache: ``TypeError``).
    """
    check_cache(cache, MaxPool2dCache, "maxpool2d_backward")
    dout = _check_dout(dout, cache, "max pooling")
    dx = np.zeros(cache.x_shape, dtype=dout.dtype)
    routed = np.empty_like(dout)
    for k, (rows, cols) in enumerate(_offsets(cache.kernel, cache.stride, _out_hw(cache))):
        # a select, not dout * mask: a NaN or inf upstream reaches the winner only (as torch)
        np.copyto(routed, np.where(cache.argmax == k, dout, 0))
        dx[:, :, rows, cols] += routed
    return dx


def avgpool2d_forward(x, kernel_size, stride=None) -> tuple[np.ndarray, AvgPool2dCache]:
    """Mean of each window: out[n, c, i, j] = mean_{u, v} x[n, c, i s_h + u, j s_w + v].

    x: (N, C, H, W); kernel_size, stride: int or (h, w) (stride defaults to kernel_size)
    -> out: (N, C, H', W'). Reference: ``torch.nn.functional.avg_pool2d(x, kernel_size, stride)``.
    """
    x, kernel, stride, out_hw = _check_input(x, kernel_size, stride)
    offsets = _offsets(kernel, stride, out_hw)
    total = x[:, :, offsets[0][0], offsets[0][1]].copy()        # (N, C, H', W')
    for rows, cols in offsets[1:]:
        total += x[:, :, rows, cols]
    return total / len(offsets), AvgPool2dCache(x.shape, kernel, stride)


def avgpool2d_backward(dout, cache: AvgPool2dCache) -> np.ndarray:
    """dx: each dout[n, c, i, j] / (k_h k_w) goes to every input of its window.

    dout: (N, C, H', W') -> dx: (N, C, H, W).
    cache: the AvgPool2dCache of ``avgpool2d_forward`` (any other cache: ``TypeError``).
    """
    check_cache(cache, AvgPool2dCache, "avgpool2d_backward")
    dout = _check_dout(dout, cache, "average pooling")
    offsets = _offsets(cache.kernel, cache.stride, _out_hw(cache))
    share = dout / len(offsets)
    dx = np.zeros(cache.x_shape, dtype=dout.dtype)
    for rows, cols in offsets:
        dx[:, :, rows, cols] += share
    return dx
