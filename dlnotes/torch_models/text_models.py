"""Small torch models of text: five sentence classifiers, two language models, seeded training.

Chapter: 04-language/03-language-models-and-classifiers. This module imports torch, so
``import dlnotes`` does not load it; import it as
``from dlnotes.torch_models import text_models``.
Batches come from ``dlnotes.text_features.Vocabulary``: classifiers take ``ids: (N, T)``
right-padded with ``pad`` and return logits ``(N, C)``; language models take time-major
``inputs: (T, N)`` and return logits ``(T, N, n_out)`` for the next token.

Classifiers (``classifier(kind, ...)``), E = embedding size, H = hidden size:

* ``"bow"``: logits = b + sum_t S[w_t], S: (V, C);
* ``"cbow"``: logits = Linear(sum_t E[w_t]);
* ``"deepcbow"``: the same sum through an MLP, Linear-tanh-Linear-tanh-Linear;
* ``"cnn"``: a 1-D convolution of width ``window`` over the embedded words (zero padding of
  window - 1 on each side), ReLU, max over the positions that see a word, Linear;
* ``"gru"``: a GRU over the embedded words, the state after the last word, Linear.

Language models (``language_model(kind, ...)``):

* ``"loglinear"``: logits_t = b + sum_{j < order - 1} W_j[x_{t-j}], one (V, n_out) table per
  position of the context (a linear model of the previous words, softmax over the vocabulary);
* ``"gru"``: embedding, GRU, Linear to n_out.

Everything is built in float64 on the CPU from a seed, and trained there with one thread and a
NumPy-seeded batch order, so that the same call gives the same numbers on any machine.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..validation import as_int_array, check_positive_int
from .training import fit_adam

__all__ = ["CPU", "CLASSIFIERS", "LANGUAGE_MODELS", "BOW", "CBOW", "DeepCBOW", "TextCNN",
           "GRUClassifier", "LogLinearLM", "GRULanguageModel", "classifier", "language_model",
           "History", "train_classifier", "train_language_model", "predict", "accuracy",
           "token_log_probs", "perplexity"]

CPU = torch.device("cpu")
CLASSIFIERS = ("bow", "cbow", "deepcbow", "cnn", "gru")
LANGUAGE_MODELS = ("loglinear", "gru")


def _lengths(ids: torch.Tensor, pad: int) -> torch.Tensor:
    return (ids != pad).sum(dim=1)                             # (N,)


class BOW(nn.Module):
    """Bag of words: a C-vector of scores per word, summed, plus a bias. ids (N, T) -> (N, C)."""

    def __init__(self, vocab_size: int, num_classes: int, pad: int):
        super().__init__()
        self.scores = nn.Embedding(vocab_size, num_classes, padding_idx=pad)
        self.bias = nn.Parameter(torch.zeros(num_classes))

    def forward(self, ids):
        return self.scores(ids).sum(dim=1) + self.bias         # (N, T, C) -> (N, C)


class CBOW(nn.Module):
    """Sum of word embeddings, then one linear layer. ids (N, T) -> (N, C)."""

    def __init__(self, vocab_size: int, num_classes: int, pad: int, dim: int):
        super().__init__()
        self.emb = nn.Embedding(vocab_size, dim, padding_idx=pad)
        self.out = nn.Linear(dim, num_classes)

    def forward(self, ids):
        return self.out(self.emb(ids).sum(dim=1))              # (N, E) -> (N, C)


class DeepCBOW(nn.Module):
    """Sum of word embeddings, then an MLP with two tanh layers. ids (N, T) -> (N, C)."""

    def __init__(self, vocab_size: int, num_classes: int, pad: int, dim: int, hidden: int):
        super().__init__()
        self.emb = nn.Embedding(vocab_size, dim, padding_idx=pad)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.Tanh(), nn.Linear(hidden, hidden),
                                 nn.Tanh(), nn.Linear(hidden, num_classes))

    def forward(self, ids):
        return self.mlp(self.emb(ids).sum(dim=1))


class TextCNN(nn.Module):
    """Convolution over time, ReLU, max-pooling over time, linear. ids (N, T) -> (N, C).

    ``features(ids)`` returns the map before pooling, (N, F, T + window - 1): position j sees
    the words j - window + 1 .. j (padding is zero, as the pad embedding is zero).
    """

    def __init__(self, vocab_size: int, num_classes: int, pad: int, dim: int, hidden: int,
                 window: int):
        super().__init__()
        self.pad, self.window = pad, window
        self.emb = nn.Embedding(vocab_size, dim, padding_idx=pad)
        self.conv = nn.Conv1d(dim, hidden, window, padding=window - 1)
        self.out = nn.Linear(hidden, num_classes)

    def features(self, ids):
        return F.relu(self.conv(self.emb(ids).transpose(1, 2)))  # (N, E, T) -> (N, F, T+w-1)

    def forward(self, ids):
        h = self.features(ids)
        # Positions j >= length + window - 1 see only padding: keep them out of the max.
        j = torch.arange(h.shape[2], device=ids.device)
        seen = j[None, :] < (_lengths(ids, self.pad) + self.window - 1)[:, None]   # (N, T')
        return self.out(h.masked_fill(~seen[:, None, :], -torch.inf).amax(dim=2))


class GRUClassifier(nn.Module):
    """GRU over the words; the state after the last real word goes to a linear layer."""

    def __init__(self, vocab_size: int, num_classes: int, pad: int, dim: int, hidden: int):
        super().__init__()
        self.pad = pad
        self.emb = nn.Embedding(vocab_size, dim, padding_idx=pad)
        self.gru = nn.GRU(dim, hidden)
        self.out = nn.Linear(hidden, num_classes)

    def forward(self, ids):
        h, _ = self.gru(self.emb(ids).transpose(0, 1))         # (T, N, H)
        last = _lengths(ids, self.pad) - 1                     # states after padding unused
        return self.out(h[last, torch.arange(ids.shape[0], device=ids.device)])


class LogLinearLM(nn.Module):
    """Log-linear n-gram model: logits_t = b + sum_j W_j[x_{t-j}], j = 0 .. order - 2.

    inputs (T, N) with inputs[0] = <s>; positions before the start read ``bos``.
    """

    def __init__(self, vocab_size: int, n_out: int, pad: int, bos: int, order: int):
        super().__init__()
        self.bos = bos
        self.tables = nn.ModuleList(nn.Embedding(vocab_size, n_out, padding_idx=pad)
                                    for _ in range(order - 1))
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, inputs):
        logits = self.bias.expand(*inputs.shape, -1)
        for j, table in enumerate(self.tables):
            shifted = F.pad(inputs, (0, 0, j, 0), value=self.bos)[:inputs.shape[0]]
            logits = logits + table(shifted)                   # x_{t-j}: (T, N, n_out)
        return logits


class GRULanguageModel(nn.Module):
    """Embedding, GRU, linear: inputs (T, N) [, h0 (1, N, H)] -> logits (T, N, n_out)."""

    def __init__(self, vocab_size: int, n_out: int, pad: int, dim: int, hidden: int):
        super().__init__()
        self.emb = nn.Embedding(vocab_size, dim, padding_idx=pad)
        self.gru = nn.GRU(dim, hidden)
        self.out = nn.Linear(hidden, n_out)

    def forward(self, inputs, h0=None):
        h, _ = self.gru(self.emb(inputs), h0)                  # (T, N, H)
        return self.out(h)


@contextmanager
def _single_thread():
    # One thread: a CPU kernel's summation order then never depends on the machine's cores.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@contextmanager
def _seeded_single_thread(seed: int):
    with _single_thread(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def classifier(kind: str, vocab_size: int, num_classes: int, pad: int, *, seed: int,
               dim: int = 16, hidden: int = 16, window: int = 3) -> nn.Module:
    """A freshly initialised classifier (see the module docstring), float64 on the CPU.

    kind: one of ``CLASSIFIERS``; torch's default initialisation drawn under ``seed``
    (the global torch generator is left as it was).
    """
    if kind not in CLASSIFIERS:
        raise ValueError(f"kind must be one of {CLASSIFIERS}; got {kind!r}")
    V = check_positive_int(vocab_size, "vocab_size")
    C = check_positive_int(num_classes, "num_classes")
    pad = _check_pad(pad, V)
    dim, hidden = check_positive_int(dim, "dim"), check_positive_int(hidden, "hidden")
    window = check_positive_int(window, "window")
    with _seeded_single_thread(_check_seed(seed)):
        model = {"bow": lambda: BOW(V, C, pad),
                 "cbow": lambda: CBOW(V, C, pad, dim),
                 "deepcbow": lambda: DeepCBOW(V, C, pad, dim, hidden),
                 "cnn": lambda: TextCNN(V, C, pad, dim, hidden, window),
                 "gru": lambda: GRUClassifier(V, C, pad, dim, hidden)}[kind]()
    return model.to(CPU, torch.float64)


def language_model(kind: str, vocab_size: int, n_out: int, pad: int, bos: int, *, seed: int,
                   order: int = 3, dim: int = 16, hidden: int = 32) -> nn.Module:
    """A freshly initialised language model, float64 on the CPU (``kind`` in LANGUAGE_MODELS).

    vocab_size: input ids; n_out: the predicted ids 0 .. n_out - 1 (``Vocabulary.n_out``);
    order: n of the log-linear n-gram model (>= 2).
    """
    if kind not in LANGUAGE_MODELS:
        raise ValueError(f"kind must be one of {LANGUAGE_MODELS}; got {kind!r}")
    V = check_positive_int(vocab_size, "vocab_size")
    n_out = check_positive_int(n_out, "n_out")
    if n_out > V:
        raise ValueError(f"n_out must be <= vocab_size = {V}; got {n_out}")
    pad, bos = _check_pad(pad, V), _check_pad(bos, V, "bos")
    if check_positive_int(order, "order") < 2:
        raise ValueError(f"order must be >= 2 (a context of at least one word); got {order}")
    dim, hidden = check_positive_int(dim, "dim"), check_positive_int(hidden, "hidden")
    with _seeded_single_thread(_check_seed(seed)):
        model = (LogLinearLM(V, n_out, pad, bos, order) if kind == "loglinear"
                 else GRULanguageModel(V, n_out, pad, dim, hidden))
    return model.to(CPU, torch.float64)


class History(NamedTuple):
    """Per-epoch record of a training run."""
    loss: list          # mean training loss of the epoch
    metric: list        # held-out accuracy (classifiers) or perplexity (LMs); empty if none


def train_classifier(model: nn.Module, ids, labels, *, epochs: int, lr: float,
                     batch_size: int, seed: int, held_out=None) -> History:
    """Adam on the mean cross-entropy; batches in a NumPy order drawn from ``seed``.

    ids: (N, T) int;  labels: (N,) int;  held_out: optional (ids, labels) scored each epoch.
    """
    ids, labels = _as_batch(ids, labels, "ids", "labels", axis=0)
    return _train(model, lambda i: F.cross_entropy(model(ids[i]), labels[i]), ids.shape[0],
                  epochs, lr, batch_size, seed,
                  None if held_out is None else lambda: accuracy(model, *held_out))


def train_language_model(model: nn.Module, inputs, targets, pad: int, *, epochs: int,
                         lr: float, batch_size: int, seed: int, held_out=None) -> History:
    """Adam on the mean next-token cross-entropy (padding ignored), batches over sentences.

    inputs, targets: (T, N) int from ``Vocabulary.lm_batch``;  held_out: optional
    (inputs, targets) whose perplexity is recorded each epoch.
    """
    inputs, targets = _as_batch(inputs, targets, "inputs", "targets", axis=1)

    def loss(i):
        logits = model(inputs[:, i])
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets[:, i].reshape(-1),
                               ignore_index=pad)
    return _train(model, loss, inputs.shape[1], epochs, lr, batch_size, seed,
                  None if held_out is None else lambda: perplexity(model, *held_out, pad))


def _train(model, loss_of, n, epochs, lr, batch_size, seed, metric) -> History:
    epochs, batch_size = check_positive_int(epochs, "epochs"), check_positive_int(batch_size,
                                                                                  "batch_size")
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr > 0:
        raise ValueError(f"lr must be a number > 0; got {lr!r}")
    order_rng = np.random.default_rng(_check_seed(seed))
    history = History([], [])
    with _seeded_single_thread(seed):
        history.loss.extend(fit_adam(
            model, loss_of, n, epochs=epochs, batch_size=batch_size, lr=lr,
            shuffle=lambda: order_rng.permutation(n),
            after_epoch=None if metric is None else lambda: history.metric.append(metric())))
    return history


@torch.no_grad()
def predict(model: nn.Module, ids) -> np.ndarray:
    """Predicted class of each sentence: ids (N, T) -> (N,) int64."""
    model.eval()
    with _single_thread():
        out = model(torch.as_tensor(as_int_array(ids, "ids", ndim=2), device=CPU))
    return out.argmax(dim=1).numpy()


def accuracy(model: nn.Module, ids, labels) -> float:
    """Fraction of sentences whose predicted class equals ``labels`` (N,)."""
    labels = as_int_array(labels, "labels", ndim=1)
    pred = predict(model, ids)
    if pred.shape != labels.shape:
        raise ValueError(f"labels must be (N,) = {pred.shape}; got {labels.shape}")
    return float(np.mean(pred == labels))


@torch.no_grad()
def token_log_probs(model: nn.Module, inputs, targets, pad: int) -> np.ndarray:
    """log p(targets[t, n] | inputs[:t+1, n]) as (T, N) float64, NaN where the target is pad."""
    inputs, targets = _as_batch(inputs, targets, "inputs", "targets", axis=1)
    model.eval()
    with _single_thread():
        logp = torch.log_softmax(model(inputs), dim=-1)        # (T, N, n_out)
    keep = targets != pad
    picked = logp.gather(2, torch.where(keep, targets, 0)[..., None])[..., 0]
    return torch.where(keep, picked, torch.nan).numpy()


def perplexity(model: nn.Module, inputs, targets, pad: int) -> float:
    """exp of the mean negative log-probability per predicted token (``</s>`` included)."""
    lp = token_log_probs(model, inputs, targets, pad)
    return float(np.exp(-np.nanmean(lp)))


def _as_batch(a, b, name_a, name_b, axis):
    a = as_int_array(a, name_a, ndim=2)
    b = as_int_array(b, name_b, ndim=2 if axis == 1 else 1)
    if (axis == 1 and a.shape != b.shape) or (axis == 0 and b.shape != (a.shape[0],)):
        raise ValueError(f"{name_a} {a.shape} and {name_b} {b.shape} do not describe the same "
                         "sentences")
    return torch.as_tensor(a, device=CPU), torch.as_tensor(b, device=CPU)


def _check_pad(pad, V, name="pad") -> int:
    if isinstance(pad, bool) or not isinstance(pad, (int, np.integer)) or not 0 <= pad < V:
        raise ValueError(f"{name} must be an id in [0, {V}); got {pad!r}")
    return int(pad)


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0; got {seed!r}")
    return int(seed)
