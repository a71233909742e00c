"""The portal inside other sites' pages, in a real browser over https.

The portal runs at https://127.0.0.1:P. An intranet page is served by another server at
https://127.0.0.1:L (another origin, the same site) and https://localhost:L (another site); a
third server at https://127.0.0.1:U is not listed in EMBED_ORIGINS. The intranet page embeds
the portal with static/embed.js exactly as docs/embedding.md tells operators to."""
import html
import re
import threading
from urllib.parse import quote

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tests.browser import SHOTS, Page
from tests.support import PASSWORD
from tests.tls import self_signed
from webapp.extensions import db
from webapp.models import Label, SupportRequest

FRAME = "iframe[data-support-portal]"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 and localhost (the browser is told to accept it)."""
    return self_signed(tmp_path_factory.mktemp("tls"))


HOST_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Intranet</title><link rel="icon" href="data:,">
<style>body {{ font-family: sans-serif; margin: 0; }} header {{ background: #333; color: #fff; padding: 1rem; }}
.news {{ height: {intro}px; padding: 1rem; background: #f0ead6; box-sizing: border-box; }} main {{ max-width: 900px; margin: 0 auto; }}
iframe {{ width: 100%; border: 0; display: block; }} footer {{ height: 800px; padding: 1rem; background: #ddd; }}</style></head>
<body><header>Intranet</header><main><div class="news">Company news</div>
<iframe data-support-portal title="Support requests" src="{src}"></iframe>
</main><footer>Footer of the intranet page</footer>
{script}</body></html>"""

SCRIPT = '<script src="{portal}/static/embed.js" defer></script>'
# embed.js added only after the portal has loaded and sent its first report, unheard.
LATE_SCRIPT = """<script>document.querySelector("iframe").addEventListener("load", function () {{
  setTimeout(function () {{
    var script = document.createElement("script");
    script.src = "{portal}/static/embed.js";
    document.body.append(script);
  }}, 700);
}}, {{once: true}});</script>"""


class IntranetServer:
    """Serves the intranet page that embeds the portal (the portal's address comes in the query),
    and a probe that shows whether this browser keeps third-party cookies at all."""

    def __init__(self, certificate):
        self.server = make_server("127.0.0.1", 0, self.wsgi, threaded=True, ssl_context=certificate)
        self.port = self.server.server_port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, hostname="127.0.0.1"):
        return f"https://{hostname}:{self.port}"

    @Request.application
    def wsgi(self, request):
        if request.path == "/cookie-probe":  # framed from the other site: a third-party response
            sent = html.escape(" ".join(sorted(request.cookies)))
            response = Response(f"<p id=sent>{sent}</p>", mimetype="text/html")
            response.headers.add("Set-Cookie", "unpartitioned=1; Secure; SameSite=None; Path=/")
            return response
        src = request.args["src"]
        portal = re.match(r"https://[^/]+", src).group(0)
        script = (LATE_SCRIPT if request.args.get("late") else SCRIPT).format(portal=html.escape(portal))
        page = HOST_PAGE.format(src=html.escape(src), script=script, intro=int(request.args.get("intro", 120)))
        return Response(page, mimetype="text/html")

    def close(self):
        self.server.shutdown()


@pytest.fixture(scope="module")
def intranet(certificate):
    server = IntranetServer(certificate)
    yield server
    server.close()


@pytest.fixture(scope="module")
def unlisted(certificate):
    server = IntranetServer(certificate)
    yield server
    server.close()


@pytest.fixture
def live_server_ssl(certificate):
    return certificate


@pytest.fixture
def portal_settings():
    """What a test changes of the settings below."""
    return {}


@pytest.fixture
def live_app_overrides(intranet, portal_settings):
    return {"EMBED_ORIGINS": [intranet.url("127.0.0.1"), intranet.url("localhost")],
            "WTF_CSRF_ENABLED": True, **portal_settings}


class IntranetPage(Page):
    """A browser tab on the intranet page; requests may go to it and to the portal."""

    def __init__(self, browser, host_url, portal_url, **options):
        self.portal_url = portal_url
        options.setdefault("viewport", {"width": 1100, "height": 1000})
        super().__init__(browser, host_url, ignore_https_errors=True, **options)

    def _only_this_server(self, request):
        if not request.url.startswith((self.base_url, self.portal_url, "data:")):
            self.errors.append(f"request to another host: {request.url}")

    @property
    def unexpected_errors(self):
        # Chrome ignores autofocus (the log-in form's e-mail field) in a cross-origin frame, as it
        # should: focusing it would scroll the intranet page. It says so on the console.
        return [e for e in self.errors if not e.startswith("Blocked autofocusing")]

    def open_portal(self, path="/requests/?embed=1", intro=120, late=False):
        src = self.portal_url + path
        self.goto(f"/?intro={intro}&src={quote(src, safe='')}" + ("&late=1" if late else ""))
        return self.page.frame_locator(FRAME)

    def shot(self, name):
        # What is in view: Chromium paints a frame from another site stale, or not at all, in a
        # full-page picture (it renders in a process of its own).
        self.page.locator(FRAME).evaluate("f => scrollTo(0, f.getBoundingClientRect().top + scrollY - 60)")
        self.page.wait_for_timeout(100)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"))

    @property
    def frame(self):
        return self.page.frame_locator(FRAME)

    def frame_url(self):
        return self.page.locator(FRAME).element_handle().content_frame().url

    def sized_to_content(self):
        """The iframe is as tall as the portal's page in it (embed.js did that)."""
        expect(self.frame.locator("main")).to_be_visible()
        content = self.page.locator(FRAME).element_handle().content_frame()
        for _ in range(50):
            frame_height = self.page.locator(FRAME).evaluate("f => f.getBoundingClientRect().height")
            page_height = content.evaluate("Math.ceil(document.documentElement.getBoundingClientRect().height)")
            if abs(frame_height - page_height) <= 1:
                return page_height
            self.page.wait_for_timeout(100)
        raise AssertionError(f"iframe {frame_height}px for a page of {page_height}px")

    def log_in_inside(self, email):
        frame = self.frame
        frame.get_by_label("E-mail").fill(email)
        frame.get_by_label("Password").fill(PASSWORD)
        frame.get_by_role("button", name="Log in").click()


def _compact(frame):
    expect(frame.locator(".embedbar")).to_be_visible()
    expect(frame.locator("header.topbar")).to_have_count(0)


def test_a_listed_site_frames_the_portal_compact_and_sized(browser, live_server, intranet, make_user):
    app, portal_url = live_server
    with app.app_context():
        make_user(email="deniz@example.com", name="Deniz Yılmaz")
    tab = IntranetPage(browser, intranet.url("127.0.0.1"), portal_url, viewport={"width": 1000, "height": 700})
    frame = tab.open_portal(intro=900)

    expect(frame.get_by_label("E-mail")).to_be_visible()  # the log-in page, in the frame
    _compact(frame)
    login_height = tab.sized_to_content()
    assert login_height > 150  # taller than an iframe's default
    tab.shot("embed-same-site-login")

    # Same-site: the ordinary SameSite=Lax session cookie is enough.
    tab.log_in_inside("deniz@example.com")
    expect(frame.locator("h1")).to_have_text("Support Requests")
    assert re.search(r"/requests/(\?embed=1)?$", tab.frame_url())
    _compact(frame)
    expect(frame.locator(".embedbar .who")).to_have_text("Deniz Yılmaz")
    list_height = tab.sized_to_content()
    assert list_height != login_height
    tab.shot("embed-same-site-list")

    # Scrolled down past the frame's top, a link inside it brings the new page's top into view.
    tab.page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    assert tab.page.locator(FRAME).evaluate("f => f.getBoundingClientRect().top") < 0
    frame.get_by_role("link", name=re.compile("New request|File your first request")).first.click()
    expect(frame.locator("h1")).to_have_text("New support request")
    _compact(frame)
    tab.sized_to_content()
    for _ in range(30):
        top = tab.page.locator(FRAME).evaluate("f => f.getBoundingClientRect().top")
        if abs(top) <= 1:
            break
        tab.page.wait_for_timeout(100)
    assert abs(top) <= 1, f"the frame's top is at {top}px"
    tab.shot("embed-same-site-new")

    # The language switch posts a whole page; the answer stays compact in the frame.
    frame.locator(".embedbar button[value=tr]").click()
    expect(frame.locator("h1")).to_have_text("Yeni destek talebi")
    _compact(frame)
    frame.locator(".embedbar button[value=en]").click()
    expect(frame.locator("h1")).to_have_text("New support request")

    # "Open in a new tab" leaves the frame: a whole page with the portal's header; the frame
    # and the tab share the session (same site) and each keeps its own layout.
    with tab.context.expect_page() as opened:
        frame.get_by_role("link", name="Open in a new tab").click()
    full = opened.value
    full.wait_for_load_state()
    assert full.url == portal_url + "/requests/new"
    expect(full.locator("header.topbar")).to_be_visible()
    expect(full.locator(".who")).to_have_text("Deniz Yılmaz")
    full.get_by_role("link", name="Support Requests").first.click()  # a boosted navigation
    expect(full.locator("h1")).to_have_text("Support Requests")
    expect(full.locator("header.topbar")).to_be_visible()
    expect(full.locator(".embedbar")).to_have_count(0)
    full.close()
    frame.locator(".embedbar").get_by_role("link", name="Support Requests").click()
    expect(frame.locator("h1")).to_have_text("Support Requests")
    _compact(frame)

    # A link to another site (a Jira issue, say) opens in a new tab and leaves the portal in place.
    content = tab.page.locator(FRAME).element_handle().content_frame()
    elsewhere = intranet.url("localhost") + "/cookie-probe"
    content.evaluate("""url => {
        const link = Object.assign(document.createElement("a"), {href: url, textContent: "Elsewhere"});
        document.querySelector("main").append(link);
    }""", elsewhere)
    with tab.context.expect_page() as opened:
        frame.get_by_role("link", name="Elsewhere").click()
    assert opened.value.url == elsewhere
    opened.value.close()
    expect(frame.locator("h1")).to_have_text("Support Requests")

    frame.get_by_role("button", name="Log out").click()
    expect(frame.get_by_label("E-mail")).to_be_visible()
    _compact(frame)
    assert tab.unexpected_errors == []
    tab.close()


@pytest.mark.parametrize("portal_settings", [{}, {"EMBED_ORIGINS": []}], ids=["unlisted", "embedding-off"])
def test_a_site_not_listed_cannot_frame_the_portal(browser, live_server, intranet, unlisted, portal_settings):
    app, portal_url = live_server
    host = intranet if portal_settings else unlisted  # with embedding off, even the listed one
    tab = IntranetPage(browser, host.url("127.0.0.1"), portal_url)
    tab.open_portal("/auth/login?embed=1")
    tab.page.wait_for_timeout(1000)
    expect(tab.page.locator("header")).to_have_text("Intranet")
    assert tab.frame.locator("input[name=email]").count() == 0
    refused = [e for e in tab.errors if e.startswith("Framing") and "frame-ancestors" in e]
    directive = "frame-ancestors 'none'" if portal_settings else f"frame-ancestors {intranet.url()}"
    assert refused and all(directive in e for e in refused), tab.errors
    assert tab.errors == refused
    tab.shot(f"embed-refused-{'off' if portal_settings else 'unlisted'}")
    tab.close()


def test_this_browser_blocks_third_party_cookies(browser, intranet):
    """The control for the cross-site test: an unpartitioned SameSite=None cookie set in a
    cross-site frame is not kept, so the portal's log-in below works only by Partitioned."""
    tab = IntranetPage(browser, intranet.url("localhost"), intranet.url("127.0.0.1"))
    for _ in range(2):  # the second load would send the cookie, had it been kept
        tab.goto(f"/?src={quote(intranet.url('127.0.0.1') + '/cookie-probe', safe='')}")
        expect(tab.frame.locator("#sent")).to_have_count(1)
    assert tab.frame.locator("#sent").inner_text() == ""
    tab.close()


@pytest.mark.parametrize("portal_settings", [{"EMBED_CROSS_SITE": True}])
def test_a_user_logs_in_and_files_a_request_in_a_cross_site_frame(browser, live_server, intranet, make_user):
    app, portal_url = live_server
    with app.app_context():
        user = make_user(email="deniz@example.com", name="Deniz Yılmaz")
        user_id = user.id
        db.session.add_all([Label(name="Bug", position=1), Label(name="Question", position=2)])
        db.session.commit()
    tab = IntranetPage(browser, intranet.url("localhost"), portal_url)
    frame = tab.open_portal()
    expect(frame.get_by_label("E-mail")).to_be_visible()
    _compact(frame)
    tab.sized_to_content()
    tab.shot("embed-cross-site-login")

    tab.log_in_inside("deniz@example.com")
    expect(frame.locator("h1")).to_have_text("Support Requests")
    _compact(frame)
    session = [c for c in tab.context.cookies() if c["name"] == "session"]
    assert len(session) == 1, tab.context.cookies()
    assert session[0]["partitionKey"] == "https://localhost"  # kept in the intranet site's jar
    assert session[0]["sameSite"] == "None" and session[0]["secure"] and session[0]["httpOnly"]
    tab.shot("embed-cross-site-list")

    frame.get_by_role("link", name=re.compile("New request|File your first request")).first.click()
    expect(frame.locator("h1")).to_have_text("New support request")
    _compact(frame)
    frame.get_by_label("Label").select_option("Bug")
    frame.get_by_label("Summary").fill("Sandbox token expires after a minute")
    frame.get_by_label("Description").fill("Tokens from the sandbox expire after 60 seconds, not 3600.")
    tab.sized_to_content()
    tab.shot("embed-cross-site-new-filled")
    frame.get_by_role("button", name="Send").click()

    expect(frame.locator("#flashes")).to_contain_text("was received")
    assert re.search(r"/requests/\d+$", tab.frame_url())
    _compact(frame)
    expect(frame.locator("main")).to_contain_text("Sandbox token expires after a minute")
    tab.sized_to_content()
    tab.shot("embed-cross-site-detail")
    with app.app_context():
        filed = db.session.query(SupportRequest).one()
        assert filed.reporter_id == user_id and filed.label == "Bug"
        assert filed.description == "Tokens from the sandbox expire after 60 seconds, not 3600."
    assert tab.unexpected_errors == []
    tab.close()


def test_cross_site_without_the_cookie_mode_the_log_in_cannot_hold(browser, live_server, intranet, make_user):
    """SameSite=Lax cookies are not stored in a cross-site frame: the log-in form comes back
    as expired. This is what EMBED_CROSS_SITE is for."""
    app, portal_url = live_server
    with app.app_context():
        make_user(email="deniz@example.com")
    tab = IntranetPage(browser, intranet.url("localhost"), portal_url)
    frame = tab.open_portal("/auth/login?embed=1")
    expect(frame.get_by_label("E-mail")).to_be_visible()
    tab.log_in_inside("deniz@example.com")
    expect(frame.locator("h1")).to_have_text("Please try again")
    assert not [c for c in tab.context.cookies() if c["name"] == "session"]
    tab.shot("embed-cross-site-without-cookie-mode")
    tab.close()


def test_the_compact_layout_fits_a_phone_wide_frame(browser, live_server, intranet, make_user):
    app, portal_url = live_server
    with app.app_context():
        make_user(email="deniz@example.com", name="Deniz Yılmaz")
    tab = IntranetPage(browser, intranet.url("127.0.0.1"), portal_url,
                       viewport={"width": 390, "height": 844}, is_mobile=True)
    frame = tab.open_portal()
    tab.log_in_inside("deniz@example.com")
    expect(frame.locator("h1")).to_have_text("Support Requests")
    _compact(frame)
    tab.sized_to_content()
    content = tab.page.locator(FRAME).element_handle().content_frame()
    assert content.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth"), \
        "the portal scrolls sideways in a phone-wide frame"
    expect(frame.get_by_role("button", name="Log out")).to_be_visible()
    tab.shot("embed-phone")
    assert tab.unexpected_errors == []
    tab.close()


# Browsers without location.ancestorOrigins (Firefox): the portal learns the host's origin
# from embed.js's "hello" instead. location's own properties cannot be redefined; the list's
# length can.
HIDE_ANCESTOR_ORIGINS = "Object.defineProperty(DOMStringList.prototype, 'length', {get: () => 0})"


@pytest.mark.parametrize("how", ["ancestor-origins", "hello", "late-script", "wildcard"])
def test_the_frame_is_sized_however_the_host_origin_is_learnt(browser, app_factory, intranet, certificate,
                                                               make_user, how):
    """Each way the portal finds the origin to report to, with two origins listed (so it cannot
    simply be the only one); and a host page that loads embed.js after the portal's first report."""
    listed = [intranet.url("127.0.0.1"), intranet.url("localhost")]
    host_url = intranet.url("localhost")
    if how == "wildcard":
        listed = [f"https://*.localhost:{intranet.port}", intranet.url("127.0.0.1")]
        host_url = intranet.url("intranet.localhost")  # Chromium resolves *.localhost itself
    app = app_factory(EMBED_ORIGINS=listed, EMBED_CROSS_SITE=True)
    with app.app_context():
        make_user(email="deniz@example.com")
    server = make_server("127.0.0.1", 0, app, threaded=True, ssl_context=certificate)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        tab = IntranetPage(browser, host_url, f"https://127.0.0.1:{server.server_port}")
        if how == "hello":
            tab.context.add_init_script(HIDE_ANCESTOR_ORIGINS)
        frame = tab.open_portal("/auth/login?embed=1", late=how == "late-script")
        expect(frame.get_by_label("E-mail")).to_be_visible()
        login_height = tab.sized_to_content()
        if how == "hello":
            content = tab.page.locator(FRAME).element_handle().content_frame()
            assert content.evaluate("location.ancestorOrigins.length") == 0
        tab.log_in_inside("deniz@example.com")
        expect(frame.locator("h1")).to_have_text("Support Requests")
        assert tab.sized_to_content() != login_height
        assert tab.unexpected_errors == []
        tab.close()
    finally:
        server.shutdown()
