"""Re-execute notebooks in place, top to bottom, with the interpreter that runs this script.

Usage: python tools/execute.py NOTEBOOK [NOTEBOOK ...]     (called by `make execute`)

The kernel is started from ``sys.executable`` (the course's .venv), the same interpreter
nbval uses with ``--nbval-current-env``, so stored outputs are what nbval will reproduce.
Each notebook runs in its own folder; metadata that changes from machine to machine is dropped.
The kernel talks over Unix sockets in a private temporary folder, not TCP ports, so several
``make execute`` runs can go on at once without two kernels racing for a port.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import nbformat
from jupyter_client import KernelManager
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
    with tempfile.TemporaryDirectory(prefix="dlnotes-kernel-") as sockets:
        km = KernelManager(kernel_name="python3", transport="ipc",
                           ip=str(Path(sockets) / "kernel"))
        client = NotebookClient(nb, km=km, timeout=300, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}})
        client.execute()
    nb.metadata["language_info"] = {k: v for k, v in nb.metadata["language_info"].items()
                                    if k != "version"}
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.metadata.pop("execution", None)
            cell.outputs = coalesce_streams(cell.outputs)
    nbformat.write(nb, path)


def coalesce_streams(outputs: list) -> list:
    """Join consecutive stdout (or stderr) outputs into one, as a reader sees them.

    How the kernel splits a cell's printing into messages depends on timing, so without this
    two runs of the same cell store the same text in different chunks (nbval, which compares
    the joined text, and the site, which merges streams, do not care; the diffs would).
    """
    merged: list = []
    for out in outputs:
        if (out.get("output_type") == "stream" and merged
                and merged[-1].get("output_type") == "stream"
                and merged[-1].get("name") == out.get("name")):
            merged[-1]["text"] += out["text"]
        else:
            merged.append(out)
    return merged


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
