"""Every exercise has a worked solution, and every solution belongs to an exercise.

A chapter's exercises are ``:::{exercise}`` directives labelled ``ex-<chapter>-<k>`` (k = 1,
2, ... in order, <chapter> the notebook's name without its number). Its part's solutions page,
``chapters/<part>/solutions/solutions.ipynb``, holds one gated solution per exercise, in the
same order: a ``:::{solution-start} ex-...`` cell labelled ``sol-...`` with the ``dropdown``
class (hidden until clicked), the solution's cells, and a ``:::{solution-end}`` cell. A new
exercise without a solution, a solution left as a placeholder, or one for an exercise that no
longer exists fails here.
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
PARTS = sorted(p for p in (ROOT / "chapters").iterdir() if p.is_dir())
EXERCISE = re.compile(r"^:::\{exercise\}[ \t]*(?P<title>.*)\n:label: (?P<label>\S+)\n", re.M)
START = re.compile(r"^:::\{solution-start\} (?P<target>\S+)\n(?P<options>(?::\w+:.*\n?)*)", re.M)
PLACEHOLDER = "(to be written)"


def _chapters(part: Path) -> list[Path]:
    return sorted(part.glob("[0-9][0-9]-*.ipynb"))


def _exercises(chapter: Path) -> list[tuple[str, str]]:
    nb = nbformat.read(chapter, as_version=4)
    text = "\n".join(c.source + "\n" for c in nb.cells if c.cell_type == "markdown")
    return [(m["label"], m["title"].strip()) for m in EXERCISE.finditer(text)]


def _solutions(part: Path) -> list[tuple[str, str, list[str]]]:
    """(exercise label, options text, cells between start and end) for each gated solution."""
    nb = nbformat.read(part / "solutions" / "solutions.ipynb", as_version=4)
    found, current = [], None
    for cell in nb.cells:
        source = cell.source
        start = START.match(source + "\n") if cell.cell_type == "markdown" else None
        if start:
            assert current is None, f"solution of {current[0]} is not closed before the next"
            current = (start["target"], start["options"], [])
        elif cell.cell_type == "markdown" and source.startswith(":::{solution-end}"):
            assert current is not None, "a solution-end without its solution-start"
            found.append(current)
            current = None
        elif current is not None:
            current[2].append(source)
    assert current is None, f"the solution of {current[0]} has no solution-end"
    return found


@pytest.mark.parametrize("part", PARTS, ids=[p.name for p in PARTS])
def test_exercises_are_labelled_in_order(part):
    for chapter in _chapters(part):
        slug = re.sub(r"^\d+-", "", chapter.stem)
        labels = [label for label, _ in _exercises(chapter)]
        assert labels, f"{chapter.name}: no exercise directives"
        assert labels == [f"ex-{slug}-{k}" for k in range(1, len(labels) + 1)], (
            f"{chapter.name}: labels must be ex-{slug}-1, -2, ... in order; got {labels}")
        titles = [title for _, title in _exercises(chapter)]
        assert all(titles), f"{chapter.name}: every exercise needs a title"


@pytest.mark.parametrize("part", PARTS, ids=[p.name for p in PARTS])
def test_every_exercise_has_one_solution_in_order(part):
    expected = [label for chapter in _chapters(part) for label, _ in _exercises(chapter)]
    solutions = _solutions(part)
    got = [target for target, _, _ in solutions]
    missing = [label for label in expected if label not in got]
    orphans = [label for label in got if label not in expected]
    assert not missing, f"exercises without a solution: {missing}"
    assert not orphans, f"solutions for exercises that do not exist: {orphans}"
    assert got == expected, "the solutions must follow the exercises' order, once each"
    for target, options, cells in solutions:
        assert f":label: sol-{target[3:]}" in options, f"{target}: label it sol-{target[3:]}"
        assert re.search(r":class:.*\bdropdown\b", options), f"{target}: not collapsed"
        body = "\n".join(cells).strip()
        assert body and PLACEHOLDER not in body, f"{target}: the solution is not written"
