"""The whole support flow in a real browser, as a user walks it, at desktop and phone widths:
an empty list, a new request with two files, its detail page until the Jira key appears, a
status change and comments made in the simulator showing up without a reload; and a second
user who can reach none of it. Delivery and sync run on the configured job runner."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser import Page
from tests.workers import Workers
from webapp.extensions import db
from webapp.models import ApiEndpoint, ApiProduct, Category, Label, SupportRequest
from webapp.periodic import LocalClaims, start_scheduler

LOG = b"2026-11-30T10:00:00Z POST /v2/payments -> 500 (request id 7f3a)\n" * 2000
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40

DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.fixture
def live_app_overrides():
    return {"JIRA_ALLOW_HTTP": True, "SYNC_SECONDS": 1, "LIST_POLL_SECONDS": 1,
            "SEARCH_LAG_SECONDS": 0.2, "DELIVERY_RETRY_BASE_SECONDS": 0.2}


@pytest.fixture
def portal(live_server, configure_jira, make_user, tmp_path):
    """The live portal, active against the simulator, with its catalog, a job runner and the
    periodic sync running."""
    app, url = live_server
    configure_jira()
    with app.app_context():
        payments = ApiProduct(name="Payments API", position=1)
        payments.endpoints = [ApiEndpoint(method="POST", path="/v2/payments", position=1),
                              ApiEndpoint(method="GET", path="/v2/payments/{id}", position=2)]
        db.session.add_all([Label(name="Bug", position=1), Label(name="Question", position=2),
                            Category(name="Billing"), ApiProduct(name="Accounts API", position=2), payments])
        db.session.commit()
        make_user(email="deniz@example.com", name="Deniz Yılmaz")
        make_user(email="oya@example.com", name="Oya Öztürk")
    workers = None
    if app.extensions["queue"].mode == "rq":
        workers = Workers(app, tmp_path, SYNC_SECONDS="1", JIRA_ALLOW_HTTP="true").start(1)
    stop = start_scheduler(app, app.extensions["queue"], LocalClaims(), tick=0.1)
    yield app, url
    stop.set()
    if workers:
        workers.stop()


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_a_user_files_a_request_and_follows_it(browser, portal, jira_sim, tmp_path, device):
    app, url = portal
    options = DESKTOP if device == "desktop" else PHONE
    user = Page(browser, url, **options)
    p = user.page
    user.log_in("deniz@example.com")

    # An empty list says what to do.
    assert "No support requests yet" in p.locator("#request-results").inner_text()
    user.shot(f"{device}-support-empty")

    # A new request with two files; the endpoint list follows the product.
    p.click("text=File your first request")
    p.wait_for_url("**/requests/new")
    p.select_option("#label", "Bug")
    p.fill("#summary", "Payment creation answers 500")
    p.fill("#description", "Since 09:00 every POST /v2/payments fails.\nRequest id 7f3a is attached.")
    p.select_option("#category", label="Billing")
    # Before a product is chosen, every endpoint is offered, grouped (this works without JS).
    assert p.locator("#endpoint optgroup").get_attribute("label") == "Payments API"
    p.select_option("#product", label="Payments API")
    expect(p.locator("#endpoint optgroup")).to_have_count(0)
    expect(p.locator("#endpoint option")).to_have_count(3)
    p.select_option("#endpoint", label="POST /v2/payments")
    (tmp_path / "trace.log").write_bytes(LOG)
    (tmp_path / "Ekran görüntüsü ş.png").write_bytes(PNG)
    p.set_input_files("#attachments", [str(tmp_path / "trace.log"), str(tmp_path / "Ekran görüntüsü ş.png")])
    chosen = p.locator(".chosen-files li")
    assert chosen.count() == 2 and "Ekran görüntüsü ş.png" in chosen.nth(1).inner_text()
    user.shot(f"{device}-support-new-filled")

    p.locator("button[type=submit]", has_text="Send").dblclick()  # a double click sends once
    p.wait_for_url(re.compile(r".*/requests/\d+$"))
    assert "was received" in p.locator("#flashes").inner_text()
    user.shot(f"{device}-support-detail-sending")
    p.wait_for_selector("#delivery .issue-key", timeout=20_000)
    key = p.locator("#delivery .issue-key").inner_text()
    assert re.fullmatch(r"SUP-\d+", key)
    with app.app_context():
        assert db.session.query(SupportRequest).count() == 1
    detail = p.locator("main").inner_text()
    for text in ("Payment creation answers 500", "Request id 7f3a is attached.", "Billing", "Payments API",
                 "POST /v2/payments", "trace.log", "Ekran görüntüsü ş.png", "Deniz Yılmaz"):
        assert text in detail, text
    issue = jira_sim.state.issues[jira_sim.state.keys[key]]
    assert len(issue["attachments"]) == 2

    # Files come back as downloads under their own names.
    with p.expect_download() as download_info:
        p.click("text=Ekran görüntüsü ş.png")
    download = download_info.value
    assert download.suggested_filename == "Ekran görüntüsü ş.png"
    assert open(download.path(), "rb").read() == PNG
    user.shot(f"{device}-support-detail-sent")

    # The list shows the key; a status change in Jira arrives without a reload.
    p.click("text=Back to the list")
    p.wait_for_url("**/requests/")
    p.evaluate("window.stillTheSamePage = true")
    assert key in p.locator("#request-results").inner_text()
    jira_sim.set_status(key, "In Progress")
    expect(p.locator("#request-results")).to_contain_text("In progress", timeout=15_000)  # its category's name
    assert p.evaluate("window.stillTheSamePage") is True
    user.shot(f"{device}-support-list-in-progress")

    # The search follows what is typed, and the URL follows the search.
    p.fill("#filter-q", "nothing like this")
    p.wait_for_selector("text=No request matches")
    assert "q=nothing+like+this" in p.url
    p.fill("#filter-q", "payment creation")
    p.wait_for_selector(f"#request-results a:has-text('{key}')")

    # A public comment appears on the open detail page; an internal one never does.
    p.click(f"#request-results a:has-text('{key}')")
    p.wait_for_url(re.compile(r".*/requests/\d+\?back=.*"))
    jira_sim.add_comment(key, "Thanks, Deniz. A fix is being deployed.")
    jira_sim.add_comment(key, "Internal: caused by the 09:00 deploy.", internal=True)
    p.wait_for_selector("text=A fix is being deployed.", timeout=15_000)
    comments = p.locator("#comments").inner_text()
    assert "Internal" not in comments
    assert "Status changed from Received to In progress" in comments
    user.shot(f"{device}-support-detail-comment")

    # A file the support team attaches in Jira appears by itself: listed as being fetched
    # while Jira's file server fails, then as a link once a worker has fetched it.
    jira_sim.fault("error", status=503, path="/attachment/content")
    notes = b"Deployed 1.4.2 at 10:12; please retry.\n"
    jira_sim.attach(key, "fix-notes.txt", notes, mime_type="text/plain")
    jira_sim.add_comment(key, "The notes of the fix:", files=["fix-notes.txt"])
    expect(p.locator("#attachments")).to_contain_text("Being fetched from Jira", timeout=15_000)
    assert p.locator("#attachments a", has_text="fix-notes.txt").count() == 0
    user.shot(f"{device}-support-detail-file-being-fetched")
    jira_sim.clear_faults()
    link = p.locator("#attachments a", has_text="fix-notes.txt")
    expect(link).to_be_visible(timeout=20_000)
    with p.expect_download() as download_info:
        link.click()
    assert open(download_info.value.path(), "rb").read() == notes
    user.shot(f"{device}-support-detail-file-fetched")
    p.click("text=Back to the list")
    p.wait_for_url("**/requests/?q=payment+creation")
    assert p.locator("#filter-q").input_value() == "payment creation"
    assert p.evaluate("document.documentElement.scrollWidth") <= options["viewport"]["width"], \
        "the page scrolls sideways"
    assert user.errors == []
    detail_url = re.sub(r"\?.*", "", p.locator(f"#request-results a:has-text('{key}')").get_attribute("href"))
    user.close()

    # Another user reaches none of it.
    with app.app_context():
        item = db.session.query(SupportRequest).one()
        download_url = f"/requests/{item.id}/attachments/{item.attachments[0].id}"
    other = Page(browser, url, **options)
    other.log_in("oya@example.com")
    assert key not in other.page.locator("main").inner_text()
    for path in (detail_url, detail_url + "/comments", download_url):
        response = other.page.request.get(url + path)
        assert response.status == 404, path
    other.goto(detail_url)
    assert "Not found" in other.page.locator("main").inner_text()
    other.shot(f"{device}-support-other-user-404")
    other.close()
