"""2-D convolution (cross-correlation, as in torch) as forward/backward pairs, and the size rules.

Chapters: 02-convolutional-networks/01-convolution (forward, sizes), 02-pooling-and-backprop
(backward), 04-receptive-fields. Layouts follow ``torch.nn.functional.conv2d``: images
``x: (N, C, H, W)``, filters ``w: (F, C, HH, WW)``, bias ``b: (F,)``. With stride ``s`` and
zero padding ``p`` (each an int or an ``(h, w)`` pair) the output is

    out[n, f, i, j] = b[f] + sum_{c, u, v} w[f, c, u, v] * x_pad[n, c, i*s_h + u, j*s_w + v]

of shape ``(N, F, H', W')`` with ``H' = floor((H + 2 p_h - HH) / s_h) + 1`` (likewise W').

The vectorised pair is the "im2col" formulation: every receptive window becomes a column of a
``(C*HH*WW, N*H'*W')`` matrix, and the convolution one matrix product with the filters
reshaped to ``(F, C*HH*WW)``. The backward pass is two more products and "col2im", which adds
the column gradients back onto the input (a loop over the HH*WW kernel offsets, never over
pixels). The loop versions ``conv2d_forward_naive``/``conv2d_backward_naive`` spell the sums
out for reading; they give the same numbers, slowly.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .validation import as_float_array, check_cache, int_at_least, pair

__all__ = ["conv_output_size", "conv_transpose_output_size", "receptive_field", "im2col",
           "col2im", "Conv2dCache", "Conv2dNaiveCache", "conv2d_forward", "conv2d_backward",
           "conv2d_forward_naive", "conv2d_backward_naive"]


def conv_output_size(n: int, f: int, pad: int = 0, stride: int = 1) -> int:
    """Output length of a convolution along one axis: floor((n + 2 pad - f) / stride) + 1.

    n: input length; f: kernel length; pad: zeros added at *each* end; stride: step.
    Raises ValueError when the kernel does not fit in the padded input.
    """
    n, f = int_at_least(n, "n", 1), int_at_least(f, "f", 1)
    pad, stride = int_at_least(pad, "pad", 0), int_at_least(stride, "stride", 1)
    if f > n + 2 * pad:
        raise ValueError(f"kernel length f={f} is larger than the padded input "
                         f"n + 2*pad = {n + 2 * pad}: no output position fits")
    return (n + 2 * pad - f) // stride + 1


def conv_transpose_output_size(n: int, f: int, pad: int = 0, stride: int = 1,
                               output_padding: int = 0) -> int:
    """Output length of a transposed convolution: (n - 1) stride - 2 pad + f + output_padding.

    As in ``torch.nn.ConvTranspose2d``, ``output_padding`` must be smaller than ``stride``
    (it picks one of the ``stride`` input sizes that a strided convolution maps to ``n``).
    """
    n, f = int_at_least(n, "n", 1), int_at_least(f, "f", 1)
    pad, stride = int_at_least(pad, "pad", 0), int_at_least(stride, "stride", 1)
    output_padding = int_at_least(output_padding, "output_padding", 0)
    if output_padding >= stride:
        raise ValueError(f"output_padding must be smaller than stride; got "
                         f"output_padding={output_padding}, stride={stride}")
    size = (n - 1) * stride - 2 * pad + f + output_padding
    if size < 1:
        raise ValueError(f"pad={pad} is too large: the output length would be {size}")
    return size


def receptive_field(layers: Sequence[tuple[int, int]]) -> int:
    """Receptive field (in input pixels, along one axis) of one unit after a stack of layers.

    layers: (kernel_size, stride) per layer, input side first. Closed form
    r = 1 + sum_l (k_l - 1) prod_{i<l} s_i; padding does not change it. An empty stack gives 1.
    """
    r, jump = 1, 1  # jump: distance in input pixels between neighbouring units of this layer
    for index, layer in enumerate(layers):
        if not isinstance(layer, (tuple, list)) or len(layer) != 2:
            raise ValueError(f"layers[{index}] must be a (kernel_size, stride) pair; got {layer!r}")
        k = int_at_least(layer[0], f"layers[{index}] kernel_size", 1)
        s = int_at_least(layer[1], f"layers[{index}] stride", 1)
        r += (k - 1) * jump
        jump *= s
    return r


def im2col(x_pad: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int],
           out_size: tuple[int, int]) -> np.ndarray:
    """The receptive windows of a padded batch as columns.

    x_pad: (N, C, Hp, Wp) -> cols: (C*HH*WW, N*H'*W'), rows ordered (c, u, v) like
    ``w.reshape(F, -1)``'s columns, columns ordered (n, i, j).
    """
    N, C = x_pad.shape[:2]
    (HH, WW), (sh, sw), (Ho, Wo) = kernel, stride, out_size
    windows = sliding_window_view(x_pad, (HH, WW), axis=(2, 3))  # (N, C, Hp-HH+1, Wp-WW+1, HH, WW)
    windows = windows[:, :, :sh * (Ho - 1) + 1:sh, :sw * (Wo - 1) + 1:sw]  # (N, C, H', W', HH, WW)
    cols = np.ascontiguousarray(windows.transpose(1, 4, 5, 0, 2, 3))  # (C, HH, WW, N, H', W')
    return cols.reshape(C * HH * WW, N * Ho * Wo)


def col2im(cols: np.ndarray, padded_shape: tuple[int, int, int, int], kernel: tuple[int, int],
           stride: tuple[int, int], out_size: tuple[int, int]) -> np.ndarray:
    """The adjoint of :func:`im2col`: add each column entry back where it was read from.

    cols: (C*HH*WW, N*H'*W') -> (N, C, Hp, Wp). Overlapping windows add up.
    """
    N, C, Hp, Wp = padded_shape
    (HH, WW), (sh, sw), (Ho, Wo) = kernel, stride, out_size
    cols = cols.reshape(C, HH, WW, N, Ho, Wo)
    acc = np.zeros((C, N, Hp, Wp), dtype=cols.dtype)
    for u in range(HH):          # a loop over kernel offsets; each step adds a whole slab
        for v in range(WW):
            acc[:, :, u:u + sh * (Ho - 1) + 1:sh, v:v + sw * (Wo - 1) + 1:sw] += cols[:, u, v]
    return acc.transpose(1, 0, 2, 3)


class Conv2dCache(NamedTuple):
    """What ``conv2d_backward`` needs; ``cols`` is the im2col matrix."""
    x: np.ndarray                 # (N, C, H, W)
    w: np.ndarray                 # (F, C, HH, WW)
    stride: tuple[int, int]
    pad: tuple[int, int]
    cols: np.ndarray | None       # (C*HH*WW, N*H'*W')


class Conv2dNaiveCache(Conv2dCache):
    """What ``conv2d_backward_naive`` needs: the fields of :class:`Conv2dCache`, ``cols`` None.

    Its own type, as every forward's cache is: each backward accepts only its own forward's
    cache (the pairs are meant to be read and checked side by side, not mixed).
    """


def _check_conv_args(x, w, b, stride, pad):
    x = as_float_array(x, "x", ndim=4, shape_hint="(N, C, H, W)")
    w = as_float_array(w, "w", ndim=4, shape_hint="(F, C, HH, WW)")
    b = as_float_array(b, "b", ndim=1, shape_hint="(F,)")
    stride, pad = pair(stride, "stride", 1), pair(pad, "pad", 0)
    if x.size == 0 or w.size == 0:
        raise ValueError(f"x and w must not be empty; got x {x.shape}, w {w.shape}")
    N, C, H, W = x.shape
    F, C_w, HH, WW = w.shape
    if C_w != C:
        raise ValueError(f"w must be (F, C, HH, WW) with C={C} to match x {x.shape}; got {w.shape}")
    if b.shape != (F,):
        raise ValueError(f"b must be (F,) = ({F},) to match w {w.shape}; got {b.shape}")
    Hp, Wp = H + 2 * pad[0], W + 2 * pad[1]
    if HH > Hp or WW > Wp:
        raise ValueError(f"kernel ({HH}, {WW}) is larger than the padded input ({Hp}, {Wp}) "
                         f"(x {x.shape} with pad {pad}): no output position fits")
    dtype = np.result_type(x, w, b)
    return x.astype(dtype, copy=False), w.astype(dtype, copy=False), b.astype(dtype, copy=False), \
        stride, pad


def _pad(x: np.ndarray, pad: tuple[int, int]) -> np.ndarray:
    ph, pw = pad
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw))) if ph or pw else x


def conv2d_forward(x, w, b, stride=1, pad=0) -> tuple[np.ndarray, Conv2dCache]:
    """Vectorised 2-D convolution (im2col and one matrix product).

    x: (N, C, H, W); w: (F, C, HH, WW); b: (F,); stride, pad: int or (h, w)
    -> out: (N, F, H', W'), computed in the inputs' dtype (float32 stays float32).
    NaN and inf propagate to the outputs they reach, as in torch.
    Reference: ``torch.nn.functional.conv2d(x, w, b, stride, padding=pad)``.
    """
    x, w, b, stride, pad = _check_conv_args(x, w, b, stride, pad)
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho = conv_output_size(H, HH, pad[0], stride[0])
    Wo = conv_output_size(W, WW, pad[1], stride[1])
    cols = im2col(_pad(x, pad), (HH, WW), stride, (Ho, Wo))       # (C*HH*WW, N*H'*W')
    out = w.reshape(F, -1) @ cols                                  # (F, N*H'*W')
    out = out.reshape(F, N, Ho, Wo).transpose(1, 0, 2, 3) + b[:, None, None]  # (N, F, H', W')
    return np.ascontiguousarray(out), Conv2dCache(x, w, stride, pad, cols)


def conv2d_backward(dout, cache: Conv2dCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of the convolution from the cache of :func:`conv2d_forward`.

    dout: (N, F, H', W') -> dx: (N, C, H, W), dw: (F, C, HH, WW), db: (F,) with
    db[f] = sum dout[:, f];  dw = dout . cols^T;  dx = col2im(w^T . dout), cropped.
    """
    x, w, stride, pad, cols = check_cache(cache, Conv2dCache, "conv2d_backward")
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho = conv_output_size(H, HH, pad[0], stride[0])
    Wo = conv_output_size(W, WW, pad[1], stride[1])
    dout = _check_dout(dout, (N, F, Ho, Wo))
    if cols is None:
        cols = im2col(_pad(x, pad), (HH, WW), stride, (Ho, Wo))
    d2 = np.ascontiguousarray(dout.transpose(1, 0, 2, 3)).reshape(F, -1)  # (F, N*H'*W')
    db = d2.sum(axis=1)
    # (cols @ d2.T).T, not d2 @ cols.T: the same product, but the long axis N*H'*W' is then
    # BLAS's inner dimension of a tall left factor, which OpenBLAS splits well over threads.
    dw = (cols @ d2.T).T.reshape(w.shape)                            # (F, C, HH, WW)
    dcols = w.reshape(F, -1).T @ d2                                  # (C*HH*WW, N*H'*W')
    padded_shape = (N, C, H + 2 * pad[0], W + 2 * pad[1])
    dx_pad = col2im(dcols, padded_shape, (HH, WW), stride, (Ho, Wo))
    dx = dx_pad[:, :, pad[0]:pad[0] + H, pad[1]:pad[1] + W]          # (N, C, H, W)
    return np.ascontiguousarray(dx), dw, db


def _check_dout(dout, expected: tuple[int, ...]) -> np.ndarray:
    dout = as_float_array(dout, "dout", ndim=len(expected))
    if dout.shape != expected:
        raise ValueError(f"dout must have the forward output's shape {expected}; got {dout.shape}")
    return dout


def conv2d_forward_naive(x, w, b, stride=1, pad=0) -> tuple[np.ndarray, Conv2dNaiveCache]:
    """The same convolution as :func:`conv2d_forward`, one output number at a time.

    Loops over examples, filters and output positions; each output is the sum of a window
    of the padded input times the filter, plus the bias. Slow; for reading and for checks.
    """
    x, w, b, stride, pad = _check_conv_args(x, w, b, stride, pad)
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    (sh, sw) = stride
    Ho = conv_output_size(H, HH, pad[0], sh)
    Wo = conv_output_size(W, WW, pad[1], sw)
    x_pad = _pad(x, pad)
    out = np.zeros((N, F, Ho, Wo), dtype=x.dtype)
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    window = x_pad[n, :, i * sh:i * sh + HH, j * sw:j * sw + WW]  # (C, HH, WW)
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    return out, Conv2dNaiveCache(x, w, stride, pad, None)


def conv2d_backward_naive(
    dout, cache: Conv2dNaiveCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Loop version of :func:`conv2d_backward`: each output (n, f, i, j) sends its gradient back.

    Its window of the padded input receives ``w[f] * dout[n, f, i, j]`` (into dx), the filter
    receives ``window * dout[n, f, i, j]`` (into dw) and the bias ``dout[n, f, i, j]`` (into db).
    """
    x, w, (sh, sw), pad, _ = check_cache(cache, Conv2dNaiveCache, "conv2d_backward_naive")
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho = conv_output_size(H, HH, pad[0], sh)
    Wo = conv_output_size(W, WW, pad[1], sw)
    dout = _check_dout(dout, (N, F, Ho, Wo))
    x_pad = _pad(x, pad)
    dx_pad = np.zeros_like(x_pad)
    dw = np.zeros_like(w)
    db = np.zeros(F, dtype=w.dtype)
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    rows = slice(i * sh, i * sh + HH)
                    cols = slice(j * sw, j * sw + WW)
                    g = dout[n, f, i, j]
                    dx_pad[n, :, rows, cols] += w[f] * g
                    dw[f] += x_pad[n, :, rows, cols] * g
                    db[f] += g
    dx = dx_pad[:, :, pad[0]:pad[0] + H, pad[1]:pad[1] + W]
    return dx.copy(), dw, db
