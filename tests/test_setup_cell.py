"""The set-up cell (tools/add_setup_cell.py): first code cell of every chapter, silent here.

Each notebook's first code cell is exactly the cell the tool writes for it (fix with
`python tools/add_setup_cell.py`, then `make execute NB=...` if the counts moved). The snippet
itself is run twice: as it runs in the course's environment (it must print nothing and start
no process) and with dlnotes made unimportable (it must pip-install this project's
distribution, with the chapter's extras, from the repository at the book's version tag, and
never the unrelated PyPI project "dlnotes").
"""
from __future__ import annotations

import contextlib
import importlib.util
import io
import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(p for p in (ROOT / "chapters").rglob("*.ipynb")
                   if ".ipynb_checkpoints" not in p.parts)
IDS = [str(p.relative_to(ROOT)) for p in NOTEBOOKS]


def _tool():
    spec = importlib.util.spec_from_file_location("add_setup_cell",
                                                  ROOT / "tools" / "add_setup_cell.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TOOL = _tool()
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
REPOSITORY = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["repository"]


def _run(source: str, dlnotes_importable: bool) -> tuple[str, list[list[str]]]:
    """Execute the snippet; return what it printed and the commands it would have run."""
    commands = []
    real_find_spec = importlib.util.find_spec

    def fake_run(cmd, **kwargs):
        commands.append(list(cmd))
        return subprocess.CompletedProcess(cmd, 0)

    def find_spec(name, *args):
        if name == "dlnotes" and not dlnotes_importable:
            return None
        return real_find_spec(name, *args)

    out = io.StringIO()
    patch = pytest.MonkeyPatch()
    try:
        patch.setattr(subprocess, "run", fake_run)
        patch.setattr(importlib.util, "find_spec", find_spec)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            exec(compile(source, "<setup cell>", "exec"), {"__name__": "__main__"})
    finally:
        patch.undo()
    return out.getvalue(), commands


@pytest.fixture(params=NOTEBOOKS, ids=IDS)
def nb(request):
    return nbformat.read(request.param, as_version=4)


def test_first_code_cell_is_the_setup_cell(nb):
    code = [c for c in nb.cells if c.cell_type == "code"]
    expected = TOOL.expected_cell(nb)
    assert code and code[0].source == expected.source, (
        "the first code cell is not the set-up cell: run `python tools/add_setup_cell.py`")
    assert code[0].get("id") == TOOL.CELL_ID
    assert code[0].metadata.get("tags") == TOOL.TAGS
    assert code[0].outputs == [], "the set-up cell must store no output"
    others = [c for c in code[1:] if TOOL.CELL_ID in c.metadata.get("tags", [])
              or c.source.startswith(TOOL.MARKER)]
    assert not others, "more than one set-up cell"


def test_setup_cell_is_silent_where_dlnotes_is_installed(nb):
    printed, commands = _run(TOOL.expected_source(nb), dlnotes_importable=True)
    assert printed == "" and commands == []


def test_setup_cell_installs_this_project_from_its_repository(nb):
    printed, commands = _run(TOOL.expected_source(nb), dlnotes_importable=False)
    assert printed == ""
    (command,) = commands
    assert command[:4] == [sys.executable, "-m", "pip", "install"]
    requirement = command[-1]
    name, _, source = requirement.partition(" @ ")
    extras = TOOL.chapter_extras(nb)
    assert name == PROJECT["name"] + (f"[{','.join(extras)}]" if extras else "")
    assert name.split("[")[0] != "dlnotes", "that name on PyPI is someone else's project"
    assert source == f"git+{REPOSITORY['url']}@v{PROJECT['version']}"
    assert set(extras) <= set(PROJECT["optional-dependencies"])


def test_extras_follow_what_a_chapter_imports():
    def notebook(*sources):
        return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])

    assert TOOL.chapter_extras(notebook("import numpy as np", "from dlnotes import conv")) == []
    assert TOOL.chapter_extras(notebook("from dlnotes.verify import check_pair")) == ["torch"]
    assert TOOL.chapter_extras(notebook("import sympy as sp", "%matplotlib inline",
                                        "import matplotlib.pyplot as plt")) == ["plots", "sympy"]
    assert TOOL.chapter_extras(notebook("from dlnotes.symbolic import assert_identity")) == [
        "sympy"]


def test_tool_is_idempotent_and_renumbers_like_a_fresh_run(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Title"),
        nbformat.v4.new_code_cell("from dlnotes.verify import check_pair", execution_count=1),
        nbformat.v4.new_code_cell("1 + 1", execution_count=2, outputs=[
            nbformat.v4.new_output("execute_result", {"text/plain": "2"}, execution_count=2)]),
    ])
    path = tmp_path / "chapter.ipynb"
    nbformat.write(nb, path)
    assert TOOL.main([str(path)]) == 0
    first = path.read_text(encoding="utf-8")
    assert TOOL.main(["--check", str(path)]) == 0
    assert TOOL.main([str(path)]) == 0 and path.read_text(encoding="utf-8") == first
    cells = nbformat.read(path, as_version=4).cells
    assert [c.cell_type for c in cells] == ["markdown", "code", "code", "code"]
    assert cells[1].id == TOOL.CELL_ID
    assert [c.execution_count for c in cells[1:]] == [1, 2, 3]
    assert cells[3].outputs[0]["execution_count"] == 3
