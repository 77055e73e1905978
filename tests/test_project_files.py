"""The files people look for: licence, citation, contributing guide, changelog, one version.

CITATION.cff is checked against the Citation File Format 1.2.0's required keys here (the
`cffconvert` validator needs jsonschema<4, which the lock's Jupyter stack cannot use).
"""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
VERSION = PROJECT["version"]
REPOSITORY = CONFIG["repository"]["url"]


def _text(name: str) -> str:
    return (ROOT / name).read_text(encoding="utf-8")


def _pages_url() -> str:
    owner, repo = REPOSITORY.removeprefix("https://github.com/").split("/")
    return f"https://{owner}.github.io/{repo}/"


def test_license_is_mit_for_the_code_and_names_the_text_licence():
    text = _text("LICENSE")
    assert text.startswith("MIT License")
    assert "Permission is hereby granted, free of charge" in text
    assert "CC BY-SA 4.0" in text
    assert PROJECT["license"] == {"text": "MIT"}


def test_citation_cff_has_the_required_keys_and_the_version():
    cff = yaml.safe_load(_text("CITATION.cff"))
    for key in ("cff-version", "message", "title", "authors"):
        assert cff.get(key), f"CITATION.cff lacks {key}"
    assert cff["cff-version"] == "1.2.0"
    assert cff["title"] == CONFIG["title"]
    assert all(isinstance(a, dict) and (a.get("name") or a.get("family-names"))
               for a in cff["authors"]), "each author needs a name or family-names"
    assert str(cff["version"]) == VERSION, "CITATION.cff's version is not pyproject.toml's"
    assert cff["license"] == "MIT"
    assert cff["repository-code"] == REPOSITORY
    assert cff["url"] == _pages_url()
    assert cff.get("type") in ("software", "dataset")


def test_one_version_everywhere():
    import dlnotes

    assert dlnotes.__version__ == VERSION
    assert f"Version {VERSION}" in CONFIG["html"]["extra_footer"], "site footer"
    assert f"version {VERSION} of the course" in _text("intro.md")
    first = re.search(r"^## (\S+)", _text("CHANGELOG.md"), re.M)
    assert first and first.group(1) == VERSION, "CHANGELOG.md's newest section"


def test_readme_links_the_project_files_and_states_the_licences():
    readme = _text("README.md")
    for name in ("LICENSE", "CITATION.cff", "CONTRIBUTING.md", "CHANGELOG.md"):
        assert f"]({name})" in readme, f"README does not link {name}"
        assert (ROOT / name).is_file()
    assert "CC BY-SA 4.0" in readme and "MIT" in readme


def test_nothing_tells_a_reader_to_install_pypis_dlnotes():
    assert PROJECT["name"] != "dlnotes", "`dlnotes` on PyPI is an unrelated project"
    bare = re.compile(r"pip install\s+(-U\s+)?[\"']?dlnotes(\[[^\]]*\])?[\"']?(\s|$)")
    for name in ("README.md", "intro.md", "CONTRIBUTING.md"):
        assert not bare.search(_text(name)), f"{name} says `pip install dlnotes`"
    assert f"{PROJECT['name']} @ git+{REPOSITORY}" in _text("README.md")


def test_home_page_links_the_pdf_that_pages_publishes():
    assert f"{_pages_url()}deep-learning-verified.pdf" in _text("intro.md")
    assert "deep-learning-verified.pdf _build/html/" in _text(".github/workflows/pages.yml")
    assert "PDF := _build/pdf/deep-learning-verified.pdf" in _text("Makefile")


def test_colab_and_binder_buttons_are_configured():
    buttons = CONFIG["launch_buttons"]
    assert buttons["colab_url"] == "https://colab.research.google.com"
    assert buttons["binderhub_url"] == "https://mybinder.org"


def test_pre_commit_runs_the_locked_ruff():
    config = yaml.safe_load(_text(".pre-commit-config.yaml"))
    (repo,) = [r for r in config["repos"] if r["repo"].endswith("/ruff-pre-commit")]
    lock = dict(line.split("==") for line in _text("requirements.lock").splitlines()
                if "==" in line and not line.startswith("#"))
    assert repo["rev"] == f"v{lock['ruff']}"
    assert [h["id"] for h in repo["hooks"]] == ["ruff-check"]
