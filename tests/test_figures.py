"""Every stored figure has alt text a screen reader can use.

A code cell whose stored outputs hold an image/png is rendered by MyST-NB as an <img>. Its
alt text comes from the cell's metadata, {"mystnb": {"image": {"alt": "..."}}}; without it
the alt is the image's hashed file name. The alt must say what the figure shows in a few
words of prose: not empty, not a file name, not just "figure" or "plot".
"""
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(p for p in (ROOT / "chapters").rglob("*.ipynb")
                   if ".ipynb_checkpoints" not in p.parts)
IDS = [str(p.relative_to(ROOT)) for p in NOTEBOOKS]

MIN_WORDS = 5
FILE_NAME = re.compile(r"\.(png|jpe?g|svg|gif|webp)\b|^[\w./-]+$|[0-9a-f]{16,}", re.IGNORECASE)
PLACEHOLDERS = {"figure", "image", "plot", "chart", "graph", "picture", "output", "alt", "todo"}


def _figure_cells(nb):
    """(index, cell) of every code cell with at least one stored PNG output."""
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if any("image/png" in out.get("data", {}) for out in cell.get("outputs", [])):
            yield i, cell


def alt_text_problem(alt) -> str | None:
    """Why `alt` is not usable alt text, or None if it is."""
    if not isinstance(alt, str) or not alt.strip():
        return "no alt text (set metadata mystnb.image.alt)"
    text = alt.strip()
    words = re.findall(r"[A-Za-z][A-Za-z'-]*", text)
    if FILE_NAME.search(text):
        return f"alt text looks like a file name or hash: {text!r}"
    if {w.lower() for w in words} <= PLACEHOLDERS:
        return f"alt text is a placeholder: {text!r}"
    if len(words) < MIN_WORDS:
        return f"alt text has {len(words)} word(s), fewer than {MIN_WORDS}: {text!r}"
    if any(ord(ch) < 32 for ch in text):
        return f"alt text contains a control character: {text!r}"
    return None


@pytest.mark.parametrize("problem_alt", [
    None, "", "   ", "figure", "Figure", "plot", "image.png", "_build/jupyter_execute/ab12.png",
    "3c84e200b6c0bc18a1f898cc", "Loss curve", "loss\tcurve against the epoch number here",
])
def test_the_check_rejects_bad_alt_text(problem_alt):
    assert alt_text_problem(problem_alt) is not None


def test_the_check_accepts_real_alt_text():
    alt = "Training loss against epoch for three batch sizes: the smallest batch is noisiest."
    assert alt_text_problem(alt) is None


def test_there_are_figures():
    count = sum(len(list(_figure_cells(nbformat.read(p, as_version=4)))) for p in NOTEBOOKS)
    assert count >= 1


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_every_figure_has_alt_text(path):
    nb = nbformat.read(path, as_version=4)
    problems = []
    for i, cell in _figure_cells(nb):
        alt = cell.metadata.get("mystnb", {}).get("image", {}).get("alt")
        problem = alt_text_problem(alt)
        if problem:
            problems.append(f"cell {i} (id {cell.get('id')}): {problem}")
    assert not problems, "figures without usable alt text:\n" + "\n".join(problems)
