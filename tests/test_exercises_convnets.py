"""Self-checks of Part II (dlnotes.exercises.convnets): references pass, typical mistakes fail."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlnotes.conv import conv2d_forward
from dlnotes.detection import iou, nms
from dlnotes.exercises import convnets
from dlnotes.exercises.convnets import (
    check_maxpool_backward_last,
    check_mirror_boxes,
    check_nms,
    check_normalize_backward,
    check_transposed_by_convolution,
)
from dlnotes.pooling import maxpool2d_backward, maxpool2d_forward


def test_every_check_is_exported():
    assert sorted(convnets.__all__) == sorted(
        ["check_maxpool_backward_last", "check_transposed_by_convolution", "check_nms",
         "check_mirror_boxes", "check_normalize_backward"])
    import dlnotes.exercises as exercises
    for name in convnets.__all__:
        assert getattr(exercises, name) is getattr(convnets, name)


# --- max pooling backward, ties to the last maximum -------------------------------------------

def _last_by_torch(dout, x, k, s):
    # torch routes ties to the first maximum; on the image turned by 180 degrees (cropped to the
    # rows and columns that windows reach, so that the windows line up) that is the last one
    Ho, Wo = dout.shape[2:]
    used_h, used_w = (Ho - 1) * s + k, (Wo - 1) * s + k
    xt = torch.tensor(x[:, :, :used_h, :used_w][:, :, ::-1, ::-1].copy(), requires_grad=True)
    F.max_pool2d(xt, k, s).backward(torch.tensor(dout[:, :, ::-1, ::-1].copy()))
    dx = np.zeros_like(x)
    dx[:, :, :used_h, :used_w] = xt.grad.numpy()[:, :, ::-1, ::-1]
    return dx


def _route_last(dout, x, k, s, step=None, accumulate=True):
    """Loops; ``step`` is where window i starts (i * step), ``accumulate=False`` overwrites."""
    step = s if step is None else step
    dx = np.zeros_like(x)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            for n in range(x.shape[0]):
                for c in range(x.shape[1]):
                    win = x[n, c, i * step:i * step + k, j * step:j * step + k].ravel()
                    u, v = divmod(win.size - 1 - int(np.argmax(win[::-1])), k)
                    if accumulate:
                        dx[n, c, i * step + u, j * step + v] += dout[n, c, i, j]
                    else:
                        dx[n, c, i * step + u, j * step + v] = dout[n, c, i, j]
    return dx


def _first_max(dout, x, k, s):
    _, cache = maxpool2d_forward(x, k, s)
    return maxpool2d_backward(dout, cache)


def test_maxpool_last_reference_passes():
    assert check_maxpool_backward_last(_last_by_torch)
    assert check_maxpool_backward_last(_route_last)


@pytest.mark.parametrize("wrong, case, words", [
    (_first_max, "ties, 2 x 2 windows", "FIRST maximum"),
    (lambda d, x, k, s: _route_last(d, x, k, s, accumulate=False),
     "ties, overlapping 3 x 3 windows, stride 1", "add up"),
    (lambda d, x, k, s: _route_last(d, x, k, s, step=k) if k == s else _route_last(d, x, k, 1),
     "odd size, 3 x 3 windows, stride 2", "starts at row i * stride"),
    (lambda dout, x, k, s: np.zeros_like(x), "batch 1, 2 x 2 windows, no ties", "all zeros"),
])
def test_maxpool_last_mistakes(wrong, case, words):
    outcome = check_maxpool_backward_last(wrong)
    assert not outcome and outcome.failed_case == case
    assert words in outcome.hint, outcome.hint


# --- transposed convolution as a convolution, any padding ------------------------------------

def _spread(y, s):
    N, C, H, W = y.shape
    out = np.zeros((N, C, (H - 1) * s + 1, (W - 1) * s + 1))
    out[:, :, ::s, ::s] = y
    return out


def _transposed(y, w, b, s, p, out_pad=0, turn=True, swap=True, crop=True, both_sides=False):
    k = w.shape[-1]
    before, after = k - 1 - p, k - 1 - p + (out_pad if not both_sides else 0)
    if both_sides:
        before += out_pad
        after += out_pad
    if not crop:
        before, after = max(before, 0), max(after, 0)
    pad = (max(before, 0), max(after, 0))
    w_conv = w[:, :, ::-1, ::-1] if turn else w
    w_conv = w_conv.transpose(1, 0, 2, 3) if swap else w_conv
    out, _ = conv2d_forward(np.pad(_spread(y, s), ((0, 0), (0, 0), pad, pad)), w_conv, b)
    top, end = max(-before, 0), max(-after, 0)
    H, W = out.shape[2:]
    return out[:, :, top:H - end, top:W - end]


def test_transposed_reference_passes():
    assert check_transposed_by_convolution(_transposed)

    def torch_version(y, w, b, s, p, r):
        return F.conv_transpose2d(torch.tensor(y), torch.tensor(w), torch.tensor(b),
                                  s, p, r).numpy()

    assert check_transposed_by_convolution(torch_version)


@pytest.mark.parametrize("wrong, case, words", [
    (lambda *a: _transposed(*a, turn=False), "stride 1, no padding", "turned by 180"),
    (lambda *a: _transposed(*a, swap=False), "stride 1, no padding", "channel axes"),
    (lambda *a: _transposed(*a, both_sides=True), "stride 2, padding 1, output padding 1",
     "one side only"),
    (lambda *a: _transposed(*a, crop=False), "padding 3 > k - 1, stride 2", "negative"),
])
def test_transposed_mistakes(wrong, case, words):
    outcome = check_transposed_by_convolution(wrong)
    assert not outcome and outcome.failed_case == case
    assert words in outcome.hint, outcome.hint


# --- non-max suppression ----------------------------------------------------------------------

def _nms_rounds(boxes, scores, t, strict=True, stable=True):
    alive = np.argsort(-scores, kind="stable") if stable else np.argsort(scores)[::-1]
    keep = []
    while alive.size:
        best, alive = alive[0], alive[1:]
        keep.append(best)
        overlaps = iou(boxes[best:best + 1], boxes[alive])[0]
        alive = alive[overlaps <= t] if strict else alive[overlaps < t]
    return np.array(keep, dtype=np.int64)


def _against_all(boxes, scores, t):
    order = np.argsort(-scores, kind="stable")
    overlaps = iou(boxes, boxes)
    return np.array([i for n, i in enumerate(order) if np.all(overlaps[i, order[:n]] <= t)],
                    dtype=np.int64)


def test_nms_reference_passes():
    assert check_nms(nms)
    assert check_nms(_nms_rounds)


@pytest.mark.parametrize("wrong, case, words", [
    (_against_all, "a chain of three boxes", "suppressed itself suppresses nothing"),
    (lambda b, s, t: _nms_rounds(b, s, t, strict=False), "IoU exactly at the threshold",
     "strictly greater"),
    (lambda b, s, t: _nms_rounds(b, s, t, stable=False), "equal scores", "lower index"),
    (lambda b, s, t: np.sort(nms(b, s, t)), "equal scores", "wrong order"),
    (lambda b, s, t: np.argsort(-s, kind="stable"), "a chain of three boxes",
     "should be suppressed"),
])
def test_nms_mistakes(wrong, case, words):
    outcome = check_nms(wrong)
    assert not outcome and outcome.failed_case == case
    assert words in outcome.hint, outcome.hint


# --- mirroring boxes --------------------------------------------------------------------------

def _mirror_by_flip(boxes, W):
    # an independent reference: flip a mask of each box with torch and take its extent
    out = []
    for x1, y1, x2, y2 in boxes:
        scale = 4                                  # quarter-pixel grid for fractional corners
        mask = torch.zeros(int(W * scale))
        mask[int(round(x1 * scale)):int(round(x2 * scale))] = 1
        cols = torch.nonzero(torch.flip(mask, dims=(0,)))[:, 0].numpy()
        out.append([cols.min() / scale, y1, (cols.max() + 1) / scale, y2])
    return np.array(out)


def _mirror(boxes, W):
    return np.stack([W - boxes[:, 2], boxes[:, 1], W - boxes[:, 0], boxes[:, 3]], axis=1)


def test_mirror_reference_passes():
    assert check_mirror_boxes(_mirror)
    rng = np.random.default_rng(0)
    corner = rng.integers(0, 40, size=(6, 2)) / 4
    boxes = np.hstack([corner, corner + rng.integers(1, 40, size=(6, 2)) / 4])
    np.testing.assert_allclose(_mirror(boxes, 30.0), _mirror_by_flip(boxes, 30.0))


@pytest.mark.parametrize("wrong, case, words", [
    (lambda b, W: np.stack([W - b[:, 0], b[:, 1], W - b[:, 2], b[:, 3]], axis=1), "one box",
     "swapped"),
    (lambda b, W: _mirror(b, W - 1), "one box", "W or W - 1"),
    (lambda b, W: _mirror(b, W)[:, [0, 3, 2, 1]], "one box", "differs"),
    (lambda b, W: np.stack([W - b[:, 2], W - b[:, 3], W - b[:, 0], W - b[:, 1]], axis=1),
     "one box", "which edge"),
])
def test_mirror_mistakes(wrong, case, words):
    outcome = check_mirror_boxes(wrong)
    assert not outcome and outcome.failed_case == case
    assert words in outcome.hint, outcome.hint


# --- normalisation backward -------------------------------------------------------------------

def _normalize_backward(dout, v):
    norm = np.linalg.norm(v, axis=1, keepdims=True)
    y = v / norm
    return (dout - y * np.sum(y * dout, axis=1, keepdims=True)) / norm


def test_normalize_reference_passes():
    assert check_normalize_backward(_normalize_backward)


@pytest.mark.parametrize("wrong, case, words", [
    (lambda d, v: d / np.linalg.norm(v, axis=1, keepdims=True), "batch 1, D = 2",
     "part of dout along y"),
    (lambda d, v: _normalize_backward(d, v) * np.linalg.norm(v, axis=1, keepdims=True),
     "batch 1, D = 2", "divide by the norm"),
    (lambda d, v: (d - v / np.linalg.norm(v, axis=1, keepdims=True)
                   * np.sum(v / np.linalg.norm(v, axis=1, keepdims=True) * d))
     / np.linalg.norm(v, axis=1, keepdims=True), "8 rows, D = 5", "row by row"),
    (lambda d, v: -_normalize_backward(d, v), "batch 1, D = 2", "opposite sign"),
])
def test_normalize_mistakes(wrong, case, words):
    outcome = check_normalize_backward(wrong)
    assert not outcome and outcome.failed_case == case
    assert words in outcome.hint, outcome.hint


# --- bad arguments ----------------------------------------------------------------------------

CHECKS = [(check_maxpool_backward_last, 4), (check_transposed_by_convolution, 6),
          (check_nms, 3), (check_mirror_boxes, 2), (check_normalize_backward, 2)]
# a function of one argument fewer than each check passes


@pytest.mark.parametrize("check, n_args", CHECKS)
def test_a_non_callable_is_a_type_error(check, n_args):
    with pytest.raises(TypeError, match="needs your function"):
        check(np.zeros(3))


@pytest.mark.parametrize("check, n_args", CHECKS)
def test_the_wrong_arity_is_a_type_error(check, n_args):
    too_few = {1: lambda a: 0, 2: lambda a, b: 0, 3: lambda a, b, c: 0,
               5: lambda a, b, c, d, e: 0}[n_args - 1]
    with pytest.raises(TypeError, match=f"{n_args} positional argument"):
        check(too_few)
