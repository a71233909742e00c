"""Requests that arrive with their context, in a real browser (issue 19 items 1, 2, 6; issue
20 item 3). An API documentation site on another origin (a server of this test) links to the
prefilled form and frames it with static/embed.js; a third origin, not in EMBED_ORIGINS,
tries to hand the frame a context of its own. Files go up as they are chosen, dropped or
pasted; Send carries their tokens only. Delivery runs on the configured job runner against
the Jira simulator."""
import base64
import html
import json
import re
import threading
from urllib.parse import quote

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tests.browser import SHOTS, Page
from tests.workers import Workers
from webapp.extensions import db
from webapp.jira import adf_to_text
from webapp.models import ApiEndpoint, ApiProduct, Label, SupportRequest

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
LOG = b"2026-12-01T10:00:00Z POST /v2/payments -> 500 (correlation id c-81f2)\n" * 30000  # ~2 MB
LINK = "/requests/new?product=payments-api&endpoint=POST%20/v2/payments&summary=" + quote("POST /v2/payments: ")

DOCS_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Payments API — POST /v2/payments</title>
<link rel="icon" href="data:,"></head><body><h1>POST /v2/payments</h1><p>Creates a payment.</p>
<a class="report-problem" href="{portal}{link}">Report a problem with this endpoint</a></body></html>"""

FRAMED_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Payments API — POST /v2/payments</title>
<link rel="icon" href="data:,"></head><body><h1>POST /v2/payments</h1>
<iframe name="portal" data-support-portal title="Support requests" style="width: 100%; border: 0"
        data-portal-fields='{{"Application ID": "app-42", "Environment": "sandbox"}}' src="{portal}{link}&amp;embed=1"></iframe>
<iframe title="ads" src="{other}/forger" style="width: 10px; height: 10px"></iframe>
<script src="{portal}/static/embed.js" defer></script></body></html>"""

# A page of an origin not in EMBED_ORIGINS, framed beside the portal: it keeps posting a
# context of its own to the portal's frame.
FORGER = """<!doctype html><html><body><script>
setInterval(function () {
  parent.frames["portal"].postMessage({type: "support-portal:context", pageUrl: "https://evil.example.com/",
    pageTitle: "Forged title", fields: {"Forged field": "forged"}}, "*");
}, 100);
</script></body></html>"""


class DocsServer:
    """The API documentation site: a page that links to the form, one that frames it, and
    the forger (served on another port, so another origin)."""

    def __init__(self):
        self.portal = self.other = ""
        self.server = make_server("127.0.0.1", 0, self.wsgi, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @Request.application
    def wsgi(self, request):
        values = dict(portal=html.escape(self.portal), link=html.escape(LINK), other=html.escape(self.other))
        pages = {"/apis/payments": DOCS_PAGE, "/apis/payments/framed": FRAMED_PAGE, "/forger": FORGER}
        if request.path not in pages:
            return Response("not found", status=404)
        return Response(pages[request.path].format(**values), mimetype="text/html")

    def close(self):
        self.server.shutdown()


@pytest.fixture(scope="module")
def docs():
    site, forger = DocsServer(), DocsServer()
    site.other = forger.url
    yield site
    site.close()
    forger.close()


@pytest.fixture
def live_app_overrides(docs):
    return {"EMBED_ORIGINS": [docs.url], "WTF_CSRF_ENABLED": True, "JIRA_ALLOW_HTTP": True,
            "SEARCH_LAG_SECONDS": 0.2, "DELIVERY_RETRY_BASE_SECONDS": 0.2}


@pytest.fixture
def portal(live_server, configure_jira, make_user, tmp_path, docs):
    app, url = live_server
    docs.portal = url
    configure_jira(technical_fields=["environment", "http_status"], environments="Production\nSandbox")
    with app.app_context():
        payments = ApiProduct(name="Payments API", position=1)
        payments.endpoints = [ApiEndpoint(method="POST", path="/v2/payments", position=1),
                              ApiEndpoint(method="GET", path="/v2/payments/{id}", position=2)]
        db.session.add_all([Label(name="Bug", position=1), ApiProduct(name="Accounts API", position=2), payments])
        db.session.commit()
        make_user(email="deniz@example.com", name="Deniz Yılmaz")
    workers = None
    if app.extensions["queue"].mode == "rq":
        workers = Workers(app, tmp_path, JIRA_ALLOW_HTTP="true").start(1)
    yield app, url
    if workers:
        workers.stop()


def issue_of(page_or_frame, jira_sim):
    page_or_frame.locator("#delivery .issue-key").wait_for(timeout=20_000)
    key = page_or_frame.locator("#delivery .issue-key").inner_text()
    issue = jira_sim.state.issues[jira_sim.state.keys[key]]
    description = issue["fields"]["description"]
    text = adf_to_text(description) if jira_sim.deployment == "cloud" else description.replace("\\", "")
    names = [jira_sim.state.attachments[a]["filename"] for a in issue["attachments"]]
    return issue, text, names


def drop_files(p, selector, files):
    """Drop files onto an element, as a file manager would (a DataTransfer with File objects)."""
    p.evaluate("""([selector, files]) => {
        const data = new DataTransfer();
        for (const [name, type, b64] of files) {
            data.items.add(new File([Uint8Array.from(atob(b64), c => c.charCodeAt(0))], name, {type}));
        }
        const target = document.querySelector(selector);
        for (const type of ["dragenter", "dragover", "drop"]) {
            target.dispatchEvent(new DragEvent(type, {dataTransfer: data, bubbles: true, cancelable: true}));
        }
    }""", [selector, [[name, kind, base64.b64encode(content).decode()] for name, kind, content in files]])


def paste_image(p, selector, content):
    """Ctrl+V of a screenshot: a paste event whose clipboard holds one image/png file named
    image.png, as Chromium's clipboard gives it."""
    p.evaluate("""([selector, b64]) => {
        const data = new DataTransfer();
        data.items.add(new File([Uint8Array.from(atob(b64), c => c.charCodeAt(0))], "image.png", {type: "image/png"}));
        document.querySelector(selector).focus();
        document.querySelector(selector).dispatchEvent(new ClipboardEvent("paste", {clipboardData: data, bubbles: true, cancelable: true}));
    }""", [selector, base64.b64encode(content).decode()])


def test_a_link_from_the_api_docs_opens_the_prefilled_form_whose_files_go_up_as_chosen(
        browser, portal, docs, jira_sim, tmp_path):
    app, url = portal
    user = Page(browser, url, other_origins=(docs.url,), viewport={"width": 1100, "height": 1000})
    p = user.page
    user.log_in("deniz@example.com")
    posts = []
    p.on("request", lambda r: r.method == "POST" and posts.append((r.url, len(r.post_data_buffer or b""))))

    p.goto(docs.url + "/apis/payments")
    p.click("text=Report a problem with this endpoint")
    p.wait_for_url("**/requests/new?**")
    assert p.locator("#product option:checked").inner_text() == "Payments API"
    assert p.locator("#endpoint option:checked").inner_text() == "POST /v2/payments"
    assert p.input_value("#summary") == "POST /v2/payments:"
    expect(p.locator(".drop-hint")).to_be_visible()
    p.select_option("#label", "Bug")
    p.fill("#summary", "POST /v2/payments: answers 500")
    p.fill("#description", "Every payment fails since 09:00. Screenshot and log attached.")
    p.select_option("#environment", "Sandbox")  # the technical details the admin switched on
    p.fill("#http_status", "502")

    # A slow uplink, so each file's progress can be seen; a wrong type is refused at once.
    cdp = user.context.new_cdp_session(p)
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 20, "downloadThroughput": -1,
                                                  "uploadThroughput": 400 * 1024})
    (tmp_path / "trace.log").write_bytes(LOG)
    (tmp_path / "setup.exe").write_bytes(b"MZ\x90\x00")
    p.set_input_files("#attachments", [str(tmp_path / "trace.log"), str(tmp_path / "setup.exe")])
    refused = p.locator(".chosen-files li.refused-file")
    expect(refused).to_contain_text("setup.exe")
    expect(refused).to_contain_text("This type of file is not accepted.")
    progress = p.locator(".chosen-files li.uploading progress")
    expect(progress).to_have_count(1)
    expect(progress).not_to_have_attribute("value", "0", timeout=5_000)
    assert 0 < int(progress.evaluate("bar => bar.value")) < 100
    assert p.input_value("#attachments") == ""  # the picker holds nothing the form would post again
    user.shot("sent-with-upload-progress")
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 0, "downloadThroughput": -1,
                                                  "uploadThroughput": -1})
    expect(p.locator(".chosen-files li.kept-file", has_text="trace.log")).to_be_visible(timeout=20_000)

    # A screenshot pasted with Ctrl+V, and a file dropped onto the form.
    paste_image(p, "#description", PNG)
    expect(p.locator(".chosen-files li.kept-file", has_text="screenshot-")).to_have_count(1)
    drop_files(p, ".request-form .attachments", [("response.json", "application/json", b'{"error": "internal"}')])
    expect(p.locator(".chosen-files li.kept-file", has_text="response.json")).to_be_visible()
    assert not [post for post in posts if "setup.exe" in post[0]]
    assert len([post for post in posts if post[0].endswith("/requests/new/files")]) == 3  # not the .exe
    pasted = p.locator(".chosen-files li.kept-file .file-name", has_text="screenshot-").inner_text()
    assert re.fullmatch(r"screenshot-\d{8}-\d{6}\.png", pasted)
    user.shot("sent-with-files-ready")

    posts.clear()
    p.click("button[type=submit]")
    p.wait_for_url(re.compile(r".*/requests/\d+$"))
    (submit,) = [post for post in posts if post[0].endswith("/requests/new")]
    assert submit[1] < 20_000  # the tokens and the text, not 2 MB of log again
    issue, text, names = issue_of(p, jira_sim)
    assert issue["fields"]["summary"] == "POST /v2/payments: answers 500"
    shown = json.dumps(issue["fields"]["description"])
    assert ('"type": "table"' in shown and '"text": "Sandbox"' in shown) if jira_sim.deployment == "cloud" else \
        "||Environment|Sandbox|\n||HTTP status|502|" in issue["fields"]["description"]
    assert sorted(names) == sorted(["trace.log", pasted, "response.json"])
    pasted_id = next(a for a in issue["attachments"] if jira_sim.state.attachments[a]["filename"] == pasted)
    assert jira_sim.state.attachments[pasted_id]["data"] == PNG
    with app.app_context():
        item = db.session.query(SupportRequest).one()
        assert item.endpoint.label == "POST /v2/payments"
    user.shot("sent-with-detail")
    assert user.errors == []
    user.close()


def open_framed(browser, url, docs):
    """The docs page that frames the form, once the portal shows what the page sent."""
    user = Page(browser, url, other_origins=(docs.url, docs.other), viewport={"width": 1100, "height": 1100})
    user.log_in("deniz@example.com")
    user.page.goto(docs.url + "/apis/payments/framed")
    frame = user.page.frame_locator("iframe[data-support-portal]")
    expect(frame.locator("#sent-context")).to_contain_text("app-42", timeout=10_000)
    frame.locator("#sent-context summary").click()
    return user, frame


def test_the_framing_docs_page_sends_its_context_and_another_origin_cannot(browser, portal, docs, jira_sim):
    app, url = portal
    user, frame = open_framed(browser, url, docs)
    p = user.page
    box = frame.locator("#sent-context")
    for text in ("Page", docs.url + "/apis/payments/framed", "Payments API — POST /v2/payments",
                 "Application ID", "sandbox", "Browser", "Chrome", "Portal language", "en", "Time zone"):
        expect(box).to_contain_text(text)
    p.wait_for_timeout(600)  # the forger has posted several times by now
    assert "orged" not in box.inner_text() and "evil.example.com" not in box.inner_text()
    assert frame.locator("#endpoint option:checked").inner_text() == "POST /v2/payments"
    p.locator("iframe[data-support-portal]").evaluate("f => f.scrollIntoView()")
    p.screenshot(path=str(SHOTS / "sent-with-context-box.png"))

    frame.locator("#label").select_option("Bug")
    frame.locator("#summary").fill("POST /v2/payments: answers 500 in the sandbox")
    frame.locator("#description").fill("Every payment fails.")
    frame.locator("button[type=submit]").click()
    issue, text, names = issue_of(frame, jira_sim)
    assert (f"Sent with the request:\nPage: {docs.url}/apis/payments/framed\n"
            "Page title: Payments API — POST /v2/payments\nApplication ID: app-42\nEnvironment: sandbox\n"
            "Browser: Mozilla/5.0") in text
    assert "Portal language: en\nTime zone: " in text
    assert "orged" not in text and "evil.example.com" not in text
    user.close()


def test_the_user_can_leave_the_context_out(browser, portal, docs, jira_sim):
    app, url = portal
    user, frame = open_framed(browser, url, docs)
    frame.locator("#leave_out_context").check()
    user.shot("sent-with-left-out")
    frame.locator("#label").select_option("Bug")
    frame.locator("#description").fill("Every payment fails.")
    frame.locator("button[type=submit]").click()
    issue, text, names = issue_of(frame, jira_sim)
    assert "Sent with the request" not in text and "app-42" not in text
    with app.app_context():
        assert db.session.query(SupportRequest).one().context is None
    user.close()
