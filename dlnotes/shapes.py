"""Output shapes and parameter counts of a CNN, layer by layer, from the size formulas alone.

Chapter: 02-convolutional-networks/05-classic-architectures. An architecture is a list of
layer specs made by :func:`conv`, :func:`pool`, :func:`act`, :func:`dropout`, :func:`flatten`
and :func:`fc`; :func:`shape_table` walks an input of shape ``(C, H, W)`` (PyTorch's layout
without the batch axis) through it. Kernels are square (k x k), as in every classic network.

    conv(F, k, s, p, g):  (C, H, W) -> (F, H', W'),  H' = floor((H + 2p - k) / s) + 1
                          (``dlnotes.conv.conv_output_size``),
                          parameters (k k C / g + 1) F       (one bias per filter)
    pool(k, s, p):        (C, H, W) -> (C, H', W'),  the same H' formula, no parameters
    act, dropout:         shape unchanged, no parameters
    flatten:              (C, H, W) -> (C H W,)
    fc(n):                (D,) -> (n,),  parameters (D + 1) n

The formulas are torch's (``Conv2d``, ``MaxPool2d``/``AvgPool2d`` with ``ceil_mode=False``,
``Linear``); the tests check every row against the modules built by
``dlnotes.torch_models.models``.

Fully connected networks (chapter 01-foundations/01-neurons-layers-parameters) are counted
by :func:`mlp_layer_shapes` and :func:`mlp_parameter_count`. A network with layer widths
``sizes = (n_0, n_1, ..., n_L)`` (n_0 inputs, n_L outputs) has L dense layers; layer l holds
a weight of shape ``(n_l, n_{l-1})``, torch.nn.Linear's ``(out, in)`` layout, and a bias of
shape ``(n_l,)``. Hence

    neurons    = sum_{l=1..L} n_l            (the inputs compute nothing: not neurons)
    weights    = sum_{l=1..L} n_{l-1} n_l
    biases     = sum_{l=1..L} n_l            (one per neuron)
    parameters = sum_{l=1..L} (n_{l-1} + 1) n_l
"""
from __future__ import annotations

import math
from itertools import pairwise
from typing import NamedTuple

import numpy as np

from .conv import conv_output_size
from .validation import as_int, check_positive_int

__all__ = ["Layer", "Row", "conv", "pool", "act", "dropout", "flatten", "fc", "same_padding",
           "conv_parameters", "shape_table", "parameter_count", "describe", "format_table",
           "lenet5_spec", "alexnet_spec", "vgg16_spec", "ParameterCount", "mlp_layer_shapes",
           "mlp_parameter_count"]

ACTIVATIONS = ("relu", "tanh", "sigmoid")
POOL_MODES = ("max", "avg")


class Layer(NamedTuple):
    """One layer spec; ``kind`` says which of the other fields matter."""
    kind: str              # "conv", "pool", "act", "dropout", "flatten" or "fc"
    size: int = 0          # conv: number of filters F; fc: number of outputs n
    kernel: int = 0        # conv and pool: window side k
    stride: int = 1
    padding: int = 0
    groups: int = 1        # conv only: channels split into g independent groups
    mode: str = ""         # pool: "max"/"avg"; act: "relu"/"tanh"/"sigmoid"
    bias: bool = True      # conv and fc


class Row(NamedTuple):
    """One line of a shape table: the layer, the shape it outputs, its parameters."""
    layer: str             # a label made by describe()
    kind: str              # the spec's kind, as in Layer
    shape: tuple           # (C, H, W) or (D,)
    params: int


def conv(filters: int, kernel: int, stride: int = 1, padding: int = 0, groups: int = 1,
         bias: bool = True) -> Layer:
    """A k x k convolution with ``filters`` output channels (``torch.nn.Conv2d``)."""
    filters = check_positive_int(filters, "filters")
    groups = check_positive_int(groups, "groups")
    if filters % groups:
        raise ValueError(f"filters={filters} must be divisible by groups={groups}")
    return Layer("conv", size=filters, kernel=check_positive_int(kernel, "kernel"),
                 stride=check_positive_int(stride, "stride"),
                 padding=_check_padding(padding), groups=groups, bias=_check_bool(bias))


def pool(kernel: int, stride: int | None = None, padding: int = 0, mode: str = "max") -> Layer:
    """A k x k max or average pooling window; the stride defaults to k, as in torch."""
    kernel = check_positive_int(kernel, "kernel")
    stride = kernel if stride is None else check_positive_int(stride, "stride")
    padding = _check_padding(padding)
    if padding > kernel // 2:
        raise ValueError(f"pool padding must be at most kernel // 2 = {kernel // 2} (as torch "
                         f"requires); got {padding}")
    if mode not in POOL_MODES:
        raise ValueError(f"mode must be one of {POOL_MODES}; got {mode!r}")
    return Layer("pool", kernel=kernel, stride=stride, padding=padding, mode=mode)


def act(name: str = "relu") -> Layer:
    """An elementwise activation: keeps the shape, has no parameters."""
    if name not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}; got {name!r}")
    return Layer("act", mode=name)


def dropout() -> Layer:
    """Dropout: keeps the shape, has no parameters."""
    return Layer("dropout")


def flatten() -> Layer:
    """Flatten a (C, H, W) volume into a vector of C H W features."""
    return Layer("flatten")


def fc(features: int, bias: bool = True) -> Layer:
    """A fully connected layer with ``features`` outputs (``torch.nn.Linear``)."""
    return Layer("fc", size=check_positive_int(features, "features"), bias=_check_bool(bias))


def same_padding(kernel: int) -> int:
    """The padding p = (k - 1) / 2 that keeps H and W unchanged at stride 1 (k must be odd)."""
    kernel = check_positive_int(kernel, "kernel")
    if kernel % 2 == 0:
        raise ValueError(f"a 'same' convolution needs an odd kernel; got kernel={kernel}")
    return (kernel - 1) // 2


def conv_parameters(kernel: int, in_channels: int, out_channels: int, groups: int = 1,
                    bias: bool = True) -> int:
    """Weights and biases of a k x k convolution: (k k C_in / g + 1) C_out (no +1 without bias)."""
    kernel = check_positive_int(kernel, "kernel")
    in_channels = check_positive_int(in_channels, "in_channels")
    out_channels = check_positive_int(out_channels, "out_channels")
    groups = check_positive_int(groups, "groups")
    if in_channels % groups or out_channels % groups:
        raise ValueError(f"in_channels={in_channels} and out_channels={out_channels} must both "
                         f"be divisible by groups={groups}")
    return (kernel * kernel * (in_channels // groups) + int(bool(bias))) * out_channels


def shape_table(layers, input_shape) -> list[Row]:
    """Walk ``input_shape`` = (C, H, W) through ``layers``: one :class:`Row` per layer.

    Raises ``ValueError`` when a window no longer fits (an output side below 1), when a conv
    or pool meets a vector, or when an fc layer meets a volume that was not flattened.
    """
    shape = _check_input_shape(input_shape)
    if not isinstance(layers, (list, tuple)) or not layers:
        raise TypeError("layers must be a non-empty list of Layer specs (from conv(), pool(), ...)")
    rows = []
    for i, layer in enumerate(layers):
        if not isinstance(layer, Layer):
            raise TypeError(f"layers[{i}] must be a Layer (from conv(), pool(), ...); "
                            f"got {type(layer).__name__}")
        shape, params = _apply(layer, shape, i)
        rows.append(Row(describe(layer), layer.kind, shape, params))
    return rows


def parameter_count(layers, input_shape) -> int:
    """Total learnable parameters of ``layers`` applied to ``input_shape``."""
    return sum(row.params for row in shape_table(layers, input_shape))


def describe(layer: Layer) -> str:
    """A short label such as ``conv 11x11/4 p0, 96`` or ``maxpool 3x3/2``."""
    if layer.kind == "conv":
        group = f" g{layer.groups}" if layer.groups > 1 else ""
        return (f"conv {layer.kernel}x{layer.kernel}/{layer.stride} p{layer.padding}, "
                f"{layer.size}{group}")
    if layer.kind == "pool":
        pad = f" p{layer.padding}" if layer.padding else ""
        return f"{layer.mode}pool {layer.kernel}x{layer.kernel}/{layer.stride}{pad}"
    if layer.kind == "act":
        return layer.mode
    if layer.kind == "fc":
        return f"fc {layer.size}"
    return layer.kind


def format_table(rows, input_shape, hide=()) -> str:
    """Aligned text: one line per row (layer, output shape, parameters) and a total line.

    Rows whose kind is in ``hide`` (e.g. ``("act", "dropout")``) are left out of the listing
    but not out of the total.
    """
    shape = _check_input_shape(input_shape)
    lines = [("input", _fmt_shape(shape), "")]
    lines += [(r.layer, _fmt_shape(r.shape), f"{r.params:,}") for r in rows if r.kind not in hide]
    lines.append(("total", "", f"{sum(r.params for r in rows):,}"))
    w0 = max(len(a) for a, _, _ in lines)
    w1 = max(len(b) for _, b, _ in lines + [("", "output shape", "")])
    w2 = max(len(c) for _, _, c in lines)
    header = f"{'layer':<{w0}}  {'output shape':<{w1}}  {'params':>{w2}}"
    body = [f"{a:<{w0}}  {b:<{w1}}  {c:>{w2}}".rstrip() for a, b, c in lines]
    return "\n".join([header] + body)


def lenet5_spec(num_classes: int = 10) -> list[Layer]:
    """LeNet-5 as ``dlnotes.models.lenet5``: 32x32 input, tanh, average pooling."""
    return [conv(6, 5), act("tanh"), pool(2, mode="avg"),
            conv(16, 5), act("tanh"), pool(2, mode="avg"), flatten(),
            fc(120), act("tanh"), fc(84), act("tanh"), fc(num_classes)]


def alexnet_spec(num_classes: int = 1000, groups: int = 1) -> list[Layer]:
    """AlexNet as ``dlnotes.models.alexnet`` (the paper's widths, 227x227 input).

    ``groups=2`` splits conv2, conv4 and conv5 as the paper's two-GPU network did.
    """
    return [conv(96, 11, 4), act(), pool(3, 2),
            conv(256, 5, padding=2, groups=groups), act(), pool(3, 2),
            conv(384, 3, padding=1), act(),
            conv(384, 3, padding=1, groups=groups), act(),
            conv(256, 3, padding=1, groups=groups), act(), pool(3, 2), flatten(),
            fc(4096), act(), dropout(), fc(4096), act(), dropout(), fc(num_classes)]


def vgg16_spec(num_classes: int = 1000) -> list[Layer]:
    """VGG-16 (configuration D) as ``dlnotes.models.vgg16``: 224x224 input, 3x3 convs."""
    layers = []
    for width, repeat in ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)):
        layers += [conv(width, 3, padding=1), act()] * repeat
        layers.append(pool(2, 2))
    return layers + [flatten(), fc(4096), act(), dropout(), fc(4096), act(), dropout(),
                     fc(num_classes)]


def _apply(layer: Layer, shape: tuple, i: int) -> tuple[tuple, int]:
    if layer.kind in ("act", "dropout"):
        return shape, 0
    if layer.kind == "flatten":
        return (math.prod(shape),), 0
    if layer.kind == "fc":
        if len(shape) != 1:
            raise ValueError(f"layers[{i}] is fc but receives a volume {shape}; flatten first")
        return (layer.size,), (shape[0] + int(layer.bias)) * layer.size
    if len(shape) != 3:
        raise ValueError(f"layers[{i}] is {layer.kind} and needs a (C, H, W) volume; got {shape}")
    C, H, W = shape
    try:
        H2, W2 = (conv_output_size(n, layer.kernel, layer.padding, layer.stride)
                  for n in (H, W))
    except ValueError as e:
        raise ValueError(f"layers[{i}] ({describe(layer)}) does not fit its input {shape}: "
                         f"{e}") from None
    if layer.kind == "pool":
        return (C, H2, W2), 0
    if C % layer.groups:
        raise ValueError(f"layers[{i}] has groups={layer.groups}, which does not divide the "
                         f"{C} input channels")
    params = conv_parameters(layer.kernel, C, layer.size, layer.groups, layer.bias)
    return (layer.size, H2, W2), params  # (F, H', W')


def _fmt_shape(shape: tuple) -> str:
    return "(" + ", ".join(str(n) for n in shape) + ")"


def _check_input_shape(input_shape) -> tuple:
    if not isinstance(input_shape, (tuple, list)) or len(input_shape) not in (1, 3):
        raise ValueError(f"input_shape must be (C, H, W) or (D,); got {input_shape!r}")
    return tuple(check_positive_int(n, f"input_shape[{i}]") for i, n in enumerate(input_shape))


def _check_padding(padding) -> int:
    return as_int(padding, "padding", minimum=0)


def _check_bool(value) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"bias must be True or False; got {value!r}")
    return value


# --- fully connected networks (chapter 01-foundations/01) ----------------------------------

class ParameterCount(NamedTuple):
    """What a fully connected network is made of; ``parameters`` is weights + biases."""
    neurons: int
    weights: int
    biases: int

    @property
    def parameters(self) -> int:
        """Learnable numbers in total: every weight and every bias."""
        return self.weights + self.biases


def mlp_layer_shapes(sizes) -> list[tuple[tuple[int, int], tuple[int]]]:
    """The (weight shape, bias shape) of each dense layer, input side first.

    sizes: (n_0, ..., n_L), L >= 1 positive integers  ->  L pairs ((n_l, n_{l-1}), (n_l,)).
    These are the shapes of ``torch.nn.Linear(n_{l-1}, n_l)``'s ``weight`` and ``bias``.
    """
    n = _check_sizes(sizes)
    return [((n_out, n_in), (n_out,)) for n_in, n_out in pairwise(n)]


def mlp_parameter_count(sizes) -> ParameterCount:
    """Neurons, weights and biases of the MLP with layer widths ``sizes``.

    sizes: (n_0, ..., n_L), L >= 1 positive integers. The formulas are in the module
    docstring; for (3, 4, 2) the result is ParameterCount(neurons=6, weights=20, biases=6),
    26 parameters. Python integers are used throughout, so nothing overflows.
    """
    n = _check_sizes(sizes)
    weights = sum(n_in * n_out for n_in, n_out in pairwise(n))
    biases = sum(n[1:])
    return ParameterCount(neurons=sum(n[1:]), weights=weights, biases=biases)


def _check_sizes(sizes) -> list[int]:
    if isinstance(sizes, np.ndarray):
        if sizes.ndim != 1:
            raise ValueError(f"sizes must be a 1-D sequence of layer widths; got shape "
                             f"{sizes.shape}")
        sizes = sizes.tolist()
    if not isinstance(sizes, (list, tuple)):
        raise TypeError("sizes must be a list or tuple of layer widths (n_0, ..., n_L); "
                        f"got {type(sizes).__name__}")
    if len(sizes) < 2:
        raise ValueError("sizes needs at least two widths, the inputs n_0 and the outputs "
                         f"n_L; got {list(sizes)}")
    return [check_positive_int(n, f"sizes[{i}]") for i, n in enumerate(sizes)]
