"""Smoke test of the book's PDF (`make pdf-check`, after `make pdf`).

Usage: python tools/check_pdf.py PDF LATEX_LOG

Checks that the PDF exists and opens (pdfinfo), that every chapter listed in _toc.yml is a
chapter of the PDF with its own title (book.toc, next to the log), and that the LaTeX log has
no error ("! ..."), no character missing from its font, and no undefined reference or
citation. Exit status 1, with one line per problem, otherwise.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
# Chapters that Sphinx adds at the end of the PDF, beyond those of _toc.yml.
BACK_MATTER = ("Bibliography", "Python Module Index", "Index")


def page_title(entry: str, override: str | None) -> str:
    """The title a page carries: the toc's `title:`, else its first `# ` heading."""
    if override:
        return override
    path = ROOT / f"{entry}.ipynb"
    if path.is_file():
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        lines = [line for c in cells if c["cell_type"] == "markdown"
                 for line in "".join(c["source"]).splitlines()]
    else:
        lines = (ROOT / f"{entry}.md").read_text(encoding="utf-8").splitlines()
    return next(line[2:].strip() for line in lines if line.startswith("# "))


def toc_titles() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    titles = {}

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                titles[node["file"]] = node.get("title")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)
    walk(toc.get("parts", toc.get("chapters", [])))
    return [page_title(entry, title) for entry, title in titles.items()]


def _plain(tex: str) -> str:
    """A LaTeX title from book.toc as plain text, to compare with the source's title."""
    tex = re.sub(r"\\sphinxhyphen\s*\{\}", "-", tex)
    tex = re.sub(r"\\(?:sphinxcode|sphinxupquote|texttt|emph|textbf|sphinxstyleliteralintitle)"
                 r"\s*", "", tex)
    tex = re.sub(r"\\[a-zA-Z]+\s*", "", tex)
    return re.sub(r"[{}$`*\\]", "", tex).replace("~", " ").strip()


def pdf_chapters(toc_path: Path) -> list[str]:
    entries = re.findall(r"\\contentsline\s*\{chapter\}\{(.*)\}\{\d+\}\{[^}]*\}%?$",
                         toc_path.read_text(encoding="utf-8", errors="replace"), re.M)
    titles = []
    for entry in entries:
        entry = re.sub(r"^\\numberline\s*\{[^}]*\}", "", entry)
        titles.append(_plain(entry))
    return titles


def log_problems(log: str) -> list[str]:
    problems = []
    for i, line in enumerate(log.splitlines(), 1):
        if line.startswith("! "):
            problems.append(f"LaTeX error at log line {i}: {line}")
    for char in sorted(set(re.findall(r"Missing character: There is no (.+?) in font", log))):
        problems.append(f"a character is missing from its font: {char}")
    for what in re.findall(r"LaTeX Warning: (Reference|Citation) `([^']+)' .*undefined", log):
        problems.append(f"undefined {what[0].lower()}: {what[1]}")
    return problems


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    pdf, log_path = Path(argv[0]), Path(argv[1])
    problems = []
    if not pdf.is_file() or pdf.stat().st_size == 0:
        print(f"{pdf}: no PDF (run `make pdf`)")
        return 1
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True)
    pages = re.search(r"^Pages:\s+(\d+)", info.stdout, re.M)
    if info.returncode or not pages:
        problems.append(f"{pdf}: pdfinfo cannot read it: {info.stderr.strip()}")
    expected = toc_titles()
    found = [t for t in pdf_chapters(log_path.with_suffix(".toc")) if t not in BACK_MATTER]
    missing = [t for t in expected if _plain(t) not in found]
    problems += [f"chapter missing from the PDF: {t!r}" for t in missing]
    if len(found) != len(expected):
        problems.append(f"the PDF has {len(found)} chapters (besides {', '.join(BACK_MATTER)}), "
                        f"_toc.yml lists {len(expected)}")
    problems += log_problems(log_path.read_text(encoding="utf-8", errors="replace"))
    for problem in problems:
        print(problem)
    if problems:
        return 1
    print(f"{pdf}: {pages.group(1)} pages, {len(found)} chapters as in _toc.yml, "
          "no LaTeX errors, no missing characters, no undefined references")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
