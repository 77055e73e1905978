"""Robustness cases of group g2: conv, conv_transpose, pooling, shapes, detection, style, rnn,
gated, recurrent_common and attention (see spec.py).

References are torch in float64 where torch has the operation (``F.conv2d``, pooling,
``torch.nn.RNN``/``GRU``/``LSTM`` through ``dlnotes.verify.torch_recurrent``, SDPA, autograd
for the backwards). torchvision is not installed, so the box functions are checked against
exact rational arithmetic (``fractions.Fraction``), which also gives the right answer at 1e300
where the float formula overflows; the triplet loss likewise. Each reference is computed on the
*mutated* input, so NaN, inf and 1e300 must give what the reference gives.
"""
from __future__ import annotations

import math
from fractions import Fraction
from itertools import pairwise

import numpy as np
import torch
import torch.nn.functional as F

from dlnotes import attention as AT
from dlnotes import conv as CV
from dlnotes import conv_transpose as CT
from dlnotes import detection as DT
from dlnotes import gated as GT
from dlnotes import pooling as PL
from dlnotes import recurrent_common as RC
from dlnotes import rnn as RN
from dlnotes import shapes as SH
from dlnotes import style as ST
from dlnotes.verify import torch_recurrent

from .spec import Case
from .torch_helpers import _f64, _n, _t

CASES: list[Case] = []
EXCLUDED: dict[str, str] = {}

_CACHE_REASON = ("a cache type (NamedTuple) that its forward builds; the cache-mixing and "
                 "aliasing tests cover it")


def _vjp(op, names, upstream):
    """Reference for a backward: the autograd gradients of op(*inputs) against ``upstream``."""
    def reference(kw):
        ts = [_t(kw[k], grad=True) for k in names]
        op(*ts).backward(_t(kw[upstream]))
        return tuple(_n(t.grad) for t in ts)
    return reference


# --- conv ------------------------------------------------------------------------------------

def _conv(rng):
    return {"x": rng.standard_normal((2, 3, 6, 5)), "w": rng.standard_normal((4, 3, 3, 2)),
            "b": rng.standard_normal(4), "dout": rng.standard_normal((2, 4, 3, 2))}


_CONV_OPTS = {"stride": (2, 2), "pad": (1, 0)}


def _torch_conv(x, w, b):
    return F.conv2d(x, w, b, stride=(2, 2), padding=(1, 0))


for _fwd, _bwd in ((CV.conv2d_forward, CV.conv2d_backward),
                   (CV.conv2d_forward_naive, CV.conv2d_backward_naive)):
    CASES += [
        Case(func=f"dlnotes.conv.{_fwd.__name__}", make=_conv, arrays=("x", "w", "b"),
             call=lambda kw, f=_fwd: f(kw["x"], kw["w"], kw["b"], **_CONV_OPTS)[0],
             reference=lambda kw: _n(_torch_conv(_t(kw["x"]), _t(kw["w"]), _t(kw["b"])))),
        Case(func=f"dlnotes.conv.{_bwd.__name__}", make=_conv, arrays=("dout",),
             call=lambda kw, f=_fwd, g=_bwd: g(kw["dout"], f(kw["x"], kw["w"], kw["b"],
                                                             **_CONV_OPTS)[1]),
             reference=_vjp(_torch_conv, ("x", "w", "b"), "dout")),
    ]


def _torch_out_size(kw):
    x = torch.zeros(1, 1, kw["n"], 1, dtype=torch.float64)
    return F.conv2d(x, torch.zeros(1, 1, kw["f"], 1, dtype=torch.float64),
                    padding=(kw["pad"], 0), stride=(kw["stride"], 1)).shape[2]


def _torch_transpose_size(kw):
    x = torch.zeros(1, 1, kw["n"], 1, dtype=torch.float64)
    return F.conv_transpose2d(x, torch.zeros(1, 1, kw["f"], 1, dtype=torch.float64),
                              padding=(kw["pad"], 0), stride=(kw["stride"], 1),
                              output_padding=(kw["output_padding"], 0)).shape[2]


def _receptive_reference(kw):
    """Brute force: which inputs of a 1-D stack of ones-kernels reach the first output."""
    x = torch.zeros(1, 1, 200, dtype=torch.float64, requires_grad=True)
    h = x
    for k, s in kw["layers"]:
        h = F.conv1d(h, torch.ones(1, 1, k, dtype=torch.float64), stride=s)
    h[0, 0, 0].backward()
    return int((x.grad != 0).sum())


CASES += [
    Case(func="dlnotes.conv.conv_output_size",
         make=lambda rng: {"n": int(rng.integers(5, 30)), "f": int(rng.integers(1, 5)),
                           "pad": int(rng.integers(0, 3)), "stride": int(rng.integers(1, 4))},
         reference=_torch_out_size),
    Case(func="dlnotes.conv.conv_transpose_output_size",
         make=lambda rng: {"n": int(rng.integers(2, 20)), "f": int(rng.integers(1, 5)),
                           "pad": 0, "stride": 3, "output_padding": int(rng.integers(0, 3))},
         reference=_torch_transpose_size),
    Case(func="dlnotes.conv.receptive_field",
         make=lambda rng: {"layers": [(int(rng.integers(1, 5)), int(rng.integers(1, 3)))
                                      for _ in range(3)]},
         reference=_receptive_reference),
]
EXCLUDED["dlnotes.conv.im2col"] = EXCLUDED["dlnotes.conv.col2im"] = (
    "the im2col/col2im kernel that conv2d_forward/backward and conv_transpose2d call on "
    "arguments they have already checked; no input checks by design (its docstring)")
EXCLUDED["dlnotes.conv.Conv2dCache"] = EXCLUDED["dlnotes.conv.Conv2dNaiveCache"] = \
    _CACHE_REASON


# --- conv_transpose --------------------------------------------------------------------------

def _convt(rng):
    return {"x": rng.standard_normal((2, 3, 4, 3)), "w": rng.standard_normal((3, 2, 3, 2)),
            "b": rng.standard_normal(2), "dout": rng.standard_normal((2, 2, 10, 6))}


def _torch_convt(x, w, b):
    return F.conv_transpose2d(x, w, b, stride=(2, 2), padding=(0, 0), output_padding=(1, 0))


_CT_OPTS = {"stride": 2, "pad": 0, "output_padding": (1, 0)}
CASES += [
    Case(func="dlnotes.conv_transpose.conv_transpose2d_forward", make=_convt,
         arrays=("x", "w", "b"),
         call=lambda kw: CT.conv_transpose2d_forward(kw["x"], kw["w"], kw["b"], **_CT_OPTS)[0],
         reference=lambda kw: _n(_torch_convt(_t(kw["x"]), _t(kw["w"]), _t(kw["b"])))),
    Case(func="dlnotes.conv_transpose.conv_transpose2d_backward", make=_convt, arrays=("dout",),
         call=lambda kw: CT.conv_transpose2d_backward(
             kw["dout"], CT.conv_transpose2d_forward(kw["x"], kw["w"], kw["b"], **_CT_OPTS)[1]),
         reference=_vjp(_torch_convt, ("x", "w", "b"), "dout")),
]
EXCLUDED["dlnotes.conv_transpose.ConvTranspose2dCache"] = _CACHE_REASON


# --- pooling ---------------------------------------------------------------------------------

def _pool(rng):
    return {"x": rng.standard_normal((2, 3, 6, 7)), "dout": rng.standard_normal((2, 3, 2, 3))}


for _name, _op in (("maxpool2d", F.max_pool2d), ("avgpool2d", F.avg_pool2d)):
    _fwd, _bwd = getattr(PL, f"{_name}_forward"), getattr(PL, f"{_name}_backward")
    CASES += [
        Case(func=f"dlnotes.pooling.{_name}_forward", make=_pool, arrays=("x",),
             call=lambda kw, f=_fwd: f(kw["x"], 3, 2)[0],
             reference=lambda kw, op=_op: _n(op(_t(kw["x"]), 3, 2))),
        Case(func=f"dlnotes.pooling.{_name}_backward", make=_pool, arrays=("dout",),
             call=lambda kw, f=_fwd, g=_bwd: g(kw["dout"], f(kw["x"], 3, 2)[1]),
             reference=_vjp(lambda x, op=_op: op(x, 3, 2), ("x",), "dout"),
             output=lambda r: (r,)),
    ]
EXCLUDED["dlnotes.pooling.MaxPool2dCache"] = EXCLUDED["dlnotes.pooling.AvgPool2dCache"] = \
    _CACHE_REASON


# --- shapes ----------------------------------------------------------------------------------

def _torch_param_count(kw):
    sizes = [int(n) for n in np.asarray(kw["sizes"]).ravel()]
    layers = [torch.nn.Linear(a, b) for a, b in pairwise(sizes)]
    weights = sum(layer.weight.numel() for layer in layers)
    biases = sum(layer.bias.numel() for layer in layers)
    return (sum(sizes[1:]), weights, biases)


def _torch_layer_shapes(kw):
    sizes = [int(n) for n in np.asarray(kw["sizes"]).ravel()]
    return [(tuple(layer.weight.shape), tuple(layer.bias.shape))
            for layer in (torch.nn.Linear(a, b) for a, b in pairwise(sizes))]


def _torch_table_params(kw):
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU(),
                                torch.nn.MaxPool2d(2), torch.nn.Flatten(),
                                torch.nn.Linear(8 * 8 * 8, 10))
    return sum(p.numel() for p in model.parameters())


def _small_net():
    return [SH.conv(8, 3, padding=1), SH.act(), SH.pool(2), SH.flatten(), SH.fc(10)]


_SIZES = lambda rng: {"sizes": rng.integers(1, 9, size=4)}  # noqa: E731
CASES += [
    Case(func="dlnotes.shapes.mlp_parameter_count", make=_SIZES, arrays=("sizes",),
         call=lambda kw: tuple(SH.mlp_parameter_count(kw["sizes"])),
         reference=_torch_param_count),
    Case(func="dlnotes.shapes.mlp_layer_shapes", make=_SIZES, arrays=("sizes",),
         reference=_torch_layer_shapes),
    Case(func="dlnotes.shapes.parameter_count",
         make=lambda rng: {"layers": _small_net(), "input_shape": (3, 16, 16)},
         reference=_torch_table_params),
    Case(func="dlnotes.shapes.shape_table",
         make=lambda rng: {"layers": _small_net(), "input_shape": (3, 16, 16)},
         call=lambda kw: [r.shape for r in SH.shape_table(kw["layers"], kw["input_shape"])],
         reference=lambda kw: [(8, 16, 16), (8, 16, 16), (8, 8, 8), (512,), (10,)]),
    Case(func="dlnotes.shapes.format_table",
         make=lambda rng: {"rows": SH.shape_table(_small_net(), (3, 16, 16)),
                           "input_shape": (3, 16, 16)},
         call=lambda kw: SH.format_table(kw["rows"], kw["input_shape"]).splitlines()[-1].split(),
         reference=lambda kw: ["total", f"{_torch_table_params(kw):,}"]),
    Case(func="dlnotes.shapes.conv_parameters",
         make=lambda rng: {"kernel": 3, "in_channels": 4, "out_channels": 6, "groups": 2},
         reference=lambda kw: sum(p.numel() for p in torch.nn.Conv2d(4, 6, 3, groups=2)
                                  .parameters())),
    Case(func="dlnotes.shapes.same_padding", make=lambda rng: {"kernel": 5},
         reference=lambda kw: 2),
    Case(func="dlnotes.shapes.describe", make=lambda rng: {"layer": SH.pool(3, 2)},
         reference=lambda kw: "maxpool 3x3/2"),
    Case(func="dlnotes.shapes.conv", make=lambda rng: {"filters": 4, "kernel": 3},
         call=lambda kw: SH.conv(**kw).size),
    Case(func="dlnotes.shapes.pool", make=lambda rng: {"kernel": 2},
         call=lambda kw: SH.pool(**kw).stride, reference=lambda kw: 2),
    Case(func="dlnotes.shapes.act", make=lambda rng: {"name": "tanh"},
         call=lambda kw: SH.act(**kw).mode, reference=lambda kw: "tanh"),
    Case(func="dlnotes.shapes.dropout", make=lambda rng: {},
         call=lambda kw: SH.dropout().kind, reference=lambda kw: "dropout"),
    Case(func="dlnotes.shapes.flatten", make=lambda rng: {},
         call=lambda kw: SH.flatten().kind, reference=lambda kw: "flatten"),
    Case(func="dlnotes.shapes.fc", make=lambda rng: {"features": 7},
         call=lambda kw: SH.fc(**kw).size, reference=lambda kw: 7),
    Case(func="dlnotes.shapes.lenet5_spec", make=lambda rng: {"num_classes": np.int64(10)},
         call=lambda kw: SH.parameter_count(SH.lenet5_spec(**kw), (1, 32, 32)),
         reference=lambda kw: 61706),
    Case(func="dlnotes.shapes.alexnet_spec", make=lambda rng: {"num_classes": 1000},
         call=lambda kw: SH.parameter_count(SH.alexnet_spec(**kw), (3, 227, 227)),
         reference=lambda kw: 62378344),
    Case(func="dlnotes.shapes.vgg16_spec", make=lambda rng: {"num_classes": 1000},
         call=lambda kw: SH.parameter_count(SH.vgg16_spec(**kw), (3, 224, 224)),
         reference=lambda kw: 138357544),
]
for _name in ("Layer", "Row", "ParameterCount"):
    EXCLUDED[f"dlnotes.shapes.{_name}"] = (
        "a NamedTuple record (a layer spec or a table row) that the builder functions "
        "make and check; it holds no arrays")


# --- detection -------------------------------------------------------------------------------

def _boxes(rng, n):
    xy = rng.uniform(0, 50, size=(n, 2))
    return np.hstack([xy, xy + rng.uniform(1, 30, size=(n, 2))])


def _exact_iou(a, b) -> float:
    a, b = [Fraction(float(v)) for v in a], [Fraction(float(v)) for v in b]
    iw = max(Fraction(0), min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(Fraction(0), min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def _check_ref_boxes(b):
    b = _f64(b)
    if b.ndim != 2 or b.shape[1] != 4 or not np.isfinite(b).all() or \
            np.any(b[:, 2:] < b[:, :2]):
        raise ValueError("not (N, 4) finite ordered boxes")
    return b


def _iou_reference(kw):
    a, b = _check_ref_boxes(kw["boxes_a"]), _check_ref_boxes(kw["boxes_b"])
    return np.array([[_exact_iou(x, y) for y in b] for x in a]).reshape(len(a), len(b))


def _nms_reference(boxes, scores, thr):
    boxes, scores = _check_ref_boxes(boxes), _f64(scores)
    if scores.shape != (len(boxes),) or not np.isfinite(scores).all():
        raise ValueError("scores")
    keep = []
    for i in sorted(range(len(boxes)), key=lambda i: (-scores[i], i)):
        if all(_exact_iou(boxes[i], boxes[j]) <= thr for j in keep):
            keep.append(i)
    return np.array(keep, dtype=np.int64)


def _batched_reference(kw):
    boxes, scores = _check_ref_boxes(kw["boxes"]), _f64(kw["scores"])
    classes = np.asarray(kw["classes"])
    if classes.dtype.kind not in "iu" or classes.shape != scores.shape:
        raise ValueError("classes")
    keep = []
    for c in np.unique(classes):
        idx = np.flatnonzero(classes == c)
        keep += [idx[k] for k in _nms_reference(boxes[idx], scores[idx], kw["iou_threshold"])]
    return np.array(sorted(keep, key=lambda i: (-scores[i], i)), dtype=np.int64)


def _area_reference(kw):
    b = _check_ref_boxes(kw["boxes"])
    return np.array([float((Fraction(r[2]) - Fraction(r[0])) * (Fraction(r[3]) - Fraction(r[1])))
                     if (r[2] - r[0]) * (r[3] - r[1]) < np.inf else np.inf for r in b])


ANCHORS = np.array([[10.0, 20.0], [20.0, 10.0], [15.0, 15.0]])


def _scene_boxes(rng):
    """Boxes inside a 60 x 90 image with the assignment to a 3 x 5 grid."""
    boxes = _boxes(rng, 4) * 0.8 + 2
    return boxes, DT.assign_to_anchors(boxes, (60, 90), (3, 5), ANCHORS)


def _torch_decode(kw):
    t, p = _t(kw["t"]), _t(kw["anchor_sizes"])
    Sy, Sx = t.shape[:2]
    H, W = kw["image_size"]
    col = torch.arange(Sx, dtype=torch.float64)[None, :, None]
    row = torch.arange(Sy, dtype=torch.float64)[:, None, None]
    cx, cy = (col + torch.sigmoid(t[..., 0])) * W / Sx, (row + torch.sigmoid(t[..., 1])) * H / Sy
    w, h = p[:, 0] * torch.exp(t[..., 2]), p[:, 1] * torch.exp(t[..., 3])
    return _n(torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], dim=-1))


CASES += [
    Case(func="dlnotes.detection.iou",
         make=lambda rng: {"boxes_a": _boxes(rng, 3), "boxes_b": _boxes(rng, 4)},
         arrays=("boxes_a", "boxes_b"), reference=_iou_reference),
    Case(func="dlnotes.detection.box_area", make=lambda rng: {"boxes": _boxes(rng, 4)},
         arrays=("boxes",), reference=_area_reference),
    Case(func="dlnotes.detection.corners_to_center", make=lambda rng: {"boxes": _boxes(rng, 4)},
         arrays=("boxes",),
         reference=lambda kw: (lambda b: np.hstack([(b[:, :2] + b[:, 2:]) / 2,
                                                    b[:, 2:] - b[:, :2]]))(
             _check_ref_boxes(kw["boxes"])),
         expect={"huge": "valid: the centre and size of 1e300 boxes are finite"}),
    Case(func="dlnotes.detection.center_to_corners",
         make=lambda rng: {"boxes": np.hstack([rng.uniform(0, 50, (4, 2)),
                                               rng.uniform(1, 9, (4, 2))])},
         arrays=("boxes",),
         expect={"transposed": "valid: a (4, 4) transpose is another set of boxes, or "
                               "refused for a negative width",
                 "empty": "valid: no boxes in, no boxes out (as torchvision)",
                 "huge": "valid: corners of 1e300 boxes are finite"}),
    Case(func="dlnotes.detection.nms",
         make=lambda rng: {"boxes": _boxes(rng, 6), "scores": rng.uniform(size=6),
                           "iou_threshold": 0.3},
         arrays=("boxes", "scores"),
         reference=lambda kw: _nms_reference(kw["boxes"], kw["scores"], kw["iou_threshold"])),
    Case(func="dlnotes.detection.batched_nms",
         make=lambda rng: {"boxes": _boxes(rng, 6), "scores": rng.uniform(size=6),
                           "classes": rng.integers(0, 2, size=6), "iou_threshold": 0.3},
         arrays=("boxes", "scores", "classes"), reference=_batched_reference),
    Case(func="dlnotes.detection.anchor_boxes",
         make=lambda rng: {"image_size": (60, 90), "grid_size": (3, 5),
                           "anchor_sizes": ANCHORS * rng.uniform(0.5, 2)},
         arrays=("anchor_sizes",),
         expect={"huge": "valid: anchors of 1e300 are finite corner boxes"}),
    Case(func="dlnotes.detection.shape_iou",
         make=lambda rng: {"sizes_a": rng.uniform(1, 30, (3, 2)), "sizes_b": ANCHORS},
         arrays=("sizes_a", "sizes_b"),
         reference=lambda kw: _iou_reference(
             {"boxes_a": np.hstack([-_f64(kw["sizes_a"]) / 2, _f64(kw["sizes_a"]) / 2])
              if np.ndim(kw["sizes_a"]) == 2 else np.zeros(3),
              "boxes_b": np.hstack([-_f64(kw["sizes_b"]) / 2, _f64(kw["sizes_b"]) / 2])
              if np.ndim(kw["sizes_b"]) == 2 else np.zeros(3)})),
    Case(func="dlnotes.detection.assign_to_anchors",
         make=lambda rng: {"boxes": _scene_boxes(rng)[0], "image_size": (60, 90),
                           "grid_size": (3, 5), "anchor_sizes": ANCHORS},
         arrays=("boxes", "anchor_sizes"),
         expect={"anchor_sizes:huge": "valid: 1e300 anchors still rank the shapes",
                 "boxes:empty": "valid: no objects, no assignments"}),
    Case(func="dlnotes.detection.encode_boxes",
         make=lambda rng: dict(zip(("boxes", "assignment"), _scene_boxes(rng), strict=True),
                               image_size=(60, 90), grid_size=(3, 5), anchor_sizes=ANCHORS),
         arrays=("boxes", "assignment", "anchor_sizes"),
         expect={"anchor_sizes:huge": "valid: log(w / 1e300) is a finite target"}),
    Case(func="dlnotes.detection.decode_predictions",
         make=lambda rng: {"t": rng.standard_normal((3, 5, 3, 4)), "image_size": (60, 90),
                           "anchor_sizes": ANCHORS},
         arrays=("t", "anchor_sizes"), reference=_torch_decode),
    Case(func="dlnotes.detection.synthetic_scene",
         make=lambda rng: {"rng": np.random.default_rng(int(rng.integers(1000))),
                           "image_size": (40, 50), "n_objects": np.int64(3)},
         call=lambda kw: DT.synthetic_scene(**kw).boxes.shape, reference=lambda kw: (3, 4)),
]
EXCLUDED["dlnotes.detection.Scene"] = (
    "a NamedTuple record (image, boxes, labels) that synthetic_scene returns; it computes "
    "nothing")


# --- style -----------------------------------------------------------------------------------

def _triplet(rng):
    return {"anchor": rng.standard_normal((5, 3)), "positive": rng.standard_normal((5, 3)),
            "negative": rng.standard_normal((5, 3)), "margin": 0.5}


def _exact_triplet(kw) -> float:
    """Exact rational arithmetic row by row; a row with inf or NaN in IEEE arithmetic (the
    squared-distance formula, as torch evaluates it: inf - inf is NaN)."""
    a, p, n = (_f64(kw[k]) for k in ("anchor", "positive", "negative"))
    if not (a.ndim == 2 and a.shape == p.shape == n.shape):
        raise ValueError("shapes")
    m, total, special = Fraction(kw["margin"]), Fraction(0), 0.0
    for ai, pi, ni in zip(a, p, n, strict=True):
        if not np.isfinite(np.concatenate([ai, pi, ni])).all():
            with np.errstate(all="ignore"):
                d = np.sum((ai - pi) ** 2) - np.sum((ai - ni) ** 2) + float(m)
            special += float(np.maximum(d, 0.0))
            continue
        d = sum((Fraction(x) - Fraction(y)) ** 2 for x, y in zip(ai, pi, strict=True)) - \
            sum((Fraction(x) - Fraction(y)) ** 2 for x, y in zip(ai, ni, strict=True)) + m
        total += max(d, Fraction(0))
    exact = float(total) if total < Fraction(10) ** 308 else math.inf
    return exact + special


def _torch_gram(a):
    a2 = a.reshape(a.shape[0], -1)
    return a2 @ a2.T


def _torch_content(kw):
    a_c, a_g = _t(kw["a_c"]), _t(kw["a_g"], grad=True)
    cost = F.mse_loss(a_g, a_c, reduction="sum") / (4 * a_c.numel())
    cost.backward()
    return cost.item(), _n(a_g.grad)


def _torch_style(kw):
    a_s, a_g = _t(kw["a_s"]), _t(kw["a_g"], grad=True)
    C, H, W = a_s.shape
    cost = F.mse_loss(_torch_gram(a_g), _torch_gram(a_s), reduction="sum") / (4 * C**2 * (H * W)**2)
    cost.backward()
    return cost.item(), _n(a_g.grad)


def _acts(rng):
    return {"a_s": rng.standard_normal((3, 4, 5)), "a_g": rng.standard_normal((3, 4, 5))}


_GRAM_OVERFLOW = {"huge": "propagates: products of 1e300 entries exceed the largest float; "
                          "+inf, -inf or NaN (when they meet) depends on summation order, "
                          "torch's BLAS and NumPy's differ"}
_STYLE_OVERFLOW = {"huge": "propagates: Gram entries of 1e300 activations exceed the largest "
                           "float (the cost is ~1e1200), inf or NaN as in torch"}
CASES += [
    Case(func="dlnotes.style.triplet_loss_forward", make=_triplet,
         arrays=("anchor", "positive", "negative"),
         call=lambda kw: ST.triplet_loss_forward(**kw)[0], reference=_exact_triplet),
    Case(func="dlnotes.style.triplet_loss", make=_triplet,
         arrays=("anchor", "positive", "negative"),
         output=lambda r: r[0], reference=_exact_triplet),
    Case(func="dlnotes.style.triplet_loss_backward",
         make=lambda rng: {**_triplet(rng), "dloss": np.float64(rng.uniform(0.5, 2))},
         arrays=("dloss",),
         call=lambda kw: ST.triplet_loss_backward(
             kw["dloss"], ST.triplet_loss_forward(kw["anchor"], kw["positive"], kw["negative"],
                                                  kw["margin"])[1])),
    Case(func="dlnotes.style.gram_matrix", make=lambda rng: {"a": rng.standard_normal((3, 4, 5))},
         arrays=("a",), reference=lambda kw: _n(_torch_gram(_t(kw["a"]))),
         expect=_GRAM_OVERFLOW),
    Case(func="dlnotes.style.gram_matrix_forward",
         make=lambda rng: {"a": rng.standard_normal((3, 4, 5))}, arrays=("a",),
         output=lambda r: r[0], reference=lambda kw: _n(_torch_gram(_t(kw["a"]))),
         expect=_GRAM_OVERFLOW),
    Case(func="dlnotes.style.gram_matrix_backward",
         make=lambda rng: {"a": rng.standard_normal((3, 4, 5)), "dG": rng.standard_normal((3, 3))},
         arrays=("dG",),
         call=lambda kw: ST.gram_matrix_backward(kw["dG"], ST.gram_matrix_forward(kw["a"])[1]),
         reference=_vjp(_torch_gram, ("a",), "dG"), output=lambda r: (r,)),
    Case(func="dlnotes.style.content_cost",
         make=lambda rng: {"a_c": rng.standard_normal((3, 4, 5)),
                           "a_g": rng.standard_normal((3, 4, 5))},
         arrays=("a_c", "a_g"), reference=_torch_content),
    Case(func="dlnotes.style.style_layer_cost", make=_acts, arrays=("a_s", "a_g"),
         reference=_torch_style, expect=_STYLE_OVERFLOW),
    Case(func="dlnotes.style.style_cost",
         make=lambda rng: {**_acts(rng), "weights": rng.uniform(0.1, 1, size=2)},
         call=lambda kw: ST.style_cost([kw["a_s"], kw["a_s"]], [kw["a_g"], kw["a_g"]],
                                       kw["weights"])[0],
         arrays=("weights",),
         reference=lambda kw: float(np.sum(_f64(kw["weights"]))) * _torch_style(kw)[0]
         if np.shape(kw["weights"]) == (2,) else None,
         expect={"huge": "valid: weights of 1e300 times a finite cost (reference)"}),
]
EXCLUDED["dlnotes.style.TripletCache"] = EXCLUDED["dlnotes.style.GramCache"] = _CACHE_REASON


# --- rnn and gated ---------------------------------------------------------------------------

_GATES = {"rnn": 1, "gru": 3, "lstm": 4, "simple_gru": 2}
_T, _N, _D, _H = 4, 2, 3, 5


def _recurrent(kind, cell=False):
    def make(rng):
        G = _GATES[kind]
        kw = {"x": rng.standard_normal((_N, _D) if cell else (_T, _N, _D)),
              "h0": rng.standard_normal((_N, _H))}
        if kind == "lstm":
            kw["c0"] = rng.standard_normal((_N, _H))
        kw.update(w_ih=0.5 * rng.standard_normal((G * _H, _D)),
                  w_hh=0.5 * rng.standard_normal((G * _H, _H)),
                  b_ih=rng.standard_normal(G * _H), b_hh=rng.standard_normal(G * _H),
                  dh=rng.standard_normal((_N, _H) if cell else (_T, _N, _H)))
        if kind == "lstm" and cell:
            kw["dc"] = rng.standard_normal((_N, _H))
        return kw
    return make


def _args(kind, kw):
    return [kw[k] for k in ("x", "h0", "c0", "w_ih", "w_hh", "b_ih", "b_hh") if k in kw
            and (k != "c0" or kind == "lstm")]


def _torch_simple_gru(x, h, w_ih, w_hh, b_ih, b_hh):
    """The simplified GRU composed of torch operations: unlike torch_recurrent("simple_gru")
    (nn.GRU with the reset gate held open by weights 0), it has no 0 * inf for infinite input."""
    H = h.shape[1]
    outs = []
    for x_t in x:
        a = F.linear(x_t, w_ih, b_ih) + F.linear(h, w_hh, b_hh)
        u, c = torch.sigmoid(a[:, :H]), torch.tanh(a[:, H:])
        h = torch.lerp(h, c, u)
        outs.append(h)
    return torch.stack(outs)


def _torch_layer(kind, cell):
    if kind == "simple_gru":
        return _torch_simple_gru
    return torch_recurrent(kind, cell=cell)


_NAMES = {"lstm": ("x", "h0", "c0", "w_ih", "w_hh", "b_ih", "b_hh")}


def _forward_reference(kind, cell):
    def reference(kw):
        out = _torch_layer(kind, cell)(*[_t(a) for a in _args(kind, kw)])
        if kind == "lstm" and cell:
            return _n(out[:, :_H]), _n(out[:, _H:])
        return _n(out)
    return reference


def _backward_reference(kind, cell):
    def reference(kw):
        ts = [_t(a, grad=True) for a in _args(kind, kw)]
        out = _torch_layer(kind, cell)(*ts)
        up = _t(kw["dh"]) if not (kind == "lstm" and cell) else \
            torch.cat([_t(kw["dh"]), _t(kw["dc"])], dim=1)
        out.backward(up)
        grads = [_n(t.grad) for t in ts]
        if kind == "lstm":                  # ours: dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh
            return tuple(grads)
        return tuple(grads)
    return reference


_INF_UPSTREAM = {"inf": "propagates: an infinite upstream gradient meets gradients of both "
                       "signs; inf or NaN depends on the order of the sums (torch's differs)"}
for _kind in ("rnn", "gru", "lstm", "simple_gru"):
    _mod, _modname = (RN, "rnn") if _kind == "rnn" else (GT, "gated")
    _fwd, _bwd = getattr(_mod, f"{_kind}_forward"), getattr(_mod, f"{_kind}_backward")
    _in = ("x", "h0", "c0", "w_ih", "w_hh", "b_ih", "b_hh") if _kind == "lstm" else \
        ("x", "h0", "w_ih", "w_hh", "b_ih", "b_hh")
    CASES += [
        Case(func=f"dlnotes.{_modname}.{_kind}_forward", make=_recurrent(_kind), arrays=_in,
             call=lambda kw, f=_fwd, k=_kind: f(*_args(k, kw))[0],
             reference=_forward_reference(_kind, False)),
        Case(func=f"dlnotes.{_modname}.{_kind}_backward", make=_recurrent(_kind), arrays=("dh",),
             call=lambda kw, f=_fwd, g=_bwd, k=_kind: g(kw["dh"], f(*_args(k, kw))[1]),
             reference=_backward_reference(_kind, False), expect=_INF_UPSTREAM),
    ]
    if _kind == "simple_gru":
        continue
    _cf, _cb = getattr(_mod, f"{_kind}_cell_forward"), getattr(_mod, f"{_kind}_cell_backward")
    _cin = tuple(n if n != "h0" else "h0" for n in _in)
    if _kind == "lstm":
        _fcall = lambda kw, f=_cf: f(*_args("lstm", kw))[:2]   # noqa: E731
        _bcall = lambda kw, f=_cf, g=_cb: g(kw["dh"], kw["dc"], f(*_args("lstm", kw))[2])  # noqa
        _barr = ("dh", "dc")
    else:
        _fcall = lambda kw, f=_cf, k=_kind: f(*_args(k, kw))[0]   # noqa: E731
        _bcall = lambda kw, f=_cf, g=_cb, k=_kind: g(kw["dh"], f(*_args(k, kw))[1])  # noqa
        _barr = ("dh",)
    CASES += [
        Case(func=f"dlnotes.{_modname}.{_kind}_cell_forward", make=_recurrent(_kind, True),
             arrays=_cin, call=_fcall, reference=_forward_reference(_kind, True),
             aliases={"h0": ("h_prev",), "c0": ("c_prev",)}),
        Case(func=f"dlnotes.{_modname}.{_kind}_cell_backward", make=_recurrent(_kind, True),
             arrays=_barr, call=_bcall, reference=_backward_reference(_kind, True),
             expect=_INF_UPSTREAM,
             aliases={"dh": ("dh_next",), "dc": ("dc_next",)}),
    ]
for _name in ("RNNCache", "RNNCellCache"):
    EXCLUDED[f"dlnotes.rnn.{_name}"] = _CACHE_REASON
for _name in ("GRUCache", "GRUCellCache", "LSTMCache", "LSTMCellCache", "SimpleGRUCache"):
    EXCLUDED[f"dlnotes.gated.{_name}"] = _CACHE_REASON


def _clip_reference(kw):
    g = _f64(kw["g"])
    if g.dtype.kind not in "f" or not np.isrealobj(kw["g"]):
        raise TypeError("g")
    norm = math.hypot(*g.ravel().tolist()) if g.size else 0.0
    scale = math.nan if math.isnan(norm) else min(1.0, kw["max_norm"] / (norm + 1e-6))
    return _f64(g) * scale, norm


CASES.append(Case(
    func="dlnotes.rnn.clip_grad_norm",
    make=lambda rng: {"g": 10 * rng.standard_normal((3, 4)), "max_norm": 1.0}, arrays=("g",),
    call=lambda kw: (lambda r: (r[0]["w"], r[1]))(RN.clip_grad_norm({"w": kw["g"]},
                                                                    kw["max_norm"])),
    reference=_clip_reference, aliases={"g": ("grads",)},
    expect={m: "valid: a gradient of any shape is clipped (torch takes any shape)"
            for m in ("transposed", "extra_axis", "missing_axis", "empty")}))


# --- recurrent_common ------------------------------------------------------------------------

def _common(rng):
    kw = _recurrent("gru")(rng)
    kw.pop("dh")
    return kw


CASES += [
    Case(func="dlnotes.recurrent_common.check_recurrent_args", make=_common,
         arrays=("x", "h0", "w_ih", "w_hh", "b_ih", "b_hh"),
         call=lambda kw: RC.check_recurrent_args(*_args("gru", kw), 3, "a GRU"),
         reference=lambda kw: tuple(_f64(a) for a in _args("gru", kw)),
         expect={"nan": "valid: the checks are about shapes and dtypes; NaN is the layer's "
                        "to propagate", "inf": "valid: as NaN", "huge": "valid: as NaN"}),
    Case(func="dlnotes.recurrent_common.check_upstream",
         make=lambda rng: {"d": rng.standard_normal((3, 2)), "shape": (3, 2), "name": "dh",
                           "hint": "(N, H)"},
         arrays=("d",), aliases={"d": ("dh",)}, reference=lambda kw: _f64(kw["d"]),
         expect={"nan": "valid: an upstream NaN is the backward's to propagate",
                 "inf": "valid: as NaN", "huge": "valid: as NaN"}),
]
EXCLUDED["dlnotes.recurrent_common.steps_matmul"] = EXCLUDED[
    "dlnotes.recurrent_common.gate_sigmoid"] = (
    "an inner kernel of the recurrent time loops, called on checked arrays; no input checks "
    "by design (its docstring says internal use only)")


# --- attention -------------------------------------------------------------------------------

def _sdpa(rng):
    return {"q": rng.standard_normal((2, 3, 4)), "k": rng.standard_normal((2, 5, 4)),
            "v": rng.standard_normal((2, 5, 6)), "mask": AT.causal_mask(3, 5),
            "dout": rng.standard_normal((2, 3, 6))}


def _torch_sdpa(q, k, v, mask):
    return F.scaled_dot_product_attention(q, k, v, attn_mask=torch.as_tensor(mask))


def _sdpa_reference(kw):
    mask = np.asarray(kw["mask"])
    if mask.dtype != bool:
        raise TypeError("mask")
    return _n(_torch_sdpa(_t(kw["q"]), _t(kw["k"]), _t(kw["v"]), mask))


def _per_unit(dout) -> float:
    """The backward is linear in dout: compare gradients per unit of max |dout| (so that the
    rounding of 1e300-sized gradients is judged relative to their size, not by atol)."""
    top = float(np.max(np.abs(_f64(dout)), initial=0.0))
    return top if 1.0 < top < np.inf else 1.0


def _sdpa_backward_reference(kw):
    ts = [_t(kw[k], grad=True) for k in ("q", "k", "v")]
    _torch_sdpa(*ts, np.asarray(kw["mask"])).backward(_t(kw["dout"]))
    return tuple(_n(t.grad) / _per_unit(kw["dout"]) for t in ts)


def _additive(rng):
    return {"q": rng.standard_normal((2, 3, 4)), "k": rng.standard_normal((2, 5, 6)),
            "w_q": rng.standard_normal((7, 4)), "w_k": rng.standard_normal((7, 6)),
            "w_v": rng.standard_normal(7), "dscores": rng.standard_normal((2, 3, 5))}


def _torch_additive(q, k, w_q, w_k, w_v):
    """e_ij = w_v . tanh(W_q q_i + W_k k_j), one (i, j) pair at a time."""
    B, L, S = q.shape[0], q.shape[1], k.shape[1]
    rows = [torch.stack([torch.stack([torch.dot(w_v, torch.tanh(w_q @ q[b, i] + w_k @ k[b, j]))
                                      for j in range(S)]) for i in range(L)]) for b in range(B)]
    return torch.stack(rows)


_ADD_IN = ("q", "k", "w_q", "w_k", "w_v")
CASES += [
    Case(func="dlnotes.attention.scaled_dot_product_attention", make=_sdpa,
         arrays=("q", "k", "v", "mask"),
         call=lambda kw: AT.scaled_dot_product_attention(kw["q"], kw["k"], kw["v"],
                                                         kw["mask"])[0],
         reference=_sdpa_reference,
         expect={"q:inf": "propagates: a score of inf gives inf - inf = NaN in its row, as "
                          "in torch", "k:inf": "propagates: as for q"}),
    Case(func="dlnotes.attention.scaled_dot_product_attention_backward", make=_sdpa,
         arrays=("dout",),
         call=lambda kw: tuple(g / _per_unit(kw["dout"]) for g in
                               AT.scaled_dot_product_attention_backward(
             kw["dout"], AT.scaled_dot_product_attention(kw["q"], kw["k"], kw["v"],
                                                         kw["mask"])[1])),
         reference=_sdpa_backward_reference),
    Case(func="dlnotes.attention.additive_scores_forward", make=_additive, arrays=_ADD_IN,
         call=lambda kw: AT.additive_scores_forward(*[kw[k] for k in _ADD_IN])[0],
         reference=lambda kw: _n(_torch_additive(*[_t(kw[k]) for k in _ADD_IN]))),
    Case(func="dlnotes.attention.additive_scores_backward", make=_additive, arrays=("dscores",),
         call=lambda kw: AT.additive_scores_backward(
             kw["dscores"], AT.additive_scores_forward(*[kw[k] for k in _ADD_IN])[1]),
         reference=_vjp(_torch_additive, _ADD_IN, "dscores")),
    Case(func="dlnotes.attention.causal_mask",
         make=lambda rng: {"L": int(rng.integers(1, 6)), "S": np.int64(rng.integers(1, 6))},
         reference=lambda kw: _n(torch.ones(kw["L"], int(kw["S"])).tril().bool())),
    Case(func="dlnotes.attention.padding_mask",
         make=lambda rng: {"lengths": rng.integers(1, 6, size=3), "S": 5}, arrays=("lengths",),
         reference=lambda kw: np.array([[j < n for j in range(kw["S"])]
                                        for n in np.asarray(kw["lengths"]).tolist()],
                                       dtype=bool).reshape(-1, kw["S"])),
]
EXCLUDED["dlnotes.attention.AttentionCache"] = EXCLUDED["dlnotes.attention.AdditiveCache"] = \
    _CACHE_REASON
