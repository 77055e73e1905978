"""dlnotes.detection: boxes, IoU, NMS, anchors and YOLO-style box coding.

torchvision is not part of the course's environment, so IoU and NMS are checked against
independent references written here (a scalar IoU, a pure-Python greedy NMS and, for small
inputs, an exhaustive search for the one set of boxes that satisfies NMS's definition) and
against torch computations of the same formulas.
"""
import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dlnotes import detection as D
from dlnotes.verify import check_values, to_torch


# ----------------------------------------------------------------------------- references
def iou_scalar(a, b):
    """IoU of two corner boxes, written out without arrays."""
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def nms_loop(boxes, scores, thr):
    """Greedy NMS with lists and the scalar IoU."""
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    keep = []
    for i in order:
        if all(iou_scalar(boxes[i], boxes[j]) <= thr for j in keep):
            keep.append(i)
    return keep


def nms_by_definition(boxes, scores, thr):
    """The unique set S with: i in S iff no j in S ranked before i has IoU(i, j) > thr.

    Found by trying every subset (small N only); it does not follow the greedy loop.
    """
    n = len(scores)
    rank = {i: r for r, i in enumerate(sorted(range(n), key=lambda i: (-scores[i], i)))}
    found = []
    for size in range(n + 1):
        for subset in itertools.combinations(range(n), size):
            s = set(subset)
            ok = all((i in s) == (not any(rank[j] < rank[i] and iou_scalar(boxes[i], boxes[j]) > thr
                                          for j in s)) for i in range(n))
            if ok:
                found.append(sorted(s, key=lambda i: rank[i]))
    assert len(found) == 1
    return found[0]


def random_boxes(rng, n, size=20.0, extent=50.0):
    xy = rng.uniform(0, extent, size=(n, 2))
    wh = rng.uniform(0.5, size, size=(n, 2))
    return np.hstack([xy, xy + wh])


def torch_iou(a, b):
    """The IoU formula in torch ops (what torchvision.ops.box_iou computes)."""
    lt = torch.maximum(a[:, None, :2], b[None, :, :2])
    rb = torch.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = (rb - lt).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / (area_a[:, None] + area_b[None, :] - inter)


# ----------------------------------------------------------------------------- IoU
def test_iou_known_values():
    a = np.array([[0.0, 0.0, 2.0, 2.0]])
    b = np.array([[1.0, 1.0, 3.0, 3.0],    # overlap 1, union 7
                  [0.0, 0.0, 2.0, 2.0],    # identical
                  [2.0, 0.0, 4.0, 2.0],    # touching edge: no area in common
                  [0.0, 0.0, 1.0, 1.0],    # inside: 1 / 4
                  [5.0, 5.0, 6.0, 9.0]])   # far away
    assert D.iou(a, b) == pytest.approx(np.array([[1 / 7, 1.0, 0.0, 0.25, 0.0]]), abs=1e-15)


@pytest.mark.parametrize("na, nb", [(1, 1), (1, 7), (5, 3), (12, 12)])
def test_iou_matches_scalar_reference_and_torch(na, nb, rng):
    a, b = random_boxes(rng, na), random_boxes(rng, nb)
    out = D.iou(a, b)
    assert out.shape == (na, nb)
    ref = np.array([[iou_scalar(x, y) for y in b] for x in a])
    np.testing.assert_allclose(out, ref, rtol=1e-13, atol=1e-15)
    check_values("iou", out, torch_iou(to_torch(a), to_torch(b)))
    np.testing.assert_allclose(D.iou(b, a), out.T, rtol=0, atol=0)


def test_iou_zero_area_boxes():
    line = np.array([[1.0, 1.0, 1.0, 5.0]])
    point = np.array([[2.0, 2.0, 2.0, 2.0]])
    square = np.array([[0.0, 0.0, 4.0, 4.0]])
    assert D.iou(line, line)[0, 0] == 0.0       # empty union: defined as 0, not NaN
    assert D.iou(point, point)[0, 0] == 0.0
    assert D.iou(line, square)[0, 0] == 0.0
    assert D.iou(np.zeros((0, 4)), square).shape == (0, 1)


@pytest.mark.parametrize("bad, err", [
    ([[2.0, 0.0, 1.0, 1.0]], "x1 <= x2"),            # x2 < x1
    ([[0.0, 3.0, 1.0, 1.0]], "x1 <= x2"),            # y2 < y1
    ([[0.0, 0.0, 1.0]], r"\(N, 4\)"),                # three coordinates
    ([0.0, 0.0, 1.0, 1.0], "2 dimension"),           # one box without the batch axis
    ([[0.0, 0.0, np.nan, 1.0]], "finite"),
])
def test_iou_rejects_bad_boxes(bad, err):
    with pytest.raises(ValueError, match=err):
        D.iou(bad, [[0.0, 0.0, 1.0, 1.0]])
    with pytest.raises(ValueError, match=err):
        D.iou([[0.0, 0.0, 1.0, 1.0]], bad)


def test_center_corner_round_trip(rng):
    boxes = random_boxes(rng, 6)
    cwh = D.corners_to_center(boxes)
    np.testing.assert_allclose(cwh[:, 2:], boxes[:, 2:] - boxes[:, :2], rtol=1e-14)
    np.testing.assert_allclose(D.center_to_corners(cwh), boxes, rtol=1e-14, atol=1e-13)
    np.testing.assert_allclose(D.box_area(boxes), np.prod(cwh[:, 2:], axis=1), rtol=1e-14)
    with pytest.raises(ValueError, match=">= 0"):
        D.center_to_corners([[0.0, 0.0, -1.0, 1.0]])


# ----------------------------------------------------------------------------- NMS
@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("thr", [0.0, 0.3, 0.5, 0.7, 1.0])
def test_nms_matches_both_references(seed, thr):
    rng = np.random.default_rng(seed)
    n = 8
    boxes = random_boxes(rng, n, size=25.0, extent=20.0)
    scores = rng.uniform(size=n)
    keep = D.nms(boxes, scores, thr)
    assert keep.dtype == np.int64
    assert keep.tolist() == nms_loop(boxes, scores, thr)
    assert keep.tolist() == nms_by_definition(boxes, scores, thr)


def test_nms_threshold_is_strict():
    # IoU of these two boxes is exactly 1/2: a threshold of 0.5 keeps both, like torchvision.
    boxes = np.array([[0.0, 0.0, 2.0, 1.0], [0.0, 0.0, 1.0, 1.0]])
    assert D.iou(boxes[:1], boxes[1:])[0, 0] == 0.5
    assert D.nms(boxes, np.array([0.9, 0.8]), 0.5).tolist() == [0, 1]
    assert D.nms(boxes, np.array([0.9, 0.8]), 0.49).tolist() == [0]
    assert D.nms(boxes, np.array([0.1, 0.8]), 0.49).tolist() == [1]


def test_nms_ties_and_empty_input():
    same = np.array([[0.0, 0.0, 1.0, 1.0]] * 3)
    assert D.nms(same, np.array([0.5, 0.5, 0.5]), 0.5).tolist() == [0]
    assert D.nms(np.zeros((0, 4)), np.zeros(0), 0.5).tolist() == []


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 30), st.floats(0.0, 1.0), st.integers(0, 2 ** 32 - 1))
def test_nms_properties(n, thr, seed):
    rng = np.random.default_rng(seed)
    boxes = random_boxes(rng, n, size=30.0, extent=40.0)
    scores = rng.uniform(size=n)
    keep = D.nms(boxes, scores, thr)
    # decreasing scores, no duplicates
    assert len(set(keep.tolist())) == len(keep)
    assert np.all(np.diff(scores[keep]) <= 0)
    # kept boxes pairwise overlap by at most the threshold
    overlaps = D.iou(boxes[keep], boxes[keep])
    np.fill_diagonal(overlaps, 0.0)
    assert np.all(overlaps <= thr)
    # every dropped box overlaps a kept box with a higher (or equal, earlier) score by > thr
    for i in sorted(set(range(n)) - set(keep.tolist())):
        stronger = [j for j in keep if (scores[j], -j) > (scores[i], -i)]
        assert any(iou_scalar(boxes[i], boxes[j]) > thr for j in stronger)
    # the highest-scoring box always survives
    assert keep[0] == int(np.argmax(scores))


def test_batched_nms_keeps_classes_apart(rng):
    boxes = random_boxes(rng, 12, size=25.0, extent=15.0)
    scores = rng.uniform(size=12)
    classes = rng.integers(0, 3, size=12)
    keep = D.batched_nms(boxes, scores, classes, 0.4)
    expected = []
    for c in range(3):
        idx = np.flatnonzero(classes == c)
        expected += idx[nms_loop(boxes[idx], scores[idx], 0.4)].tolist()
    assert keep.tolist() == sorted(expected, key=lambda i: -scores[i])
    # the same boxes all in one class lose more of them
    assert len(D.nms(boxes, scores, 0.4)) <= len(keep)


@pytest.mark.parametrize("thr", [-0.1, 1.5, float("nan")])
def test_nms_rejects_bad_threshold(thr):
    with pytest.raises(ValueError, match="iou_threshold"):
        D.nms([[0.0, 0.0, 1.0, 1.0]], [1.0], thr)


def test_nms_rejects_bad_scores_and_boxes():
    with pytest.raises(ValueError, match="scores must be"):
        D.nms([[0.0, 0.0, 1.0, 1.0]], [1.0, 2.0], 0.5)
    with pytest.raises(ValueError, match="finite"):
        D.nms([[0.0, 0.0, 1.0, 1.0]], [np.nan], 0.5)
    with pytest.raises(ValueError, match="x1 <= x2"):
        D.nms([[1.0, 0.0, 0.0, 1.0]], [1.0], 0.5)
    with pytest.raises(TypeError, match="iou_threshold"):
        D.nms([[0.0, 0.0, 1.0, 1.0]], [1.0], "0.5")
    with pytest.raises(TypeError, match="integer"):
        D.batched_nms([[0.0, 0.0, 1.0, 1.0]], [1.0], [0.5], 0.5)


# ----------------------------------------------------------------------------- anchors
ANCHORS = np.array([[10.0, 20.0], [20.0, 20.0], [30.0, 10.0]])


def test_anchor_boxes_centres_and_sizes():
    out = D.anchor_boxes((60, 90), (3, 5), ANCHORS)
    assert out.shape == (3, 5, 3, 4)
    cwh = D.corners_to_center(out.reshape(-1, 4)).reshape(3, 5, 3, 4)
    np.testing.assert_allclose(cwh[1, 4, :, 0], 9 + 4 * 18, rtol=1e-15)    # column 4 centre
    np.testing.assert_allclose(cwh[2, 0, :, 1], 10 + 2 * 20, rtol=1e-15)   # row 2 centre
    np.testing.assert_allclose(cwh[..., 2:], np.broadcast_to(ANCHORS, (3, 5, 3, 2)), rtol=1e-15)
    assert D.anchor_boxes((8, 8), 2, [[1.0, 1.0]]).shape == (2, 2, 1, 4)


def test_shape_iou_compares_shapes_only():
    out = D.shape_iou([[10.0, 20.0]], ANCHORS)
    np.testing.assert_allclose(out, [[1.0, 200 / 400, 100 / 400]], rtol=1e-15)
    moved = D.iou([[100.0, 100.0, 110.0, 120.0]], [[100.0, 100.0, 120.0, 120.0]])
    np.testing.assert_allclose(moved[0, 0], out[0, 1], rtol=1e-15)


def test_assign_to_anchors_brute_force(rng):
    scene = D.synthetic_scene(rng, (64, 96), n_objects=6)
    grid = (4, 6)
    got = D.assign_to_anchors(scene.boxes, (64, 96), grid, ANCHORS)
    assert got.shape == (6, 3) and got.dtype == np.int64
    for box, (r, c, k) in zip(scene.boxes, got, strict=True):
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        assert c * 16 <= cx < (c + 1) * 16 and r * 16 <= cy < (r + 1) * 16
        w, h = box[2] - box[0], box[3] - box[1]
        shape_ious = [iou_scalar([0, 0, w, h], [0, 0, pw, ph]) for pw, ph in ANCHORS]
        assert k == int(np.argmax(shape_ious))


def test_assign_centre_on_far_edge_goes_to_last_cell():
    got = D.assign_to_anchors([[80.0, 50.0, 100.0, 70.0]], (60, 90), (3, 5), ANCHORS)
    assert got.tolist() == [[2, 4, 1]]          # centre (90, 60): the bottom-right corner
    with pytest.raises(ValueError, match="outside"):
        D.assign_to_anchors([[95.0, 0.0, 100.0, 10.0]], (60, 90), (3, 5), ANCHORS)


def test_encode_decode_round_trip(rng):
    size, grid = (64, 96), (4, 6)
    scene = D.synthetic_scene(rng, size, n_objects=5)
    boxes = scene.boxes + rng.uniform(0.1, 0.4, size=(5, 4)) * [1, 1, -1, -1]  # off the grid lines
    assign = D.assign_to_anchors(boxes, size, grid, ANCHORS)
    targets = D.encode_boxes(boxes, assign, size, grid, ANCHORS)
    assert np.all((targets[:, :2] > 0) & (targets[:, :2] < 1))
    t = rng.standard_normal((4, 6, 3, 4))
    t[assign[:, 0], assign[:, 1], assign[:, 2]] = np.hstack(
        [np.log(targets[:, :2] / (1 - targets[:, :2])), targets[:, 2:]])   # logit of the offsets
    decoded = D.decode_predictions(t, size, ANCHORS)
    np.testing.assert_allclose(decoded[assign[:, 0], assign[:, 1], assign[:, 2]], boxes,
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("grid, k", [((1, 1), 1), ((3, 5), 2), ((4, 4), 3)])
def test_decode_matches_torch_ops(grid, k, rng):
    size = (48.0, 80.0)
    anchors = rng.uniform(5, 30, size=(k, 2))
    t = rng.standard_normal(grid + (k, 4))
    ours = D.decode_predictions(t, size, anchors)
    tt, pt = to_torch(t), to_torch(anchors)
    Sy, Sx = grid
    col = torch.arange(Sx, device=tt.device, dtype=torch.float64)[None, :, None]
    row = torch.arange(Sy, device=tt.device, dtype=torch.float64)[:, None, None]
    cx = (col + torch.sigmoid(tt[..., 0])) * size[1] / Sx
    cy = (row + torch.sigmoid(tt[..., 1])) * size[0] / Sy
    w, h = pt[:, 0] * torch.exp(tt[..., 2]), pt[:, 1] * torch.exp(tt[..., 3])
    ref = torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], dim=-1)
    check_values("decode_predictions", ours, ref)


def test_anchor_helpers_reject_bad_input():
    with pytest.raises(ValueError, match="anchor_sizes"):
        D.anchor_boxes((10, 10), 2, [[1.0, -1.0]])
    with pytest.raises(ValueError, match="image_size"):
        D.anchor_boxes((10, 0), 2, ANCHORS)
    with pytest.raises(ValueError, match="Sx"):
        D.anchor_boxes((10, 10), (2, 0), ANCHORS)
    with pytest.raises(ValueError, match="K=3"):
        D.decode_predictions(np.zeros((2, 2, 2, 4)), (10, 10), ANCHORS)
    box = [[10.0, 10.0, 20.0, 30.0]]
    with pytest.raises(ValueError, match="outside the cell"):
        D.encode_boxes(box, [[2, 0, 0]], (60, 90), (3, 5), ANCHORS)
    with pytest.raises(ValueError, match="positive width"):
        D.encode_boxes([[10.0, 10.0, 10.0, 30.0]], [[1, 0, 0]], (60, 90), (3, 5), ANCHORS)
    with pytest.raises(ValueError, match="lie in"):
        D.encode_boxes(box, [[0, 0, 3]], (60, 90), (3, 5), ANCHORS)


def test_synthetic_scene_is_reproducible_and_boxes_are_tight():
    a = D.synthetic_scene(np.random.default_rng(3), (40, 50), n_objects=4)
    b = D.synthetic_scene(np.random.default_rng(3), (40, 50), n_objects=4)
    np.testing.assert_array_equal(a.image, b.image)
    np.testing.assert_array_equal(a.boxes, b.boxes)
    assert a.image.shape == (3, 40, 50) and a.image.min() >= 0 and a.image.max() <= 1
    assert np.all(a.boxes[:, :2] >= 0)
    assert np.all(a.boxes[:, 2] <= 50) and np.all(a.boxes[:, 3] <= 40)
    covered = np.zeros((40, 50), dtype=bool)
    for x1, y1, x2, y2 in a.boxes.astype(int):
        covered[y1:y2, x1:x2] = True
    assert a.image.max(axis=0)[~covered].max() < 0.4   # only background outside the boxes
    with pytest.raises(TypeError, match="Generator"):
        D.synthetic_scene(3)
    with pytest.raises(ValueError, match="min_size"):
        D.synthetic_scene(np.random.default_rng(0), (10, 10), min_size=12)


# --- issue 12: overflow, cryptic crashes, messages that name the caller's argument ---------

@pytest.mark.parametrize("scale", [1e200, 1e-200, 1e300])
def test_iou_is_scale_invariant_at_extreme_magnitudes(scale):
    """Near 1e200 the areas overflowed (inf / inf: NaN, or 0); IoU does not depend on scale."""
    a = np.array([[0.0, 0.0, 2.0, 2.0]])
    b = np.array([[1.0, 1.0, 3.0, 3.0], [0.0, 0.0, 2.0, 2.0], [0.0, 0.0, 1.0, 1.0]])
    np.testing.assert_allclose(D.iou(a * scale, b * scale), [[1 / 7, 1.0, 0.25]], rtol=1e-15)


def test_iou_of_a_small_box_far_from_the_origin():
    """Each pair is measured in its own boxes' size: the offset 1e200 does not underflow them."""
    a = np.array([[1e200, 1e200, 1e200 + 2e190, 1e200 + 2e190]])
    np.testing.assert_allclose(D.iou(a, a), [[1.0]], rtol=1e-12)


def test_decode_predictions_with_an_empty_grid_raises_a_named_error():
    with pytest.raises(ValueError, match=r"t must be \(Sy, Sx, K, 4\) with a grid of at least"):
        D.decode_predictions(np.zeros((0, 3, 1, 4)), (64, 64), [[1.0, 1.0]])


@pytest.mark.parametrize("grid", [4.0, np.array(4.0), "4", (4,), (4, 4, 4)])
def test_anchor_boxes_with_a_bad_grid_size_names_it(grid):
    with pytest.raises((TypeError, ValueError), match="grid_size"):
        D.anchor_boxes((64, 64), grid, [[1.0, 1.0]])


def test_anchor_boxes_accepts_numpy_integer_grids():
    expected = D.anchor_boxes((64, 64), 4, [[1.0, 1.0]])
    np.testing.assert_array_equal(D.anchor_boxes((64, 64), np.int64(4), [[1.0, 1.0]]), expected)
    np.testing.assert_array_equal(D.anchor_boxes((64, 64), np.array(4), [[1.0, 1.0]]), expected)
    np.testing.assert_array_equal(D.anchor_boxes((64, 64), np.array([4, 4]), [[1.0, 1.0]]),
                                  expected)


@pytest.mark.parametrize("size", [64, 64.0, np.array(64), (64,)])
def test_synthetic_scene_and_anchor_boxes_with_a_scalar_image_size_name_it(size):
    with pytest.raises(ValueError, match=r"image_size must be a pair"):
        D.synthetic_scene(np.random.default_rng(0), size)
    with pytest.raises(ValueError, match=r"image_size must be a pair"):
        D.anchor_boxes(size, 4, [[1.0, 1.0]])


def test_shape_iou_messages_name_its_own_arguments():
    """It used to say "boxes must be finite ..." (an internal argument's name)."""
    with pytest.raises(ValueError, match=r"^sizes_a must hold finite widths and heights >= 0"):
        D.shape_iou([[1.0, -1.0]], [[1.0, 1.0]])
    with pytest.raises(ValueError, match=r"^sizes_b must hold finite"):
        D.shape_iou([[1.0, 1.0]], [[np.nan, 1.0]])


def test_anchor_boxes_with_huge_image_sizes_is_finite():
    boxes = D.anchor_boxes((1e300, 1e300), 2, [[1.0, 1.0]])
    assert np.all(np.isfinite(boxes))
