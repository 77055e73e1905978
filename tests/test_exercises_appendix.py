"""The self-checks of the appendix's coding exercises: the reference passes, typical
mistakes fail with a telling hint, and a wrong kind of argument is refused."""
from __future__ import annotations

import statistics

import numpy as np
import pytest

from dlnotes.algorithms import RunningMedian
from dlnotes.exercises import check_sliding_median


def _windows(x, w):
    return [np.asarray(x[i:i + w], dtype=float) for i in range(len(x) - w + 1)]


def reference_sliding_median(x, w):
    return np.array([statistics.median(v.tolist()) for v in _windows(x, w)])


def lower_middle(x, w):
    # torch.median's convention on even counts
    return np.array([np.sort(v)[(w - 1) // 2] for v in _windows(x, w)])


def prefix_median(x, w):
    # never deletes: the median of everything seen so far
    stream, out = RunningMedian(), []
    for i, value in enumerate(x):
        stream.add(float(value))
        if i >= w - 1:
            out.append(stream.median())
    return np.array(out)


def one_per_arrival(x, w):
    # partial windows at the start: n medians instead of n - w + 1
    return np.array([np.median(x[max(0, i - w + 1):i + 1]) for i in range(len(x))])


def deleted_late(x, w):
    # the outgoing number leaves one step late: windows of w + 1 after the first
    return np.array([np.median(x[max(0, i - 1):i + w]) for i in range(len(x) - w + 1)])


def deduplicated(x, w):
    # a set of the window's values loses repeated numbers
    return np.array([np.median(np.unique(v)) for v in _windows(x, w)])


def sorts_in_place(x, w):
    x.sort()
    return reference_sliding_median(x, w)


def test_reference_passes():
    outcome = check_sliding_median(reference_sliding_median)
    assert outcome, outcome
    assert repr(outcome) == f"check_sliding_median: passed all {outcome.cases} cases"


@pytest.mark.parametrize("wrong, hint, case", [
    (lower_middle, "two middle values", "even window, w = 4 of n = 31"),
    (prefix_median, "never removed", "odd window, w = 5 of n = 40"),
    (one_per_arrival, "one per full window", "odd window, w = 5 of n = 40"),
    (deleted_late, "one number too many", "odd window, w = 5 of n = 40"),
    (deduplicated, "repeated values", "repeated values, w = 7"),
    (sorts_in_place, "in place", "odd window, w = 5 of n = 40"),
])
def test_typical_mistakes_fail_with_their_hint(wrong, hint, case):
    outcome = check_sliding_median(wrong)
    assert not outcome
    assert hint in outcome.hint
    assert outcome.failed_case == case


def test_a_generic_mistake_gets_the_case_hint():
    outcome = check_sliding_median(lambda x, w: np.zeros(len(x) - w + 1))
    assert not outcome
    assert "all zeros" in outcome.hint and "Hint: an outgoing number" in outcome.hint


def test_a_raising_function_reports_the_error():
    def broken(x, w):
        raise IndexError("pop from empty list")

    outcome = check_sliding_median(broken)
    assert not outcome and "IndexError" in outcome.hint


def test_not_callable_is_refused():
    with pytest.raises(TypeError, match="callable"):
        check_sliding_median([1.0, 2.0])


def test_wrong_arity_is_refused():
    with pytest.raises(TypeError, match="2 positional"):
        check_sliding_median(lambda x: x)
