"""Statuses in people's words in a real browser: the admin reads the project's statuses from
the simulator and names one in Turkish; the reporter's list shows "Waiting for you", the
header's count and, in Turkish, the admin's names."""
import pytest
from playwright.sync_api import expect

from tests.browser import IN_PROCESS_JOBS, Page
from webapp.extensions import db
from webapp.models import SupportRequest


@pytest.fixture
def live_app_overrides():
    return {"JIRA_ALLOW_HTTP": True, **IN_PROCESS_JOBS}


def test_the_admin_names_statuses_and_the_reporter_sees_waiting_for_you(browser, live_server, configure_jira, make_user):
    app, url = live_server
    configure_jira()
    with app.app_context():
        make_user(email="admin@example.com", admin=True, name="Ada Admin")
        reporter = make_user(email="deniz@example.com", name="Deniz Yılmaz")
        db.session.add_all([
            SupportRequest(reporter_id=reporter.id, label="Bug", summary="Token endpoint answers 500",
                           description="d", delivery_state="sent", jira_key="SUP-12", jira_status="Waiting for customer",
                           jira_status_id="10001", jira_status_category="indeterminate"),
            SupportRequest(reporter_id=reporter.id, label="Question", summary="How do I page results?",
                           description="d", delivery_state="sent", jira_key="SUP-11", jira_status="In Progress",
                           jira_status_id="3", jira_status_category="indeterminate"),
            SupportRequest(reporter_id=reporter.id, label="Bug", summary="Refund fails", description="d",
                           delivery_state="sent", jira_key="SUP-10", jira_status="Done", jira_status_id="10002",
                           jira_status_category="done")])
        db.session.commit()

    admin = Page(browser, url, viewport={"width": 1280, "height": 900})
    admin.log_in("admin@example.com")
    admin.goto("/admin/statuses")
    p = admin.page
    expect(p.locator("#statuses")).to_contain_text("Not read from Jira yet.")
    p.click("text=Read from Jira")
    row = p.locator("#statuses tr", has_text="Waiting for customer")
    expect(row).to_be_visible(timeout=10_000)
    expect(row.locator("input[name=waiting]")).to_be_checked()
    row.locator("input[name=name_tr]").fill("Yanıtınızı bekliyoruz")
    row.locator("button", has_text="Save").click()
    expect(p.locator("#statuses tr", has_text="Waiting for customer").locator("input[name=name_tr]")).to_have_value(
        "Yanıtınızı bekliyoruz")
    admin.shot("admin-statuses")
    assert admin.errors == []
    admin.close()

    user = Page(browser, url, viewport={"width": 1280, "height": 900})
    user.log_in("deniz@example.com")
    p = user.page
    expect(p.locator("#waiting-count")).to_have_text("1 request waits for you")
    waiting_row = p.locator("tr", has_text="SUP-12")
    expect(waiting_row.locator(".badge-waiting")).to_have_text("Waiting for you")
    expect(p.locator("tr", has_text="SUP-10")).to_contain_text("Resolved")
    user.shot("list-waiting-for-you")
    p.select_option("#filter-show", "waiting")
    expect(p.locator("table.requests tbody tr")).to_have_count(1)
    p.click("button[value=tr]")
    expect(p.locator("tr", has_text="SUP-12")).to_contain_text("Yanıtınızı bekliyoruz")
    expect(p.locator("tr", has_text="SUP-12").locator(".badge-waiting")).to_have_text("Sizi bekliyor")
    user.shot("list-waiting-for-you-tr")
    p.click("text=SUP-12")
    expect(p.locator("#reply-box.waiting-for-you")).to_contain_text("Destek ekibi yanıtınızı bekliyor.")
    user.shot("detail-waiting-for-you-tr")
    assert user.errors == []
    user.close()
