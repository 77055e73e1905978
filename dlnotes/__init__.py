"""dlnotes: from-scratch NumPy implementations of the course's deep-learning material.

Importing the package loads NumPy only. Modules that need more are imported on demand:
``dlnotes.verify`` (comparisons with PyTorch), ``dlnotes.symbolic`` (SymPy derivations) and
the subpackage ``dlnotes.torch_models`` (the course's PyTorch models: ``models``,
``tacotron``, ``text_models``, ``vae`` and their shared ``training`` loop).
"""
from . import (activations, algorithms, attention, augment, autoregressive, batchnorm, bpe,
               clustering, conv, conv_transpose, corpus, datasets, debias, detection,
               embeddings, gan, gated, gradcheck, init, layers, likelihoods, logistic, losses,
               mlp, multimodal, naive_bayes, ngram, optim, pooling, qfunction,
               recurrent_common, rl, rnn, schedules, shapes, style, surrogates, svm,
               text_features, tuning, validation, variational, word2vec)

__version__ = "0.1.0"
__all__ = ["activations", "algorithms", "attention", "augment", "autoregressive", "batchnorm",
           "bpe",
           "clustering", "conv", "conv_transpose", "corpus", "datasets", "debias",
           "detection", "embeddings", "gan", "gated", "gradcheck", "init", "layers",
           "likelihoods", "logistic", "losses", "mlp", "multimodal", "naive_bayes", "ngram",
           "optim", "pooling", "qfunction", "recurrent_common", "rl", "rnn", "schedules", "shapes", "style",
           "surrogates", "svm", "text_features", "tuning", "validation", "variational",
           "word2vec"]
