"""dlnotes.vision (detection and style): boxes, IoU, NMS, anchors, triplet loss, style costs.

torchvision is not part of the course's environment, so IoU and NMS are checked against
independent references written here (a scalar IoU, a pure-Python greedy NMS and, for small
inputs, an exhaustive search for the one set of boxes that satisfies NMS's definition) and
against torch computations of the same formulas. Losses are compared with torch autograd in
float64.
"""
import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from dlnotes import vision as V
from dlnotes.verify import check_loss, check_pair, check_values, to_torch


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
    assert V.iou(a, b) == pytest.approx(np.array([[1 / 7, 1.0, 0.0, 0.25, 0.0]]), abs=1e-15)


@pytest.mark.parametrize("na, nb", [(1, 1), (1, 7), (5, 3), (12, 12)])
def test_iou_matches_scalar_reference_and_torch(na, nb, rng):
    a, b = random_boxes(rng, na), random_boxes(rng, nb)
    out = V.iou(a, b)
    assert out.shape == (na, nb)
    ref = np.array([[iou_scalar(x, y) for y in b] for x in a])
    np.testing.assert_allclose(out, ref, rtol=1e-13, atol=1e-15)
    check_values("iou", out, torch_iou(to_torch(a), to_torch(b)))
    np.testing.assert_allclose(V.iou(b, a), out.T, rtol=0, atol=0)


def test_iou_zero_area_boxes():
    line = np.array([[1.0, 1.0, 1.0, 5.0]])
    point = np.array([[2.0, 2.0, 2.0, 2.0]])
    square = np.array([[0.0, 0.0, 4.0, 4.0]])
    assert V.iou(line, line)[0, 0] == 0.0       # empty union: defined as 0, not NaN
    assert V.iou(point, point)[0, 0] == 0.0
    assert V.iou(line, square)[0, 0] == 0.0
    assert V.iou(np.zeros((0, 4)), square).shape == (0, 1)


@pytest.mark.parametrize("bad, err", [
    ([[2.0, 0.0, 1.0, 1.0]], "x1 <= x2"),            # x2 < x1
    ([[0.0, 3.0, 1.0, 1.0]], "x1 <= x2"),            # y2 < y1
    ([[0.0, 0.0, 1.0]], r"\(N, 4\)"),                # three coordinates
    ([0.0, 0.0, 1.0, 1.0], "2 dimension"),           # one box without the batch axis
    ([[0.0, 0.0, np.nan, 1.0]], "finite"),
])
def test_iou_rejects_bad_boxes(bad, err):
    with pytest.raises(ValueError, match=err):
        V.iou(bad, [[0.0, 0.0, 1.0, 1.0]])
    with pytest.raises(ValueError, match=err):
        V.iou([[0.0, 0.0, 1.0, 1.0]], bad)


def test_center_corner_round_trip(rng):
    boxes = random_boxes(rng, 6)
    cwh = V.corners_to_center(boxes)
    np.testing.assert_allclose(cwh[:, 2:], boxes[:, 2:] - boxes[:, :2], rtol=1e-14)
    np.testing.assert_allclose(V.center_to_corners(cwh), boxes, rtol=1e-14, atol=1e-13)
    np.testing.assert_allclose(V.box_area(boxes), np.prod(cwh[:, 2:], axis=1), rtol=1e-14)
    with pytest.raises(ValueError, match=">= 0"):
        V.center_to_corners([[0.0, 0.0, -1.0, 1.0]])


# ----------------------------------------------------------------------------- NMS
@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("thr", [0.0, 0.3, 0.5, 0.7, 1.0])
def test_nms_matches_both_references(seed, thr):
    rng = np.random.default_rng(seed)
    n = 8
    boxes = random_boxes(rng, n, size=25.0, extent=20.0)
    scores = rng.uniform(size=n)
    keep = V.nms(boxes, scores, thr)
    assert keep.dtype == np.int64
    assert keep.tolist() == nms_loop(boxes, scores, thr)
    assert keep.tolist() == nms_by_definition(boxes, scores, thr)


def test_nms_threshold_is_strict():
    # IoU of these two boxes is exactly 1/2: a threshold of 0.5 keeps both, like torchvision.
    boxes = np.array([[0.0, 0.0, 2.0, 1.0], [0.0, 0.0, 1.0, 1.0]])
    assert V.iou(boxes[:1], boxes[1:])[0, 0] == 0.5
    assert V.nms(boxes, np.array([0.9, 0.8]), 0.5).tolist() == [0, 1]
    assert V.nms(boxes, np.array([0.9, 0.8]), 0.49).tolist() == [0]
    assert V.nms(boxes, np.array([0.1, 0.8]), 0.49).tolist() == [1]


def test_nms_ties_and_empty_input():
    same = np.array([[0.0, 0.0, 1.0, 1.0]] * 3)
    assert V.nms(same, np.array([0.5, 0.5, 0.5]), 0.5).tolist() == [0]
    assert V.nms(np.zeros((0, 4)), np.zeros(0), 0.5).tolist() == []


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 30), st.floats(0.0, 1.0), st.integers(0, 2 ** 32 - 1))
def test_nms_properties(n, thr, seed):
    rng = np.random.default_rng(seed)
    boxes = random_boxes(rng, n, size=30.0, extent=40.0)
    scores = rng.uniform(size=n)
    keep = V.nms(boxes, scores, thr)
    # decreasing scores, no duplicates
    assert len(set(keep.tolist())) == len(keep)
    assert np.all(np.diff(scores[keep]) <= 0)
    # kept boxes pairwise overlap by at most the threshold
    overlaps = V.iou(boxes[keep], boxes[keep])
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
    keep = V.batched_nms(boxes, scores, classes, 0.4)
    expected = []
    for c in range(3):
        idx = np.flatnonzero(classes == c)
        expected += idx[nms_loop(boxes[idx], scores[idx], 0.4)].tolist()
    assert keep.tolist() == sorted(expected, key=lambda i: -scores[i])
    # the same boxes all in one class lose more of them
    assert len(V.nms(boxes, scores, 0.4)) <= len(keep)


@pytest.mark.parametrize("thr", [-0.1, 1.5, float("nan")])
def test_nms_rejects_bad_threshold(thr):
    with pytest.raises(ValueError, match="iou_threshold"):
        V.nms([[0.0, 0.0, 1.0, 1.0]], [1.0], thr)


def test_nms_rejects_bad_scores_and_boxes():
    with pytest.raises(ValueError, match="scores must be"):
        V.nms([[0.0, 0.0, 1.0, 1.0]], [1.0, 2.0], 0.5)
    with pytest.raises(ValueError, match="finite"):
        V.nms([[0.0, 0.0, 1.0, 1.0]], [np.nan], 0.5)
    with pytest.raises(ValueError, match="x1 <= x2"):
        V.nms([[1.0, 0.0, 0.0, 1.0]], [1.0], 0.5)
    with pytest.raises(TypeError, match="iou_threshold"):
        V.nms([[0.0, 0.0, 1.0, 1.0]], [1.0], "0.5")
    with pytest.raises(TypeError, match="integer"):
        V.batched_nms([[0.0, 0.0, 1.0, 1.0]], [1.0], [0.5], 0.5)


# ----------------------------------------------------------------------------- anchors
ANCHORS = np.array([[10.0, 20.0], [20.0, 20.0], [30.0, 10.0]])


def test_anchor_boxes_centres_and_sizes():
    out = V.anchor_boxes((60, 90), (3, 5), ANCHORS)
    assert out.shape == (3, 5, 3, 4)
    cwh = V.corners_to_center(out.reshape(-1, 4)).reshape(3, 5, 3, 4)
    np.testing.assert_allclose(cwh[1, 4, :, 0], 9 + 4 * 18, rtol=1e-15)    # column 4 centre
    np.testing.assert_allclose(cwh[2, 0, :, 1], 10 + 2 * 20, rtol=1e-15)   # row 2 centre
    np.testing.assert_allclose(cwh[..., 2:], np.broadcast_to(ANCHORS, (3, 5, 3, 2)), rtol=1e-15)
    assert V.anchor_boxes((8, 8), 2, [[1.0, 1.0]]).shape == (2, 2, 1, 4)


def test_shape_iou_compares_shapes_only():
    out = V.shape_iou([[10.0, 20.0]], ANCHORS)
    np.testing.assert_allclose(out, [[1.0, 200 / 400, 100 / 400]], rtol=1e-15)
    moved = V.iou([[100.0, 100.0, 110.0, 120.0]], [[100.0, 100.0, 120.0, 120.0]])
    np.testing.assert_allclose(moved[0, 0], out[0, 1], rtol=1e-15)


def test_assign_to_anchors_brute_force(rng):
    scene = V.synthetic_scene(rng, (64, 96), n_objects=6)
    grid = (4, 6)
    got = V.assign_to_anchors(scene.boxes, (64, 96), grid, ANCHORS)
    assert got.shape == (6, 3) and got.dtype == np.int64
    for box, (r, c, k) in zip(scene.boxes, got):
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        assert c * 16 <= cx < (c + 1) * 16 and r * 16 <= cy < (r + 1) * 16
        w, h = box[2] - box[0], box[3] - box[1]
        shape_ious = [iou_scalar([0, 0, w, h], [0, 0, pw, ph]) for pw, ph in ANCHORS]
        assert k == int(np.argmax(shape_ious))


def test_assign_centre_on_far_edge_goes_to_last_cell():
    got = V.assign_to_anchors([[80.0, 50.0, 100.0, 70.0]], (60, 90), (3, 5), ANCHORS)
    assert got.tolist() == [[2, 4, 1]]          # centre (90, 60): the bottom-right corner
    with pytest.raises(ValueError, match="outside"):
        V.assign_to_anchors([[95.0, 0.0, 100.0, 10.0]], (60, 90), (3, 5), ANCHORS)


def test_encode_decode_round_trip(rng):
    size, grid = (64, 96), (4, 6)
    scene = V.synthetic_scene(rng, size, n_objects=5)
    boxes = scene.boxes + rng.uniform(0.1, 0.4, size=(5, 4)) * [1, 1, -1, -1]  # off the grid lines
    assign = V.assign_to_anchors(boxes, size, grid, ANCHORS)
    targets = V.encode_boxes(boxes, assign, size, grid, ANCHORS)
    assert np.all((targets[:, :2] > 0) & (targets[:, :2] < 1))
    t = rng.standard_normal((4, 6, 3, 4))
    t[assign[:, 0], assign[:, 1], assign[:, 2]] = np.hstack(
        [np.log(targets[:, :2] / (1 - targets[:, :2])), targets[:, 2:]])   # logit of the offsets
    decoded = V.decode_predictions(t, size, ANCHORS)
    np.testing.assert_allclose(decoded[assign[:, 0], assign[:, 1], assign[:, 2]], boxes,
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("grid, k", [((1, 1), 1), ((3, 5), 2), ((4, 4), 3)])
def test_decode_matches_torch_ops(grid, k, rng):
    size = (48.0, 80.0)
    anchors = rng.uniform(5, 30, size=(k, 2))
    t = rng.standard_normal(grid + (k, 4))
    ours = V.decode_predictions(t, size, anchors)
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
        V.anchor_boxes((10, 10), 2, [[1.0, -1.0]])
    with pytest.raises(ValueError, match="image_size"):
        V.anchor_boxes((10, 0), 2, ANCHORS)
    with pytest.raises(ValueError, match="Sx"):
        V.anchor_boxes((10, 10), (2, 0), ANCHORS)
    with pytest.raises(ValueError, match="K=3"):
        V.decode_predictions(np.zeros((2, 2, 2, 4)), (10, 10), ANCHORS)
    box = [[10.0, 10.0, 20.0, 30.0]]
    with pytest.raises(ValueError, match="outside the cell"):
        V.encode_boxes(box, [[2, 0, 0]], (60, 90), (3, 5), ANCHORS)
    with pytest.raises(ValueError, match="positive width"):
        V.encode_boxes([[10.0, 10.0, 10.0, 30.0]], [[1, 0, 0]], (60, 90), (3, 5), ANCHORS)
    with pytest.raises(ValueError, match="lie in"):
        V.encode_boxes(box, [[0, 0, 3]], (60, 90), (3, 5), ANCHORS)


def test_synthetic_scene_is_reproducible_and_boxes_are_tight():
    a = V.synthetic_scene(np.random.default_rng(3), (40, 50), n_objects=4)
    b = V.synthetic_scene(np.random.default_rng(3), (40, 50), n_objects=4)
    np.testing.assert_array_equal(a.image, b.image)
    np.testing.assert_array_equal(a.boxes, b.boxes)
    assert a.image.shape == (3, 40, 50) and a.image.min() >= 0 and a.image.max() <= 1
    assert np.all(a.boxes[:, :2] >= 0) and np.all(a.boxes[:, 2] <= 50) and np.all(a.boxes[:, 3] <= 40)
    covered = np.zeros((40, 50), dtype=bool)
    for x1, y1, x2, y2 in a.boxes.astype(int):
        covered[y1:y2, x1:x2] = True
    assert a.image.max(axis=0)[~covered].max() < 0.4   # only background outside the boxes
    with pytest.raises(TypeError, match="Generator"):
        V.synthetic_scene(3)
    with pytest.raises(ValueError, match="min_size"):
        V.synthetic_scene(np.random.default_rng(0), (10, 10), min_size=12)


# ----------------------------------------------------------------------------- triplet loss
def torch_triplet_sum(a, p, n, margin):
    hinge = ((a - p) ** 2).sum(1) - ((a - n) ** 2).sum(1) + margin
    return torch.relu(hinge).sum()


@pytest.mark.parametrize("n, d", [(1, 1), (1, 8), (7, 3), (16, 5)])
@pytest.mark.parametrize("margin", [0.0, 0.2, 2.0])
def test_triplet_loss_matches_torch(n, d, margin, rng):
    a, p, neg = (rng.standard_normal((n, d)) for _ in range(3))
    check_loss("triplet_loss", lambda *t: V.triplet_loss(*t, margin),
               lambda *t: torch_triplet_sum(*t, margin), (a, p, neg))
    check_pair("triplet_loss_forward/backward",
               lambda *t: V.triplet_loss_forward(*t, margin), V.triplet_loss_backward,
               lambda *t: torch_triplet_sum(*t, margin), (a, p, neg), rng=rng)


def test_triplet_loss_hand_value():
    a = np.array([[0.0, 0.0], [0.0, 0.0]])
    p = np.array([[1.0, 0.0], [3.0, 0.0]])      # d(a, p)^2 = 1 and 9
    n = np.array([[0.0, 2.0], [0.0, 1.0]])      # d(a, n)^2 = 4 and 1
    loss, grad = V.triplet_loss(a, p, n, margin=0.5)
    assert loss == pytest.approx(0.0 + (9 - 1 + 0.5), rel=1e-15)   # the first triplet is satisfied
    np.testing.assert_allclose(grad, [[0.0, 0.0], 2 * (n[1] - p[1])], rtol=1e-15)


def test_triplet_loss_is_not_torchs_triplet_margin_loss(rng):
    a, p, n = (rng.standard_normal((5, 4)) for _ in range(3))
    ours, _ = V.triplet_loss(a, p, n, margin=1.0)
    torchs = F.triplet_margin_loss(to_torch(a), to_torch(p), to_torch(n), margin=1.0).item()
    assert abs(ours - torchs) > 0.1
    # torch: unsquared distances of (x - y + eps), mean over the batch
    eps = 1e-6
    d_ap = np.linalg.norm(a - p + eps, axis=1)
    d_an = np.linalg.norm(a - n + eps, axis=1)
    assert np.mean(np.maximum(d_ap - d_an + 1.0, 0.0)) == pytest.approx(torchs, rel=1e-12)


def test_triplet_loss_rejects_bad_input(rng):
    a = rng.standard_normal((3, 2))
    with pytest.raises(ValueError, match="margin"):
        V.triplet_loss(a, a, a, margin=-0.1)
    with pytest.raises(TypeError, match="margin"):
        V.triplet_loss(a, a, a, margin=None)
    with pytest.raises(ValueError, match="same shape"):
        V.triplet_loss(a, a, a[:2])
    with pytest.raises(ValueError, match=r"\(N, D\)"):
        V.triplet_loss(a[0], a[0], a[0])
    _, cache = V.triplet_loss_forward(a, a, a)
    with pytest.raises(ValueError, match="scalar"):
        V.triplet_loss_backward(np.ones(3), cache)


# ----------------------------------------------------------------------------- style transfer
SHAPES = [(1, 1, 1), (3, 5, 2), (4, 1, 7), (2, 6, 6)]


def torch_content(a_g, a_c):
    C, H, W = a_c.shape
    return ((a_c - a_g) ** 2).sum() / (4 * C * H * W)


def torch_style(a_g, a_s):
    C, H, W = a_s.shape
    g_s = a_s.reshape(C, -1) @ a_s.reshape(C, -1).T
    g_g = a_g.reshape(C, -1) @ a_g.reshape(C, -1).T
    return ((g_s - g_g) ** 2).sum() / (4 * C ** 2 * (H * W) ** 2)


@pytest.mark.parametrize("shape", SHAPES)
def test_gram_matrix_matches_torch(shape, rng):
    a = rng.standard_normal(shape)
    check_pair("gram_matrix", V.gram_matrix_forward, V.gram_matrix_backward,
               lambda t: t.reshape(shape[0], -1) @ t.reshape(shape[0], -1).T, (a,), rng=rng)
    G = V.gram_matrix(a)
    np.testing.assert_array_equal(G, G.T)
    assert np.all(np.linalg.eigvalsh(G) > -1e-10)   # positive semi-definite


def test_gram_matrix_layout_matches_the_notes(rng):
    a_chw = rng.standard_normal((3, 4, 5))
    a_hwc = a_chw.transpose(1, 2, 0)                # the notes' (n_H, n_W, n_C)
    unrolled = a_hwc.reshape(-1, 3).T               # (n_C, n_H n_W)
    np.testing.assert_allclose(V.gram_matrix(a_chw), unrolled @ unrolled.T, rtol=1e-14)


@pytest.mark.parametrize("shape", SHAPES)
def test_content_and_style_costs_match_torch(shape, rng):
    a_c, a_g = rng.standard_normal(shape), rng.standard_normal(shape)
    check_loss("content_cost", lambda g, c: V.content_cost(c, g), torch_content, (a_g, a_c))
    check_loss("style_layer_cost", lambda g, s: V.style_layer_cost(s, g), torch_style, (a_g, a_c))


def test_cost_normalisations_by_hand():
    # a_g = 1 everywhere against zeros: both costs are exactly 1/4 for every shape.
    for shape in SHAPES:
        ones, zeros = np.ones(shape), np.zeros(shape)
        assert V.content_cost(zeros, ones)[0] == pytest.approx(0.25, rel=1e-15)
        assert V.style_layer_cost(zeros, ones)[0] == pytest.approx(0.25, rel=1e-15)
        assert V.style_layer_cost(ones, ones)[0] == 0.0


def test_style_cost_is_the_weighted_sum(rng):
    acts_s = [rng.standard_normal((2, 3, 3)), rng.standard_normal((4, 2, 1))]
    acts_g = [rng.standard_normal((2, 3, 3)), rng.standard_normal((4, 2, 1))]
    total, grads = V.style_cost(acts_s, acts_g, [0.3, 0.7])
    parts = [V.style_layer_cost(s, g) for s, g in zip(acts_s, acts_g)]
    assert total == pytest.approx(0.3 * parts[0][0] + 0.7 * parts[1][0], rel=1e-14)
    np.testing.assert_allclose(grads[1], 0.7 * parts[1][1], rtol=1e-14)
    with pytest.raises(ValueError, match="one weight"):
        V.style_cost(acts_s, acts_g, [1.0])


def test_style_functions_reject_bad_input(rng):
    a = rng.standard_normal((2, 3, 3))
    with pytest.raises(ValueError, match="same shape"):
        V.content_cost(a, a[:, :2])
    with pytest.raises(ValueError, match="same shape"):
        V.style_layer_cost(a, a[:1])
    with pytest.raises(ValueError, match=r"\(C, H, W\)"):
        V.gram_matrix(a[0])
    with pytest.raises(ValueError, match="non-empty"):
        V.gram_matrix(np.zeros((2, 0, 3)))
    _, cache = V.gram_matrix_forward(a)
    with pytest.raises(ValueError, match=r"\(C, C\)"):
        V.gram_matrix_backward(np.ones((3, 3)), cache)
