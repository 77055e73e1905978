"""Where the built site is and which pages it has (shared by the browser tests)."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SITE = Path(os.environ.get("SITE_DIR", ROOT / "_build" / "html")).resolve()
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", ROOT / "_build" / "screenshots"))
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def site_pages() -> list[str]:
    """Every HTML page of the book, relative to the site root (assets excluded)."""
    if not (SITE / "index.html").is_file():
        return []
    skip = {"_static", "_sources", "_images"}
    return sorted(p.relative_to(SITE).as_posix() for p in SITE.rglob("*.html")
                  if not skip & set(p.relative_to(SITE).parts))
