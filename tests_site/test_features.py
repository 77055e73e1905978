"""The site's features, each checked against an independent source of truth.

Search finds chapters; screenshots are saved for people to look at; each chapter offers its
notebook for download and a Binder launch built from the one repository URL in _config.yml;
the verification report agrees with a count made here; the API reference has an entry for
every public function and class of dlnotes; citations link to their own part's reference list.
"""
from __future__ import annotations

import importlib
import inspect
import re
import sys
from urllib.parse import urljoin, urlsplit

import nbformat
import pytest
import yaml

from sitetools import ROOT, SCREENSHOTS, SITE

CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


def toc_chapters() -> list[str]:
    """Docnames of the notebooks in _toc.yml, in book order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    found = []

    def walk(node):
        if isinstance(node, dict):
            f = node.get("file")
            if f and (ROOT / f"{f}.ipynb").is_file():
                found.append(f)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc)
    return found


def toc_notebooks() -> tuple[list[str], list[str]]:
    """(chapters, solutions pages): a part's solutions page is a notebook but not a chapter."""
    notebooks = toc_chapters()
    return ([d for d in notebooks if "/solutions/" not in d],
            [d for d in notebooks if "/solutions/" in d])


def title_of(docname: str) -> str:
    nb = nbformat.read(ROOT / f"{docname}.ipynb", as_version=4)
    return next(line[2:].strip() for c in nb.cells if c.cell_type == "markdown"
                for line in c.source.splitlines() if line.startswith("# "))


CHAPTERS, SOLUTION_PAGES = toc_notebooks()
# Every part ends with the list of the works its chapters cite, except the appendix (its
# algorithms and errata need not cite anything; if they do, the page is required as well).
PARTS_WITHOUT_REFERENCES = {"chapters/appendix"}


def open_page(browser, url):
    page = browser.new_page()
    page.goto(url, wait_until="load")
    if page.locator("script[src*='mathjax/tex-chtml.js']").count():
        page.wait_for_function(
            "() => window.MathJax && MathJax.startup && MathJax.startup.promise")
        page.evaluate("() => MathJax.startup.promise")
    return page


@pytest.mark.parametrize("docname", [CHAPTERS[0], CHAPTERS[-1]] if CHAPTERS else [])
def test_search_finds_a_chapter_by_a_word_of_its_title(docname, browser, base_url):
    word = max(re.findall(r"[A-Za-z]+", title_of(docname)), key=len).lower()
    page = browser.new_page()
    try:
        page.goto(f"{base_url}search.html?q={word}", wait_until="load")
        page.wait_for_function(
            "() => { const s = document.querySelector('#search-results .search-summary');"
            " return s && /finished|found/i.test(s.textContent); }", timeout=30_000)
        hits = page.eval_on_selector_all("#search-results ul.search li a",
                                         "els => els.map(a => a.href)")
    finally:
        page.close()
    paths = {urlsplit(h).path.lstrip("/") for h in hits}
    assert f"{docname}.html" in paths, f"searching '{word}' did not find {docname}: {paths}"


SCREEN_WIDTHS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


def save_screenshot(page, path, tries: int = 3) -> bool:
    """A screenshot is an artefact for people to look at, not a check: on a loaded machine
    Chromium sometimes cannot capture one, so retry after the page has settled, then warn."""
    from playwright.sync_api import Error as PlaywrightError

    for attempt in range(1, tries + 1):
        try:
            page.screenshot(path=str(path))
            return True
        except PlaywrightError as e:
            last = e
            page.wait_for_load_state("load")
            page.evaluate("() => new Promise(done => requestAnimationFrame(done))")
    sys.stderr.write(f"warning: no screenshot {path.name} after {tries} tries: {last}\n")
    return False


def test_screenshots(browser, base_url):
    """The home page, chapters of every part (at their first displayed equation) and the
    reference pages, at desktop and phone width; saved under _build/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shots = {"home": "index.html"}
    parts = {}
    for docname in CHAPTERS:
        parts.setdefault(docname.rsplit("/", 1)[0], docname)
    for docname in [*CHAPTERS[:2], *parts.values()]:
        shots[f"chapter-{docname.split('/')[-1]}"] = f"{docname}.html"
    extra = {"verification-report": "reference/verification.html",
             "api-reference": "reference/api/dlnotes.layers.html",
             "references-part-1": "chapters/01-foundations/references.html",
             "performance": "reference/performance.html",
             "search": "search.html?q=softmax"}
    shots.update({k: v for k, v in extra.items() if (SITE / v.split("?")[0]).is_file()})
    saved = 0
    for name, rel in shots.items():
        page = open_page(browser, base_url + rel)
        try:
            for label, size in SCREEN_WIDTHS.items():
                page.set_viewport_size(size)
                if name.startswith("chapter-"):
                    first = page.locator("mjx-container[display='true']").first
                    if first.count():
                        # scroll the window only: scroll_into_view would also scroll the
                        # equation's clipping ancestors sideways and shift the picture
                        page.evaluate("el => window.scrollTo(0, el.getBoundingClientRect().top"
                                      " + window.scrollY - 250)", first.element_handle())
                if name == "search":
                    page.wait_for_selector("#search-results ul.search li", timeout=30_000)
                path = SCREENSHOTS / f"{name}-{label}.png"
                if save_screenshot(page, path):
                    saved += 1
                    assert path.stat().st_size > 10_000, f"{path.name} looks empty"
        finally:
            page.close()
    assert len(shots) >= 10 and saved, f"{saved} screenshots of {len(shots)} pages saved"


def test_every_chapter_offers_its_notebook_and_a_binder_launch():
    repo = CONFIG["repository"]
    owner_repo = urlsplit(repo["url"]).path.strip("/")
    binder = CONFIG["launch_buttons"]["binderhub_url"].rstrip("/")
    problems = []
    for docname in CHAPTERS:
        html = (SITE / f"{docname}.html").read_text(encoding="utf-8")
        m = re.search(r'<a href="([^"]+\.ipynb)"[^>]*\s+class="[^"]*btn-download-source-button',
                      html)
        if not m:
            problems.append(f"{docname}: no download button")
        else:
            target = (SITE / f"{docname}.html").parent / m.group(1)
            if target.resolve().read_bytes() != (ROOT / f"{docname}.ipynb").read_bytes():
                problems.append(f"{docname}: the download is not the repository's notebook")
        launch = (f"{binder}/v2/gh/{owner_repo}/{repo['branch']}"
                  f"?urlpath=lab/tree/{docname}.ipynb")
        if launch not in html.replace("&amp;", "&"):
            problems.append(f"{docname}: no Binder launch link {launch}")
    assert not problems, "\n".join(problems)


def _independent_count(docname: str) -> tuple[int, int]:
    """Call sites by regular expression over the code cells, comments stripped."""
    nb = nbformat.read(ROOT / f"{docname}.ipynb", as_version=4)
    code = "\n".join(re.sub(r"#.*", "", line) for c in nb.cells if c.cell_type == "code"
                     for line in c.source.splitlines())
    return (len(re.findall(r"\bassert_identity\(", code)),
            len(re.findall(r"\bcheck_(?:pair|loss|values)\(", code)))


def test_verification_report_matches_an_independent_count():
    page = SITE / "reference" / "verification.html"
    html = page.read_text(encoding="utf-8")
    rows = re.findall(r'<tr class="row-(?:odd|even)">(.*?)</tr>', html, re.S)
    found = {}
    for row in rows:
        link = re.search(r'href="([^"#]+)\.html"', row)
        cells = [re.sub(r"<[^>]+>", "", c).strip()
                 for c in re.findall(r"<td>(.*?)</td>", row, re.S)]
        if link and len(cells) >= 3:
            target = urljoin("reference/verification.html", link.group(1))
            found[target] = (int(cells[1]), int(cells[2]))
    notebooks = CHAPTERS + SOLUTION_PAGES          # the solutions are checked like chapters
    assert set(found) == set(notebooks), "the report does not list exactly the notebooks"
    wrong = {d: (found[d], _independent_count(d)) for d in notebooks
             if found[d] != _independent_count(d)}
    assert not wrong, f"report vs independent count (identities, comparisons): {wrong}"
    assert all(sum(found[d]) > 0 for d in notebooks)


def _public_objects(module) -> list[str]:
    return [name for name, obj in vars(module).items()
            if not name.startswith("_") and (inspect.isfunction(obj) or inspect.isclass(obj))
            and obj.__module__ == module.__name__]


def test_api_reference_documents_every_public_function_and_class():
    missing = []
    modules = sorted(p.stem for p in (ROOT / "dlnotes").glob("*.py")
                     if not p.stem.startswith("_"))
    assert modules
    for stem in modules:
        page = SITE / "reference" / "api" / f"dlnotes.{stem}.html"
        if not page.is_file():
            missing.append(f"dlnotes.{stem} (no page)")
            continue
        html = page.read_text(encoding="utf-8")
        module = importlib.import_module(f"dlnotes.{stem}")
        missing += [f"dlnotes.{stem}.{name}" for name in _public_objects(module)
                    if f'id="dlnotes.{stem}.{name}"' not in html]
    assert not missing, f"not in the API reference: {missing}"


def test_every_chapter_links_to_the_api_reference():
    """Inline code naming a dlnotes object becomes a link (reference/_ext/dlnotes_api.py)."""
    entry = re.compile(r'href="(?:\.\./)*reference/api/dlnotes\.\w+\.html#dlnotes\.[\w.]+"')
    unlinked = [d for d in CHAPTERS
                if not entry.search((SITE / f"{d}.html").read_text(encoding="utf-8"))]
    assert not unlinked, (
        f"chapters without a link to an API entry: {unlinked}; name a dlnotes function in "
        "inline code in a markdown cell (e.g. `dlnotes.layers.dense_forward`)")


def test_citations_link_to_the_reference_list_of_their_part():
    problems, cited = [], 0
    for docname in CHAPTERS:
        html = (SITE / f"{docname}.html").read_text(encoding="utf-8")
        for span in re.findall(r'<span class="bibtex-citation"[^>]*>(.*?)</span>', html, re.S):
            for href in re.findall(r'href="([^"]+)"', span):
                cited += 1
                if href.split("#")[0] != "references.html":
                    problems.append(f"{docname}: citation links to {href}, not to its part's "
                                    "references.html")
    assert cited, "no chapter cites anything"
    assert not problems, "\n".join(problems)
    for part in sorted({d.rsplit("/", 1)[0] for d in CHAPTERS} - PARTS_WITHOUT_REFERENCES):
        refs = SITE / part / "references.html"
        assert refs.is_file(), (
            f"{part} has no reference list: list {part}/references in _toc.yml as the last "
            "entry of its part; the page holds a {part-bibliography} directive")
        entries = re.findall(r'role="doc-biblioentry"', refs.read_text(encoding="utf-8"))
        assert entries, (f"{part}/references.html lists nothing: no chapter of the part cites "
                         "a work of references.bib ({cite:p}`key` in a markdown cell)")


ICONS_JS = """() => ({
  drawn: Array.from(document.querySelectorAll('svg.svg-inline--fa'))
    .filter(s => s.getClientRects().length)
    .map(s => ({icon: s.getAttribute('data-icon'),
                empty: !Array.from(s.querySelectorAll('path')).some(p => p.getAttribute('d'))})),
  left: Array.from(document.querySelectorAll('i[class*="fa-"], span[class*="fa-"]'))
    .filter(e => e.getClientRects().length).map(e => e.className)})"""


@pytest.mark.parametrize("docname", CHAPTERS[:1])
def test_every_visible_icon_is_drawn_after_the_icon_subset(docname, browser, base_url):
    """reference/_ext/site_assets.py empties the icons no page names: those shown must stay."""
    page = open_page(browser, f"{base_url}{docname}.html")
    try:
        page.wait_for_function("() => document.querySelectorAll('svg.svg-inline--fa').length > 4")
        icons = page.evaluate(ICONS_JS)
    finally:
        page.close()
    empty = [i["icon"] for i in icons["drawn"] if i["empty"]]
    assert len(icons["drawn"]) >= 5 and not empty, f"icons drawn without an outline: {empty}"
    assert not icons["left"], f"icon elements Font Awesome did not replace: {icons['left']}"


EXERCISE_TITLES_JS = """() => Array.from(
  document.querySelectorAll('div.exercise p.admonition-title')).map(t => t.textContent.trim())"""


@pytest.mark.parametrize("docname", CHAPTERS[2:3] + CHAPTERS[-1:])
def test_exercises_are_numbered_within_their_chapter(docname, browser, base_url):
    page = open_page(browser, f"{base_url}{docname}.html")
    try:
        titles = page.evaluate(EXERCISE_TITLES_JS)
    finally:
        page.close()
    numbers = [re.match(r"Exercise (\d+)\.(\d+)\b", t) for t in titles]
    assert titles and all(numbers), f"exercise titles not numbered per chapter: {titles[:3]}"
    assert len({m[1] for m in numbers}) == 1, f"one chapter number per page: {titles}"
    assert [int(m[2]) for m in numbers] == list(range(1, len(titles) + 1)), titles


@pytest.mark.parametrize("docname", SOLUTION_PAGES[:1] + SOLUTION_PAGES[-1:])
def test_solutions_are_hidden_until_clicked(docname, browser, base_url):
    """sphinx-exercise's solutions carry the dropdown class: sphinx-togglebutton folds them."""
    page = open_page(browser, f"{base_url}{docname}.html")
    try:
        solutions = page.locator("div.solution")
        count = solutions.count()
        assert count >= 5, f"only {count} solutions on {docname}"
        first = solutions.first
        page.wait_for_selector("div.solution button.toggle-button")   # togglebutton.js ran
        body = first.locator(":scope > :not(.admonition-title)").first
        assert not body.is_visible(), "a solution is visible before it is clicked"
        title = first.locator(".admonition-title")
        assert re.match(r"Solution to Exercise \d+\.\d+", title.inner_text().strip())
        first.locator("button.toggle-button").first.click()
        body.wait_for(state="visible")
        link = title.locator("a").first.get_attribute("href") or ""
    finally:
        page.close()
    assert re.search(r"\.html#ex-[\w-]+-\d+$", link), f"no link to the exercise: {link}"
