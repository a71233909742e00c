"""Browser-test fixtures: Debian's Chromium driven by Playwright against a real server.
Screenshots land in tests/screenshots/ to be looked at."""
import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.support import PASSWORD, need_service

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).parent / "screenshots"


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        need_service(f"Chromium is not installed at {CHROMIUM} (make browser)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
        ])
        yield browser
        browser.close()


# For a live server whose page is the subject: it runs its own jobs (REDIS_URL None: in-process,
# on either backend); the jobs on real RQ workers are tested without a browser.
IN_PROCESS_JOBS = {"REDIS_URL": None}


@pytest.fixture
def live_app_overrides():
    """Config for the live server's app; a test module may override this fixture."""
    return {}


@pytest.fixture
def live_server_ssl():
    """(certificate file, key file) to serve the live server over https; None for http."""
    return None


@pytest.fixture
def live_server_port():
    """The live server's port; 0: any free one. A test module overrides it when another
    server must know the portal's address before it starts (an OpenID provider)."""
    return 0


@pytest.fixture
def live_server(app_factory, live_app_overrides, live_server_ssl, live_server_port):
    app = app_factory(**live_app_overrides)
    server = make_server("127.0.0.1", live_server_port, app, threaded=True, ssl_context=live_server_ssl)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    scheme = "https" if live_server_ssl else "http"
    yield app, f"{scheme}://127.0.0.1:{server.server_port}"
    server.shutdown()


class Page:
    """A browser page that records console errors and takes named screenshots. It may load
    nothing from another host than the portal and `other_origins`."""

    def __init__(self, browser, base_url, other_origins=(), **context_options):
        self.context = browser.new_context(**context_options)
        self.page = self.context.new_page()
        self.base_url = base_url
        self.allowed = (base_url, "data:", *other_origins)
        self.errors = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", self._only_this_server)
        SHOTS.mkdir(exist_ok=True)

    def _only_this_server(self, request):
        if not request.url.startswith(self.allowed):
            self.errors.append(f"request to another host: {request.url}")

    def goto(self, path):
        return self.page.goto(self.base_url + path)

    def shot(self, name):
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

    def log_in(self, email):
        self.goto("/auth/login")
        self.page.fill("input[name=email]", email)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_url("**/requests/")

    def close(self):
        self.context.close()
