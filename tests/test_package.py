"""The package itself: a light import, documented public functions."""
import importlib
import inspect
import pkgutil
import subprocess
import sys

import dlnotes

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
    for info in pkgutil.iter_modules(dlnotes.__path__):
        module = importlib.import_module(f"dlnotes.{info.name}")
        for name, obj in vars(module).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
                continue
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and not inspect.getdoc(obj):
                undocumented.append(f"{module.__name__}.{name}")
    assert not undocumented, f"public objects without a docstring: {undocumented}"
