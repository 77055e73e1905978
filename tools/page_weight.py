"""Bytes a reader's browser loads for a few pages of the built site (uncompressed bodies).

Usage: python tools/page_weight.py [PAGE.html ...]   (default: three chapters and the home page)

Serves _build/html on a free local port, opens each page in headless Chromium (Debian's
chromium-headless-shell, as the browser test does), waits for MathJax, and adds up the body of
every response, by kind (html, js, css, font, image). For the issue notes on page weight.
"""
from __future__ import annotations

import functools
import http.server
import shutil
import sys
import threading
from collections import Counter
from pathlib import Path

from playwright.sync_api import sync_playwright

SITE = Path(__file__).resolve().parent.parent / "_build" / "html"
DEFAULT = ["intro.html", "chapters/01-foundations/03-activations-and-softmax.html",
           "chapters/03-sequence-models/04-attention.html", "chapters/appendix/02-errata.html"]


def kind(url: str) -> str:
    path = url.split("?")[0]
    for ext, name in ((".js", "js"), (".css", "css"), (".html", "html"), (".woff", "font"),
                      (".woff2", "font"), (".ttf", "font"), (".png", "image"), (".svg", "image")):
        if path.endswith(ext):
            return name
    return "other"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:     # one line per request would drown the report
        pass


def main(pages: list[str]) -> int:
    handler = functools.partial(QuietHandler, directory=str(SITE))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    browser_path = shutil.which("chromium-headless-shell") or \
        "/usr/lib/chromium/chromium-headless-shell"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=browser_path, args=["--no-sandbox"])
        for page_path in pages or DEFAULT:
            responses = []
            page = browser.new_page()
            page.on("response", lambda r, seen=responses: seen.append(r))
            page.goto(base + page_path, wait_until="networkidle")
            sizes: Counter = Counter()
            for r in responses:
                sizes[kind(r.url)] += len(r.body()) if r.ok else 0
            page.close()
            total = sum(sizes.values())
            parts = ", ".join(f"{k} {v / 1e6:.2f}" for k, v in sorted(sizes.items()))
            print(f"{page_path}: {total / 1e6:.2f} MB ({parts})")
        browser.close()
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
