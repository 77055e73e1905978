"""dlnotes: from-scratch NumPy implementations of the course's deep-learning material.

Importing the package loads NumPy only. Two modules are imported on demand:
``dlnotes.verify`` (comparisons with PyTorch) and ``dlnotes.symbolic`` (SymPy derivations).
"""
from . import activations, datasets, gradcheck, init, layers, losses, optim, schedules

__version__ = "0.1.0"
__all__ = ["activations", "datasets", "gradcheck", "init", "layers", "losses", "optim",
           "schedules"]
