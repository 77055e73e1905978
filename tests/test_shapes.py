"""dlnotes.shapes: the size formulas and parameter counts against torch layers, row by row."""
from itertools import pairwise

import numpy as np
import pytest
import torch
from torch import nn

from dlnotes import shapes
from dlnotes.shapes import act, conv, dropout, fc, flatten, pool
from dlnotes.torch_models.models import trace_shapes


def torch_layers(specs, input_shape, device="cpu"):
    """Build torch modules from specs independently of dlnotes.shapes' arithmetic.

    A dense layer's input width is found by pushing zeros through the layers before it.
    On the "meta" device, layers have shapes but no storage: shape propagation is free.
    """
    f = {"dtype": torch.float64, "device": device}
    layers, c = [], input_shape[0]
    for s in specs:
        if s.kind == "conv":
            layers.append(nn.Conv2d(c, s.size, s.kernel, s.stride, s.padding, groups=s.groups,
                                    bias=s.bias, **f))
            c = s.size
        elif s.kind == "pool":
            cls = nn.MaxPool2d if s.mode == "max" else nn.AvgPool2d
            layers.append(cls(s.kernel, s.stride, s.padding))
        elif s.kind == "act":
            layers.append({"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}[s.mode]())
        elif s.kind == "dropout":
            layers.append(nn.Dropout())
        elif s.kind == "flatten":
            layers.append(nn.Flatten())
        else:
            with torch.no_grad():
                width = nn.Sequential(*layers)(torch.zeros((1, *input_shape), **f)).shape[1]
            layers.append(nn.Linear(width, s.size, bias=s.bias, **f))
    return nn.Sequential(*layers)


SPECS = [  # (input shape, layers, device)
    ((3, 32, 32), [conv(12, 3, padding=1), act(), pool(2), flatten(), fc(10)], "cpu"),
    ((1, 7, 5), [conv(4, 3, stride=2, padding=2), act("tanh"), conv(6, 2), flatten(),
                 fc(3, bias=False)], "cpu"),
    ((4, 13, 9), [conv(8, 5, stride=3, padding=2, groups=2, bias=False), pool(3, 2, 1),
                  act("sigmoid"), conv(8, 1, groups=4), pool(2, mode="avg"), flatten(),
                  dropout(), fc(1)], "cpu"),
    ((2, 1, 1), [conv(5, 1), flatten(), fc(7), act(), fc(2)], "cpu"),
    ((3, 227, 227), shapes.alexnet_spec(num_classes=5, groups=2), "meta"),
    ((3, 240, 231), shapes.vgg16_spec(num_classes=4), "meta"),
    ((1, 33, 32), shapes.lenet5_spec(num_classes=3), "cpu"),
]


@pytest.mark.parametrize("input_shape, specs, device", SPECS)
def test_table_matches_torch_layer_by_layer(input_shape, specs, device):
    table = shapes.shape_table(specs, input_shape)
    model = torch_layers(specs, input_shape, device)
    assert [(r.shape, r.params) for r in table] == trace_shapes(model, input_shape)
    assert shapes.parameter_count(specs, input_shape) == sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("n, k, s, p", [(32, 5, 1, 0), (227, 11, 4, 0), (7, 3, 2, 1),
                                         (8, 3, 2, 1), (1, 1, 1, 0), (5, 4, 3, 3), (28, 5, 1, 2)])
def test_output_size_formula_against_conv2d(n, k, s, p):
    specs = [conv(1, k, stride=s, padding=p)]
    expected = nn.Conv2d(1, 1, k, s, p)(torch.zeros(1, 1, n, n + 1)).shape[2:]
    (row,) = shapes.shape_table(specs, (1, n, n + 1))
    assert row.shape[1:] == tuple(expected)
    assert row.shape[1] == int(np.floor((n + 2 * p - k) / s)) + 1


def test_worked_numbers():
    # LeNet-5's first conv on 32 x 32 x 3 and AlexNet's first conv, by hand.
    assert shapes.shape_table([conv(6, 5)], (3, 32, 32))[0] == ("conv 5x5/1 p0, 6", "conv",
                                                                (6, 28, 28), (5 * 5 * 3 + 1) * 6)
    assert shapes.shape_table([conv(96, 11, 4)], (3, 227, 227))[0].shape == (96, 55, 55)
    assert shapes.parameter_count(shapes.vgg16_spec(), (3, 224, 224)) == 138_357_544
    assert shapes.parameter_count(shapes.alexnet_spec(), (3, 227, 227)) == 62_378_344
    assert shapes.parameter_count(shapes.alexnet_spec(groups=2), (3, 227, 227)) == 60_965_224
    assert shapes.parameter_count(shapes.lenet5_spec(), (1, 32, 32)) == 61_706


@pytest.mark.parametrize("k, c_in, c_out, g, bias", [(3, 3, 64, 1, True), (1, 192, 16, 1, True),
                                                      (5, 96, 256, 2, True), (3, 4, 6, 2, False)])
def test_conv_parameters_against_conv2d(k, c_in, c_out, g, bias):
    layer = nn.Conv2d(c_in, c_out, k, groups=g, bias=bias)
    assert shapes.conv_parameters(k, c_in, c_out, g, bias) == sum(p.numel()
                                                                  for p in layer.parameters())


@pytest.mark.parametrize("k, p", [(1, 0), (3, 1), (5, 2), (11, 5)])
def test_same_padding_keeps_the_size(k, p):
    assert shapes.same_padding(k) == p
    (row,) = shapes.shape_table([conv(2, k, padding=shapes.same_padding(k))], (1, 13, 6))
    assert row.shape == (2, 13, 6)


def test_format_table_lines_and_total():
    specs = [conv(12, 3, padding=1), act(), pool(2), flatten(), fc(10)]
    text = shapes.format_table(shapes.shape_table(specs, (3, 32, 32)), (3, 32, 32),
                               hide=("act",))
    lines = text.splitlines()
    assert lines[0].split() == ["layer", "output", "shape", "params"]
    assert lines[1].split() == ["input", "(3,", "32,", "32)"]
    assert "relu" not in text
    assert lines[-1].split() == ["total", f"{336 + 30730:,}"]
    assert len({len(line) for line in lines if line != lines[1]}) == 1   # numbers right-aligned
    assert len({line.index("(") for line in lines[1:-1]}) == 1           # shapes left-aligned


@pytest.mark.parametrize("specs, input_shape, message", [
    ([conv(4, 5)], (1, 4, 4), r"does not fit its input \(1, 4, 4\)"),
    ([pool(3, 2)], (1, 2, 9), r"maxpool 3x3/2\) does not fit its input \(1, 2, 9\)"),
    ([fc(3)], (1, 2, 2), r"flatten first"),
    ([flatten(), conv(2, 1)], (1, 2, 2), r"needs a \(C, H, W\) volume"),
    ([conv(4, 1, groups=2)], (3, 2, 2), r"does not divide the 3 input channels"),
    ([conv(1, 1)], (0, 2, 2), r"input_shape\[0\] must be a positive integer"),
    ([conv(1, 1)], (2, 2), r"input_shape must be \(C, H, W\) or \(D,\)"),
])
def test_bad_architectures_raise(specs, input_shape, message):
    with pytest.raises(ValueError, match=message):
        shapes.shape_table(specs, input_shape)


@pytest.mark.parametrize("make, message", [
    (lambda: conv(0, 3), r"filters must be a positive integer; got 0"),
    (lambda: conv(4, -1), r"kernel must be a positive integer"),
    (lambda: conv(4, 3, stride=0), r"stride must be a positive integer"),
    (lambda: conv(4, 3, padding=-1), r"padding must be >= 0"),
    (lambda: conv(5, 3, groups=2), r"filters=5 must be divisible by groups=2"),
    (lambda: pool(2, padding=2), r"at most kernel // 2 = 1"),
    (lambda: pool(2, mode="min"), r"mode must be one of"),
    (lambda: act("gelu"), r"activation must be one of"),
    (lambda: fc(0), r"features must be a positive integer"),
    (lambda: shapes.same_padding(4), r"needs an odd kernel"),
    (lambda: shapes.conv_parameters(3, 3, 4, groups=2), r"divisible by groups=2"),
])
def test_bad_specs_raise(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_wrong_types_raise():
    with pytest.raises(TypeError, match="non-empty list of Layer"):
        shapes.shape_table([], (1, 2, 2))
    with pytest.raises(TypeError, match=r"layers\[1\] must be a Layer"):
        shapes.shape_table([conv(1, 1), "relu"], (1, 2, 2))
    with pytest.raises(TypeError, match="bias must be True or False"):
        fc(3, bias=1)


# --- fully connected networks: layer shapes and parameter counts against torch.nn.Linear

SIZES = [(1, 1), (3, 4, 2), (5, 1, 1, 7), (2, 3, 3, 3, 3, 1), (784, 128, 10), (10, 1)]


def torch_mlp(sizes):
    layers = [torch.nn.Linear(n_in, n_out, dtype=torch.float64)
              for n_in, n_out in pairwise(sizes)]
    return torch.nn.Sequential(*layers)


def test_the_three_four_two_network_by_hand():
    # 3 inputs, 4 hidden, 2 outputs: 4 + 2 neurons, 3*4 + 4*2 weights, one bias per neuron.
    count = shapes.mlp_parameter_count([3, 4, 2])
    assert count == (6, 20, 6)
    assert count.parameters == 26


@pytest.mark.parametrize("sizes", SIZES)
def test_counts_match_torch(sizes):
    net = torch_mlp(sizes)
    count = shapes.mlp_parameter_count(list(sizes))
    assert count.parameters == sum(p.numel() for p in net.parameters())
    assert count.weights == sum(m.weight.numel() for m in net)
    assert count.biases == sum(m.bias.numel() for m in net)
    assert count.neurons == sum(m.out_features for m in net)


@pytest.mark.parametrize("sizes", SIZES)
def test_shapes_match_torch(sizes):
    net = torch_mlp(sizes)
    expected = [(tuple(m.weight.shape), tuple(m.bias.shape)) for m in net]
    assert shapes.mlp_layer_shapes(sizes) == expected


def test_count_agrees_with_the_arrays_of_its_shapes():
    sizes = np.array([6, 5, 4, 3])
    arrays = [np.empty(shape) for pair in shapes.mlp_layer_shapes(sizes) for shape in pair]
    assert shapes.mlp_parameter_count(sizes).parameters == sum(a.size for a in arrays)
    assert shapes.mlp_parameter_count(sizes).parameters == 6 * 5 + 5 + 5 * 4 + 4 + 4 * 3 + 3


def test_numpy_integers_are_accepted_and_counts_are_python_ints():
    count = shapes.mlp_parameter_count((np.int64(100_000), np.int32(100_000)))
    assert count.weights == 10_000_000_000
    assert all(type(v) is int for v in count)


@pytest.mark.parametrize("sizes, error, message", [
    ([3], ValueError, r"at least two widths"),
    ([], ValueError, r"at least two widths"),
    ([3, 0, 2], ValueError, r"sizes\[1\] must be a positive integer; got 0"),
    ([3, -4], ValueError, r"sizes\[1\] must be a positive integer"),
    ([3, 2.0], ValueError, r"sizes\[1\] must be a positive integer; got 2.0"),
    ([True, 2], ValueError, r"sizes\[0\] must be a positive integer"),
    ("342", TypeError, r"list or tuple of layer widths"),
    (3, TypeError, r"list or tuple of layer widths"),
    (np.ones((2, 2), dtype=int), ValueError, r"1-D sequence"),
])
def test_bad_sizes_raise(sizes, error, message):
    with pytest.raises(error, match=message):
        shapes.mlp_parameter_count(sizes)
    with pytest.raises(error, match=message):
        shapes.mlp_layer_shapes(sizes)
