"""Asserting derivations with SymPy: the only dlnotes module that imports SymPy.

A chapter states an identity, then hands both sides to :func:`assert_identity`, which
either returns a one-line verdict or raises ``AssertionError`` showing both sides and what
their difference simplified to, so a wrong derivation cannot pass quietly.
"""
from __future__ import annotations

from typing import NamedTuple

import sympy as sp


class Identity(NamedTuple):
    """A verified identity; prints as one stable line."""
    name: str

    def __repr__(self) -> str:
        return f"SymPy verified: {self.name}"

    __str__ = __repr__


def assert_identity(lhs, rhs, name: str) -> Identity:
    """Assert that ``lhs == rhs`` holds identically (expressions, numbers or matrices).

    The difference is simplified, then (if needed) rewritten in exponentials and simplified
    again; if it is still not zero, ``Expr.equals(0)`` gets a last look, and only its answer
    ``True`` passes. ``equals`` answers ``True`` only through symbolic steps (simplification,
    a zero factor, a surd that solves its own equation, a minimal polynomial for algebraic
    numbers); it evaluates numerically at random points only to answer ``False``, and
    otherwise answers ``None``. So ``False`` and ``None`` fail, and a difference that is merely
    numerically tiny, such as ``exp(pi*sqrt(163)) - 640320**3 - 744`` (about -7.5e-13),
    fails too: anything short of a symbolic proof of zero fails.
    """
    lhs, rhs = sp.sympify(lhs), sp.sympify(rhs)
    if isinstance(lhs, sp.MatrixBase) or isinstance(rhs, sp.MatrixBase):
        if getattr(lhs, "shape", None) != getattr(rhs, "shape", None):
            raise AssertionError(f"{name}: shapes differ, {getattr(lhs, 'shape', ())} vs "
                                 f"{getattr(rhs, 'shape', ())}")
        diff = sp.simplify(lhs - rhs)
        if not diff.is_zero_matrix:
            entries = [d for d in diff if not d.equals(0)]
            if entries:
                _fail(name, lhs, rhs, diff)
        return Identity(name)
    diff = sp.simplify(lhs - rhs)
    if diff == 0:
        return Identity(name)
    # Hyperbolic and trigonometric functions often cancel only once written as exponentials.
    if sp.simplify(diff.rewrite(sp.exp)) == 0:
        return Identity(name)
    if diff.equals(0) is True:
        return Identity(name)
    _fail(name, lhs, rhs, diff)


def _fail(name: str, lhs, rhs, diff) -> None:
    raise AssertionError(f"{name}: SymPy could not verify the identity\n"
                         f"  left:  {sp.sstr(lhs)}\n  right: {sp.sstr(rhs)}\n"
                         f"  left - right simplifies to: {sp.sstr(diff)}")
