"""Counting the neurons, weights and biases of a fully connected network (an MLP).

Chapter: 01-foundations/01-neurons-layers-parameters. A network with layer widths
``sizes = (n_0, n_1, ..., n_L)`` (n_0 inputs, n_L outputs) has L dense layers. Layer l
holds a weight of shape ``(n_l, n_{l-1})``, torch.nn.Linear's ``(out, in)`` layout, and a
bias of shape ``(n_l,)``. Hence

    neurons    = sum_{l=1..L} n_l            (the inputs compute nothing: not neurons)
    weights    = sum_{l=1..L} n_{l-1} n_l
    biases     = sum_{l=1..L} n_l            (one per neuron)
    parameters = sum_{l=1..L} (n_{l-1} + 1) n_l
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .validation import check_positive_int


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
    return [((n_out, n_in), (n_out,)) for n_in, n_out in zip(n[:-1], n[1:])]


def mlp_parameter_count(sizes) -> ParameterCount:
    """Neurons, weights and biases of the MLP with layer widths ``sizes``.

    sizes: (n_0, ..., n_L), L >= 1 positive integers. The formulas are in the module
    docstring; for (3, 4, 2) the result is ParameterCount(neurons=6, weights=20, biases=6),
    26 parameters. Python integers are used throughout, so nothing overflows.
    """
    n = _check_sizes(sizes)
    weights = sum(n_in * n_out for n_in, n_out in zip(n[:-1], n[1:]))
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
