"""The package itself: a light import, documented public functions, no import cycles."""
import ast
import importlib
import inspect
import pkgutil
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import dlnotes

PACKAGE_DIR = Path(dlnotes.__file__).parent

# CPU time of the import (process_time), not wall time: on a loaded machine the wall clock
# mostly measures waiting for a core, which says nothing about the import's own cost.
PROBE = """
import sys, time
t = time.process_time()
import dlnotes
dt = time.process_time() - t
heavy = [m for m in ("torch", "sympy", "matplotlib") if m in sys.modules]
print(dt, ",".join(heavy))
"""


def _import_once() -> tuple[float, str]:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    seconds, _, heavy = out.stdout.strip().partition(" ")
    return float(seconds), heavy


def test_import_is_numpy_only_and_fast():
    runs = [_import_once() for _ in range(5)]
    assert all(heavy == "" for _, heavy in runs), f"import dlnotes also imported {runs[0][1]}"
    best = min(seconds for seconds, _ in runs)
    assert best < 0.3, f"import dlnotes took {best:.3f} s (budget 0.3 s)"


def test_every_public_function_and_class_has_a_docstring():
    undocumented = []
    for info in pkgutil.walk_packages(dlnotes.__path__, prefix="dlnotes."):
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
                continue
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and not inspect.getdoc(obj):
                undocumented.append(f"{module.__name__}.{name}")
    assert not undocumented, f"public objects without a docstring: {undocumented}"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package_imports(path: Path, known: set[str]) -> set[str]:
    """The dlnotes modules that ``path`` imports anywhere (also inside functions)."""
    name = _module_name(path)
    package = name if path.stem == "__init__" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            # ``from pkg import name`` imports the module pkg.name when there is one
            targets = [base] + [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        found |= {t for t in targets if t in known}
    return found - {name}


def _import_graph() -> dict[str, set[str]]:
    paths = sorted(PACKAGE_DIR.rglob("*.py"))
    known = {_module_name(p) for p in paths}
    return {_module_name(p): _package_imports(p, known) for p in paths}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` as a list of modules, or None (depth-first search)."""
    state: dict[str, int] = {}   # 1: on the current path, 2: finished
    path: list[str] = []

    def visit(node):
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = 2
        path.pop()
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_no_import_cycle_inside_the_package():
    graph = _import_graph()
    assert "dlnotes.gated" in graph["dlnotes"] and graph["dlnotes.gated"], "graph not built"
    cycle = _cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_cycle_finder_finds_a_planted_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycle(graph) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_renamed_modules_are_not_imported_by_the_package_tests_or_tools():
    # Modules left at an old path for the notebooks say where they moved in ``_MOVED_TO``.
    graph = _import_graph()
    shims = {m for m in graph
             if "_MOVED_TO" in vars(importlib.import_module(m))}
    users = {m: graph[m] & shims for m in graph if m not in shims and graph[m] & shims}
    root = PACKAGE_DIR.parent
    for path in sorted((root / "tests").glob("*.py")) + sorted((root / "tools").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                         [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names])
                if set(names) & shims:
                    users.setdefault(path.name, set()).update(set(names) & shims)
    assert not users, f"imports of moved modules (use the new path): {users}"



def test_the_distribution_ships_every_subpackage(tmp_path):
    """What pip installs (Colab, the Python-version venvs) holds every package of dlnotes/."""
    root = Path(__file__).resolve().parent.parent
    expected = sorted(".".join(p.parent.relative_to(root).parts)
                      for p in (root / "dlnotes").rglob("__init__.py"))
    src, wheel_dir = tmp_path / "src", tmp_path / "wheel"    # build a copy: no build/ here
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(root / name, src / name)
    shutil.copytree(root / "dlnotes", src / "dlnotes",
                    ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "--quiet", "-w", str(wheel_dir), str(src)], check=True,
                   capture_output=True)
    (wheel,) = wheel_dir.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    shipped = sorted(n[:-len("/__init__.py")].replace("/", ".") for n in names
                     if n.endswith("/__init__.py"))
    assert shipped == expected, f"the wheel ships {shipped}, dlnotes/ has {expected}"
