"""dlnotes: from-scratch NumPy implementations of the course's deep-learning material.

Importing the package loads NumPy only. Modules that need more are imported on demand:
``dlnotes.verify`` (comparisons with PyTorch), ``dlnotes.symbolic`` (SymPy derivations),
``dlnotes.models``, ``dlnotes.tacotron``, ``dlnotes.text_models`` and ``dlnotes.vae``
(PyTorch modules).
"""
from . import (activations, algorithms, attention, augment, autoregressive, clustering,
               conv, conv_transpose, corpus, counting, datasets, debias, detection,
               embeddings, gated, generative, gradcheck, init, layers, logistic, losses,
               mlp, multimodal, ngram, optim, pooling, rl, rnn, schedules, shapes, style,
               surrogates, svm, text_features, tokenize, tuning, vision, word2vec)

__version__ = "0.1.0"
__all__ = ["activations", "algorithms", "attention", "augment", "autoregressive",
           "clustering", "conv", "conv_transpose", "corpus", "counting", "datasets",
           "debias", "detection", "embeddings", "gated", "generative", "gradcheck", "init",
           "layers", "logistic", "losses", "mlp", "multimodal", "ngram", "optim", "pooling",
           "rl", "rnn", "schedules", "shapes", "style", "surrogates", "svm",
           "text_features", "tokenize", "tuning", "vision", "word2vec"]
