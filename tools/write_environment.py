"""Write environment.yml (conda, Binder) from requirements.lock.

Usage: python tools/write_environment.py        (run by `make lock` after tools/lock.sh)

PyTorch comes from conda-forge as `pytorch-cpu` at the lock's version: PyPI's Linux wheel of
torch is the CUDA build (gigabytes), which a Binder machine cannot use. Every other package is
pinned for pip exactly as in the lock. The pins are written out here rather than read with
`-r requirements.lock`: repo2docker (Binder) builds the environment before it copies the
repository, so no file of the repository can be referenced. For the same reason `postBuild`,
not this file, installs dlnotes itself. tests/test_environment.py checks that the two agree.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = "3.11"

HEADER = """\
# For conda and Binder: the pinned set of requirements.lock, with the CPU build of PyTorch from
# conda-forge (`pytorch-cpu`) instead of PyPI's CUDA wheel. Generated from the lock by
# `make lock` (tools/write_environment.py); tests/test_environment.py fails if they drift
# apart. Binder then runs postBuild, which installs dlnotes itself (`pip install -e .`).
#   conda env create -f environment.yml && conda activate dlnotes && pip install --no-deps -e .
"""


def lock_pins(path: Path) -> list[tuple[str, str]]:
    pins = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins.append((name, version))
    return pins


def render(pins: list[tuple[str, str]]) -> str:
    torch = dict((name.lower(), version) for name, version in pins)["torch"]
    lines = [HEADER.rstrip("\n"), "name: dlnotes", "channels:", "  - conda-forge",
             "dependencies:", f"  - python={PYTHON}", f"  - pytorch-cpu={torch}", "  - pip",
             "  - pip:"]
    lines += [f"      - {name}=={version}" for name, version in pins if name.lower() != "torch"]
    return "\n".join(lines) + "\n"


def main() -> int:
    text = render(lock_pins(ROOT / "requirements.lock"))
    (ROOT / "environment.yml").write_text(text, encoding="utf-8")
    print(f"wrote environment.yml ({text.count('==')} pip pins, pytorch-cpu from conda-forge)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
