"""The errata page and the chapters link to each other.

Detection rule for a chapter cell that corrects the notes (kept narrow on purpose): a markdown
cell of a chapter other than the errata page that (1) refers to the source notes (``the notes``,
``the source/lecture/course/MOOC notes``, ``the notes'``, ``note 000`` ... ``note 004``) and
(2) contains one of the explicit correction markers in ``MARKERS``: a "What the notes say" or
"The notes, checked" heading, "a note on the notes", "the notes' ... formulas", "to correct",
"need(s) correcting", "correct or sharpen", "contrary to the notes", "one too many",
"incomplete as printed", "does not compute the right", "errors in the notes", "the notes'
version", "where the notes put", "where the notes and", "about the notes'" or "show about the
notes". Such a cell must link to at least one errata label,
``{ref}`errata-...``` (or ``{ref}`text <errata-...>```), and every label it names must be defined
on the errata page as a MyST target ``(errata-...)=``.

In the other direction, every errata entry that names a chapter notebook links to it with a
relative path that exists.

The first test fails until the chapters carry their links to the errata page (the list of
cells and labels is /tmp/team/errata_links.md at the time of writing).
"""
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
ERRATA = ROOT / "chapters" / "appendix" / "02-errata.ipynb"
CHAPTERS = sorted(p for p in (ROOT / "chapters").rglob("*.ipynb")
                  if ".ipynb_checkpoints" not in p.parts and p != ERRATA)

NOTES = re.compile(r"\b(the|these|their)\s+(source |lecture |course |MOOC )?notes\b"
                   r"|\bnotes'|\bnote 00[0-4]\b", re.I)
MARKERS = re.compile(
    r"what the notes say|the notes, checked|a note on the notes|the notes' [\w -]*formulas"
    r"|\bto correct\b|\bneeds? correcting\b|correct or sharpen|contrary to the notes"
    r"|one too many|incomplete as printed|does not compute the right|errors in the notes"
    r"|the notes' version|where the notes put|where the notes and|about the notes'"
    r"|show about the notes", re.I)
LABEL_DEF = re.compile(r"^\((errata-[a-z0-9-]+)\)=\s*$", re.M)
REF = re.compile(r"\{ref\}`(?:[^`<]*<)?(errata-[a-z0-9-]+)>?`")
CHAPTER_LINK = re.compile(r"\]\(((?:\.\./)?[\w./-]+\.ipynb)(?:#[\w-]+)?\)")


def _markdown(path: Path):
    nb = nbformat.read(path, as_version=4)
    return [(i, c.source) for i, c in enumerate(nb.cells) if c.cell_type == "markdown"]


def correction_cells():
    found = []
    for path in CHAPTERS:
        for i, src in _markdown(path):
            if NOTES.search(src) and MARKERS.search(src):
                found.append((path, i, src))
    return found


def errata_labels() -> set[str]:
    return {m for _, src in _markdown(ERRATA) for m in LABEL_DEF.findall(src)}


def test_errata_labels_are_unique():
    labels = [m for _, src in _markdown(ERRATA) for m in LABEL_DEF.findall(src)]
    assert labels, "the errata page defines no (errata-...)= labels"
    assert len(labels) == len(set(labels)), "an errata label is defined twice"


def test_detection_rule_finds_the_known_corrections():
    # a guard against the rule silently matching nothing
    names = {(p.name, i) for p, i, _ in correction_cells()}
    assert ("04-tokenization.ipynb", 36) in names or any(
        n == "04-tokenization.ipynb" for n, _ in names)
    assert len(names) >= 15


@pytest.mark.parametrize("path, index, src", correction_cells(),
                         ids=lambda v: v.name if isinstance(v, Path) else None)
def test_chapter_correction_links_to_errata(path, index, src):
    labels = errata_labels()
    refs = REF.findall(src)
    where = f"{path.relative_to(ROOT)} cell {index}"
    assert refs, f"{where} corrects the notes but links to no errata entry ({{ref}}`errata-...`)"
    unknown = sorted(set(refs) - labels)
    assert not unknown, f"{where} links to errata labels that do not exist: {unknown}"


def test_every_errata_ref_in_the_chapters_exists():
    labels = errata_labels()
    bad = [(str(p.relative_to(ROOT)), i, r) for p in CHAPTERS for i, src in _markdown(p)
           for r in REF.findall(src) if r not in labels]
    assert not bad, f"links to undefined errata labels: {bad}"


def test_errata_entries_link_to_chapters_that_exist():
    missing, linked = [], 0
    for i, src in _markdown(ERRATA):
        for target in CHAPTER_LINK.findall(src):
            linked += 1
            if not (ERRATA.parent / target).resolve().is_file():
                missing.append((i, target))
    assert linked >= 20, "the errata page links to (almost) no chapters"
    assert not missing, f"errata links to notebooks that do not exist: {missing}"


def test_errata_entries_that_name_a_chapter_link_to_it():
    """An entry's "Shown in." paragraph names its chapter; it must be a link, not plain text."""
    for i, src in _markdown(ERRATA):
        if "**Shown in.**" in src:
            shown = src.split("**Shown in.**", 1)[1]
            assert CHAPTER_LINK.search(shown), f"errata cell {i}: 'Shown in.' names no chapter link"
