"""The machinery behind every ``check_<name>(fn)`` of :mod:`dlnotes.exercises`.

A check runs a learner's function on a few seeded cases (batch 1, odd sizes, large values,
...), compares each result with a reference (torch in float64, or dlnotes where torch has no
equivalent) and returns an :class:`Outcome`. Its ``repr`` is the verdict: either
"passed all N cases", or the first case that failed with what kind of mistake it looks like
(a wrong shape, transposed, off by one, off by a constant factor, a flipped sign, NaN where
the reference is finite, an input changed in place) and the case's hint. It never shows the
reference's numbers, only where and how the learner's differ.

NumPy only at import; torch is imported by a reference when a check runs.
"""
from __future__ import annotations

import copy
import inspect
import textwrap
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

__all__ = ["Outcome", "CheckCase", "run_check", "check_callable", "comparable",
           "describe_difference"]

LINE_WIDTH = 85  # as dlnotes.verify's verdicts: a stored output line fits the page
RTOL = 1e-7     # learners write float64 NumPy; their arithmetic order differs from torch's
ATOL = 1e-9


class Outcome(NamedTuple):
    """A check's result: its repr is the verdict (a long hint wraps at 85 characters onto
    indented lines); ``bool(outcome)`` is whether it passed."""
    check: str
    passed: bool
    cases: int
    failed_case: str | None = None
    hint: str = ""

    def __repr__(self) -> str:
        if self.passed:
            return f"{self.check}: passed all {self.cases} cases"
        line = f"{self.check}: case {self.failed_case!r} failed: {self.hint}"
        # a long hint continues on indented lines, so a stored output fits the page
        return textwrap.fill(line, LINE_WIDTH, subsequent_indent="    ",
                             break_long_words=False, break_on_hyphens=False)

    __str__ = __repr__

    def __bool__(self) -> bool:
        return self.passed


class CheckCase(NamedTuple):
    """One input of a check: ``make(rng)`` returns the positional arguments of the function;
    ``hint`` says what a failure on this case usually means (a hint, never the answer)."""
    name: str
    make: Callable[[np.random.Generator], tuple]
    hint: str = ""


def check_callable(fn, n_args: int, check: str) -> None:
    """TypeError unless ``fn`` is callable with ``n_args`` positional arguments."""
    if not callable(fn):
        raise TypeError(f"{check} needs your function (a callable); got {type(fn).__name__}")
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):     # some builtins have no signature: let the call decide
        return
    try:
        signature.bind(*range(n_args))
    except TypeError:
        raise TypeError(f"{check} calls your function with {n_args} positional argument(s); "
                        f"{getattr(fn, '__name__', 'it')}{signature} cannot take them") from None


def _as_array(value, what: str) -> tuple[np.ndarray | None, str]:
    if isinstance(value, (str, bytes)) or value is None:
        return None, f"{what} is {type(value).__name__}, expected an array"
    try:
        arr = np.asarray(value)
    except Exception:  # noqa: BLE001  (a learner's object of any kind)
        return None, f"{what} is {type(value).__name__}, which is not an array"
    if arr.dtype == object:
        return None, f"{what} is {type(value).__name__}, which is not an array of numbers"
    if np.iscomplexobj(arr):
        return None, f"{what} has complex values"
    return arr.astype(np.float64), ""


def _nice_factor(c: float) -> str:
    if _whole(c):
        return f"{round(c)}"
    if c != 0 and _whole(1 / c):
        return f"1/{round(1 / c)}"
    return f"{c:.3g}"


def _whole(c: float) -> bool:
    return abs(c) >= 1 and abs(c - round(c)) < 1e-9 * abs(c)


def comparable(got, expected) -> np.ndarray | None:
    """``got`` as a float64 array if it has ``expected``'s shape, else None: the first step of
    a check's own ``describe`` (the generic comparison already names a wrong shape)."""
    try:
        arr = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return arr if arr.shape == np.shape(expected) else None


def describe_difference(got, expected, what: str = "the output", rtol: float = RTOL,
                        atol: float = ATOL) -> str | None:
    """None if ``got`` matches ``expected``; else what kind of difference it is, in words."""
    exp = np.asarray(expected, dtype=np.float64)
    arr, problem = _as_array(got, what)
    if arr is None:
        return problem
    if arr.shape != exp.shape:
        if arr.ndim == exp.ndim >= 2 and arr.shape == exp.shape[::-1]:
            return f"{what} has shape {arr.shape}, expected {exp.shape}: transposed?"
        if arr.ndim == exp.ndim:
            off = [k for k in range(arr.ndim) if arr.shape[k] != exp.shape[k]]
            if len(off) == 1 and abs(arr.shape[off[0]] - exp.shape[off[0]]) == 1:
                k = off[0]
                return (f"{what} has shape {arr.shape}, expected {exp.shape}: off by one in "
                        f"axis {k} (check the output-size formula)")
        if arr.size == exp.size:
            return (f"{what} has shape {arr.shape}, expected {exp.shape}: the right number of "
                    f"values, arranged wrongly (an axis order or a reshape?)")
        return f"{what} has shape {arr.shape}, expected {exp.shape}"
    bad = ~np.isfinite(arr) & np.isfinite(exp)
    if bad.any():
        kind = "NaN" if np.isnan(arr[bad]).any() else "inf"
        return (f"{what} contains {kind} where the reference is finite "
                f"({int(bad.sum())} of {arr.size} entries): an overflow, or a 0/0?")
    with np.errstate(invalid="ignore", over="ignore"):
        if np.allclose(arr, exp, rtol=rtol, atol=atol, equal_nan=True):
            return None
    finite = np.isfinite(exp) & np.isfinite(arr)
    e, g = exp[finite], arr[finite]
    if e.size and np.dot(e, e) > 0:
        c = float(np.dot(g, e) / np.dot(e, e))
        # one number is always a multiple of another: name a factor there only if it is a
        # whole number or its reciprocal (a sum where a mean was meant, a missing 1/2)
        telling = e.size >= 2 or _whole(c) or (c != 0 and _whole(1 / c))
        if telling and np.allclose(g, c * e, rtol=1e-6, atol=atol) and abs(c - 1) > 1e-6:
            if abs(c + 1) < 1e-6:
                return f"{what} has the right size but the opposite sign"
            if abs(c) < 1e-12:
                return f"{what} is all zeros"
            return f"{what} is off by a constant factor of {_nice_factor(c)}"
    if arr.ndim == 2 and arr.shape[0] == arr.shape[1] > 1 and np.allclose(arr.T, exp, rtol=rtol,
                                                                          atol=atol):
        return f"{what} looks transposed"
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(arr - exp)
    worst = np.unravel_index(int(np.nanargmax(np.where(np.isnan(diff), -1, diff))), diff.shape)
    where = f" at index {tuple(int(i) for i in worst)}" if arr.ndim else ""
    return (f"{what} differs from the reference (largest difference "
            f"{float(diff[worst]):.2g}{where})")


def _unchanged(before: Sequence, after: Sequence) -> int | None:
    """The position of the first array argument that the call changed in place, or None."""
    for k, (a, b) in enumerate(zip(before, after, strict=True)):
        if isinstance(a, np.ndarray) and not np.array_equal(a, b, equal_nan=True):
            return k
    return None


def run_check(check: str, fn, cases: Sequence[CheckCase], reference: Callable[..., Any], *,
              n_args: int, outputs: Sequence[str] = ("the output",), seed: int = 0,
              rtol: float = RTOL, atol: float = ATOL,
              describe: Callable[..., str | None] | None = None) -> Outcome:
    """Run ``fn`` and ``reference`` on every case; the first mismatch ends the check.

    ``outputs`` names the results when ``fn`` returns a tuple of them (e.g. ``("dx", "dw")``);
    ``describe(got, expected, args)`` may add a check's own diagnosis (e.g. "did you subtract
    the row maximum?") before the generic one.
    """
    check_callable(fn, n_args, check)
    for i, case in enumerate(cases):
        args = case.make(np.random.default_rng(seed + i))
        expected = reference(*copy.deepcopy(args))
        given = copy.deepcopy(args)
        try:
            got = fn(*given)
        except Exception as error:  # noqa: BLE001  (whatever the learner's code raises)
            hint = f"your function raised {type(error).__name__}: {str(error)[:80]}"
            return Outcome(check, False, len(cases), case.name, _with(hint, case.hint))
        changed = _unchanged(args, given)
        if changed is not None:
            return Outcome(check, False, len(cases), case.name,
                           f"your function changed argument {changed + 1} in place; "
                           f"work on a copy")
        problem = _compare(got, expected, outputs, rtol, atol)
        if problem is not None and describe is not None:
            problem = describe(got, expected, args) or problem
        if problem is not None:
            return Outcome(check, False, len(cases), case.name, _with(problem, case.hint))
    return Outcome(check, True, len(cases))


def _compare(got, expected, outputs: Sequence[str], rtol: float, atol: float) -> str | None:
    if len(outputs) == 1:
        return describe_difference(got, expected, outputs[0], rtol, atol)
    if not isinstance(got, (tuple, list)) or len(got) != len(outputs):
        n = len(got) if isinstance(got, (tuple, list)) else 1
        return (f"your function returned {n} value(s); expected {len(outputs)} "
                f"({', '.join(outputs)})")
    for name, g, e in zip(outputs, got, expected, strict=True):
        problem = describe_difference(g, e, name, rtol, atol)
        if problem is not None:
            return problem
    return None


def _with(problem: str, hint: str) -> str:
    if not hint:
        return problem
    return f"{problem}{'' if problem.endswith(('?', '.')) else '.'} Hint: {hint}"
