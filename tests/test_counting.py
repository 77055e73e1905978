"""dlnotes.counting: layer shapes and parameter counts against torch.nn.Linear stacks."""
import numpy as np
import pytest
import torch

from dlnotes import counting

SIZES = [(1, 1), (3, 4, 2), (5, 1, 1, 7), (2, 3, 3, 3, 3, 1), (784, 128, 10), (10, 1)]


def torch_mlp(sizes):
    layers = [torch.nn.Linear(n_in, n_out, dtype=torch.float64)
              for n_in, n_out in zip(sizes[:-1], sizes[1:])]
    return torch.nn.Sequential(*layers)


def test_the_three_four_two_network_by_hand():
    # 3 inputs, 4 hidden, 2 outputs: 4 + 2 neurons, 3*4 + 4*2 weights, one bias per neuron.
    count = counting.mlp_parameter_count([3, 4, 2])
    assert count == (6, 20, 6)
    assert count.parameters == 26


@pytest.mark.parametrize("sizes", SIZES)
def test_counts_match_torch(sizes):
    net = torch_mlp(sizes)
    count = counting.mlp_parameter_count(list(sizes))
    assert count.parameters == sum(p.numel() for p in net.parameters())
    assert count.weights == sum(m.weight.numel() for m in net)
    assert count.biases == sum(m.bias.numel() for m in net)
    assert count.neurons == sum(m.out_features for m in net)


@pytest.mark.parametrize("sizes", SIZES)
def test_shapes_match_torch(sizes):
    net = torch_mlp(sizes)
    expected = [(tuple(m.weight.shape), tuple(m.bias.shape)) for m in net]
    assert counting.mlp_layer_shapes(sizes) == expected


def test_count_agrees_with_the_arrays_of_its_shapes():
    sizes = np.array([6, 5, 4, 3])
    arrays = [np.empty(shape) for pair in counting.mlp_layer_shapes(sizes) for shape in pair]
    assert counting.mlp_parameter_count(sizes).parameters == sum(a.size for a in arrays)
    assert counting.mlp_parameter_count(sizes).parameters == 6 * 5 + 5 + 5 * 4 + 4 + 4 * 3 + 3


def test_numpy_integers_are_accepted_and_counts_are_python_ints():
    count = counting.mlp_parameter_count((np.int64(100_000), np.int32(100_000)))
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
        counting.mlp_parameter_count(sizes)
    with pytest.raises(error, match=message):
        counting.mlp_layer_shapes(sizes)
