"""Self-checks for the coding exercises of Part II, Convolutional networks
(chapters/02-convolutional-networks).
"""
from __future__ import annotations

import numpy as np

from .core import CheckCase, Outcome, comparable, run_check

__all__: list[str] = ["check_maxpool_backward_last", "check_transposed_by_convolution",
                     "check_nms", "check_mirror_boxes", "check_normalize_backward"]


# --- 02 pooling and backprop, exercise "Ties elsewhere" ---------------------------------------

def _maxpool_last_reference(dout, x, kernel_size, stride):
    """Route each dout[n, c, i, j] to the LAST maximum of its window in row-major order."""
    N, C, H, W = x.shape
    Ho, Wo = dout.shape[2:]
    k, s = kernel_size, stride
    dx = np.zeros_like(x)
    for i in range(Ho):
        for j in range(Wo):
            window = x[:, :, i * s:i * s + k, j * s:j * s + k].reshape(N, C, k * k)
            last = k * k - 1 - np.argmax(window[:, :, ::-1], axis=2)     # (N, C)
            u, v = np.divmod(last, k)
            for n in range(N):
                for c in range(C):
                    dx[n, c, i * s + u[n, c], j * s + v[n, c]] += dout[n, c, i, j]
    return dx


def _pool_case(shape, k, s, levels=None):
    """Arguments (dout, x, k, s) with x: shape; integer levels make ties likely."""
    def make(rng):
        N, C, H, W = shape
        if levels is None:
            x = rng.standard_normal(shape)
        else:
            x = rng.integers(0, levels, size=shape).astype(np.float64)
        Ho, Wo = (H - k) // s + 1, (W - k) // s + 1
        return rng.standard_normal((N, C, Ho, Wo)), x, k, s
    return make


_MAXPOOL_LAST_CASES = (
    CheckCase("batch 1, 2 x 2 windows, no ties", _pool_case((1, 1, 4, 4), 2, 2),
              "without ties every rule agrees: is each gradient sent to its window's maximum?"),
    CheckCase("ties, 2 x 2 windows", _pool_case((2, 3, 6, 6), 2, 2, levels=2),
              "several entries of a window equal its maximum: which one comes last when the "
              "window is read row by row?"),
    CheckCase("ties, overlapping 3 x 3 windows, stride 1", _pool_case((1, 2, 5, 5), 3, 1, 3),
              "windows overlap, so one pixel can win several of them: do the contributions "
              "add up?"),
    CheckCase("odd size, 3 x 3 windows, stride 2", _pool_case((2, 1, 7, 8), 3, 2, levels=3),
              "the last column is reached by no window: it gets no gradient; and window (i, j) "
              "starts at row i * stride"),
)


def check_maxpool_backward_last(fn) -> Outcome:
    """Check ``fn(dout, x, kernel_size, stride) -> dx``: max pooling's input gradient with
    ties routed to the LAST maximum of each window in row-major order (torch takes the first).

    dout: (N, C, H', W'); x: (N, C, H, W); kernel_size, stride: ints, square windows without
    padding, H' = (H - kernel_size) // stride + 1. Returns dx: (N, C, H, W); overlapping
    windows add their contributions.
    """
    return run_check("check_maxpool_backward_last", fn, _MAXPOOL_LAST_CASES,
                     _maxpool_last_reference, n_args=4, describe=_describe_maxpool_last)


def _describe_maxpool_last(got, expected, args):
    dout, x, k, s = args
    got = comparable(got, expected)
    if got is None:
        return None
    # torch only when a diagnosis needs it
    import torch
    xt = torch.tensor(x, requires_grad=True)
    torch.nn.functional.max_pool2d(xt, k, s).backward(torch.tensor(dout))
    if np.allclose(got, xt.grad.numpy(), rtol=1e-10, atol=1e-12):
        return "the gradient goes to the FIRST maximum of each tied window, as torch does"
    return None


# --- 03 transposed convolution, exercise "Padding larger than k - 1" ---------------------------

def _conv_transpose_reference(y, w, b, s, p, out_pad):
    # torch only when the check runs, never at import
    import torch
    out = torch.nn.functional.conv_transpose2d(torch.tensor(y), torch.tensor(w), torch.tensor(b),
                                               stride=s, padding=p, output_padding=out_pad)
    return out.numpy()


def _transpose_case(y_shape, c_out, k, s, p, out_pad):
    def make(rng):
        c_in = y_shape[1]
        return (rng.standard_normal(y_shape), rng.standard_normal((c_in, c_out, k, k)),
                rng.standard_normal(c_out), s, p, out_pad)
    return make


_NEGATIVE_PAD = ("k - 1 - p is negative here, and np.pad cannot pad by a negative amount: "
                 "what can you do to the result of the convolution instead?")
_TRANSPOSED_CASES = (
    CheckCase("stride 1, no padding", _transpose_case((1, 2, 3, 3), 3, 3, 1, 0, 0),
              "w has torch's (C_in, C_out, k, k) layout: the convolution needs the kernel "
              "turned by 180 degrees and its two channel axes swapped"),
    CheckCase("stride 2, padding 1, output padding 1", _transpose_case((2, 3, 4, 5), 2, 3, 2, 1, 1),
              "output padding adds zeros on one side only, the bottom and the right"),
    CheckCase("padding k - 1", _transpose_case((1, 2, 4, 4), 2, 3, 2, 2, 0),
              "with p = k - 1 the spread input needs no zeros around it"),
    CheckCase("padding 3 > k - 1, stride 2", _transpose_case((2, 2, 4, 5), 3, 3, 2, 3, 0),
              _NEGATIVE_PAD),
    CheckCase("padding 4, stride 3, output padding 2",
              _transpose_case((1, 3, 5, 4), 2, 3, 3, 4, 2),
              _NEGATIVE_PAD + " Output padding still acts on the bottom and the right only."),
)


def check_transposed_by_convolution(fn) -> Outcome:
    """Check ``fn(y, w, b, s, p, out_pad) -> out``: a transposed convolution computed as an
    ordinary stride-1 convolution (spread by s - 1 zeros, padded or cropped, kernel turned),
    for any padding p, including p > k - 1.

    y: (N, C_in, H, W); w: (C_in, C_out, k, k) (torch's transposed layout); b: (C_out,);
    s, p, out_pad: ints with out_pad < s. Returns out: (N, C_out, H', W') with
    H' = (H - 1) s - 2 p + k + out_pad, as ``torch.nn.functional.conv_transpose2d``.
    """
    return run_check("check_transposed_by_convolution", fn, _TRANSPOSED_CASES,
                     _conv_transpose_reference, n_args=6)


# --- 06 object detection, exercise "A faster NMS" --------------------------------------------

def _nms_reference(boxes, scores, iou_threshold):
    from ..detection import nms
    return nms(boxes, scores, iou_threshold)


def _random_boxes(rng, n, low=0.0, high=60.0, min_size=2.0, max_size=30.0):
    corner = rng.uniform(low, high, size=(n, 2))
    return np.hstack([corner, corner + rng.uniform(min_size, max_size, size=(n, 2))])


def _nms_case(n, threshold, integer_scores=False):
    def make(rng):
        boxes = _random_boxes(rng, n)
        if integer_scores:
            scores = rng.integers(0, 3, size=n).astype(np.float64)
        else:
            scores = rng.uniform(0, 1, size=n)
        return boxes, scores, threshold
    return make


def _chain_case(rng):
    # A overlaps B, B overlaps C, A does not overlap C; scores A > B > C
    boxes = np.array([[0.0, 0.0, 10.0, 10.0], [6.0, 0.0, 16.0, 10.0], [12.0, 0.0, 22.0, 10.0]])
    return boxes, np.array([0.9, 0.8, 0.7]), 0.2


def _exact_half_case(rng):
    # the IoU of the two boxes is exactly 0.5, the threshold
    boxes = np.array([[0.0, 0.0, 2.0, 1.0], [0.0, 0.0, 1.0, 1.0], [5.0, 5.0, 6.0, 6.0]])
    return boxes, np.array([0.9, 0.8, 0.7]), 0.5


_NMS_CASES = (
    CheckCase("one box", lambda rng: (_random_boxes(rng, 1), rng.uniform(0, 1, 1), 0.5),
              "a single box is always kept; return an integer array of indices"),
    CheckCase("a chain of three boxes", _chain_case,
              "a box that was suppressed itself suppresses nothing: compare only with the "
              "boxes you keep"),
    CheckCase("IoU exactly at the threshold", _exact_half_case,
              "a box is removed only when its IoU is strictly greater than the threshold"),
    CheckCase("equal scores", _nms_case(40, 0.5, integer_scores=True),
              "equal scores: the box with the lower index goes first (a stable sort)"),
    CheckCase("60 boxes, threshold 0.3", _nms_case(60, 0.3),
              "return the kept indices in decreasing order of score, best first"),
    CheckCase("500 boxes, threshold 0.7", _nms_case(500, 0.7)),
    CheckCase("threshold 0", _nms_case(50, 0.0),
              "with threshold 0 every overlap counts, but boxes that only touch have IoU 0"),
)


def check_nms(fn) -> Outcome:
    """Check ``fn(boxes, scores, iou_threshold) -> keep``: greedy non-max suppression.

    boxes: (N, 4) corners (x1, y1, x2, y2); scores: (N,); iou_threshold in [0, 1]. Returns the
    kept indices (K,), best score first (equal scores: lower index first); a box is removed
    when its IoU with a kept box is greater than the threshold, as ``dlnotes.detection.nms``
    and ``torchvision.ops.nms``.
    """
    return run_check("check_nms", fn, _NMS_CASES, _nms_reference, n_args=3,
                     describe=_describe_nms)


def _describe_nms(got, expected, args):
    try:
        got = np.asarray(got)
    except (TypeError, ValueError):
        return None
    if got.ndim != 1 or not np.issubdtype(got.dtype, np.number):
        return None
    if np.issubdtype(got.dtype, np.floating) and not np.all(got == np.round(got)):
        return "the result should hold indices of boxes (whole numbers)"
    got_set, expected_set = set(got.astype(int).tolist()), set(np.asarray(expected).tolist())
    if got_set == expected_set:
        return "the right boxes, in the wrong order (best score first)"
    extra, missing = len(got_set - expected_set), len(expected_set - got_set)
    return (f"you kept {extra} box(es) that should be suppressed and dropped {missing} that "
            f"should be kept")


# --- 06 object detection, exercise "Mirroring boxes" -----------------------------------------

def _mirror_reference(boxes, width):
    """An independent computation: pixel columns [x1, x2) go to [W - x2, W - x1)."""
    out = boxes.copy()
    out[:, 0], out[:, 2] = width - boxes[:, 2], width - boxes[:, 0]
    return out


def _mirror_case(n, width):
    def make(rng):
        x1 = rng.uniform(0, width / 2, size=n)
        y1 = rng.uniform(0, 40, size=n)
        w, h = rng.uniform(1, width / 2, size=n), rng.uniform(1, 20, size=n)
        return np.stack([x1, y1, x1 + w, y1 + h], axis=1), width
    return make


_MIRROR_CASES = (
    CheckCase("one box", _mirror_case(1, 96.0),
              "sketch a box and its mirror image: which edge of the old box becomes the new left "
              "edge?"),
    CheckCase("five boxes, width 120", _mirror_case(5, 120.0),
              "the y coordinates do not change; the x coordinates are measured from the other "
              "side of the image, of width W"),
    CheckCase("box touching the border", lambda rng: (np.array([[0.0, 3.0, 10.0, 9.0],
                                                                [50.0, 0.0, 64.0, 4.0]]), 64.0),
              "a box at the left border must end up at the right border, inside the image: "
              "pixel columns [x1, x2) are the ones that move"),
)


def check_mirror_boxes(fn) -> Outcome:
    """Check ``fn(boxes, W) -> mirrored``: the boxes of an image of width W mirrored left to
    right.

    boxes: (N, 4) corners (x1, y1, x2, y2) in pixel units (a box covers the pixel columns
    x1 <= c < x2); W: the image width. Returns (N, 4) corners with x1 <= x2 again, the boxes
    of ``dlnotes.augment.mirror(image)``.
    """
    return run_check("check_mirror_boxes", fn, _MIRROR_CASES, _mirror_reference, n_args=2,
                     describe=_describe_mirror)


def _describe_mirror(got, expected, args):
    got = comparable(got, expected)
    if got is None:
        return None
    if np.allclose(got[:, [2, 1, 0, 3]], expected):
        return "x1 and x2 are swapped: the mirrored box has x1 > x2"
    if np.allclose(got[:, [0, 2]] - expected[:, [0, 2]], -1.0):
        return "off by one pixel to the left: is the image width W or W - 1 here?"
    return None


# --- 07 faces and style, exercise "Normalised embeddings" ------------------------------------

def _normalize_backward_reference(dout, v):
    # torch only when the check runs, never at import
    import torch
    vt = torch.tensor(v, requires_grad=True)
    (vt / vt.norm(dim=1, keepdim=True)).backward(torch.tensor(dout))
    return vt.grad.numpy()


def _normalize_case(shape, scale=1.0):
    def make(rng):
        return rng.standard_normal(shape), scale * rng.standard_normal(shape)
    return make


_NORMALIZE_CASES = (
    CheckCase("batch 1, D = 2", _normalize_case((1, 2)),
              "moving v along itself does not change v / |v|: that direction must get no "
              "gradient"),
    CheckCase("8 rows, D = 5", _normalize_case((8, 5)),
              "every row is normalised by its own norm: take norms and inner products row by "
              "row (axis=1)"),
    CheckCase("D = 1", _normalize_case((4, 1)),
              "in one dimension v / |v| is the constant sign of v"),
    CheckCase("large embeddings, |v| near 1e3", _normalize_case((6, 3), scale=1e3),
              "the gradient shrinks as |v| grows: where does 1 / |v| enter?"),
)


def check_normalize_backward(fn) -> Outcome:
    """Check ``fn(dout, v) -> dv``: the backward pass of row-wise normalisation y = v / |v|.

    dout: (N, D), the gradient with respect to y; v: (N, D), the unnormalised embeddings (no
    zero rows). Returns dv: (N, D), as torch autograd of ``v / v.norm(dim=1, keepdim=True)``.
    """
    return run_check("check_normalize_backward", fn, _NORMALIZE_CASES,
                     _normalize_backward_reference, n_args=2, describe=_describe_normalize)


def _describe_normalize(got, expected, args):
    dout, v = args
    got = comparable(got, expected)
    if got is None:
        return None
    norm = np.linalg.norm(v, axis=1, keepdims=True)
    if np.allclose(got, dout / norm, rtol=1e-8, atol=1e-12):
        return "that is dout / |v|: the part of dout along y must be removed first"
    if np.allclose(got, expected * norm, rtol=1e-8, atol=1e-12):
        return "the direction is right but the size is off by |v|: did you divide by the norm?"
    return None
