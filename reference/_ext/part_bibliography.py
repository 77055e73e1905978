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

from sphinxcontrib.bibtex.directives import BibliographyDirective
from sphinxcontrib.bibtex.domain import BibtexDomain


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
        self.options["filter"] = ("docnames & {%s}" % ", ".join(repr(d) for d in siblings)
                                  if siblings else "False")
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


def setup(app):
    app.setup_extension("sphinxcontrib.bibtex")
    app.add_domain(PartBibtexDomain, override=True)
    app.add_directive("part-bibliography", PartBibliography)
    app.connect("env-get-outdated", _always_reread)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
