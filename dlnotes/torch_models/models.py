"""The classic convolutional networks as ``torch.nn.Module``s, for shapes and parameter counts.

Chapter: 02-convolutional-networks/05-classic-architectures. This module imports torch, so
``import dlnotes`` does not load it; import it as ``from dlnotes.torch_models import models``.

The three networks are flat ``nn.Sequential``s whose modules come one for one in the order
of the layer specs in :mod:`dlnotes.shapes` (``lenet5_spec``, ``alexnet_spec``,
``vgg16_spec``), so a table computed from the size formulas can be checked row by row
against a forward pass. Every layer is built eagerly (no lazy modules); ``device`` and
``dtype`` are passed to the layers, so ``device="meta"`` gives a network with every shape and
no storage (counting the 138 million parameters of VGG-16 then costs nothing).

Which variants:

* LeNet-5: the form taught today and used in the notes: 32 x 32 input, 5 x 5 convolutions
  with 6 and 16 filters, 2 x 2 average pooling, tanh, dense 400-120-84-``num_classes``.
  LeCun et al. (1998) wired C3 to only some S2 maps, gave each pooling map a trainable
  weight and bias, and ended in a fixed RBF layer: 60,000 trainable parameters there,
  61,706 here (``in_channels=1``, 10 classes).
* AlexNet: the layer widths of Krizhevsky et al. (2012), 96-256-384-384-256 filters, on the
  227 x 227 input that the arithmetic needs (the paper says 224), without local response
  normalisation (it has no parameters and changes no shape). ``groups=1`` (default) is the
  one-tower network of the notes, 62,378,344 parameters; ``groups=2`` splits conv2, conv4 and
  conv5 as the paper's two GPUs did: 60,965,224. (torchvision's ``alexnet`` is a different
  variant, 64-192-384-256-256 filters on 224 x 224, 61,100,840 parameters.)
* VGG-16: configuration D of Simonyan and Zisserman (2015), layer for layer torchvision's
  ``vgg16`` on a 224 x 224 input (its adaptive pooling to 7 x 7 is the identity there and is
  left out): 138,357,544 parameters.
"""
from __future__ import annotations

import torch
from torch import nn

from ..validation import check_positive_int

__all__ = ["lenet5", "alexnet", "vgg16", "ResidualBlock", "residual_block", "InceptionModule",
           "inception_module", "trace_shapes"]


def lenet5(in_channels: int = 1, num_classes: int = 10, *, device=None,
           dtype=None) -> nn.Sequential:
    """LeNet-5: (N, in_channels, 32, 32) -> (N, num_classes) class scores."""
    c = check_positive_int(in_channels, "in_channels")
    k = check_positive_int(num_classes, "num_classes")
    f = {"device": device, "dtype": dtype}
    return nn.Sequential(
        nn.Conv2d(c, 6, 5, **f), nn.Tanh(), nn.AvgPool2d(2),        # (N, 6, 14, 14)
        nn.Conv2d(6, 16, 5, **f), nn.Tanh(), nn.AvgPool2d(2),       # (N, 16, 5, 5)
        nn.Flatten(),                                               # (N, 400)
        nn.Linear(400, 120, **f), nn.Tanh(),
        nn.Linear(120, 84, **f), nn.Tanh(),
        nn.Linear(84, k, **f))


def alexnet(in_channels: int = 3, num_classes: int = 1000, *, groups: int = 1,
            dropout: float = 0.5, device=None, dtype=None) -> nn.Sequential:
    """AlexNet: (N, in_channels, 227, 227) -> (N, num_classes); groups is 1 or 2."""
    c = check_positive_int(in_channels, "in_channels")
    k = check_positive_int(num_classes, "num_classes")
    if groups not in (1, 2) or isinstance(groups, bool):
        raise ValueError("groups must be 1 (one tower) or 2 (the paper's two GPUs); "
                         f"got {groups!r}")
    p = _check_dropout(dropout)
    f = {"device": device, "dtype": dtype}
    return nn.Sequential(
        nn.Conv2d(c, 96, 11, stride=4, **f), nn.ReLU(),          # (N, 96, 55, 55)
        nn.MaxPool2d(3, 2),                                      # (N, 96, 27, 27)
        nn.Conv2d(96, 256, 5, padding=2, groups=groups, **f), nn.ReLU(),
        nn.MaxPool2d(3, 2),                                      # (N, 256, 13, 13)
        nn.Conv2d(256, 384, 3, padding=1, **f), nn.ReLU(),
        nn.Conv2d(384, 384, 3, padding=1, groups=groups, **f), nn.ReLU(),
        nn.Conv2d(384, 256, 3, padding=1, groups=groups, **f), nn.ReLU(),
        nn.MaxPool2d(3, 2),                                      # (N, 256, 6, 6)
        nn.Flatten(),                                            # (N, 9216)
        nn.Linear(9216, 4096, **f), nn.ReLU(), nn.Dropout(p),
        nn.Linear(4096, 4096, **f), nn.ReLU(), nn.Dropout(p),
        nn.Linear(4096, k, **f))


def vgg16(in_channels: int = 3, num_classes: int = 1000, *, dropout: float = 0.5,
          device=None, dtype=None) -> nn.Sequential:
    """VGG-16: (N, in_channels, 224, 224) -> (N, num_classes); 13 convs 3x3, 3 dense layers."""
    c = check_positive_int(in_channels, "in_channels")
    k = check_positive_int(num_classes, "num_classes")
    p = _check_dropout(dropout)
    f = {"device": device, "dtype": dtype}
    layers: list[nn.Module] = []
    for width, repeat in ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)):
        for _ in range(repeat):
            layers += [nn.Conv2d(c, width, 3, padding=1, **f), nn.ReLU()]
            c = width
        layers.append(nn.MaxPool2d(2, 2))                  # halves H and W: 224 -> ... -> 7
    layers += [nn.Flatten(),                               # (N, 512 * 7 * 7) = (N, 25088)
               nn.Linear(512 * 7 * 7, 4096, **f), nn.ReLU(), nn.Dropout(p),
               nn.Linear(4096, 4096, **f), nn.ReLU(), nn.Dropout(p),
               nn.Linear(4096, k, **f)]
    return nn.Sequential(*layers)


class ResidualBlock(nn.Module):
    """He et al. (2016)'s basic block: out = relu(F(x) + shortcut(x)).

    F(x) = bn2(conv2(relu(bn1(conv1(x))))), two 3 x 3 convolutions (the first with ``stride``);
    shortcut(x) = x when the shapes agree, else a 1 x 1 convolution with ``stride`` (and a
    batch norm), the projection of the paper's option B. Without batch norm the bn modules
    are ``nn.Identity`` and the convolutions carry biases.
    x: (N, in_channels, H, W) -> (N, out_channels, H', W'), H' = floor((H - 1) / stride) + 1.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int, batch_norm: bool,
                 device=None, dtype=None):
        super().__init__()
        f = {"device": device, "dtype": dtype}
        bias = not batch_norm

        def norm() -> nn.Module:
            return nn.BatchNorm2d(out_channels, **f) if batch_norm else nn.Identity()

        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=bias, **f)
        self.bn1 = norm()
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=bias, **f)
        self.bn2 = norm()
        if stride == 1 and in_channels == out_channels:
            self.shortcut: nn.Module = nn.Identity()
        else:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride, bias=bias, **f), norm())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(branch + self.shortcut(x))


def residual_block(in_channels: int, out_channels: int | None = None, *, stride: int = 1,
                   batch_norm: bool = True, device=None, dtype=None) -> ResidualBlock:
    """A :class:`ResidualBlock`; ``out_channels`` defaults to ``in_channels``."""
    c_in = check_positive_int(in_channels, "in_channels")
    c_out = c_in if out_channels is None else check_positive_int(out_channels, "out_channels")
    stride = check_positive_int(stride, "stride")
    if not isinstance(batch_norm, bool):
        raise TypeError(f"batch_norm must be True or False; got {batch_norm!r}")
    return ResidualBlock(c_in, c_out, stride, batch_norm, device=device, dtype=dtype)


class InceptionModule(nn.Module):
    """GoogLeNet's Inception module (Szegedy et al., 2015): four branches side by side.

    1x1;  1x1 -> 3x3 (pad 1);  1x1 -> 5x5 (pad 2);  3x3 max pool (stride 1, pad 1) -> 1x1;
    each convolution followed by a ReLU, outputs concatenated along the channels.
    x: (N, C, H, W) -> (N, ch1x1 + ch3x3 + ch5x5 + pool_proj, H, W).
    """

    def __init__(self, in_channels: int, ch1x1: int, ch3x3_reduce: int, ch3x3: int,
                 ch5x5_reduce: int, ch5x5: int, pool_proj: int, device=None, dtype=None):
        super().__init__()
        f = {"device": device, "dtype": dtype}

        def conv_relu(c_in: int, c_out: int, k: int) -> list[nn.Module]:
            return [nn.Conv2d(c_in, c_out, k, padding=(k - 1) // 2, **f), nn.ReLU()]

        self.branch1 = nn.Sequential(*conv_relu(in_channels, ch1x1, 1))
        self.branch3 = nn.Sequential(*conv_relu(in_channels, ch3x3_reduce, 1),
                                     *conv_relu(ch3x3_reduce, ch3x3, 3))
        self.branch5 = nn.Sequential(*conv_relu(in_channels, ch5x5_reduce, 1),
                                     *conv_relu(ch5x5_reduce, ch5x5, 5))
        self.branch_pool = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1),
                                         *conv_relu(in_channels, pool_proj, 1))
        self.out_channels = ch1x1 + ch3x3 + ch5x5 + pool_proj

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branches = (self.branch1, self.branch3, self.branch5, self.branch_pool)
        return torch.cat([b(x) for b in branches], dim=1)  # (N, out_channels, H, W)


def inception_module(in_channels: int, ch1x1: int, ch3x3_reduce: int, ch3x3: int,
                     ch5x5_reduce: int, ch5x5: int, pool_proj: int, *, device=None,
                     dtype=None) -> InceptionModule:
    """An :class:`InceptionModule`; GoogLeNet's block 3a is (192, 64, 96, 128, 16, 32, 32)."""
    names = ("in_channels", "ch1x1", "ch3x3_reduce", "ch3x3", "ch5x5_reduce", "ch5x5",
             "pool_proj")
    values = (in_channels, ch1x1, ch3x3_reduce, ch3x3, ch5x5_reduce, ch5x5, pool_proj)
    checked = [check_positive_int(v, n) for v, n in zip(values, names, strict=True)]
    return InceptionModule(*checked, device=device, dtype=dtype)


def trace_shapes(model: nn.Sequential, input_shape) -> list[tuple[tuple, int]]:
    """Push zeros of shape (1, *input_shape) through ``model``; one (shape, params) per child.

    shape is the child's output shape without the batch axis, params its parameter count;
    forward hooks record them, in evaluation mode (dropout off) and without autograd. The
    zeros take the device and dtype of the model's first parameter, so a network built on
    ``device="meta"`` is traced without computing anything.
    """
    if not isinstance(model, nn.Sequential):
        raise TypeError(f"model must be an nn.Sequential; got {type(model).__name__}")
    first = next(model.parameters(), None)
    f = {} if first is None else {"device": first.device, "dtype": first.dtype}
    x = torch.zeros((1, *(check_positive_int(n, "input_shape") for n in input_shape)), **f)
    rows: list[tuple[tuple, int]] = []

    def record(module, inputs, output):
        rows.append((tuple(output.shape[1:]), sum(p.numel() for p in module.parameters())))

    hooks = [child.register_forward_hook(record) for child in model]
    was_training = model.training
    try:
        with torch.no_grad():
            model.eval()(x)
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    return rows


def _check_dropout(p) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p < 1.0:
        raise ValueError(f"dropout must be a probability in [0, 1); got {p!r}")
    return float(p)
