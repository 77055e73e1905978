"""dlnotes: from-scratch NumPy implementations of the course's deep-learning material.

Importing the package loads NumPy only. Modules that need more are imported on demand:
``dlnotes.verify`` (comparisons with PyTorch), ``dlnotes.symbolic`` (SymPy derivations),
``dlnotes.models`` and ``dlnotes.tacotron`` (PyTorch modules).
"""
from . import (activations, algorithms, attention, augment, clustering, conv,
               conv_transpose, counting, datasets, detection, gated, gradcheck, init,
               layers, logistic, losses, mlp, multimodal, ngram, optim, pooling, rl, rnn,
               schedules, shapes, style, surrogates, svm, tuning, vision)

__version__ = "0.1.0"
__all__ = ["activations", "algorithms", "attention", "augment", "clustering", "conv",
           "conv_transpose", "counting", "datasets", "detection", "gated", "gradcheck",
           "init", "layers", "logistic", "losses", "mlp", "multimodal", "ngram", "optim",
           "pooling", "rl", "rnn", "schedules", "shapes", "style", "surrogates", "svm",
           "tuning", "vision"]
