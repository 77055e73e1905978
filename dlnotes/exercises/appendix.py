"""Self-checks for the coding exercises of the appendix (chapters/appendix)."""
from __future__ import annotations

import numpy as np

from .core import CheckCase, Outcome, run_check

__all__: list[str] = ["check_sliding_median"]


def _floats(n: int, scale: float = 1.0):
    return lambda rng: (scale * rng.standard_normal(n), )


def _with_window(make, w: int):
    return lambda rng: (*make(rng), w)


_SLIDING_MEDIAN_CASES = (
    CheckCase("odd window, w = 5 of n = 40", _with_window(_floats(40), 5),
              "an outgoing number must leave the window before the median is read"),
    CheckCase("even window, w = 4 of n = 31", _with_window(_floats(31), 4),
              "with an even count the median need not be one of the numbers"),
    CheckCase("w = 1", _with_window(_floats(12), 1),
              "a window of one number: can your balancing leave a heap empty?"),
    CheckCase("one window, w = n = 9", _with_window(_floats(9), 9),
              "how many full windows of w numbers does a list of n numbers have?"),
    CheckCase("single number, n = w = 1", _with_window(_floats(1), 1),
              "the smallest input: one number, one window"),
    CheckCase("increasing input, w = 6", lambda rng: (np.sort(rng.standard_normal(30)), 6),
              "on sorted input every outgoing number sits in the same half: are stale "
              "entries discarded before you look at a root?"),
    CheckCase("repeated values, w = 7",
              lambda rng: (rng.integers(-3, 4, size=60).astype(np.float64), 7),
              "repeated values: a pending deletion of one copy must not remove the others, "
              "and the halves' sizes must count only live entries"),
    CheckCase("large values, w = 8", _with_window(_floats(50, scale=1e12), 8),
              "large numbers: do you compare values, not rounded or hashed keys?"),
)


def _sliding_median_reference(x, w):
    import torch

    windows = torch.tensor(np.asarray(x, dtype=np.float64)).unfold(0, int(w), 1)  # (n-w+1, w)
    return torch.quantile(windows, 0.5, dim=1).numpy()


def _window_medians(x: np.ndarray, w: int, extra: int = 0) -> np.ndarray:
    # medians of the windows ending where the full windows end, each `extra` numbers longer
    ends = range(w - 1, len(x))
    return np.array([np.median(x[max(0, end - w + 1 - extra):end + 1]) for end in ends])


def _describe_sliding_median(got, expected, args) -> str | None:
    x, w = np.asarray(args[0], dtype=np.float64), int(args[1])
    try:
        arr = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    n = len(x)
    if arr.shape == (n,) and n != n - w + 1:
        return (f"you returned {n} medians, one per arrival; the contract asks for one per "
                f"full window, {n - w + 1} for n = {n} and w = {w}")
    if arr.shape != np.shape(expected):
        return None
    if w % 2 == 0:
        lower = np.array([np.sort(x[i:i + w])[w // 2 - 1] for i in range(n - w + 1)])
        upper = np.array([np.sort(x[i:i + w])[w // 2] for i in range(n - w + 1)])
        if np.allclose(arr, lower) or np.allclose(arr, upper):
            return ("for an even window you returned one of the two middle values (the "
                    "convention of torch.median), not the median of statistics.median")
    prefix = np.array([np.median(x[:end + 1]) for end in range(w - 1, n)])
    if np.allclose(arr, prefix):
        return ("these are medians of everything seen so far: numbers that left the "
                "window were never removed")
    for extra in (1, -1):
        if 0 < w + extra and np.allclose(arr, _window_medians(x, w, extra)):
            return ("the windows hold one number too many or too few: check when the "
                    "outgoing number is deleted relative to the incoming one")
    return None


def check_sliding_median(fn) -> Outcome:
    """Check ``fn(x, w) -> medians``: the median of every full window of w numbers.

    x: (n,) float array; w: int window length, 1 <= w <= n. Returns (n - w + 1,) floats,
    entry i the median of x[i:i + w] as ``statistics.median`` defines it (the mean of the two
    middle values when w is even), as ``torch.quantile(windows, 0.5, dim=1)``.
    Chapter: appendix/01-algorithms, exercise "Sliding-window median".
    """
    return run_check("check_sliding_median", fn, _SLIDING_MEDIAN_CASES,
                     _sliding_median_reference, n_args=2, describe=_describe_sliding_median)
