#!/usr/bin/env bash
# dlnotes with NumPy alone on each Python version: build a venv, install the package (not
# editable, from a copy of its sources), import it, run the NumPy-only tests (--numpy-only).
# Usage: make test-python-versions   [VERSIONS="3.11 3.12 3.13"]
# NumPy, pytest and hypothesis are installed at the lock's versions (NumPy's newest wheel where
# the lock's version has none for that Python; said so). torch is never installed here: an
# unpinned torch would pull the CUDA build, and the check below fails if anything brought it.
set -euo pipefail
cd "$(dirname "$0")/.."
versions=${VERSIONS:-3.11 3.12 3.13}
pin() { grep -i -m1 "^$1==" requirements.lock | cut -d= -f3; }
numpy=$(pin numpy); pytest=$(pin pytest); hypothesis=$(pin hypothesis)
export PIP_NO_WARN_SCRIPT_LOCATION=1
summary=()

find_python() {
  local v=$1 candidate
  for candidate in "python$v" "$HOME"/.pyenv/versions/"$v".*/bin/"python$v"; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys' 2>/dev/null; then
      command -v "$candidate"; return 0
    fi
  done
  return 1
}

for v in $versions; do
  echo "=== Python $v"
  py=$(find_python "$v") || { echo "python$v not found (pyenv install $v, or put it on PATH)" >&2; exit 1; }
  venv=_build/py$v
  src=_build/py$v-src
  rm -rf "$venv" "$src"
  "$py" -m venv "$venv"
  pip=("$venv/bin/python" -m pip --disable-pip-version-check --quiet)
  if "${pip[@]}" install --only-binary=numpy "numpy==$numpy"; then
    note="numpy $numpy (the lock's)"
  else
    echo "no NumPy $numpy wheel for Python $v: installing NumPy's newest wheel instead"
    "${pip[@]}" install --only-binary=numpy "numpy>=2"
    note="numpy $("$venv/bin/python" -c 'import numpy; print(numpy.__version__)') (no $numpy wheel)"
  fi
  # The test tools and their dependencies at the lock's versions (the lock as constraints).
  "${pip[@]}" install -c requirements.lock "pytest==$pytest" "hypothesis==$hypothesis"
  # A copy of what the distribution ships, so the build leaves nothing in the checkout.
  mkdir -p "$src"
  cp -r pyproject.toml README.md dlnotes "$src"/
  "${pip[@]}" install --no-deps "$src"
  rm -rf "$src"
  "$venv/bin/python" -I - <<'EOF'
import importlib.util, sys
import dlnotes
heavy = [m for m in ("torch", "sympy", "matplotlib") if importlib.util.find_spec(m)]
assert not heavy, f"the NumPy-only venv has {heavy}"
assert "site-packages" in dlnotes.__file__, dlnotes.__file__
print(f"import dlnotes {dlnotes.__version__} on Python {sys.version.split()[0]}: ok")
EOF
  log=_build/py$v-pytest.log
  # The venv's pytest script, not `python -m pytest`: the checkout's dlnotes/ must not shadow
  # the installed package.
  "$venv/bin/pytest" tests --numpy-only -q -p no:randomly >"$log" 2>&1 || true
  tail -n 6 "$log"
  result=$(grep -E '^[0-9]+ (passed|failed)|^=+ .*(passed|failed).* =+$' "$log" | tail -1 | tr -d '=')
  summary+=("Python $v: $note; $result")
  grep -q -E ' failed| error' <<<"$result" && failed=1
done

echo "=== summary"
printf '%s\n' "${summary[@]}"
exit "${failed:-0}"
