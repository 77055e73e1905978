"""Check the project's own rules for GitHub Actions workflows (actionlint checks the rest).

Usage: python tools/check_workflows.py .github/workflows/*.yml      (called by `make actionlint`)

Every ``run:`` script must start with ``set -eo pipefail`` (``-euo`` is fine too), so that a
failing command anywhere in a pipeline fails the step, whatever shell the runner defaults to.
Exit status 1 and one line per offending step otherwise.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

STRICT = re.compile(r"^set -(?=[a-z]*e)[a-z]*o pipefail\b")


def offending_steps(path: Path) -> list[str]:
    workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
    found = []
    for job_name, job in (workflow.get("jobs") or {}).items():
        for i, step in enumerate(job.get("steps") or [], 1):
            script = step.get("run")
            if script is None:
                continue
            lines = [line.strip() for line in script.splitlines()
                     if line.strip() and not line.strip().startswith("#")]
            if not lines or not STRICT.match(lines[0]):
                label = step.get("name", f"step {i}")
                found.append(f"{path}: job '{job_name}', step '{label}': the run: script must "
                             "start with `set -eo pipefail`")
    return found


def main(paths: list[str]) -> int:
    if not paths:
        print(__doc__)
        return 2
    problems = [p for path in paths for p in offending_steps(Path(path))]
    for p in problems:
        print(p)
    if not problems:
        print(f"check_workflows: {len(paths)} workflow(s), every run: step starts with "
              "`set -eo pipefail`")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
