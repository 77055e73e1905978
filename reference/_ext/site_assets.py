"""Leave out what the site loads but does not use.

* sphinx-thebe's script, style and inline configuration when live code
  (``launch_buttons.thebe``) is off.
* The outlines of the Font Awesome icons that no page shows. The theme's
  ``_static/scripts/fontawesome.js`` (1.5 MB) carries every free icon; the site shows about
  twenty (search, menu, dark mode, GitHub, download, ...). After the build, the SVG path of
  every icon that no page and no script names (by its name or an alias) is emptied: the
  script keeps working, and each page loads about 0.8 MB less.

Jupyter Book 1 always registers sphinx-thebe, which adds its files to every page whether or
not Thebe is enabled; Sphinx 7.4 also writes its inline configuration script twice, which the
browser reports as a redeclared ``THEBE_JS_URL``. With Thebe off nothing on the page uses
them, so they are dropped from each page's context before it is rendered.
"""
from __future__ import annotations

import re
from pathlib import Path

# One icon in fontawesome.js: "name":[width,height,[aliases],"unicode","path" or [paths]]
ICON = re.compile(r'"(?P<name>[a-z0-9-]+)":\[(?P<size>\d+,\d+),\[(?P<aliases>[^\]]*)\],'
                  r'"(?P<code>[0-9a-f]+)",(?P<path>"(?:[^"\\]|\\.)*"|\[(?:"(?:[^"\\]|\\.)*",?)*\])\]')
NAMED = re.compile(r"\bfa-([a-z0-9-]+)")


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


def icons_in_use(outdir: Path, script: Path) -> set[str]:
    """Every ``fa-<name>`` that a built page or a script other than Font Awesome's names."""
    used: set[str] = set()
    for path in [*outdir.rglob("*.html"), *(outdir / "_static").rglob("*.js")]:
        if path != script:
            used.update(NAMED.findall(path.read_text(encoding="utf-8", errors="replace")))
    return used


def subset_icons(text: str, used: set[str]) -> tuple[str, int, int]:
    """``text`` with the paths of unused icons emptied; (new text, icons kept, icons emptied)."""
    kept = emptied = 0

    def one(m: re.Match) -> str:
        nonlocal kept, emptied
        names = {m["name"], *re.findall(r'"([a-z0-9-]+)"', m["aliases"])}
        if names & used:
            kept += 1
            return m[0]
        emptied += 1
        return f'"{m["name"]}":[{m["size"]},[{m["aliases"]}],"{m["code"]}",""]'

    return ICON.sub(one, text), kept, emptied


def _subset_fontawesome(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    script = outdir / "_static" / "scripts" / "fontawesome.js"
    if not script.is_file():
        return
    text, kept, emptied = subset_icons(script.read_text(encoding="utf-8"),
                                       icons_in_use(outdir, script))
    if kept == 0:                        # the format changed: keep the script as it is
        return
    script.write_text(text, encoding="utf-8")


def setup(app):
    app.connect("html-page-context", _drop_thebe, priority=900)
    app.connect("build-finished", _subset_fontawesome)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
