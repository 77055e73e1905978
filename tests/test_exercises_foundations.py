"""The self-checks of Part I (dlnotes.exercises.foundations): right answers pass, and typical
wrong ones fail on the expected case with the expected diagnosis."""
from __future__ import annotations

import numpy as np
import pytest

from dlnotes import activations as act
from dlnotes.exercises import (
    check_adam_step_uncorrected,
    check_leave_one_out_baseline,
    check_relu_gradcheck,
)
from dlnotes.gradcheck import numerical_gradient, relative_error

CHECKS = (check_relu_gradcheck, check_adam_step_uncorrected, check_leave_one_out_baseline)


# --- check_relu_gradcheck ----------------------------------------------------------------------

def _gradcheck(backward, z, h=1e-6, tol=1e-7, trusted=lambda z, h: np.abs(z) > 10 * h):
    dout = np.random.default_rng(0).standard_normal(z.shape)
    _, cache = act.relu_forward(z)
    analytic = backward(dout, cache)
    numeric = numerical_gradient(lambda v: np.sum(act.relu(v) * dout), z.copy(), h=h)
    keep = trusted(z, h)
    return bool(relative_error(analytic[keep], numeric[keep]) < tol)


def test_relu_gradcheck_passes_a_careful_check():
    assert check_relu_gradcheck(_gradcheck)


@pytest.mark.parametrize("wrong, case, words", [
    (lambda b, z: _gradcheck(b, z, trusted=lambda z, h: np.ones(z.shape, bool)),
     "correct backward, some inputs exactly 0", "rejected a correct backward"),
    (lambda b, z: _gradcheck(b, z, trusted=lambda z, h: z != 0),
     "correct backward, inputs within 1e-8 of 0", "rejected a correct backward"),
    (lambda b, z: True, "wrong backward: no mask", "accepted a wrong backward"),
    (lambda b, z: False, "correct backward, inputs away from 0", "rejected a correct backward"),
    (lambda b, z: _gradcheck(b, z, tol=1e-30), "correct backward, inputs away from 0",
     "rejected a correct backward"),
    (lambda b, z: 0.0, "correct backward, inputs away from 0", "should return True or False"),
])
def test_relu_gradcheck_names_the_mistake(wrong, case, words):
    outcome = check_relu_gradcheck(wrong)
    assert not outcome and outcome.failed_case == case, outcome
    assert words in outcome.hint, outcome.hint


def test_relu_gradcheck_catches_a_check_that_changes_z():
    def destructive(backward, z):
        z[...] = np.abs(z) + 1.0
        return _gradcheck(backward, z)
    outcome = check_relu_gradcheck(destructive)
    assert not outcome and "changed argument 2 in place" in outcome.hint


# --- check_adam_step_uncorrected ---------------------------------------------------------------

def _adam(p, g, m, v, lr, betas, eps):
    b1, b2 = betas
    m_new = b1 * m + (1 - b1) * g
    v_new = b2 * v + (1 - b2) * g * g
    return p - lr * m_new / (np.sqrt(v_new) + eps), m_new, v_new


def _adam_corrected(p, g, m, v, lr, betas, eps):
    b1, b2 = betas
    m_new, v_new = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
    return p - lr * (m_new / (1 - b1)) / (np.sqrt(v_new / (1 - b2)) + eps), m_new, v_new


def _adam_eps_inside(p, g, m, v, lr, betas, eps):
    b1, b2 = betas
    m_new, v_new = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
    return p - lr * m_new / np.sqrt(v_new + eps), m_new, v_new


def _adam_old_state(p, g, m, v, lr, betas, eps):
    _, m_new, v_new = _adam(p, g, m, v, lr, betas, eps)
    return p - lr * m / (np.sqrt(v) + eps), m_new, v_new


def _adam_swapped(p, g, m, v, lr, betas, eps):
    return _adam(p, g, m, v, lr, betas[::-1], eps)


def _adam_in_place(p, g, m, v, lr, betas, eps):
    b1, b2 = betas
    m *= b1
    m += (1 - b1) * g
    return p - lr * m / (np.sqrt(b2 * v + (1 - b2) * g * g) + eps), m, b2 * v + (1 - b2) * g * g


def test_adam_step_uncorrected_passes_the_formula():
    assert check_adam_step_uncorrected(_adam)


@pytest.mark.parametrize("wrong, case, words", [
    (_adam_corrected, "later step, (3, 4) parameters", "bias-corrected"),
    (_adam_eps_inside, "first step, one parameter", "inside the square root"),
    (_adam_old_state, "later step, (3, 4) parameters", "BEFORE"),
    (_adam_swapped, "later step, (3, 4) parameters", "swapped"),
    (_adam_in_place, "later step, (3, 4) parameters", "changed argument 3 in place"),
    (lambda p, g, m, v, lr, betas, eps: _adam(p, g, m, v, lr, betas, eps)[0],
     "later step, (3, 4) parameters", "expected 3 (p_new, m_new, v_new)"),
])
def test_adam_step_uncorrected_names_the_mistake(wrong, case, words):
    outcome = check_adam_step_uncorrected(wrong)
    assert not outcome and outcome.failed_case == case, outcome
    assert words in outcome.hint, outcome.hint


# --- check_leave_one_out_baseline --------------------------------------------------------------

def test_leave_one_out_baseline_passes_the_formula():
    assert check_leave_one_out_baseline(lambda r: (np.sum(r) - r) / (len(r) - 1))


def test_leave_one_out_baseline_accepts_a_loop():
    def loop(r):
        return np.array([np.mean(np.delete(r, i)) for i in range(len(r))])
    assert check_leave_one_out_baseline(loop)


@pytest.mark.parametrize("wrong, case, words", [
    (lambda r: np.full(len(r), np.mean(r)), "S = 4 accuracies", "mean of ALL rewards"),
    (lambda r: (np.sum(r) - r) / len(r), "S = 4 accuracies", "instead of S - 1"),
    (lambda r: np.sum(r) - r, "S = 4 accuracies", "summed but not averaged"),
    (lambda r: np.roll(r, 1), "S = 4 accuracies", "mean of the OTHER samples"),
    (lambda r: (np.sum(r) - r)[:-1] / (len(r) - 1), "S = 4 accuracies", "off by one"),
])
def test_leave_one_out_baseline_names_the_mistake(wrong, case, words):
    outcome = check_leave_one_out_baseline(wrong)
    assert not outcome and outcome.failed_case == case, outcome
    assert words in outcome.hint, outcome.hint


def test_leave_one_out_hints_do_not_show_the_reference():
    rewards = np.random.default_rng(0).integers(200, 380, 4) / 400.0   # the first case's input
    outcome = check_leave_one_out_baseline(lambda r: np.zeros(len(r)))
    reference = (rewards.sum() - rewards) / 3
    assert not any(f"{v:.3f}" in outcome.hint for v in reference)


# --- every check -------------------------------------------------------------------------------

@pytest.mark.parametrize("check", CHECKS, ids=[c.__name__ for c in CHECKS])
def test_a_non_callable_is_a_type_error(check):
    with pytest.raises(TypeError, match="needs your function"):
        check(np.zeros(3))


@pytest.mark.parametrize("check", CHECKS, ids=[c.__name__ for c in CHECKS])
def test_a_function_of_the_wrong_arity_is_a_type_error(check):
    def too_many(a, b, c, d, e, f, g, h):
        return a
    with pytest.raises(TypeError, match="positional argument"):
        check(too_many)


@pytest.mark.parametrize("check", CHECKS, ids=[c.__name__ for c in CHECKS])
def test_every_check_is_exported_and_documented(check):
    import dlnotes.exercises as ex
    import dlnotes.exercises.foundations as part
    assert check.__name__ in part.__all__ and getattr(ex, check.__name__) is check
    assert "->" in check.__doc__
