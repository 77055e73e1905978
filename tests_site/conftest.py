"""Fixtures of the browser test: the built site over a local HTTP server, and headless Chromium.

The site is ``_build/html`` (or ``$SITE_DIR``), served from 127.0.0.1 on a free port.
Chromium is Debian's ``chromium-headless-shell`` driven by Playwright; every request that is
not for 127.0.0.1/localhost is aborted and recorded, so a page that needs the network fails.
"""
from __future__ import annotations

import functools
import os
import shutil
import tempfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from sitetools import LOCAL_HOSTS, SCREENSHOTS, SITE

CHROMIUM_CANDIDATES = ("chromium-headless-shell", "/usr/lib/chromium/chromium-headless-shell")
# Flags known to work in this container; the profile is a new empty --user-data-dir.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
INSTALL_HINT = ("headless Chromium not found. Install Debian's chromium-headless-shell "
                "(as root: apt-get install chromium-headless-shell; `make site-test` does this "
                "when run as root), or set CHROMIUM=/path/to/chromium. Playwright's own browser "
                "download is not used.")


def pytest_sessionstart(session) -> None:
    # test_pages.py appends the equations that only fit by scrolling; start a fresh list.
    (SCREENSHOTS / "wide-equations.txt").unlink(missing_ok=True)


def chromium_path() -> str:
    for candidate in filter(None, (os.environ.get("CHROMIUM"), *CHROMIUM_CANDIDATES)):
        found = shutil.which(candidate)
        if found:
            return found
    pytest.fail(INSTALL_HINT, pytrace=False)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="session")
def base_url():
    if not (SITE / "index.html").is_file():
        pytest.fail(f"no built site at {SITE}: run `make book` first", pytrace=False)
    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 functools.partial(_QuietHandler, directory=str(SITE)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


class Offsite:
    """Requests that tried to leave localhost (each one fails the page that made it)."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    def route(self, route) -> None:
        url = route.request.url
        if urlsplit(url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            self.urls.append(url)
            route.abort()


@pytest.fixture(scope="session")
def offsite() -> Offsite:
    return Offsite()


@pytest.fixture(scope="session")
def browser(offsite):
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with tempfile.TemporaryDirectory(prefix="site-test-profile-") as profile, \
            sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=executable, headless=True, args=CHROMIUM_FLAGS,
            viewport={"width": 1366, "height": 900}, service_workers="block")
        context.route("**/*", offsite.route)
        yield context
        context.close()
