"""The self-checks of Part VI (dlnotes.exercises.beyond): references pass, mutants fail."""
from __future__ import annotations

import numpy as np
import pytest

from dlnotes import multimodal as mm
from dlnotes import svm
from dlnotes.activations import log_softmax
from dlnotes.exercises.beyond import (
    check_hinge_loss_bias_penalty,
    check_hinge_loss_clamp,
    check_info_nce_one_way,
)


def _hinge(w, b, x, y, c, *, theta=0.0, bias=0.0, scale=1.0, reg=1.0):
    """A configurable hinge objective: theta = 1 counts margin points as active; bias scales
    the 1/2 b^2 term, scale the db from it; reg the 1/2 ||w||^2 term."""
    N = x.shape[0]
    m = y * (x @ w + b)
    active = (m < 1.0) | ((m == 1.0) & (theta == 1.0))
    ya = np.where(active, y, 0.0)
    J = 0.5 * reg * float(w @ w) + c * float(np.mean(np.maximum(1.0 - m, 0.0))) + 0.5 * bias * b * b
    return J, (reg * w - (c / N) * (x.T @ ya), -(c / N) * ya.sum() + scale * bias * b)


def bias_reference(w, b, x, y, c):
    return _hinge(w, b, x, y, c, bias=1.0)


def clamp_reference(w, b, x, y, c):
    return _hinge(w, b, x, y, c, theta=1.0)


def one_way_reference(za, zb, T):
    N = za.shape[0]
    log_p = log_softmax(za @ zb.T / T, axis=1)
    dS = (np.exp(log_p) - np.eye(N)) / N
    return float(-np.mean(np.diag(log_p))), (dS @ zb / T, dS.T @ za / T)


def test_references_pass():
    assert check_hinge_loss_bias_penalty(bias_reference)
    assert check_hinge_loss_clamp(clamp_reference)
    assert check_info_nce_one_way(one_way_reference)
    assert repr(check_info_nce_one_way(one_way_reference)) == (
        "check_info_nce_one_way: passed all 5 cases")


BIAS_MUTANTS = {
    "no penalty (svm.hinge_loss)": (svm.hinge_loss, "penalty on the bias is missing", None),
    "penalty without its gradient":
        (lambda w, b, x, y, c: (_hinge(w, b, x, y, c, bias=1.0)[0],
                                _hinge(w, b, x, y, c)[1]), "db does not", None),
    "b^2 instead of 1/2 b^2": (lambda w, b, x, y, c: _hinge(w, b, x, y, c, bias=2.0),
                               "b^2 where 1/2 b^2", None),
    "theta = 1 at the kink": (lambda w, b, x, y, c: _hinge(w, b, x, y, c, theta=1.0, bias=1.0),
                              "not active", "two points exactly on the margin"),
    "sum instead of mean":
        (lambda w, b, x, y, c: bias_reference(w, b, x, y, c * x.shape[0]), "mean over the N",
         "random points, D = 3, N = 7"),
}


@pytest.mark.parametrize("mutant, hint, case", BIAS_MUTANTS.values(), ids=BIAS_MUTANTS.keys())
def test_bias_penalty_mutants_fail(mutant, hint, case):
    outcome = check_hinge_loss_bias_penalty(mutant)
    assert not outcome
    assert hint in outcome.hint
    if case is not None:
        assert outcome.failed_case == case


CLAMP_MUTANTS = {
    "theta = 0 (svm.hinge_loss)": (svm.hinge_loss, "theta = 0, the torch.relu side",
                                   "three points exactly on the margin"),
    "no regulariser": (lambda w, b, x, y, c: _hinge(w, b, x, y, c, theta=1.0, reg=0.0),
                       "lacks the regulariser", "three points exactly on the margin"),
    "flipped subgradient sign":
        (lambda w, b, x, y, c: (clamp_reference(w, b, x, y, c)[0],
                                tuple(-g for g in clamp_reference(w, b, x, y, c)[1])),
         "opposite sign", None),
    "c on the regulariser too":
        (lambda w, b, x, y, c: _hinge(w, b, x, y, c, theta=1.0, reg=c), "not the regulariser",
         "three points exactly on the margin"),
}


@pytest.mark.parametrize("mutant, hint, case", CLAMP_MUTANTS.values(), ids=CLAMP_MUTANTS.keys())
def test_clamp_mutants_fail(mutant, hint, case):
    outcome = check_hinge_loss_clamp(mutant)
    assert not outcome
    assert hint in outcome.hint
    if case is not None:
        assert outcome.failed_case == case


def _naive_one_way(za, zb, T):
    S = za @ zb.T / T
    P = np.exp(S) / np.exp(S).sum(axis=1, keepdims=True)
    N = za.shape[0]
    dS = (P - np.eye(N)) / N
    return float(-np.mean(np.log(np.diag(P)))), (dS @ zb / T, dS.T @ za / T)


def _columns(za, zb, T):
    loss, (dzb, dza) = one_way_reference(zb, za, T)
    return loss, (dza, dzb)


INFO_NCE_MUTANTS = {
    "columns instead of rows": (_columns, "normalises each column", None),
    "symmetric loss": (mm.info_nce_loss, "averages both directions", None),
    "no max subtraction": (_naive_one_way, "subtract the row maximum",
                           "large embeddings (entries near 30)"),
    "gradients without 1/tau":
        (lambda za, zb, T: (one_way_reference(za, zb, T)[0],
                            tuple(T * g for g in one_way_reference(za, zb, T)[1])),
         "off by a constant factor", "unit rows, N = 5, E = 3, tau = 0.5"),
}


@pytest.mark.parametrize("mutant, hint, case", INFO_NCE_MUTANTS.values(),
                         ids=INFO_NCE_MUTANTS.keys())
def test_info_nce_mutants_fail(mutant, hint, case):
    with np.errstate(over="ignore", invalid="ignore"):
        outcome = check_info_nce_one_way(mutant)
    assert not outcome
    assert hint in outcome.hint
    if case is not None:
        assert outcome.failed_case == case


def test_a_learner_changing_its_input_fails():
    def in_place(w, b, x, y, c):
        x *= 1.0 + 1e-3
        return bias_reference(w, b, x, y, c)
    outcome = check_hinge_loss_bias_penalty(in_place)
    assert not outcome and "in place" in outcome.hint


@pytest.mark.parametrize("check, arity", [(check_hinge_loss_bias_penalty, 5),
                                          (check_hinge_loss_clamp, 5),
                                          (check_info_nce_one_way, 3)])
def test_bad_arguments_raise_type_error(check, arity):
    with pytest.raises(TypeError, match="callable"):
        check(42)
    with pytest.raises(TypeError, match="positional"):
        check(lambda a, b: 0.0)          # two arguments, fewer than every check passes
