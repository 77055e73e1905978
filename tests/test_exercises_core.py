"""The machinery of dlnotes.exercises: verdicts, the kinds of mistake it names, bad checks."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from dlnotes.exercises.core import CheckCase, Outcome, describe_difference, run_check

CASES = (CheckCase("batch 1", lambda rng: (rng.standard_normal((1, 5)),)),
         CheckCase("three rows", lambda rng: (rng.standard_normal((3, 4)),),
                   "every row is its own problem"))


def _double(x):
    return 2.0 * x


@pytest.mark.parametrize("wrong, case, words", [
    (lambda x: 4.0 * x, "batch 1", "constant factor of 2"),
    (lambda x: -2.0 * x, "batch 1", "opposite sign"),
    (lambda x: (2.0 * x).T, "batch 1", "transposed?"),
    (lambda x: 2.0 * x[:, :-1], "batch 1", "off by one in axis 1"),
    (lambda x: (2.0 * x).reshape(-1), "batch 1", "arranged wrongly"),
    (lambda x: np.where(x > 0, np.nan, 2.0 * x), "batch 1", "NaN where the reference is finite"),
    (lambda x: 2.0 * x + (x.shape[0] > 1), "three rows", "every row is its own problem"),
    (lambda x: "2x", "batch 1", "expected an array"),
    (lambda x: 2.0 * x + 0j, "batch 1", "complex"),
    (lambda x: np.multiply(x, 2.0, out=x), "batch 1", "changed argument 1 in place"),
    (lambda x: 1 / 0, "batch 1", "raised ZeroDivisionError"),
])
def test_mistakes_are_named(wrong, case, words):
    outcome = run_check("check_double", wrong, CASES, _double, n_args=1)
    assert not outcome and outcome.failed_case == case
    assert words in outcome.hint, outcome.hint
    assert repr(outcome).startswith(f"check_double: case {case!r} failed: ")


def test_a_right_function_passes_and_the_verdict_is_one_line():
    outcome = run_check("check_double", lambda x: x + x, CASES, _double, n_args=1)
    assert outcome and isinstance(outcome, Outcome)
    assert repr(outcome) == str(outcome) == "check_double: passed all 2 cases"


def test_a_square_transpose_is_named():
    cases = (CheckCase("square", lambda rng: (rng.standard_normal((3, 3)),)),)
    outcome = run_check("check_double", lambda x: 2.0 * x.T, cases, _double, n_args=1)
    assert not outcome and "looks transposed" in outcome.hint


def test_several_outputs_are_named_and_counted():
    cases = (CheckCase("pair", lambda rng: (rng.standard_normal(3),)),)
    ref = lambda x: (2 * x, 3 * x)                                     # noqa: E731
    assert run_check("c", lambda x: (2 * x, 3 * x), cases, ref, n_args=1, outputs=("a", "b"))
    wrong = run_check("c", lambda x: (2 * x, 6 * x), cases, ref, n_args=1, outputs=("a", "b"))
    assert "b is off by a constant factor of 2" in wrong.hint
    short = run_check("c", lambda x: 2 * x, cases, ref, n_args=1, outputs=("a", "b"))
    assert "returned 1 value(s); expected 2 (a, b)" in short.hint


def test_the_hint_never_shows_the_reference_values():
    cases = (CheckCase("one", lambda rng: (np.array([0.123456789]),)),)
    outcome = run_check("c", lambda x: x + 1.0, cases, _double, n_args=1)
    assert "0.2469" not in outcome.hint and "differs from the reference" in outcome.hint


@pytest.mark.parametrize("fn, words", [
    (3, "needs your function"),
    (None, "needs your function"),
    (lambda x, y: x, "with 1 positional argument"),
    (lambda: 0, "with 1 positional argument"),
])
def test_a_non_callable_or_wrong_arity_is_a_type_error(fn, words):
    with pytest.raises(TypeError, match=words):
        run_check("check_double", fn, CASES, _double, n_args=1)


def test_describe_difference_accepts_equal_arrays_within_tolerance():
    x = np.linspace(-1, 1, 7)
    assert describe_difference(x * (1 + 1e-12), x) is None
    assert describe_difference(x + 1e-3, x) is not None


def test_importing_the_exercises_does_not_import_torch():
    code = "import sys, dlnotes.exercises; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_scalar_off_by_a_whole_factor_is_named():
    cases = (CheckCase("one", lambda rng: (np.array(0.3),)),)
    assert "constant factor of 1/8" in run_check("c", lambda x: x / 4, cases, _double,
                                                 n_args=1).hint
    assert "constant factor of 3" in run_check("c", lambda x: 6 * x, cases, _double, n_args=1).hint
