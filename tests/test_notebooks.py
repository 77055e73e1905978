"""Notebook hygiene: what nbval itself does not check.

Every notebook is in _toc.yml and every toc entry exists; each was executed top to bottom
in one run; nothing went to stderr and no error is stored; it imports dlnotes, asserts at
least one SymPy identity and runs at least one torch comparison; nbval markers are rare
and carry a reason.
"""
import re
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(p for p in (ROOT / "chapters").rglob("*.ipynb")
                   if ".ipynb_checkpoints" not in p.parts)
IDS = [str(p.relative_to(ROOT)) for p in NOTEBOOKS]
MAX_IGNORED_FRACTION = 0.2
LEAKED_WARNING = re.compile(r":\d+: \w*Warning:")


def _toc_entries(node) -> list[str]:
    found = []
    if isinstance(node, dict):
        for key in ("root", "file"):
            if key in node:
                found.append(node[key])
        for value in node.values():
            found.extend(_toc_entries(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_toc_entries(item))
    return found


def _resolve(entry: str) -> Path | None:
    for candidate in (ROOT / entry, ROOT / f"{entry}.ipynb", ROOT / f"{entry}.md"):
        if candidate.is_file():
            return candidate
    return None


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 1


def test_toc_and_chapters_agree():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    entries = _toc_entries(toc)
    missing = [e for e in entries if _resolve(e) is None]
    assert not missing, f"_toc.yml names files that do not exist: {missing}"
    listed = {_resolve(e) for e in entries}
    unlisted = [str(p.relative_to(ROOT)) for p in NOTEBOOKS if p not in listed]
    assert not unlisted, f"notebooks missing from _toc.yml: {unlisted}"
    assert len(entries) == len(set(entries)), "an entry appears twice in _toc.yml"


def _code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]


@pytest.fixture(params=NOTEBOOKS, ids=IDS)
def nb(request):
    return nbformat.read(request.param, as_version=4)


def test_kernelspec_is_python3(nb):
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"


def test_executed_top_to_bottom_in_one_run(nb):
    counts = [c.execution_count for c in _code_cells(nb)]
    assert counts == list(range(1, len(counts) + 1)), (
        f"execution counts {counts}: re-run the notebook with `make execute NB=...`")


def test_no_errors_stderr_or_warnings_stored(nb):
    for i, cell in enumerate(_code_cells(nb), 1):
        for out in cell.outputs:
            assert out.output_type != "error", f"code cell {i} stores an error"
            if out.output_type == "stream":
                assert out.name != "stderr", f"code cell {i} wrote to stderr: {out.text[:200]!r}"
                # A leaked warning carries its source location ("file.py:12: UserWarning: ...");
                # a chapter may still print a warning's message that it caught on purpose.
                assert not LEAKED_WARNING.search(out.text), f"code cell {i} leaked a warning"


def test_imports_dlnotes_and_checks_with_sympy_and_torch(nb):
    code = "\n".join(c.source for c in _code_cells(nb))
    assert re.search(r"^\s*(from|import) dlnotes", code, re.M), "no code cell imports dlnotes"
    assert "assert_identity(" in code, "no SymPy identity is asserted"
    assert re.search(r"check_(pair|loss|values)\(", code), "no comparison with torch"


def test_one_title_and_exercises(nb):
    headings = [line for c in nb.cells if c.cell_type == "markdown"
                for line in c.source.splitlines() if line.startswith("#")]
    assert headings and headings[0].startswith("# "), "the first heading must be the # title"
    assert sum(h.startswith("# ") for h in headings) == 1, "exactly one # title per chapter"
    if not headings[0].startswith("# Solutions for "):       # a part's solutions page
        assert any(re.match(r"##\s+Exercises", h) for h in headings), "no '## Exercises' section"


def test_nbval_markers_are_rare_and_explained(nb):
    cells = _code_cells(nb)
    ignored = 0
    for i, cell in enumerate(cells, 1):
        assert "NBVAL_RAISES_EXCEPTION" not in cell.source, (
            f"code cell {i}: NBVAL_RAISES_EXCEPTION also passes when nothing is raised; "
            "catch the exception and print it instead")
        for line in cell.source.splitlines():
            m = re.search(r"#\s*(NBVAL_\w+)(.*)", line)
            if m:
                assert len(m.group(2).strip(" :-")) >= 10, (
                    f"code cell {i}: {m.group(1)} needs a reason in the same comment")
                ignored += 1
    assert ignored <= MAX_IGNORED_FRACTION * len(cells), (
        f"{ignored} of {len(cells)} code cells escape nbval's comparison")


CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
DISPLAY_MATH = re.compile(r"^\s*\$\$")


def test_markdown_has_no_control_characters(nb):
    # A TAB in markdown is almost always a "\t" of "\tanh" or "\times" that a Python string
    # turned into a character: the page then shows "anh".
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            m = CONTROL_CHARACTERS.search(cell.source)
            assert not m, (f"cell {i}: control character {m.group()!r} in markdown near "
                           f"{cell.source[max(m.start() - 20, 0):m.end() + 20]!r}")


OUTPUT_WIDTH = 85   # a stored output line fits the page's code box at desktop width


def test_stored_output_lines_fit_the_page(nb):
    # Verdicts and error messages wrap themselves (dlnotes.verify, dlnotes.exercises); a
    # longer line would scroll sideways inside its box, or be cut on a phone.
    long = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            text = out.get("text", "") if out.get("output_type") == "stream" else \
                out.get("data", {}).get("text/plain", "") if "image/png" not in \
                out.get("data", {}) else ""
            long += [(i, line) for line in text.splitlines() if len(line) > OUTPUT_WIDTH]
    assert not long, (f"{len(long)} output line(s) longer than {OUTPUT_WIDTH} characters, "
                      f"first in cell {long[0][0]}: {long[0][1][:100]!r}")


def test_display_maths_stands_in_its_own_paragraph(nb):
    # MyST reads `$$` right after a line of text (no blank line) as *inline* maths, which
    # the browser shows as stray dollars and a run-on formula.
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.splitlines()
        inside = False
        for j, line in enumerate(lines):
            text = line.strip()
            if inside and not text.startswith("$$") and text.endswith("$$"):
                inside = False               # a display closed at the end of its last line
                assert j == len(lines) - 1 or not lines[j + 1].strip(), (
                    f"cell {i}, line {j + 1}: put a blank line after the `$$` display")
                continue
            if not text.startswith("$$"):
                continue
            one_line = len(text) > 4 and text.endswith("$$")
            if not inside:
                assert j == 0 or not lines[j - 1].strip(), (
                    f"cell {i}, line {j + 1}: put a blank line before the `$$` display")
            if inside or one_line:
                assert j == len(lines) - 1 or not lines[j + 1].strip(), (
                    f"cell {i}, line {j + 1}: put a blank line after the `$$` display")
            if not one_line:
                inside = not inside


ERROR_DEMO = re.compile(r"except\s+[^\n:]*\bas\s+(\w+)\s*:\s*\n"
                        r"(?:[ \t]+[^\n]*\n?)*?[ \t]+print\([^\n]*\b\1\b")


def test_error_demonstrations_use_show_error(nb):
    # A hand-written try/except that prints the error passes silently (prints nothing) once
    # the error stops being raised; dlnotes.verify.show_error requires it.
    for i, cell in enumerate(_code_cells(nb), 1):
        assert not ERROR_DEMO.search(cell.source), (
            f"code cell {i}: demonstrate an error with dlnotes.verify.show_error(lambda: ...), "
            "not with try/except and print")
