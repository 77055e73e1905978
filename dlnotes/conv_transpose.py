"""Transposed 2-D convolution as a forward/backward pair.

Chapter: 02-convolutional-networks/03-transposed-convolution. Layout as
``torch.nn.functional.conv_transpose2d``: ``x: (N, C_in, H, W)``, ``w: (C_in, C_out, HH, WW)``
(in- and out-channels swapped with respect to conv2d), ``b: (C_out,)``. Every input pixel
stamps a copy of its filters, scaled by its value, onto the output, the stamps ``stride``
apart; overlaps add up, then ``pad`` rows/columns are cut from each border:

    full[n, o, i s_h + u, j s_w + v] += sum_c x[n, c, i, j] w[c, o, u, v]
    out = full[:, :, p_h : p_h + H', p_w : p_w + W'] + b,
    H' = (H - 1) s_h - 2 p_h + HH + output_padding_h.

This is exactly the gradient that conv2d sends back to its input, so the forward pass reuses
``col2im`` from :mod:`dlnotes.conv` and the backward pass its ``im2col``.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .conv import col2im, conv_transpose_output_size, im2col
from .validation import as_float_array, check_cache, pair

__all__ = ["ConvTranspose2dCache", "conv_transpose2d_forward", "conv_transpose2d_backward"]


class ConvTranspose2dCache(NamedTuple):
    """What ``conv_transpose2d_backward`` needs."""
    x: np.ndarray                     # (N, C_in, H, W)
    w: np.ndarray                     # (C_in, C_out, HH, WW)
    stride: tuple[int, int]
    pad: tuple[int, int]
    output_padding: tuple[int, int]


def _check_args(x, w, b, stride, pad, output_padding):
    x = as_float_array(x, "x", ndim=4, shape_hint="(N, C_in, H, W)")
    w = as_float_array(w, "w", ndim=4, shape_hint="(C_in, C_out, HH, WW)")
    b = as_float_array(b, "b", ndim=1, shape_hint="(C_out,)")
    stride, pad = pair(stride, "stride", 1), pair(pad, "pad", 0)
    output_padding = pair(output_padding, "output_padding", 0)
    if x.size == 0 or w.size == 0:
        raise ValueError(f"x and w must not be empty; got x {x.shape}, w {w.shape}")
    C_in, C_out = w.shape[:2]
    if C_in != x.shape[1]:
        raise ValueError(f"w must be (C_in, C_out, HH, WW) with C_in={x.shape[1]} to match x "
                         f"{x.shape}; got {w.shape}")
    if b.shape != (C_out,):
        raise ValueError(f"b must be (C_out,) = ({C_out},) to match w {w.shape}; got {b.shape}")
    size = tuple(conv_transpose_output_size(n, k, p, s, op) for n, k, p, s, op in
                 zip(x.shape[2:], w.shape[2:], pad, stride, output_padding, strict=True))
    dtype = np.result_type(x, w, b)
    return (x.astype(dtype, copy=False), w.astype(dtype, copy=False), b.astype(dtype, copy=False),
            stride, pad, output_padding, size)


def conv_transpose2d_forward(x, w, b, stride=1, pad=0, output_padding=0
                             ) -> tuple[np.ndarray, ConvTranspose2dCache]:
    """Transposed convolution ("fractionally strided" or, loosely, "deconvolution").

    x: (N, C_in, H, W); w: (C_in, C_out, HH, WW); b: (C_out,); stride, pad, output_padding:
    int or (h, w), output_padding < stride -> out: (N, C_out, H', W') with
    H' = (H - 1) stride - 2 pad + HH + output_padding.
    NaN and inf propagate to the outputs they reach, as in torch.
    Reference: ``torch.nn.functional.conv_transpose2d(x, w, b, stride, pad, output_padding)``.
    """
    x, w, b, stride, pad, output_padding, (Ho, Wo) = _check_args(x, w, b, stride, pad,
                                                                 output_padding)
    N, C_in, H, W = x.shape
    _, C_out, HH, WW = w.shape
    x2 = x.transpose(1, 0, 2, 3).reshape(C_in, N * H * W)
    cols = w.reshape(C_in, -1).T @ x2                   # (C_out*HH*WW, N*H*W): one stamp per pixel
    full_shape = (N, C_out, (H - 1) * stride[0] + HH + output_padding[0],
                  (W - 1) * stride[1] + WW + output_padding[1])
    full = col2im(cols, full_shape, (HH, WW), stride, (H, W))  # (N, C_out, H_full, W_full)
    out = full[:, :, pad[0]:pad[0] + Ho, pad[1]:pad[1] + Wo]    # crop: (N, C_out, H', W')
    out = out + b[:, None, None]
    return np.ascontiguousarray(out), ConvTranspose2dCache(x, w, stride, pad, output_padding)


def conv_transpose2d_backward(dout, cache: ConvTranspose2dCache
                              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of the transposed convolution: a strided *convolution* of ``dout``.

    dout: (N, C_out, H', W') -> dx: (N, C_in, H, W), dw: (C_in, C_out, HH, WW), db: (C_out,).
    dx[n, c] = sum_o conv2d(dout_full[n, o], w[c, o]) with the stride of the forward pass,
    where dout_full puts dout back into the uncropped grid (zeros where the forward cropped).
    """
    x, w, stride, pad, output_padding = check_cache(cache, ConvTranspose2dCache,
                                                    "conv_transpose2d_backward")
    N, C_in, H, W = x.shape
    _, C_out, HH, WW = w.shape
    Ho, Wo = (conv_transpose_output_size(n, k, p, s, op) for n, k, p, s, op in
              zip((H, W), (HH, WW), pad, stride, output_padding, strict=True))
    dout = as_float_array(dout, "dout", ndim=4, shape_hint="(N, C_out, H', W')")
    if dout.shape != (N, C_out, Ho, Wo):
        raise ValueError(f"dout must have the forward output's shape {(N, C_out, Ho, Wo)}; "
                         f"got {dout.shape}")
    full = np.zeros((N, C_out, (H - 1) * stride[0] + HH + output_padding[0],
                     (W - 1) * stride[1] + WW + output_padding[1]), dtype=dout.dtype)
    full[:, :, pad[0]:pad[0] + Ho, pad[1]:pad[1] + Wo] = dout   # the adjoint of the crop
    dcols = im2col(full, (HH, WW), stride, (H, W))               # (C_out*HH*WW, N*H*W)
    x2 = x.transpose(1, 0, 2, 3).reshape(C_in, N * H * W)
    dx = (w.reshape(C_in, -1) @ dcols).reshape(C_in, N, H, W).transpose(1, 0, 2, 3)
    dw = (dcols @ x2.T).T.reshape(w.shape)                       # (C_in, C_out, HH, WW)
    db = dout.sum(axis=(0, 2, 3))
    return np.ascontiguousarray(dx), dw, db
