"""Leave out what the site loads but does not use: sphinx-thebe's script, style and inline
configuration when live code (``launch_buttons.thebe``) is off.

Jupyter Book 1 always registers sphinx-thebe, which adds its files to every page whether or
not Thebe is enabled; Sphinx 7.4 also writes its inline configuration script twice, which the
browser reports as a redeclared ``THEBE_JS_URL``. With Thebe off nothing on the page uses
them, so they are dropped from each page's context before it is rendered.
"""
from __future__ import annotations


def _thebe_enabled(app) -> bool:
    options = getattr(app.config, "html_theme_options", {}) or {}
    return bool((options.get("launch_buttons") or {}).get("thebe"))


def _is_thebe(asset) -> bool:
    name = getattr(asset, "filename", None) or str(asset) or ""
    body = (getattr(asset, "attributes", None) or {}).get("body", "") or ""
    return "thebe" in name.lower() or "THEBE_" in body


def _drop_thebe(app, pagename, templatename, context, doctree) -> None:
    if _thebe_enabled(app):
        return
    for key in ("script_files", "css_files"):
        if key in context:
            context[key] = [a for a in context[key] if not _is_thebe(a)]


def setup(app):
    app.connect("html-page-context", _drop_thebe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
