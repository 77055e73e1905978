"""What a robustness case says about one public callable of dlnotes.

A :class:`Case` gives valid inputs for the callable (made from a seeded generator), which of
them are arrays (each array argument is mutated in turn by tests/test_robustness.py), and,
where one exists, an independent reference for the result (torch in float64, a brute force).

Each mutation of an array argument must end in one of two ways:

* a ``ValueError`` or ``TypeError`` whose message names that argument (``name``, or one of
  ``aliases``: the word the message uses, e.g. ``"x"`` for a parameter ``x``), or
* a result that is right: equal to ``reference`` on the mutated input where a reference is
  given; for a mutation that keeps the values (list, int, bool, float32), equal to the
  result on the original float64 input (float32 within float32 round-off).

``expect`` overrides that rule for one mutation, with the reason in the value: e.g.
``{"nan": "propagates: NaN in, NaN out, as torch"}`` makes the suite require NaN in the
output instead; ``{"transposed": "any shape is valid (elementwise)"}`` requires a result.

How tests/test_robustness.py reads these (added by R0; the meaning above is unchanged):

* An ``expect`` value starts with its rule: ``"valid: ..."`` (a result is required, equal
  to ``reference`` on the mutated input where there is one), ``"propagates: ..."`` (a
  non-finite output is required: NaN for ``nan``, NaN or inf for ``inf`` and ``huge``; a
  ``ValueError``/``TypeError`` naming the argument is still accepted, since NaN may either
  behave as torch or raise) or ``"raises: ..."`` (a named error is required).
* A key of ``expect`` or ``skip`` is a mutation (every array argument) or
  ``"argument:mutation"`` (that argument only, e.g. ``{"y:nan": "raises: labels"}``); the
  argument's own key wins.
* Without ``expect`` and without ``reference``: ``nan`` must raise or reach the output (a
  finite answer for NaN input is a silent wrong answer); ``inf`` must raise or give some
  non-finite output; ``huge`` must raise or give a finite output; ``complex`` and ``str``
  must raise; a shape mutation (transposed, extra or missing axis, empty) must raise,
  except a transpose that keeps the shape (another valid input). ``object`` counts as
  value-preserving like list, int, bool and float32: it holds the same numbers.
* The mutations: transposed ``a.T`` (two axes or more), extra axis ``a[None]``, missing
  axis ``a[0]``, empty ``a[:0]``, list ``a.tolist()``, int ``round(a)`` as int64, bool
  ``a > 0``, float32, complex ``a + 1j``, object, str ``a.astype(str)``, NaN and inf in
  the first entry, huge: ``a`` rescaled so that its largest |entry| is 1e300.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

MUTATIONS = ("transposed", "extra_axis", "missing_axis", "empty", "list", "int", "bool",
             "float32", "complex", "object", "str", "nan", "inf", "huge")


@dataclass
class Case:
    func: str                                   # "dlnotes.module.name" or "...Class.method"
    make: Callable[[np.random.Generator], dict[str, Any]]   # valid keyword arguments
    arrays: tuple[str, ...] = ()                # which keyword arguments are arrays
    call: Callable[[dict[str, Any]], Any] | None = None     # how to call (default: func(**kw))
    reference: Callable[[dict[str, Any]], Any] | None = None  # independent expected result
    output: Callable[[Any], Any] = lambda result: result     # the part of the result compared
    rtol: float = 1e-10
    atol: float = 1e-12
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)  # arg -> names in messages
    expect: dict[str, str] = field(default_factory=dict)    # mutation -> rule with a reason
    skip: dict[str, str] = field(default_factory=dict)      # mutation -> why it cannot apply
