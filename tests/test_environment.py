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


def _environment() -> dict:
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    assert isinstance(env, dict) and env.get("channels") == ["conda-forge"], (
        "environment.yml must parse and use conda-forge only")
    return env


def _conda_and_pip(env: dict) -> tuple[list[str], list[str]]:
    deps = env["dependencies"]
    conda = [d for d in deps if isinstance(d, str)]
    pip_sections = [d["pip"] for d in deps if isinstance(d, dict) and "pip" in d]
    assert len(pip_sections) == 1, "environment.yml needs exactly one pip: section"
    return conda, pip_sections[0]


def test_environment_yml_pins_the_cpu_build_of_torch_at_the_lock_version():
    conda, pip = _conda_and_pip(_environment())
    torch_cpu = f"pytorch-cpu={_lock()['torch']}"
    assert "python=3.11" in conda
    assert torch_cpu in conda, f"environment.yml must install conda-forge's {torch_cpu}: {conda}"
    extra = [d for d in conda if d not in ("python=3.11", "pip", torch_cpu)]
    assert not extra, f"environment.yml installs conda packages outside the lock: {extra}"
    by_pip = [line for line in pip if canonicalize_name(Requirement(line).name) == "torch"]
    assert not by_pip, f"pip must not install torch (PyPI's Linux wheel is CUDA): {by_pip}"


def test_environment_yml_pins_every_other_package_as_the_lock():
    _, pip = _conda_and_pip(_environment())
    pins = {}
    for line in pip:
        assert not line.startswith("-"), (
            f"{line!r}: Binder builds environment.yml before it copies the repository, so no "
            "-r/-e of a repository file works here (postBuild installs dlnotes)")
        req = Requirement(line)
        (spec,) = req.specifier
        assert spec.operator == "==", f"not an exact pin: {line!r}"
        pins[canonicalize_name(req.name)] = spec.version
    expected = {name: version for name, version in _lock().items() if name != "torch"}
    assert pins == expected, (
        "environment.yml and requirements.lock differ (run `make lock` or "
        f"`python tools/write_environment.py`): only in environment.yml "
        f"{sorted(set(pins.items()) - set(expected.items()))}, only in the lock "
        f"{sorted(set(expected.items()) - set(pins.items()))}")


def test_postbuild_installs_dlnotes_without_touching_the_pins():
    post = ROOT / "postBuild"
    assert post.is_file() and post.stat().st_mode & 0o111, "postBuild must exist and be executable"
    commands = [line for line in post.read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.startswith("#")]
    assert "set -euo pipefail" in commands
    assert "python -m pip install --no-deps -e ." in commands


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
