"""The ``verification-report`` directive: what each chapter checks, counted from its notebook.

For every notebook listed in ``_toc.yml`` (in book order, grouped by part) the directive
parses each code cell with :mod:`ast` and counts the *calls* to ``assert_identity`` (SymPy
identities) and to ``check_pair`` / ``check_loss`` / ``check_values`` (comparisons with
PyTorch), however they are spelled (``assert_identity(...)``, ``verify.check_pair(...)``).
It also counts the verdict lines those calls printed into the stored outputs, which nbval
reproduces. Nothing is typed in by hand: the page is rebuilt whenever a notebook or
``_toc.yml`` changes.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import NamedTuple

import nbformat
import yaml
from docutils import nodes
from sphinx.addnodes import pending_xref
from sphinx.util.docutils import SphinxDirective

IDENTITY_CALLS = {"assert_identity"}
TORCH_CALLS = {"check_pair", "check_loss", "check_values"}
# The one-line reprs of dlnotes.symbolic.Identity and dlnotes.verify.Verdict.
IDENTITY_VERDICT = re.compile(r"SymPy verified: ")
TORCH_VERDICT = re.compile(r" match torch \(float64, rtol=")


class Counts(NamedTuple):
    identities: int          # assert_identity(...) calls in the code
    comparisons: int         # check_pair/check_loss/check_values(...) calls in the code
    identity_verdicts: int   # "SymPy verified: ..." lines in the stored outputs
    torch_verdicts: int      # "... match torch (float64, ...)" lines in the stored outputs


def _called_name(call: ast.Call) -> str | None:
    f = call.func
    if isinstance(f, ast.Name):
        return f.id
    if isinstance(f, ast.Attribute):
        return f.attr
    return None


def count_checks(path: Path) -> Counts:
    """Count the checks in one notebook (see the module docstring)."""
    nb = nbformat.read(path, as_version=4)
    identities = comparisons = id_verdicts = torch_verdicts = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        # IPython magics are not Python; a chapter has none, but do not crash on one.
        source = "\n".join(line for line in cell.source.splitlines()
                           if not line.lstrip().startswith(("%", "!")))
        for node in ast.walk(ast.parse(source, filename=str(path))):
            if isinstance(node, ast.Call):
                name = _called_name(node)
                identities += name in IDENTITY_CALLS
                comparisons += name in TORCH_CALLS
        for out in cell.get("outputs", []):
            text = out.get("text", "") if out.output_type == "stream" else \
                out.get("data", {}).get("text/plain", "")
            id_verdicts += len(IDENTITY_VERDICT.findall(text))
            torch_verdicts += len(TORCH_VERDICT.findall(text))
    return Counts(identities, comparisons, id_verdicts, torch_verdicts)


def notebook_title(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return path.stem


def toc_notebooks(root: Path) -> list[tuple[str, list[str]]]:
    """[(part caption, [docname, ...])] for the notebooks in ``_toc.yml``, in book order."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))

    def files(entries) -> list[str]:
        found = []
        for entry in entries or []:
            if "file" in entry and (root / f"{entry['file']}.ipynb").is_file():
                found.append(entry["file"])
            found.extend(files(entry.get("sections")))
        return found

    parts = []
    for part in toc.get("parts", []):
        docs = files(part.get("chapters"))
        if docs:
            parts.append((part.get("caption", ""), docs))
    return parts


class VerificationReport(SphinxDirective):
    """Insert the table of checks per chapter."""

    has_content = False
    HEADERS = ("Chapter", "SymPy identities asserted", "torch comparisons run",
               "verdict lines in the stored outputs")

    def run(self) -> list[nodes.Node]:
        root = Path(self.env.srcdir)
        self.env.note_dependency(str(root / "_toc.yml"))
        result: list[nodes.Node] = []
        total = [0, 0, 0, 0]
        for caption, docs in toc_notebooks(root):
            rows = []
            for docname in docs:
                path = root / f"{docname}.ipynb"
                self.env.note_dependency(str(path))
                try:
                    c = count_checks(path)
                except SyntaxError as exc:
                    raise self.error(f"{docname}: a code cell is not Python ({exc})") from exc
                total = [t + v for t, v in zip(total, c, strict=True)]
                verdicts = f"{c.identity_verdicts} SymPy, {c.torch_verdicts} torch"
                rows.append([self._link(docname, notebook_title(path)),
                             str(c.identities), str(c.comparisons), verdicts])
            result.append(nodes.rubric(text=caption))
            result.append(self._table(rows))
        result.append(nodes.paragraph(
            text=f"In all: {total[0]} SymPy identities asserted and {total[1]} comparisons "
                 f"with PyTorch run, printing {total[2]} SymPy and {total[3]} torch verdict "
                 "lines."))
        return result

    def _link(self, docname: str, title: str) -> nodes.Node:
        para = nodes.paragraph()
        xref = pending_xref("", refdomain="std", reftype="doc", reftarget="/" + docname,
                            refexplicit=True, refwarn=True, refdoc=self.env.docname)
        xref += nodes.inline(text=title)
        para += xref
        return para

    def _table(self, rows: list[list]) -> nodes.table:
        table = nodes.table(classes=["verification-report"])
        group = nodes.tgroup(cols=len(self.HEADERS))
        table += group
        for width in (40, 20, 20, 20):
            group += nodes.colspec(colwidth=width)
        head, body = nodes.thead(), nodes.tbody()
        group += head
        group += body
        head += self._row(self.HEADERS)
        for row in rows:
            body += self._row(row)
        return table

    @staticmethod
    def _row(cells) -> nodes.row:
        row = nodes.row()
        for cell in cells:
            entry = nodes.entry()
            entry += cell if isinstance(cell, nodes.Node) else nodes.paragraph(text=cell)
            row += entry
        return row


def setup(app):
    app.add_directive("verification-report", VerificationReport)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
