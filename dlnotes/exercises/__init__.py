"""Self-check functions for the coding exercises: ``check_<name>(your_function)``.

Each check runs your function on a few seeded inputs that cover the cases that matter (batch
1, odd sizes, large values, stride and padding variants, ...) and compares the results with a
reference: torch in float64, or the dlnotes implementation where torch has none. It returns
an :class:`~dlnotes.exercises.core.Outcome` whose repr is the verdict: "passed all N
cases", or the case that failed and what kind of mistake it looks like, with a hint. It never
prints the answer.

    >>> from dlnotes.exercises import check_softmax
    >>> check_softmax(my_softmax)          # doctest: +SKIP
    check_softmax: passed all 5 cases

NumPy at import; torch is imported only when a check runs. One module per part of the course.
"""
from __future__ import annotations

from . import appendix, beyond, convnets, foundations, generative, language, sequences
from .core import CheckCase, Outcome, check_callable, comparable, describe_difference, run_check

PARTS = (foundations, convnets, sequences, language, generative, beyond, appendix)

# Every part's check_<name> functions, importable from dlnotes.exercises directly.
for _part in PARTS:
    for _name in _part.__all__:
        globals()[_name] = getattr(_part, _name)

__all__ = ["Outcome", "CheckCase", "run_check", "check_callable", "comparable",
           "describe_difference",
           *(name for part in PARTS for name in part.__all__)]
