"""Bounding boxes for object detection: IoU, non-max suppression, anchors and YOLO-style codes.

Chapter: 02-convolutional-networks/06-object-detection.

A box is a row of corner coordinates ``(x1, y1, x2, y2)`` with ``x1 <= x2`` and ``y1 <= y2``,
the layout of ``torchvision.ops``. ``x`` runs along an image's columns (width ``W``) and ``y``
down its rows (height ``H``); pixel ``(r, c)`` covers ``[c, c + 1) x [r, r + 1)``. The centre form
``(cx, cy, w, h)`` (the notes write ``b_x, b_y, b_h, b_w``) converts with
:func:`center_to_corners` and :func:`corners_to_center`.

YOLO-style coding (as in YOLOv2): an image is cut into an ``Sy x Sx`` grid and every cell holds
``K`` anchor shapes ``(p_w, p_h)``. A raw prediction ``(t_x, t_y, t_w, t_h)`` for cell
``(row, col)`` and anchor ``k`` decodes to the centre ``((col + sigmoid(t_x)) c_w,
(row + sigmoid(t_y)) c_h)`` and size ``(p_w e^{t_w}, p_h e^{t_h})``, with ``c_w, c_h`` the
cell size.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .activations import sigmoid
from .validation import as_float, as_float_array, as_int, as_int_array, as_probability, check_rng

__all__ = ["box_area", "center_to_corners", "corners_to_center", "iou", "nms", "batched_nms",
           "anchor_boxes", "shape_iou", "assign_to_anchors", "encode_boxes",
           "decode_predictions", "Scene", "synthetic_scene"]


def _check_boxes(boxes, name: str = "boxes") -> np.ndarray:
    """Return ``boxes`` as a float (N, 4) array of finite, well-ordered corner boxes."""
    b = as_float_array(boxes, name, ndim=2, shape_hint="(N, 4) as (x1, y1, x2, y2)")
    if b.shape[1] != 4:
        raise ValueError(f"{name} must be (N, 4) as (x1, y1, x2, y2); got {b.shape}")
    if not np.all(np.isfinite(b)):
        raise ValueError(f"{name} must be finite; found NaN or inf")
    bad = np.flatnonzero((b[:, 2] < b[:, 0]) | (b[:, 3] < b[:, 1]))
    if bad.size:
        raise ValueError(f"{name} must have x1 <= x2 and y1 <= y2; row {bad[0]} is "
                         f"{b[bad[0]].tolist()}")
    return b


def box_area(boxes) -> np.ndarray:
    """Areas (x2 - x1)(y2 - y1) of corner boxes.  boxes: (N, 4)  ->  (N,).

    An area above the largest float (sides near 1e200) is inf, as in torchvision.
    """
    b = _check_boxes(boxes)
    return (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])


def center_to_corners(boxes) -> np.ndarray:
    """(cx, cy, w, h) -> (cx - w/2, cy - h/2, cx + w/2, cy + h/2).  boxes: (N, 4), w, h >= 0."""
    b = as_float_array(boxes, "boxes", ndim=2, shape_hint="(N, 4) as (cx, cy, w, h)")
    if b.shape[1] != 4:
        raise ValueError(f"boxes must be (N, 4) as (cx, cy, w, h); got {b.shape}")
    if not np.all(np.isfinite(b)) or np.any(b[:, 2:] < 0):
        raise ValueError("boxes must be finite with widths and heights >= 0")
    return _center_to_corners(b)


def _center_to_corners(b: np.ndarray) -> np.ndarray:
    """The conversion without checks (callers have checked their own argument)."""
    half = b[:, 2:] / 2
    return np.concatenate([b[:, :2] - half, b[:, :2] + half], axis=1)


def corners_to_center(boxes) -> np.ndarray:
    """(x1, y1, x2, y2) -> (cx, cy, w, h), the inverse of :func:`center_to_corners`."""
    return _corners_to_center(_check_boxes(boxes))


def _corners_to_center(b: np.ndarray) -> np.ndarray:
    return np.concatenate([b[:, :2] / 2 + b[:, 2:] / 2, b[:, 2:] - b[:, :2]], axis=1)


def iou(boxes_a, boxes_b) -> np.ndarray:
    """Intersection over union of every pair of corner boxes.

    IoU(a, b) = |a n b| / |a u b| with |a u b| = |a| + |b| - |a n b|.
    boxes_a: (A, 4);  boxes_b: (B, 4)  ->  (A, B), values in [0, 1].
    Two zero-area boxes have an empty union; their IoU is defined as 0 here (torchvision's
    ``box_iou`` returns 0/0 = NaN for that pair).
    Overflow-safe: the coordinates are first scaled by a power of two (exact) to at most 1,
    and each pair's widths and heights are divided by the larger of the two boxes' before
    any product, so boxes near 1e200 (or 1e-200) in size get the right IoU, where the plain
    formula (and torchvision's) gives inf / inf = NaN or 0 / 0.
    Reference: ``torchvision.ops.box_iou``.
    """
    a = _check_boxes(boxes_a, "boxes_a")
    b = _check_boxes(boxes_b, "boxes_b")
    return _iou(a, b)


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    top = max(float(np.max(np.abs(a), initial=0.0)), float(np.max(np.abs(b), initial=0.0)))
    if top > 0:
        scale = float(2.0 ** -np.frexp(top)[1])       # a power of two: exact, |coords| < 1
        a, b = a * scale, b * scale
    top_left = np.maximum(a[:, None, :2], b[None, :, :2])      # (A, B, 2)
    bottom_right = np.minimum(a[:, None, 2:], b[None, :, 2:])  # (A, B, 2)
    wh = np.clip(bottom_right - top_left, 0.0, None)           # 0 where the boxes miss
    wh_a, wh_b = a[:, 2:] - a[:, :2], b[:, 2:] - b[:, :2]      # (A, 2), (B, 2)
    side = np.maximum(wh_a[:, None], wh_b[None, :])            # (A, B, 2): the pair's scale
    side = np.where(side > 0, side, 1.0)
    wh, ra, rb = wh / side, wh_a[:, None] / side, wh_b[None, :] / side   # each in [0, 1]
    inter = wh[..., 0] * wh[..., 1]                            # (A, B)
    union = ra[..., 0] * ra[..., 1] + rb[..., 0] * rb[..., 1] - inter
    out = np.zeros_like(inter)
    np.divide(inter, union, out=out, where=union > 0)
    return out


def _check_threshold(iou_threshold) -> float:
    return as_probability(iou_threshold, "iou_threshold")


def _check_scores(scores, n: int) -> np.ndarray:
    s = as_float_array(scores, "scores", ndim=1, shape_hint="(N,)")
    if s.shape != (n,):
        raise ValueError(f"scores must be (N,) = ({n},) to match boxes; got {s.shape}")
    if not np.all(np.isfinite(s)):
        raise ValueError("scores must be finite; found NaN or inf")
    return s


def nms(boxes, scores, iou_threshold: float) -> np.ndarray:
    """Greedy non-max suppression.

    Repeatedly keep the highest-scoring box left and drop every remaining box whose IoU with it
    is *greater than* ``iou_threshold``.  boxes: (N, 4);  scores: (N,)  ->  kept indices (K,)
    int64, in decreasing score order (equal scores: lower index first).
    Reference: ``torchvision.ops.nms`` (same strict ``>`` test).
    """
    b = _check_boxes(boxes)
    s = _check_scores(scores, b.shape[0])
    threshold = _check_threshold(iou_threshold)
    order = np.argsort(-s, kind="stable")
    overlaps = _iou(b, b)                      # (N, N)
    suppressed = np.zeros(b.shape[0], dtype=bool)
    keep = []
    for i in order:
        if suppressed[i]:
            continue
        keep.append(i)
        suppressed |= overlaps[i] > threshold
    return np.array(keep, dtype=np.int64)


def batched_nms(boxes, scores, classes, iou_threshold: float) -> np.ndarray:
    """Non-max suppression run separately per class: boxes of different classes never compete.

    boxes: (N, 4);  scores: (N,);  classes: (N,) integers  ->  kept indices, decreasing score.
    Reference: ``torchvision.ops.batched_nms``.
    """
    b = _check_boxes(boxes)
    s = _check_scores(scores, b.shape[0])
    c = as_int_array(classes, "classes", ndim=1)
    if c.shape != s.shape:
        raise ValueError(f"classes must be (N,) = {s.shape} to match boxes; got {c.shape}")
    threshold = _check_threshold(iou_threshold)
    kept = [np.flatnonzero(c == k)[nms(b[c == k], s[c == k], threshold)] for k in np.unique(c)]
    keep = np.concatenate(kept) if kept else np.zeros(0, dtype=np.int64)
    return keep[np.lexsort((keep, -s[keep]))].astype(np.int64)


def _pair_of(value, name: str, what: str) -> tuple:
    """The two entries of a (H, W)-like argument, or a ValueError naming it."""
    if isinstance(value, (str, bytes)) or np.ndim(value) != 1 or len(value) != 2:
        raise ValueError(f"{name} must be a pair {what}; got {value!r}")
    return value[0], value[1]


def _check_image_size(image_size, name: str = "image_size") -> tuple[float, float]:
    H, W = _pair_of(image_size, name, "(H, W) of positive sides")
    try:
        return (as_float(H, f"{name}[0] (H)", positive=True),
                as_float(W, f"{name}[1] (W)", positive=True))
    except (TypeError, ValueError) as error:
        raise type(error)(f"{error} (image_size must be (H, W) with positive sides; got "
                          f"{image_size!r})") from None


def _check_grid(grid_size) -> tuple[int, int]:
    if np.ndim(grid_size) == 0 and not isinstance(grid_size, (str, bytes)):
        if isinstance(grid_size, np.ndarray):
            grid_size = grid_size[()]
        S = as_int(grid_size, "grid_size (one S for both sides)", minimum=1)
        return S, S
    Sy, Sx = _pair_of(grid_size, "grid_size", "(Sy, Sx) or one int S")
    return (as_int(Sy, "grid_size[0] (Sy)", minimum=1),
            as_int(Sx, "grid_size[1] (Sx)", minimum=1))


def _check_anchor_sizes(anchor_sizes) -> np.ndarray:
    p = as_float_array(anchor_sizes, "anchor_sizes", ndim=2, shape_hint="(K, 2) as (w, h)")
    if p.shape[1] != 2 or p.shape[0] == 0 or not np.all(np.isfinite(p) & (p > 0)):
        raise ValueError(f"anchor_sizes must be (K, 2) positive (w, h) pairs, K >= 1; got {p!r}")
    return p


def anchor_boxes(image_size, grid_size, anchor_sizes) -> np.ndarray:
    """Every anchor of every grid cell as a corner box centred on its cell.

    image_size: (H, W);  grid_size: S or (Sy, Sx);  anchor_sizes: (K, 2) as (w, h)
    ->  (Sy, Sx, K, 4) corner boxes.
    """
    H, W = _check_image_size(image_size)
    Sy, Sx = _check_grid(grid_size)
    p = _check_anchor_sizes(anchor_sizes)
    K = p.shape[0]
    cy = (np.arange(Sy) + 0.5) * (H / Sy)
    cx = (np.arange(Sx) + 0.5) * (W / Sx)
    centers = np.stack(np.meshgrid(cx, cy), axis=-1)                    # (Sy, Sx, 2) as (cx, cy)
    cwh = np.concatenate([np.broadcast_to(centers[:, :, None, :], (Sy, Sx, K, 2)),
                          np.broadcast_to(p, (Sy, Sx, K, 2))], axis=-1)  # (Sy, Sx, K, 4)
    return _center_to_corners(cwh.reshape(-1, 4)).reshape(Sy, Sx, K, 4)


def shape_iou(sizes_a, sizes_b) -> np.ndarray:
    """IoU of boxes moved onto a common centre: compares shapes only.

    sizes_a: (A, 2);  sizes_b: (B, 2) as (w, h)  ->  (A, B).
    """
    a = _check_sizes(sizes_a, "sizes_a", "A")
    b = _check_sizes(sizes_b, "sizes_b", "B")
    zero_a = np.zeros((a.shape[0], 2), dtype=a.dtype)
    zero_b = np.zeros((b.shape[0], 2), dtype=b.dtype)
    return _iou(_center_to_corners(np.hstack([zero_a, a])),
                _center_to_corners(np.hstack([zero_b, b])))


def _check_sizes(sizes, name: str, n: str) -> np.ndarray:
    s = as_float_array(sizes, name, ndim=2, shape_hint=f"({n}, 2) as (w, h)")
    if s.shape[1] != 2:
        raise ValueError(f"{name} must be ({n}, 2) as (w, h); got {s.shape}")
    if not np.all(np.isfinite(s)) or np.any(s < 0):
        raise ValueError(f"{name} must hold finite widths and heights >= 0")
    return s


def _check_inside(b: np.ndarray, H: float, W: float) -> np.ndarray:
    centers = _corners_to_center(b)[:, :2]
    outside = np.flatnonzero((centers[:, 0] < 0) | (centers[:, 0] > W)
                             | (centers[:, 1] < 0) | (centers[:, 1] > H))
    if outside.size:
        raise ValueError(f"the centre of boxes[{outside[0]}], {centers[outside[0]].tolist()}, "
                         f"lies outside the {H:g} x {W:g} image")
    return centers


def assign_to_anchors(boxes, image_size, grid_size, anchor_sizes) -> np.ndarray:
    """Which cell and anchor is responsible for each object.

    The cell is the one containing the box centre (a centre on the far edge of the image goes to
    the last cell); the anchor is the one whose shape has the highest :func:`shape_iou` with
    the box (ties: the lower anchor index).
    boxes: (M, 4) inside an image of size (H, W)  ->  (M, 3) int64 rows (row, col, anchor).
    """
    b = _check_boxes(boxes)
    H, W = _check_image_size(image_size)
    Sy, Sx = _check_grid(grid_size)
    p = _check_anchor_sizes(anchor_sizes)
    centers = _check_inside(b, H, W)
    rows = np.minimum(np.floor(centers[:, 1] / (H / Sy)), Sy - 1)
    cols = np.minimum(np.floor(centers[:, 0] / (W / Sx)), Sx - 1)
    best = np.argmax(shape_iou(b[:, 2:] - b[:, :2], p), axis=1)  # first maximum on ties
    return np.column_stack([rows, cols, best]).astype(np.int64)


def encode_boxes(boxes, assignment, image_size, grid_size, anchor_sizes) -> np.ndarray:
    """Regression targets of YOLO-style decoding for assigned objects.

    Returns rows (o_x, o_y, t_w, t_h): the centre's offset inside its cell in cell units
    (the target of sigmoid(t_x), sigmoid(t_y)), and t_w = log(w / p_w), t_h = log(h / p_h).
    boxes: (M, 4) with positive sides;  assignment: (M, 3) from :func:`assign_to_anchors`
    ->  (M, 4).
    """
    b = _check_boxes(boxes)
    H, W = _check_image_size(image_size)
    Sy, Sx = _check_grid(grid_size)
    p = _check_anchor_sizes(anchor_sizes)
    idx = as_int_array(assignment, "assignment", ndim=2)
    if idx.shape != (b.shape[0], 3):
        raise ValueError(f"assignment must be (M, 3) = ({b.shape[0]}, 3) to match boxes "
                         f"{b.shape}; got {idx.shape}")
    if np.any(idx < 0) or np.any(idx >= np.array([Sy, Sx, p.shape[0]])):
        raise ValueError(f"assignment rows must lie in [0, {Sy}) x [0, {Sx}) x [0, {p.shape[0]})")
    cwh = _corners_to_center(b)
    if np.any(cwh[:, 2:] <= 0):
        raise ValueError("encode_boxes needs boxes of positive width and height (log of 0)")
    offsets = cwh[:, :2] / np.array([W / Sx, H / Sy]) - idx[:, [1, 0]]
    outside = np.flatnonzero(np.any((offsets < 0) | (offsets > 1), axis=1))
    if outside.size:
        raise ValueError(f"the centre of boxes[{outside[0]}] lies outside the cell that "
                         f"assignment[{outside[0]}] = {idx[outside[0]].tolist()} gives it")
    return np.hstack([offsets, np.log(cwh[:, 2:] / p[idx[:, 2]])])


def decode_predictions(t, image_size, anchor_sizes) -> np.ndarray:
    """Raw YOLO-style outputs to corner boxes.

    cx = (col + sigmoid(t_x)) c_w, cy = (row + sigmoid(t_y)) c_h,
    w = p_w exp(t_w), h = p_h exp(t_h).
    t: (Sy, Sx, K, 4);  image_size: (H, W);  anchor_sizes: (K, 2)  ->  (Sy, Sx, K, 4) corners.
    """
    t = as_float_array(t, "t", ndim=4, shape_hint="(Sy, Sx, K, 4)")
    H, W = _check_image_size(image_size)
    p = _check_anchor_sizes(anchor_sizes)
    Sy, Sx, K, four = t.shape
    if four != 4 or K != p.shape[0]:
        raise ValueError(f"t must be (Sy, Sx, K, 4) with K={p.shape[0]} anchors; got {t.shape}")
    if Sy == 0 or Sx == 0:
        raise ValueError(f"t must be (Sy, Sx, K, 4) with a grid of at least one cell; got "
                         f"{t.shape}")
    col = np.arange(Sx)[None, :, None]
    row = np.arange(Sy)[:, None, None]
    cx = (col + sigmoid(t[..., 0])) * (W / Sx)   # (Sy, Sx, K)
    cy = (row + sigmoid(t[..., 1])) * (H / Sy)
    with np.errstate(over="ignore"):             # exp overflows to inf, as torch.exp does
        w = p[:, 0] * np.exp(t[..., 2])
        h = p[:, 1] * np.exp(t[..., 3])
    return np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=-1)


class Scene(NamedTuple):
    """A synthetic detection example."""
    image: np.ndarray   # (3, H, W) in [0, 1]
    boxes: np.ndarray   # (M, 4) tight corner boxes, pixel units
    labels: np.ndarray  # (M,) int64: 0 rectangle, 1 disc


def synthetic_scene(rng: np.random.Generator, image_size=(64, 96), n_objects: int = 3,
                    min_size: int = 12, max_size: int = 30) -> Scene:
    """Coloured rectangles and discs on a noisy background, with their tight boxes.

    Each object's box is the extent of all the pixels it paints (later objects may cover
    earlier ones; the box still spans the whole shape).
    """
    check_rng(rng)
    H, W = _pair_of(image_size, "image_size", "(H, W) of positive ints")
    H, W = as_int(H, "image_size[0] (H)", minimum=1), as_int(W, "image_size[1] (W)", minimum=1)
    n = as_int(n_objects, "n_objects", minimum=1)
    lo, hi = as_int(min_size, "min_size", minimum=1), as_int(max_size, "max_size", minimum=1)
    if lo > hi or hi > min(H, W):
        raise ValueError(f"need min_size <= max_size <= min(H, W); got {lo}, {hi}, ({H}, {W})")
    image = np.clip(0.15 + 0.05 * rng.standard_normal((3, H, W)), 0.0, 1.0)
    rows, cols = np.mgrid[0:H, 0:W]
    boxes, labels = [], []
    for _ in range(n):
        label = int(rng.integers(0, 2))
        h, w = rng.integers(lo, hi + 1, size=2)
        if label == 1:
            w = h                                           # a disc of diameter h
        top, left = int(rng.integers(0, H - h + 1)), int(rng.integers(0, W - w + 1))
        if label == 0:
            mask = (rows >= top) & (rows < top + h) & (cols >= left) & (cols < left + w)
        else:
            r = h / 2
            mask = (rows + 0.5 - top - r) ** 2 + (cols + 0.5 - left - r) ** 2 <= r * r
        colour = rng.uniform(0.4, 1.0, size=3)
        image[:, mask] = np.clip(colour[:, None] + 0.03 * rng.standard_normal((3, mask.sum())),
                                 0.0, 1.0)
        rr, cc = np.nonzero(mask)
        boxes.append([cc.min(), rr.min(), cc.max() + 1, rr.max() + 1])
        labels.append(label)
    return Scene(image, np.array(boxes, dtype=np.float64), np.array(labels, dtype=np.int64))
