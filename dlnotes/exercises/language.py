"""Self-checks for the coding exercises of Part IV, Language (chapters/04-language)."""
from __future__ import annotations

import numpy as np

from .core import CheckCase, Outcome, run_check

__all__: list[str] = ["check_full_softmax_skipgram", "check_bpe_pair_counts"]


# --- word2vec, exercise 4: skip-gram with a full softmax ---------------------------------------

def _skipgram_case(V: int, D: int, B: int, scale: float = 0.5, repeat: bool = False):
    def make(rng: np.random.Generator) -> tuple:
        W_in = scale * rng.standard_normal((V, D))
        W_out = scale * rng.standard_normal((V, D))
        # distinct centres unless the case is about repeats, so that each case tests one thing
        centres = rng.integers(0, V, B) if repeat or B > V else rng.permutation(V)[:B]
        if repeat:
            centres[: B // 2 + 1] = centres[0]          # one centre word many times
        contexts = rng.integers(0, V, B)
        return W_in, W_out, centres, contexts
    return make


_SKIPGRAM_CASES = (
    CheckCase("one pair (B = 1)", _skipgram_case(V=7, D=4, B=1),
              "with a single pair the mean and the sum agree: check the softmax and the "
              "outer products first"),
    CheckCase("odd sizes (V = 11, D = 5, B = 9)", _skipgram_case(V=11, D=5, B=9),
              "torch's cross-entropy averages over the B pairs: is every part of your "
              "gradient divided by B?"),
    CheckCase("a centre word repeated", _skipgram_case(V=6, D=3, B=8, repeat=True),
              "a centre word that occurs several times must receive the sum of all its "
              "gradients: W[ids] += g keeps only one of them"),
    CheckCase("large scores (|u.v| ~ 1e3)", _skipgram_case(V=8, D=4, B=5, scale=20.0),
              "exp of a score near 1000 overflows: what can be subtracted from every score "
              "of a row without changing the softmax?"),
    CheckCase("more pairs than words", _skipgram_case(V=4, D=6, B=25),
              "check the shapes: dW_in and dW_out are (V, D) like W_in and W_out"),
)


def _skipgram_reference(W_in, W_out, centres, contexts):
    import torch
    import torch.nn.functional as F

    w_in = torch.tensor(W_in, dtype=torch.float64, requires_grad=True)
    w_out = torch.tensor(W_out, dtype=torch.float64, requires_grad=True)
    scores = w_in[torch.as_tensor(centres)] @ w_out.T                  # (B, V)
    loss = F.cross_entropy(scores, torch.as_tensor(contexts))
    loss.backward()
    return loss.item(), w_in.grad.numpy(), w_out.grad.numpy()


def check_full_softmax_skipgram(fn) -> Outcome:
    """Check ``fn(W_in, W_out, centres, contexts) -> (loss, dW_in, dW_out)``: skip-gram with a
    full softmax over the vocabulary.

    W_in, W_out: (V, D) input and output vectors;  centres, contexts: (B,) word ids. The scores
    of pair b are W_out @ W_in[centres[b]], (V,); loss is the mean softmax cross-entropy of the
    scores against contexts, as ``torch.nn.functional.cross_entropy(W_in[centres] @ W_out.T,
    contexts)``; dW_in, dW_out: (V, D), its gradients.
    """
    return run_check("check_full_softmax_skipgram", fn, _SKIPGRAM_CASES, _skipgram_reference,
                     n_args=4, outputs=("the loss", "dW_in", "dW_out"))


# --- tokenization, exercise 2: non-overlapping pair counts -------------------------------------

def _ids_case(ids, vocab_size: int):
    def make(rng: np.random.Generator) -> tuple:
        return np.array(ids, dtype=np.int64), vocab_size
    return make


def _random_ids(rng: np.random.Generator) -> tuple:
    ids = rng.integers(0, 3, 41)
    ids[10:16] = 2                                       # a run of six
    return ids, 4


_PAIR_CASES = (
    CheckCase("aaa", _ids_case([0, 0, 0], 2),
              "in a run of three equal ids only one merge of the pair can happen"),
    CheckCase("aa", _ids_case([1, 1], 2),
              "two ids hold one pair: did the loop stop before the last adjacent pair?"),
    CheckCase("ababc", _ids_case([0, 1, 0, 1, 2], 3),
              "pairs of two different ids never overlap: count each one once per position; "
              "entry [a, b] is the pair (a, b) in this order"),
    CheckCase("aaaa then b", _ids_case([1, 1, 1, 1, 0], 3),
              "a run of four equal ids holds two non-overlapping pairs, not one and not three"),
    CheckCase("a single id", _ids_case([2], 3),
              "one id has no pair: every count is 0 (and the result is still (V, V))"),
    CheckCase("random ids with runs (T = 41)", _random_ids,
              "count from left to right, as a merge replaces: an occurrence that starts where "
              "the last counted one of the same pair ended is skipped"),
)


def _pair_reference(ids, vocab_size):
    out = np.zeros((vocab_size, vocab_size))
    ids = [int(i) for i in ids]
    for a, b in set(zip(ids[:-1], ids[1:], strict=True)):
        i = 0
        while i + 1 < len(ids):                          # the greedy scan of a BPE merge
            if ids[i] == a and ids[i + 1] == b:
                out[a, b] += 1
                i += 2
            else:
                i += 1
    return out


def check_bpe_pair_counts(fn) -> Outcome:
    """Check ``fn(ids, vocab_size) -> counts``: non-overlapping counts of adjacent id pairs.

    ids: (T,) int64 token ids in [0, V);  vocab_size: V. Returns counts: (V, V), where
    counts[a, b] is how many times a merge of (a, b), scanning left to right, would replace
    the pair (so the run a a a counts (a, a) once and a a a a twice).
    """
    return run_check("check_bpe_pair_counts", fn, _PAIR_CASES, _pair_reference, n_args=2)
