"""Put the set-up cell first among the code cells of every chapter (or of the notebooks named).

Usage: python tools/add_setup_cell.py [--check] [NOTEBOOK.ipynb ...]

The set-up cell lets a chapter run where the course's environment is missing (Colab, a bare
Jupyter): only if `dlnotes` cannot be imported, it pip-installs this project's distribution,
with the extras that the chapter imports, from the book's repository at the book's version
tag. In the course's environment it does nothing and prints nothing, so stored outputs and
nbval are unchanged. Everything in it comes from the project's own files: the repository URL
from _config.yml, the distribution name and version from pyproject.toml. It never installs the
unrelated PyPI project called "dlnotes".

The cell is recognised by its id and tag (both `dlnotes-setup`). Running the script again
rewrites the same cell, so it is idempotent. Where it inserts a new cell into a notebook that
was executed top to bottom, it renumbers the execution counts as a fresh run would (the new
cell is 1 and stores no output). `--check` changes nothing and exits 1 if a notebook's cell is
missing or out of date. tests/test_setup_cell.py checks every notebook with `expected_cell`.
"""
from __future__ import annotations

import argparse
import ast
import re
import sys
import tomllib
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
CELL_ID = "dlnotes-setup"
TAGS = [CELL_ID, "remove-cell"]  # remove-cell: Jupyter Book leaves it out of the site and PDF
MARKER = "# Set-up for Colab and other places without the course's environment"

# Import (top level) -> extra of the distribution (pyproject's [project.optional-dependencies]).
EXTRA_OF = {"torch": "torch", "sympy": "sympy", "matplotlib": "plots"}

TEMPLATE = '''\
{marker} (tools/add_setup_cell.py):
# installs this chapter's packages from the book's repository; does nothing where dlnotes is.
import importlib.util

if importlib.util.find_spec("dlnotes") is None:
    import subprocess
    import sys

    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",
                    "{requirement}"], check=True)
    importlib.invalidate_caches()'''


def project() -> dict:
    """Distribution name, version and repository URL, from pyproject.toml and _config.yml."""
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    url = config["repository"]["url"].rstrip("/")
    if not re.fullmatch(r"https://[\w.-]+/[\w.-]+/[\w.-]+", url):
        raise ValueError(f"_config.yml repository.url must be https://host/owner/repo, got {url!r}")
    return {"name": meta["name"], "version": meta["version"], "url": url,
            "extras": set(meta.get("optional-dependencies", {}))}


def _imports(source: str) -> set[str]:
    """Dotted names a code cell imports (IPython magics and shell lines are skipped)."""
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return set(re.findall(r"^\s*(?:from|import)\s+([\w.]+)", source, re.M))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _dlnotes_imports(dotted: str, seen: set[Path]) -> set[str]:
    """Third-party top-level imports of a dlnotes module, following dlnotes' own imports."""
    parts = dotted.split(".")[1:]
    base = ROOT / "dlnotes"
    candidates = [base.joinpath(*parts).with_suffix(".py"), base.joinpath(*parts, "__init__.py")]
    path = next((c for c in candidates if parts and c.is_file()), None)
    if path is None or path in seen:
        return set()
    seen.add(path)
    found = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:  # module level only: a function's lazy import is not an extra
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = ".".join(path.relative_to(ROOT).parts[:-node.level])
                module = f"{package}.{node.module}" if node.module else package
                found |= _dlnotes_imports(module, seen)
                for alias in node.names:
                    found |= _dlnotes_imports(f"{module}.{alias.name}", seen)
            elif node.module:
                found.add(node.module.split(".")[0])
    for name in list(found):
        if name == "dlnotes":
            found.discard(name)
    return found


def chapter_extras(nb) -> list[str]:
    """The distribution's extras that a notebook's code cells need, sorted."""
    extras = set()
    for cell in nb.cells:
        if cell.cell_type != "code" or cell.get("id") == CELL_ID:
            continue
        for name in _imports(cell.source):
            tops = {name.split(".")[0]}
            if name.startswith("dlnotes."):
                tops |= _dlnotes_imports(name, set())
            extras.update(EXTRA_OF[top] for top in tops if top in EXTRA_OF)
    return sorted(extras)


def expected_source(nb, meta: dict | None = None) -> str:
    meta = meta or project()
    extras = chapter_extras(nb)
    unknown = set(extras) - meta["extras"]
    if unknown:
        raise ValueError(f"pyproject.toml has no extras {sorted(unknown)}")
    name = meta["name"] + (f"[{','.join(extras)}]" if extras else "")
    requirement = f"{name} @ git+{meta['url']}@v{meta['version']}"
    return TEMPLATE.format(marker=MARKER, requirement=requirement)


def expected_cell(nb, meta: dict | None = None):
    cell = nbformat.v4.new_code_cell(source=expected_source(nb, meta))
    cell.id = CELL_ID
    cell.metadata = {"tags": list(TAGS)}
    return cell


def _is_setup(cell) -> bool:
    return cell.cell_type == "code" and (cell.get("id") == CELL_ID
                                         or cell.source.startswith(MARKER))


def _renumber(nb) -> None:
    """Execution counts 1..n over the non-empty code cells, as one fresh run would give."""
    count = 0
    for cell in nb.cells:
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        count += 1
        cell.execution_count = count
        for out in cell.get("outputs", []):
            if out.get("output_type") == "execute_result":
                out["execution_count"] = count


def _ran_in_one_go(nb) -> bool:
    counts = [c.execution_count for c in nb.cells
              if c.cell_type == "code" and c.source.strip() and not _is_setup(c)]
    return counts == list(range(1, len(counts) + 1)) or counts == list(range(2, len(counts) + 2))


def update(nb, meta: dict | None = None) -> bool:
    """Insert or refresh the set-up cell as the first code cell. True if `nb` changed."""
    new = expected_cell(nb, meta)
    old = [c for c in nb.cells if _is_setup(c)]
    first_code = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"), len(nb.cells))
    if (len(old) == 1 and nb.cells[first_code] is old[0] and old[0].source == new.source
            and old[0].get("id") == CELL_ID and old[0].metadata.get("tags") == TAGS
            and not old[0].outputs and old[0].execution_count in (None, 1)):
        return False
    executed = _ran_in_one_go(nb)
    nb.cells = [c for c in nb.cells if not _is_setup(c)]
    first_code = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"), len(nb.cells))
    nb.cells.insert(first_code, new)
    if executed:
        _renumber(nb)
    return True


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if stale")
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted(p for p in (ROOT / "chapters").rglob("*.ipynb")
                                     if ".ipynb_checkpoints" not in p.parts)
    meta = project()
    stale = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        if update(nb, meta):
            stale.append(path)
            if not args.check:
                nbformat.validate(nb)
                nbformat.write(nb, path)
    verb = "out of date" if args.check else "updated"
    for path in stale:
        print(f"{verb}: {path}")
    print(f"{len(stale)} of {len(paths)} notebooks {verb}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
