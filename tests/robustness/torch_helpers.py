"""Float64 conversions between NumPy and torch that the case files share."""
from __future__ import annotations

import numpy as np
import torch

from dlnotes.verify import to_numpy, to_torch


def _f64(a) -> np.ndarray:
    return np.asarray(a, dtype=np.float64)


def _t(a, grad: bool = False) -> torch.Tensor:
    return to_torch(_f64(a), requires_grad=grad)


def _n(t: torch.Tensor) -> np.ndarray:
    return to_numpy(t)
