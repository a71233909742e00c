"""An admin sends a failed request on without the file Jira refused, in a real browser; the
requester then sees which file did not reach the support team, and why."""
import pytest

from tests.browser import Page
from tests.test_delivery import new_request, reload


@pytest.fixture
def live_app_overrides():
    return {"JIRA_ALLOW_HTTP": True, "SEARCH_LAG_SECONDS": 0.2, "DELIVERY_RETRY_BASE_SECONDS": 0.05}


@pytest.fixture
def app(live_server):
    """The live server's app is the one the jobs run in (drain, configure_jira)."""
    live_app, _ = live_server
    with live_app.app_context():
        yield live_app


def test_the_admin_sends_a_request_on_without_the_file_jira_refused(browser, live_server, app, configure_jira,
                                                                     make_user, drain, jira_sim):
    _, url = live_server
    configure_jira()
    make_user(email="admin@example.com", admin=True, name="Ada Admin")
    reporter = make_user(email="deniz@example.com", name="Deniz Yılmaz")
    jira_sim.set_upload_limit(1024)
    request = new_request(reporter, files=[("trace.log", b"log line\n", "text/plain"),
                                           ("heap-dump.bin", b"x" * 4096, "application/octet-stream")])
    drain()
    failed = reload(request)
    assert failed.delivery_state == "failed" and failed.jira_key

    admin = Page(browser, url, viewport={"width": 1280, "height": 900})
    p = admin.page
    admin.log_in("admin@example.com")
    admin.goto("/admin/deliveries?state=failed")
    row = p.locator("tr", has_text=failed.jira_key)
    assert "heap-dump.bin" in row.inner_text() and "413" in row.inner_text()
    admin.shot("deliveries-send-without-file")
    row.locator("button", has_text="Send without this file").click()
    p.wait_for_selector(".flash-success")
    assert "without heap-dump.bin" in p.locator(".flash-success").inner_text()
    drain()
    assert reload(request).delivery_state == "sent"
    admin.close()

    user = Page(browser, url, viewport={"width": 390, "height": 844}, is_mobile=True)
    user.log_in("deniz@example.com")
    user.goto(f"/requests/{request.id}")
    files = user.page.locator("#attachments li")
    assert files.count() == 2
    assert "Not sent to the support team: Jira refused it as too large." in files.nth(1).inner_text()
    assert "Not sent" not in files.nth(0).inner_text()
    user.shot("phone-detail-file-not-sent")
    assert admin.errors == [] and user.errors == []
    user.close()
