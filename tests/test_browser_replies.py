"""A reply in a real browser (issue 17): the user answers the support team's question with a
file on a request that waits for them, Jira's answer to the post is lost on the way, and
the thread still shows the reply once, sent, with the team's next comment under it; the
simulator holds one comment and the file. Delivery and sync run on the configured runner."""
import re

from playwright.sync_api import expect

from tests.browser import Page
from tests.test_browser_support import DESKTOP, live_app_overrides, portal  # noqa: F401 (fixtures)
from tests.workers import wait_for
from webapp import delivery
from webapp.extensions import db
from webapp.models import SupportRequest

def delivered_request(app):
    """(id, Jira key) of a request Deniz filed, once the worker has delivered it."""
    with app.app_context():
        from webapp.models import User
        deniz = db.session.query(User).filter_by(email="deniz@example.com").one()
        item = delivery.accept(SupportRequest(reporter_id=deniz.id, label="Bug", summary="Payments fail",
                                              description="Since 09:00."))
        request_id = item.id

    def issue_key():
        with app.app_context():
            return db.session.get(SupportRequest, request_id).jira_key
    assert wait_for(issue_key, timeout=20)
    return request_id, issue_key()


LOG = b"2026-12-01T10:00:00Z POST /v2/payments -> 500 (application 4711)\n" * 50


def test_a_user_replies_with_a_file_and_sees_it_sent(browser, portal, jira_sim, tmp_path):  # noqa: F811
    app, url = portal
    request_id, key = delivered_request(app)
    jira_sim.set_status(key, "Waiting for customer")
    jira_sim.add_comment(key, "Which application ID do you use?")
    jira_sim.fault("lost_reply", path="/comment", method="POST", times=1)  # the first post's answer is lost

    user = Page(browser, url, **DESKTOP)
    p = user.page
    user.log_in("deniz@example.com")
    user.goto(f"/requests/{request_id}")
    p.wait_for_selector("text=Which application ID do you use?", timeout=15_000)
    box = p.locator("#reply-box")
    expect(box.get_by_label("Reply")).to_be_visible()
    box.get_by_label("Reply").fill("It is 4711.\nThe log is attached.")
    (tmp_path / "günlük.log").write_bytes(LOG)
    p.set_input_files("#reply-files", str(tmp_path / "günlük.log"))
    box.locator("button[type=submit]", has_text="Send reply").click()
    reply = p.locator("#comments li.reply")
    expect(reply).to_have_count(1)
    assert re.search(rf"/requests/{request_id}(#reply-box)?$", p.url)
    assert box.get_by_label("Reply").input_value() == ""  # a fresh form for the next reply
    assert "It is 4711." in reply.inner_text() and "günlük.log" in reply.inner_text()
    assert "Deniz Yılmaz" in reply.inner_text()
    expect(reply.locator(".reply-state")).to_have_text("Sent", timeout=20_000)

    issue = jira_sim.state.issues[jira_sim.state.keys[key]]
    portal_comments = [c for c in issue["comments"] if c["author"] == "portal@example.com"]
    assert len(portal_comments) == 1
    assert [jira_sim.state.attachments[a]["filename"] for a in issue["attachments"]] == ["günlük.log"]

    jira_sim.add_comment(key, "Thanks, fixed for application 4711.")
    p.wait_for_selector("text=Thanks, fixed for application 4711.", timeout=15_000)
    thread = p.locator("#comments").inner_text()
    assert thread.count("It is 4711.") == 1 and "Portal Bot" not in thread
    assert thread.index("Which application ID") < thread.index("It is 4711.") < thread.index("Thanks, fixed")
    with p.expect_download() as download_info:
        reply.locator("a", has_text="günlük.log").click()
    assert open(download_info.value.path(), "rb").read() == LOG
    user.shot("desktop-reply-sent")
    assert user.errors == []
    user.close()
