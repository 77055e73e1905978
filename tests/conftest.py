"""Shared fixtures, and the markers that say what a test needs beyond NumPy.

Every test gets a seeded generator (``rng``), so failures reproduce.

Every test is also marked by what its module imports, read from the source (no import needed):
``torch``, ``sympy``, ``matplotlib`` (directly, or through a dlnotes module that imports them
at its top level, such as ``dlnotes.verify``), ``course`` (any other third-party package:
nbformat, PyYAML, packaging, ...), or else ``numpy_only``. ``EXTRA_NEEDS`` below adds what a
test reaches at run time and its imports do not show.

``pytest --numpy-only`` runs the ``numpy_only`` tests and deselects the rest, reporting how
many of each. Where a module's needs are installed it is collected and its tests are
deselected one by one (pytest counts them as "deselected"); where they are not (a NumPy-only
venv, ``make test-python-versions``), the module cannot even be imported, so it is left out
of collection and the summary counts its test functions from the source. Without
``--numpy-only`` nothing is left out: a missing torch is an error, not a silent skip.
"""
from __future__ import annotations

import ast
import importlib.util
import sys
from functools import cache
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "dlnotes"

# What each top-level import needs; anything else outside the standard library and this list
# is "course". pytest and hypothesis are the test tools, installed with NumPy everywhere.
NEEDS = {"torch": "torch", "sympy": "sympy", "matplotlib": "matplotlib"}
NUMPY_ONLY_IMPORTS = {"numpy", "pytest", "hypothesis", "dlnotes", "conftest"}
EXTRAS = ("torch", "sympy", "matplotlib", "course")

# Tests that need more than their imports show: test id (path::name) -> needs. A test that
# calls importlib.import_module (itself or through a helper of its module) is taken to import
# any dlnotes module, and needs what all of them need; that case needs no entry here.
EXTRA_NEEDS: dict[str, set[str]] = {
    # builds the wheel with the course's setuptools (pip wheel --no-build-isolation)
    "tests/test_package.py::test_the_distribution_ships_every_subpackage": {"course"},
}


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


# --- what a module imports -----------------------------------------------------------------

def _top_level_imports(path: Path) -> set[str]:
    """Dotted names imported at module level (not inside functions) by the file at `path`."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()

    def visit(nodes):
        for node in nodes:
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative import inside dlnotes: from .x import y
                    base = path.relative_to(ROOT).parts[:-node.level]
                    module = ".".join([*base, node.module] if node.module else base)
                else:
                    module = node.module or ""
                names.add(module)
                names.update(f"{module}.{alias.name}" for alias in node.names)
            elif isinstance(node, (ast.If, ast.Try)):  # guarded imports still count
                visit(node.body)
                visit(getattr(node, "orelse", []))
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)
    visit(tree.body)
    return names


def _dlnotes_file(dotted: str) -> Path | None:
    """The source file of a dlnotes module (dlnotes.x.y), or None if it is not a module."""
    parts = dotted.split(".")[1:]
    if not parts:
        return PACKAGE / "__init__.py"
    candidate = PACKAGE.joinpath(*parts)
    if candidate.with_suffix(".py").is_file():
        return candidate.with_suffix(".py")
    if (candidate / "__init__.py").is_file():
        return candidate / "__init__.py"
    return None


def _calls_need_torch(dotted: str) -> bool:
    """The self-checks of dlnotes.exercises import torch when they run, not at import (their
    references are torch): a test that calls them needs torch. The framework module
    dlnotes.exercises.core needs NumPy alone."""
    return (dotted == "dlnotes.exercises" or dotted.startswith("dlnotes.exercises.")) \
        and not dotted.startswith("dlnotes.exercises.core")


@cache
def _third_party_imports(path: Path) -> frozenset[str]:
    """Top-level packages beyond NumPy that importing `path` loads, through dlnotes' imports."""
    found: set[str] = set()
    seen: set[Path] = set()
    todo = [path]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        for name in _top_level_imports(current):
            top = name.split(".")[0]
            if _calls_need_torch(name):
                found.add("torch")
            if top == "dlnotes":
                source = _dlnotes_file(name)
                if source is not None:
                    todo.append(source)
            elif top and top not in NUMPY_ONLY_IMPORTS and top not in sys.stdlib_module_names:
                found.add(top)
    return frozenset(found)


def _module_needs(path: Path) -> set[str]:
    """The markers of a test module: torch, sympy, matplotlib and/or course."""
    return {NEEDS.get(top, "course") for top in _third_party_imports(path)}


def _package_needs() -> set[str]:
    """What importing every module of dlnotes needs."""
    needs = set()
    for source in PACKAGE.rglob("*.py"):
        needs |= _module_needs(source)
    return needs


@cache
def _dynamic_importers(path: Path) -> frozenset[str]:
    """Functions of a test module that call import_module, directly or through its helpers."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    functions = {node.name: node for node in tree.body
                 if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}

    def called(node) -> set[str]:
        names = set()
        for sub in ast.walk(node):
            if isinstance(sub, ast.Call):
                func = sub.func
                names.add(func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", ""))
        return names

    calls = {name: called(node) for name, node in functions.items()}
    importers = {name for name, names in calls.items() if "import_module" in names}
    changed = True
    while changed:
        grown = {name for name, names in calls.items() if names & importers} | importers
        changed, importers = grown != importers, grown
    return frozenset(importers)


def _test_id(path: Path, name: str) -> str:
    return f"{path.relative_to(ROOT).as_posix()}::{name}"


def _count_tests(path: Path) -> int:
    """Test functions in a module, counted from its source (before parametrisation)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    functions = (ast.FunctionDef, ast.AsyncFunctionDef)
    return sum(isinstance(node, functions) and node.name.startswith("test")
               for node in ast.walk(tree))


def _missing(path: Path) -> list[str]:
    """The packages a test module imports that are not installed here."""
    return sorted(top for top in _third_party_imports(path)
                  if importlib.util.find_spec(top) is None)


# --- hooks -----------------------------------------------------------------------------------

def pytest_addoption(parser):
    parser.addoption("--numpy-only", action="store_true",
                     help="run only the tests that need NumPy alone; deselect the rest")


def pytest_configure(config):
    config._numpy_only_left_out = {}  # module path -> (missing packages, test functions)


def pytest_ignore_collect(collection_path, config):
    """Under --numpy-only, leave out a module whose needs are not installed (it cannot import)."""
    path = Path(collection_path)
    is_test_module = path.suffix == ".py" and path.name.startswith("test_")
    if not config.getoption("numpy_only") or not is_test_module:
        return None
    missing = _missing(path.resolve())
    if missing:
        config._numpy_only_left_out[path.resolve()] = (missing, _count_tests(path))
        return True
    return None


def pytest_collection_modifyitems(config, items):
    kept, deselected = [], []
    for item in items:
        path = Path(str(item.fspath)).resolve()
        needs = _module_needs(path) if path.is_relative_to(ROOT) else set()
        name = getattr(item, "originalname", item.name)
        needs |= EXTRA_NEEDS.get(_test_id(path, name), set())
        if path.suffix == ".py" and name in _dynamic_importers(path):
            needs |= _package_needs()
        for need in sorted(needs):
            item.add_marker(getattr(pytest.mark, need))
        if not needs:
            item.add_marker(pytest.mark.numpy_only)
        (deselected if needs and config.getoption("numpy_only") else kept).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept
    config._numpy_only_deselected = deselected
    config._numpy_only_kept = len(kept)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not config.getoption("numpy_only"):
        return
    deselected = getattr(config, "_numpy_only_deselected", [])
    left_out = config._numpy_only_left_out
    by_need: dict[str, int] = {}
    for item in deselected:
        for mark in item.iter_markers():
            if mark.name in EXTRAS:
                by_need[mark.name] = by_need.get(mark.name, 0) + 1
    functions = sum(n for _, n in left_out.values())
    write = terminalreporter.write_line
    terminalreporter.section("numpy-only")
    write(f"selected {getattr(config, '_numpy_only_kept', 0)} NumPy-only tests")
    if deselected:
        detail = ", ".join(f"{k} {v}" for k, v in sorted(by_need.items()))
        write(f"deselected {len(deselected)} tests that need more than NumPy ({detail})")
    if left_out:
        missing = sorted({top for tops, _ in left_out.values() for top in tops})
        write(f"left out {len(left_out)} test modules ({functions} test functions before "
              f"parametrisation) that import {', '.join(missing)}, not installed here")
