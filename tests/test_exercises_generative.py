"""The self-checks of Part V (dlnotes.exercises.generative): a right answer passes, and
typical wrong ones fail on the expected case with the expected diagnosis."""
from __future__ import annotations

import numpy as np
import pytest

from dlnotes.exercises import check_loo_kde_log_density
from dlnotes.exercises.generative import _LOO_CASES

CHECKS = (check_loo_kde_log_density,)


# --- check_loo_kde_log_density -----------------------------------------------------------------

def _log_kernels(x, h):
    d2 = (x[:, None] - x[None, :]) ** 2                              # (m, m)
    return -d2 / (2 * h ** 2) - np.log(h * np.sqrt(2 * np.pi))


def _logsumexp_rows(a):
    top = a.max(axis=1, keepdims=True)
    return top[:, 0] + np.log(np.exp(a - top).sum(axis=1))


def loo_right(x, h):
    log_k = _log_kernels(x, h)
    log_k[np.diag_indices(len(x))] = -np.inf
    return _logsumexp_rows(log_k) - np.log(len(x) - 1)


def loo_keeps_self(x, h):
    return _logsumexp_rows(_log_kernels(x, h)) - np.log(len(x))


def loo_divides_by_m(x, h):
    return loo_right(x, h) + np.log((len(x) - 1) / len(x))


def loo_no_logsumexp(x, h):
    k = np.exp(_log_kernels(x, h))
    k[np.diag_indices(len(x))] = 0.0
    with np.errstate(divide="ignore"):
        return np.log(k.sum(axis=1) / (len(x) - 1))


def loo_forgets_h_in_constant(x, h):
    return loo_right(x, h) + np.log(h)


def loo_h_as_variance(x, h):
    return loo_right(x, np.sqrt(h))


def loo_in_place(x, h):
    x -= x.mean()                                                    # shifts the caller's data
    return loo_right(x, h)


def test_loo_passes_the_right_answer():
    outcome = check_loo_kde_log_density(loo_right)
    assert outcome and outcome.cases == len(_LOO_CASES)
    assert repr(outcome) == f"check_loo_kde_log_density: passed all {len(_LOO_CASES)} cases"


def test_loo_reference_matches_an_independent_numpy_computation():
    from dlnotes.exercises.generative import _loo_reference

    for i, case in enumerate(_LOO_CASES):
        x, h = case.make(np.random.default_rng(i))
        np.testing.assert_allclose(_loo_reference(x, h), loo_right(x, h), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("wrong, case, words", [
    (loo_keeps_self, "seven points", "own kernel"),
    (loo_divides_by_m, "seven points", "divides by the wrong count"),
    (loo_no_logsumexp, "narrow kernel h = 1e-3", "underflows"),
    (loo_forgets_h_in_constant, "seven points", "normalising constant"),
    (loo_h_as_variance, "seven points", "standard deviation h"),
    (loo_in_place, "seven points", "in place"),
])
def test_loo_catches_typical_mistakes(wrong, case, words):
    outcome = check_loo_kde_log_density(wrong)
    assert not outcome
    assert outcome.failed_case == case
    assert words in outcome.hint
    assert "Hint" in outcome.hint or "in place" in outcome.hint


def test_loo_reports_a_crash_with_the_case_hint():
    def crashes(x, h):
        raise ZeroDivisionError("m - 1 = 0")

    outcome = check_loo_kde_log_density(crashes)
    assert not outcome and outcome.failed_case == "seven points"
    assert "ZeroDivisionError" in outcome.hint


@pytest.mark.parametrize("check", CHECKS)
def test_checks_refuse_a_non_callable(check):
    with pytest.raises(TypeError, match="callable"):
        check(np.zeros(3))


@pytest.mark.parametrize("check", CHECKS)
def test_checks_refuse_the_wrong_arity(check):
    with pytest.raises(TypeError, match="positional"):
        check(lambda x: x)
