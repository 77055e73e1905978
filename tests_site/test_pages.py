"""Every page of the built book, loaded in headless Chromium over a local HTTP server.

For each page: no request leaves localhost and none fails; every equation in the page's TeX
is typeset by MathJax (the rendered elements are counted against the ``\\(`` and ``\\[`` in the
HTML, and none is a MathJax error); every image has loaded; every internal link (and its
``#fragment``) resolves; and no JavaScript error occurs other than the known ones below.
The rendered prose shows no stray ``$`` and no TeX command outside MathJax's output, no display
equation is clipped at its column's edge, and at phone width (390 px) the page itself does not pan
sideways: wide code, tables and equations scroll inside their own box (``_static/course.css``).
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from sitetools import LOCAL_HOSTS, SITE, site_pages

# JavaScript errors that are known and harmless, with the reason; anything else fails.
# (sphinx-thebe's doubled inline script used to be one; reference/_ext/site_assets.py now drops
# sphinx-thebe's files while live code is off.)
KNOWN_JS_ERRORS: dict[str, str] = {}
PHONE = {"width": 390, "height": 844}
MATH_ELEMENT = re.compile(r'<(span|div) class="math[^"]*">(.*?)</\1>', re.S)
ANCHOR = re.compile(r'\s(?:id|name)="([^"]+)"')

IMAGES_JS = """async () => {
  const bad = [];
  for (const img of Array.from(document.images)) {
    img.loading = 'eager';
    if (!img.complete || img.naturalWidth === 0) {
      await new Promise(done => {
        img.addEventListener('load', done, {once: true});
        img.addEventListener('error', done, {once: true});
        setTimeout(done, 5000);
      });
    }
    if (img.naturalWidth === 0) bad.push(img.getAttribute('src'));
  }
  return bad;
}"""
MATH_JS = """() => MathJax.startup.promise.then(() => {
  const all = Array.from(document.querySelectorAll('mjx-container'));
  const display = all.filter(c => c.getAttribute('display') === 'true').length;
  const raw = Array.from(document.querySelectorAll('.math'))
      .filter(e => !e.querySelector('mjx-container'))
      .map(e => e.textContent.trim().slice(0, 60));
  return {inline: all.length - display, display: display,
          errors: document.querySelectorAll('mjx-merror').length, raw: raw};
})"""


# Text the reader sees in the article, outside code, outputs and MathJax: a `$` or a TeX command
# there is maths that MyST did not hand to MathJax (e.g. `$$` right after a line of text).
STRAY_TEX_JS = r"""() => {
  const skip = 'pre, code, kbd, script, style, textarea, mjx-container, .math, .highlight, '
             + '.cell_output, .output, .headerlink, .bd-sidebar-primary, .bd-sidebar-secondary, '
             + 'header, footer, .bd-header, .prev-next-area, .search';
  const root = document.querySelector('article') || document.body;
  if (!root) return [];   // a redirect page (index.html) may be leaving already
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const found = [];
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!node.parentElement || node.parentElement.closest(skip)) continue;
    const text = node.textContent;
    const m = text.match(/\$|\\[A-Za-z]+/);
    if (m) found.push(text.slice(Math.max(0, m.index - 30), m.index + 30).trim());
  }
  return found;
}"""
# At desktop width no display equation may be wider than its column: a long one is split
# over lines (aligned environments). On a phone a wide one scrolls in its own box (course.css)
# rather than being clipped or widening the page; the page-width check below covers that.
WIDE_MATH_JS = """() => Array.from(document.querySelectorAll('mjx-container[display="true"]'))
  .map(c => { const m = c.querySelector('mjx-math');
              return {wide: !!m && m.getBoundingClientRect().width > c.clientWidth + 1,
                      scrolls: ['auto', 'scroll'].includes(getComputedStyle(c).overflowX),
                      text: (c.textContent || '').slice(0, 50)}; })
  .filter(e => e.wide)"""
# Elements that stick out past the right edge without an ancestor that scrolls or clips them.
OVERFLOW_JS = """() => {
  const width = window.innerWidth, found = [];
  for (const e of document.querySelectorAll('body *')) {
    const r = e.getBoundingClientRect();
    if (r.right <= width + 1 || r.width === 0) continue;
    let p = e.parentElement, contained = false;
    while (p) {
      if (getComputedStyle(p).overflowX !== 'visible'
          && p.getBoundingClientRect().right <= width + 1) { contained = true; break; }
      p = p.parentElement;
    }
    if (!contained) found.push(`${e.tagName.toLowerCase()}.${String(e.className).slice(0, 30)}`
                               + ` "${(e.textContent || '').trim().slice(0, 40)}"`);
  }
  return {scroll: document.documentElement.scrollWidth, inner: width, found: found.slice(0, 4)};
}"""
SETTLE_JS = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"


def tex_in(html: str) -> tuple[int, int]:
    """(inline, display) equations in a page's HTML, as Sphinx writes them for MathJax."""
    inline = display = 0
    for _, body in MATH_ELEMENT.findall(html):
        inline += body.count("\\(")
        display += body.count("\\[")
    return inline, display


@lru_cache(maxsize=None)
def anchors(path: Path) -> frozenset[str]:
    return frozenset(unquote(a) for a in ANCHOR.findall(path.read_text(encoding="utf-8")))


def broken_links(hrefs: list[str], base: str) -> list[str]:
    """Internal links whose file or #fragment does not exist in the built site."""
    broken = []
    base_netloc = urlsplit(base).netloc
    for href in sorted(set(hrefs)):
        parts = urlsplit(href)
        if parts.scheme not in ("http", "https") or parts.netloc != base_netloc:
            continue
        target = SITE / unquote(parts.path).lstrip("/")
        if parts.path.endswith("/"):
            target = target / "index.html"
        if not target.is_file():
            broken.append(f"{href} (no such file)")
        elif parts.fragment and target.suffix == ".html" \
                and unquote(parts.fragment) not in anchors(target):
            broken.append(f"{href} (no element with id '{unquote(parts.fragment)}')")
    return broken


def unexpected(errors: list[str]) -> list[str]:
    return [e for e in errors if not any(re.search(k, e) for k in KNOWN_JS_ERRORS)]


def test_the_site_was_built():
    assert site_pages(), f"no HTML pages under {SITE}: run `make book` first"


@pytest.mark.parametrize("rel", site_pages())
def test_page(rel, browser, base_url, offsite):
    url = base_url + rel
    html = (SITE / rel).read_text(encoding="utf-8")
    errors: list[str] = []
    failed: list[str] = []
    offsite_before = len(offsite.urls)
    page = browser.new_page()
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    page.on("console", lambda msg: errors.append(f"console.{msg.type}: {msg.text}")
            if msg.type == "error" else None)
    page.on("requestfailed", lambda req: failed.append(f"{req.url} ({req.failure})"))
    page.on("response", lambda resp: failed.append(f"{resp.url} (HTTP {resp.status})")
            if resp.status >= 400 else None)
    try:
        page.goto(url, wait_until="load")
        problems = []

        want_inline, want_display = tex_in(html)
        has_mathjax = page.locator("script[src*='mathjax/tex-chtml.js']").count() > 0
        if want_inline or want_display:
            if not has_mathjax:
                problems.append("page has TeX but does not load the local MathJax")
            else:
                page.wait_for_function(
                    "() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                    timeout=20_000)
                got = page.evaluate(MATH_JS)
                if (got["inline"], got["display"]) != (want_inline, want_display):
                    problems.append(
                        f"MathJax typeset {got['inline']} inline and {got['display']} display "
                        f"equations; the page has {want_inline} and {want_display}")
                if got["errors"]:
                    problems.append(f"{got['errors']} equations are MathJax errors")
                if got["raw"]:
                    problems.append(f"untypeset maths: {got['raw'][:5]}")

        bad_images = page.evaluate(IMAGES_JS)
        if bad_images:
            problems.append(f"images that did not load: {bad_images}")

        hrefs = page.eval_on_selector_all("a[href]", "els => els.map(a => a.href)")
        problems += [f"broken link {b}" for b in broken_links(hrefs, base_url)]

        stray = page.evaluate(STRAY_TEX_JS)
        if stray:
            problems.append(f"maths outside MathJax (stray $ or TeX command): {stray[:4]}")
        if want_display and has_mathjax:
            wide = page.evaluate(WIDE_MATH_JS)
            if wide:
                texts = [e["text"] for e in wide][:3]
                problems.append(f"display equations wider than the column at "
                                f"{page.viewport_size['width']} px: {texts}")

        page.set_viewport_size(PHONE)
        page.evaluate(SETTLE_JS)
        fit = page.evaluate(OVERFLOW_JS)
        if fit["scroll"] > fit["inner"]:
            problems.append(f"at {PHONE['width']} px the page is {fit['scroll']} px wide "
                            f"(pans sideways); sticking out: {fit['found']}")
    finally:
        page.close()
    problems += [f"request left localhost (blocked): {u}" for u in offsite.urls[offsite_before:]]
    problems += [f"request failed: {f}" for f in failed
                 if urlsplit(f.split(" ")[0]).hostname in LOCAL_HOSTS]
    problems += [f"JavaScript error: {e}" for e in unexpected(errors)
                 if "net::ERR_FAILED" not in e or not offsite.urls[offsite_before:]]
    assert not problems, f"{rel}:\n  " + "\n  ".join(problems)
