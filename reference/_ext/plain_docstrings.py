"""Render dlnotes docstrings, written as plain text, without reStructuredText surprises.

The package's docstrings are plain text with a little markup (````code````, ``:func:`name```
roles, ``Usage::`` blocks) and indented blocks for formulas and shape tables, e.g.::

    x: (N, D) -> out: (N, M),   |z| = max(z, -z)

Read as reStructuredText, such a block would be a block quote (its lines run together) and
``|z|`` a substitution that does not exist, which fails the strict build for no real
reason. Before autodoc parses a docstring, this hook therefore

1. shows every indented block verbatim (as a literal block), unless it already is one
   (after ``::``), or belongs to a list item or a directive; and sets lists off from the
   prose around them with blank lines, as Markdown does not require;
2. if docutils still reports a problem, escapes the characters that start inline markup by
   accident (``|``, ``*``, a trailing ``_``, ``\\``) in the prose;
3. if even that does not parse cleanly, shows the whole docstring verbatim.

Cross-references (roles, type annotations) are untouched, so a broken one still fails ``-n``.
"""
from __future__ import annotations

import copy
import io
import re

from docutils.frontend import get_default_settings
from docutils.parsers.rst import Parser
from docutils.readers.standalone import Reader
from docutils.utils import new_document
from sphinx.util import logging

logger = logging.getLogger(__name__)
LIST_ITEM = re.compile(r"^(\*|-|\+|\d+\.|#\.)\s+")
FIELD = re.compile(r"^:[\w ]+:(\s|$)")
ROLE = re.compile(r"(?<!\w):(?:[\w+-]+:)+`([^`]*)`")
LITERAL_OR_ROLE = re.compile(r"(``.+?``|(?<!\w):(?:[\w+-]+:)+`[^`]*`)")
ACCIDENTAL = re.compile(r"(\\|\||\*|(?<=\w)_(?=\W|$))")
FIELD_ALIAS = re.compile(r"^Alias for field number \d+$")
_PARSER, _READER = Parser(), Reader()
_SETTINGS = get_default_settings(_PARSER, _READER)
_SETTINGS.report_level, _SETTINGS.halt_level = 2, 5   # collect warnings, never stop
_SETTINGS.file_insertion_enabled = _SETTINGS.raw_enabled = False


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def verbatim_blocks(lines: list[str]) -> list[str]:
    """Step 1: indented blocks become literal blocks; lists get blank lines around them."""
    out: list[str] = []
    i = 0
    context = ""   # the last unindented non-blank line before the current position
    while i < len(lines):
        line = lines[i]
        if not line.strip() or _indent(line) == 0:
            if line.strip():
                # A list must be set off from the prose around it by blank lines.
                after_text = out and out[-1].strip()
                if after_text and bool(LIST_ITEM.match(line)) != bool(LIST_ITEM.match(context)):
                    out.append("")
                context = line
            out.append(line)
            i += 1
            continue
        j = i
        while j < len(lines) and (not lines[j].strip() or _indent(lines[j]) > 0):
            j += 1
        block = lines[i:j]
        keep = (context.rstrip().endswith("::") or context.startswith(".. ")
                or LIST_ITEM.match(context) or FIELD.match(context))
        if keep:
            out.extend(block)
        else:
            if out and out[-1].strip():
                out.append("")
            out.extend(["::", ""])
            out.extend(block)
            if j < len(lines) and block[-1].strip():
                out.append("")
        i = j
    return out


def escape_prose(lines: list[str]) -> list[str]:
    """Step 2: escape markup characters in unindented prose, outside ``code`` and roles."""
    out = []
    for line in lines:
        if line.strip() and _indent(line) == 0 and not line.startswith(".."):
            marker = LIST_ITEM.match(line)
            prefix, line = (line[:marker.end()], line[marker.end():]) if marker else ("", line)
            parts = LITERAL_OR_ROLE.split(line)
            for k in range(0, len(parts), 2):
                parts[k] = ACCIDENTAL.sub(r"\\\1", parts[k])
            for k in range(1, len(parts), 2):
                # ``code``s: markup must end before a letter; an escaped space is invisible.
                if re.match(r"\w", parts[k + 1]):
                    parts[k] += "\\ "
                if re.search(r"\w$", parts[k - 1]):
                    parts[k] = "\\ " + parts[k]
            line = prefix + "".join(parts)
        out.append(line)
    return out


def problems(lines: list[str]) -> str:
    """What docutils reports for these lines (roles read as code), or '' when clean."""
    text = ROLE.sub(lambda m: "``" + m.group(1).replace("`", "") + "``", "\n".join(lines))
    settings = copy.copy(_SETTINGS)
    settings.warning_stream = stream = io.StringIO()
    document = new_document("<docstring>", settings)
    try:
        _PARSER.parse(text, document)
        document.transformer.add_transforms(_READER.get_transforms() + _PARSER.get_transforms())
        document.transformer.apply_transforms()
    except Exception:  # a Sphinx-only directive: leave the verdict to Sphinx itself
        return ""
    return stream.getvalue().strip()


def process_docstring(app, what, name, obj, options, lines: list[str]) -> None:
    if len(lines) <= 2 and lines and FIELD_ALIAS.match(lines[0]):
        lines[:] = []   # NamedTuple fields: "Alias for field number 0" says nothing
        return
    candidate = verbatim_blocks(lines)
    if problems(candidate):
        candidate = escape_prose(candidate)
    if problems(candidate):
        logger.info(f"[plain_docstrings] {name}: shown verbatim")
        candidate = ["::", ""] + ["    " + line for line in lines] + [""]
    lines[:] = candidate


def setup(app):
    app.setup_extension("sphinx.ext.autodoc")
    app.connect("autodoc-process-docstring", process_docstring)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
