"""The API reference (reference/_ext/dlnotes_api.py) has a page for every public module."""
import importlib
import inspect
import pkgutil
import sys
from pathlib import Path

import pytest

import dlnotes

ROOT = Path(__file__).resolve().parents[1]
pytest.importorskip("sphinx")
sys.path.insert(0, str(ROOT / "reference" / "_ext"))
import dlnotes_api  # noqa: E402


def _modules():
    for info in pkgutil.walk_packages(dlnotes.__path__, prefix="dlnotes."):
        yield importlib.import_module(info.name)


def test_every_public_function_and_class_has_a_page():
    pages = set(dlnotes_api.module_names(ROOT))
    missing = []
    for module in _modules():
        if hasattr(module, "_MOVED_TO") or any(p.startswith("_") for p in
                                               module.__name__.split(".")):
            continue
        members = dlnotes_api.home_members(module)
        if members and module.__name__ not in pages:
            missing.append(f"{module.__name__} ({', '.join(members[:3])}, ...)")
    assert not missing, f"modules with public objects but no API page: {missing}"


def test_modules_left_at_an_old_path_get_no_page_and_forward_links():
    pages = set(dlnotes_api.module_names(ROOT))
    moved = [m for m in _modules() if hasattr(m, "_MOVED_TO")]
    for module in moved:
        assert module.__name__ not in pages, module.__name__
        assert all(target in pages for target in module._MOVED_TO), module._MOVED_TO
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if inspect.isfunction(obj) or inspect.isclass(obj):
                kind, target = dlnotes_api.resolve(f"{module.__name__}.{name}")
                assert kind == "obj" and target.rpartition(".")[0] in pages, target


def test_links_resolve_through_subpackages():
    assert dlnotes_api.resolve("dlnotes.torch_models.vae.train_vae") == (
        "obj", "dlnotes.torch_models.vae.train_vae")
    assert dlnotes_api.resolve("dlnotes.layers") == ("mod", "dlnotes.layers")
    assert dlnotes_api.resolve("dlnotes.layers.no_such_function") is None
    assert dlnotes_api.resolve("dlnotes.no_such_module") is None
