"""dlnotes: from-scratch NumPy implementations of the course's deep-learning material.

Importing the package loads NumPy only. Two modules are imported on demand:
``dlnotes.verify`` (comparisons with PyTorch) and ``dlnotes.symbolic`` (SymPy derivations).
"""
from . import (activations, counting, datasets, gradcheck, init, layers, logistic, losses, mlp,
               optim, schedules, surrogates, tuning)

__version__ = "0.1.0"
__all__ = ["activations", "counting", "datasets", "gradcheck", "init", "layers", "logistic",
           "losses", "mlp", "optim", "schedules", "surrogates", "tuning"]
