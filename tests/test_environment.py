"""The lock file, environment.yml and the installed environment agree."""
import sys
from importlib import metadata
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent


def _lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, version = line.partition("==")
        assert sep and version and ";" not in line, f"not an exact pin: {line!r}"
        key = canonicalize_name(name)
        assert key not in pins, f"{name} pinned twice"
        pins[key] = version
    return pins


def test_every_top_level_requirement_is_pinned_within_its_range():
    pins = _lock()
    for line in (ROOT / "requirements.in").read_text().splitlines():
        line = line.split("#")[0].strip()
        if not line:
            continue
        req = Requirement(line)
        key = canonicalize_name(req.name)
        assert key in pins, f"{req.name} is in requirements.in but not in requirements.lock"
        assert req.specifier.contains(Version(pins[key]), prereleases=True), (
            f"lock pins {req.name}=={pins[key]}, outside {req.specifier}")


def test_jupyter_book_is_1x_and_torch_is_2_13():
    pins = _lock()
    assert Version(pins["jupyter-book"]).major == 1
    assert pins["torch"] == "2.13.0"


def test_environment_yml_installs_the_lock():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    assert "python=3.11" in deps
    pip_section = next(d["pip"] for d in deps if isinstance(d, dict) and "pip" in d)
    assert "-r requirements.lock" in pip_section and "-e ." in pip_section
    conda_only = [d for d in deps if isinstance(d, str) and d not in ("python=3.11", "pip")]
    assert not conda_only, f"environment.yml installs packages outside the lock: {conda_only}"


def test_installed_environment_matches_the_lock():
    """A stale .venv (lock changed, not reinstalled) fails here rather than in a notebook."""
    assert sys.version_info[:2] == (3, 11)
    wrong = {}
    for name, version in _lock().items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            wrong[name] = "missing"
            continue
        if Version(installed).public != Version(version).public:
            wrong[name] = installed
    assert not wrong, f"installed versions differ from requirements.lock: {wrong}"
