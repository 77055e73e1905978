"""The self-checks of Part IV (dlnotes.exercises.language): right answers pass, typical
mistakes fail with the hint of the case that exposes them."""
from __future__ import annotations

import numpy as np
import pytest

from dlnotes.exercises import check_bpe_pair_counts, check_full_softmax_skipgram
from dlnotes.losses import cross_entropy

# --- check_full_softmax_skipgram ----------------------------------------------------------------

def _log_softmax(s):
    s = s - s.max(axis=1, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=1, keepdims=True))


def _skipgram(W_in, W_out, centres, contexts, *, reduce="mean", scatter=True, stable=True,
              sign=1.0):
    h = W_in[centres]                                                  # (B, D)
    scores = h @ W_out.T                                               # (B, V)
    B = len(centres)
    if stable:
        logp = _log_softmax(scores)
    else:
        with np.errstate(over="ignore", invalid="ignore"):
            logp = np.log(np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True))
    dS = np.exp(logp)
    dS[np.arange(B), contexts] -= 1.0
    loss = -logp[np.arange(B), contexts].sum()
    if reduce == "mean":
        loss, dS = loss / B, dS / B
    dS = sign * dS
    dW_in = np.zeros_like(W_in)
    if scatter:
        np.add.at(dW_in, centres, dS @ W_out)
    else:
        dW_in[centres] = dS @ W_out
    return loss, dW_in, dS.T @ h


def test_full_softmax_reference_passes():
    outcome = check_full_softmax_skipgram(_skipgram)
    assert outcome and outcome.cases == 5
    assert repr(outcome) == "check_full_softmax_skipgram: passed all 5 cases"


def test_full_softmax_with_dlnotes_cross_entropy_passes():
    def with_dlnotes(W_in, W_out, centres, contexts):
        h = W_in[centres]
        loss, dS = cross_entropy(h @ W_out.T, contexts)
        dW_in = np.zeros_like(W_in)
        np.add.at(dW_in, centres, dS @ W_out)
        return loss, dW_in, dS.T @ h
    assert check_full_softmax_skipgram(with_dlnotes)


SKIPGRAM_MUTANTS = {
    "sum instead of mean": (lambda *a: _skipgram(*a, reduce="sum"), "odd sizes",
                            "off by a constant factor"),
    "fancy-index assignment": (lambda *a: _skipgram(*a, scatter=False), "a centre word repeated",
                               "W[ids] += g keeps only one"),
    "no max subtraction": (lambda *a: _skipgram(*a, stable=False), "large scores",
                           "what can be subtracted"),
    "gradient sign flipped": (lambda *a: _skipgram(*a, sign=-1.0), "one pair",
                              "opposite sign"),
    "dW_out transposed": (lambda *a: (lambda r: (r[0], r[1], r[2].T))(_skipgram(*a)), "one pair",
                          "transposed"),
}


@pytest.mark.parametrize("name", SKIPGRAM_MUTANTS)
def test_full_softmax_mutants_fail_with_their_hint(name):
    wrong, case, words = SKIPGRAM_MUTANTS[name]
    outcome = check_full_softmax_skipgram(wrong)
    assert not outcome
    assert outcome.failed_case.startswith(case)
    assert words in outcome.hint


# --- check_bpe_pair_counts ----------------------------------------------------------------------

def _greedy(ids, V):
    out = np.zeros((V, V))
    last = {}
    for i, p in enumerate(zip(ids[:-1], ids[1:], strict=True)):
        if last.get(p) != i - 1:
            out[p] += 1
            last[p] = i
    return out


def _overlapping(ids, V):
    out = np.zeros((V, V))
    np.add.at(out, (ids[:-1], ids[1:]), 1)
    return out


def _one_per_run(ids, V):          # a run of equal ids counted as one pair, whatever its length
    out = _overlapping(ids, V)
    for a in range(V):
        run = 0
        for i in list(ids) + [-1]:
            if i == a:
                run += 1
            else:
                if run >= 2:
                    out[a, a] -= run - 2
                run = 0
    return out


def _skips_last(ids, V):
    return _greedy(ids[:-1], V)


def _transposed(ids, V):
    return _greedy(ids, V).T


def test_pair_counts_reference_passes():
    outcome = check_bpe_pair_counts(_greedy)
    assert outcome and outcome.cases == 6


BPE_MUTANTS = {
    "overlapping count": (_overlapping, "aaa", "only one merge"),
    "one pair per run": (_one_per_run, "aaaa then b", "two non-overlapping pairs"),
    "last pair skipped": (_skips_last, "aa", "the last adjacent pair"),
    "transposed": (_transposed, "ababc", "transposed"),
}


@pytest.mark.parametrize("name", BPE_MUTANTS)
def test_pair_count_mutants_fail_with_their_hint(name):
    wrong, case, words = BPE_MUTANTS[name]
    outcome = check_bpe_pair_counts(wrong)
    assert not outcome
    assert outcome.failed_case.startswith(case)
    assert words in outcome.hint


def test_pair_counts_a_crash_is_reported():
    outcome = check_bpe_pair_counts(lambda ids, V: np.zeros((V, V)) + ids[3])
    assert not outcome and "raised IndexError" in outcome.hint


# --- both checks: what they accept ---------------------------------------------------------------

@pytest.mark.parametrize("check, arity", [(check_full_softmax_skipgram, 4),
                                          (check_bpe_pair_counts, 2)])
def test_non_callable_and_wrong_arity_are_type_errors(check, arity):
    with pytest.raises(TypeError, match="callable"):
        check(np.zeros(3))
    with pytest.raises(TypeError, match="positional"):
        check(lambda a: a)
    with pytest.raises(TypeError, match=f"with {arity} positional"):
        check(lambda a, b, c, d, e: a)
