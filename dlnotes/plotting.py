"""Figures shared by several chapters. Imports matplotlib only when a function is called."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .validation import as_float_array


def plot_decision_regions(ax, predict: Callable[[np.ndarray], np.ndarray], x, y,
                          resolution: int = 200, margin: float = 0.3, title: str | None = None):
    """Shade the classes ``predict`` assigns over the plane and scatter the points on top.

    predict: maps (M, 2) points to (M,) integer classes;  x: (N, 2);  y: (N,) integers.
    """
    import matplotlib.pyplot as plt  # noqa: F401  (ensures a backend is configured)

    x = as_float_array(x, "x", ndim=2, shape_hint="(N, 2)")
    if x.shape[1] != 2:
        raise ValueError(f"x must be (N, 2) points in the plane; got {x.shape}")
    y = np.asarray(y)
    if y.shape != (x.shape[0],):
        raise ValueError(f"y must be (N,) = ({x.shape[0]},); got {y.shape}")
    lo, hi = x.min(axis=0) - margin, x.max(axis=0) + margin
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], resolution),
                         np.linspace(lo[1], hi[1], resolution))
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    classes = np.asarray(predict(grid)).reshape(gx.shape)
    n_classes = int(max(classes.max(), y.max())) + 1
    ax.contourf(gx, gy, classes, levels=np.arange(n_classes + 1) - 0.5, cmap="coolwarm",
                alpha=0.3)
    ax.scatter(x[:, 0], x[:, 1], c=y, cmap="coolwarm", s=12, edgecolors="k", linewidths=0.3,
               vmin=0, vmax=max(n_classes - 1, 1))
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_aspect("equal")
    if title:
        ax.set_title(title)
    return ax
