"""Per-part bibliographies on top of sphinxcontrib-bibtex.

``part-bibliography`` is the ``bibliography`` directive with its filter written for you: it
lists every entry of ``references.bib`` that is cited by a page in the same folder as the
page holding it (``chapters/01-foundations/references.md`` lists what Part I cites). A new
chapter in that folder is picked up without editing anything.

A work cited in two parts is listed in both, so a citation links to the list of its own
part: the domain below prefers the bibliography in the citing page's folder. (Stock
sphinxcontrib-bibtex would link every citation of that work to whichever list it formatted
last, and warns about the repeated entry; that warning, ``bibtex.duplicate_citation``, is
switched off in ``_config.yml`` because here the repetition is the intent.)
"""
from __future__ import annotations

import posixpath
import re
from pathlib import Path

from pybtex.plugin import register_plugin
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.labels import BaseLabelStyle
from sphinxcontrib.bibtex.directives import BibliographyDirective
from sphinxcontrib.bibtex.domain import BibtexDomain


class AuthorYearLabels(BaseLabelStyle):
    """List labels in the same author-year form as the in-text citations ("Cox, 1958").

    One author: "Cox, 1958"; two: "Kingma and Ba, 2015"; more: "Vaswani et al., 2017".
    Works that would share a label anywhere in the bibliography (not only in one part's
    list) get a letter after the year, in the order of their keys ("van den Oord et al.,
    2016a"), so that the same label never names two works on the site.
    """

    shared: dict[str, str] = {}   # key -> letter, for the keys whose plain label is shared

    @classmethod
    def learn(cls, entries) -> None:
        """Record which works share a plain label, over every entry of the .bib files."""
        by_label: dict[str, list[str]] = {}
        for entry in entries:
            by_label.setdefault(cls._label(entry), []).append(entry.key)
        cls.shared = {key: "abcdefghijklmnopqrstuvwxyz"[i]
                      for keys in by_label.values() if len(keys) > 1
                      for i, key in enumerate(sorted(keys))}

    def format_labels(self, sorted_entries):
        for entry in sorted_entries:
            yield self._label(entry) + self.shared.get(entry.key, "")

    @staticmethod
    def _label(entry) -> str:
        people = entry.persons.get("author") or entry.persons.get("editor") or []
        names = [re.sub(r"[{}\\]", "", " ".join(p.prelast_names + p.last_names))
                 for p in people]
        if not names:
            who = re.sub(r"[{}\\]", "", entry.fields.get("organization", entry.key))
        elif len(names) == 1:
            who = names[0]
        elif len(names) == 2:
            who = f"{names[0]} and {names[1]}"
        else:
            who = f"{names[0]} et al."
        return f"{who}, {entry.fields.get('year', 'n.d.')}"


class AuthorYearStyle(PlainStyle):
    """pybtex's plain style with author-year labels; ``bibtex_default_style`` names it."""
    default_label_style = AuthorYearLabels


def _folder(docname: str) -> str:
    return posixpath.dirname(docname)


class PartBibliography(BibliographyDirective):
    """``bibliography`` restricted to works cited in this page's folder."""

    def run(self):
        env = self.state.document.settings.env
        folder = _folder(env.docname)
        siblings = sorted(d for d in env.found_docs
                          if _folder(d) == folder and d != env.docname)
        # The filter language of sphinxcontrib-bibtex: ``docnames`` is the set of pages
        # that cite the entry; ``&`` with a set literal is non-empty when one of them does.
        pages = ", ".join(repr(d) for d in siblings)
        self.options["filter"] = f"docnames & {{{pages}}}" if siblings else "False"
        return super().run()


class PartBibtexDomain(BibtexDomain):
    """Resolve a citation to the bibliography in the citing page's folder when there is one."""

    def resolve_xref(self, env, fromdocname, builder, typ, target, node, contnode):
        folder = _folder(fromdocname)
        saved = self.data["citations"]
        # The parent resolves a key to the *last* matching citation (after the citing page's
        # own), so move this folder's citations to the end; sorted() keeps the order otherwise.
        self.data["citations"] = sorted(
            saved, key=lambda c: _folder(c.bibliography_key.docname) == folder)
        try:
            return super().resolve_xref(env, fromdocname, builder, typ, target, node, contnode)
        finally:
            self.data["citations"] = saved


def _always_reread(app, env, added, changed, removed):
    """Re-read the part bibliographies on every build (three small pages).

    Their content depends on other pages: which pages sit in the folder, and what those cite.
    By convention each part's list is the page ``references`` of the part's folder.
    """
    return [d for d in env.found_docs if posixpath.basename(d) == "references"]


def _learn_labels(app, config) -> None:
    from pybtex.database import parse_file

    entries = []
    for name in getattr(config, "bibtex_bibfiles", []) or []:
        entries += parse_file(str(Path(app.srcdir) / name)).entries.values()
    AuthorYearLabels.learn(entries)


def setup(app):
    register_plugin("pybtex.style.formatting", "author_year_labels", AuthorYearStyle,
                    force=True)
    app.setup_extension("sphinxcontrib.bibtex")
    app.add_domain(PartBibtexDomain, override=True)
    app.add_directive("part-bibliography", PartBibliography)
    app.connect("env-get-outdated", _always_reread)
    app.connect("config-inited", _learn_labels)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
