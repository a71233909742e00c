"""Conditional polls in a real browser: htmx 2 leaves the region alone on a 304 (base.html's
responseHandling), the poll goes on, and the next change still arrives."""
import pytest
from playwright.sync_api import expect

from tests.browser import Page
from webapp.extensions import db
from webapp.models import SupportRequest


@pytest.fixture
def live_app_overrides():
    return {"LIST_POLL_SECONDS": 1}


def test_a_304_poll_leaves_the_list_untouched_and_the_next_change_arrives(browser, live_server, make_user):
    app, url = live_server
    with app.app_context():
        user = make_user(email="deniz@example.com", name="Deniz Yılmaz")
        request = SupportRequest(reporter_id=user.id, label="Bug", summary="Payments time out",
                                 description="...", delivery_state="sent", jira_key="SUP-7",
                                 jira_status="To Do", jira_status_category="new")
        db.session.add(request)
        db.session.commit()
        request_id, email = request.id, user.email
    page = Page(browser, url)
    polls = []
    page.page.on("response", lambda r: "/requests/" in r.url and r.request.headers.get("hx-request")
                 and polls.append((r.status, r.request.headers.get("if-none-match"))))
    page.log_in(email)
    results = page.page.locator("#request-results")
    expect(results).to_contain_text("Received")  # "To Do", unmapped: its category's name
    page.page.wait_for_timeout(2500)  # the first poll renders; the next ones get 304
    assert polls and polls[-1][0] == 304, polls
    # A mark on the region's element: a swap (even of the same HTML) would make a new one.
    results.evaluate("element => { element.portalMark = 'kept'; }")
    count = len(polls)
    page.page.wait_for_timeout(3000)
    not_modified = [tag for status, tag in polls[count:] if status == 304]
    assert len(not_modified) >= 2 and all(not_modified), polls
    assert results.evaluate("element => element.portalMark") == "kept"
    expect(results).to_contain_text("Payments time out")

    with app.app_context():
        changed = db.session.get(SupportRequest, request_id)
        changed.jira_status, changed.jira_status_category = "In Progress", "indeterminate"
        db.session.commit()
    expect(results).to_contain_text("In progress", timeout=5000)
    assert results.evaluate("element => element.portalMark") is None  # the new region
    count = len(polls)
    page.page.wait_for_timeout(2500)
    assert [status for status, _tag in polls[count:]].count(304) >= 1  # and it goes on saving
    page.shot("polls-list-after-change")
    assert not page.errors
    page.close()
