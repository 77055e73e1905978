"""Re-execute notebooks in place, top to bottom, with the interpreter that runs this script.

Usage: python tools/execute.py NOTEBOOK [NOTEBOOK ...]     (called by `make execute`)

The kernel is started from ``sys.executable`` (the course's .venv), the same interpreter
nbval uses with ``--nbval-current-env``, so stored outputs are what nbval will reproduce.
Each notebook runs in its own folder; metadata that changes from machine to machine is dropped.
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

KEEP_METADATA = ("kernelspec", "language_info")
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}


def execute(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nb.metadata = {k: v for k, v in nb.metadata.items() if k in KEEP_METADATA}
    nb.metadata["kernelspec"] = KERNELSPEC
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.metadata.pop("execution", None)
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    nb.metadata["language_info"] = {k: v for k, v in nb.metadata["language_info"].items()
                                    if k != "version"}
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.metadata.pop("execution", None)
    nbformat.write(nb, path)


def main(paths: list[str]) -> int:
    if not paths:
        print(__doc__)
        return 2
    for p in paths:
        print(f"executing {p}")
        execute(Path(p))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
