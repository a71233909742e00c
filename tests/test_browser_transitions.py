"""Mark as resolved and Reopen in a real browser (issue 17 item 5): the requester resolves
their request with a note, Jira's answer to the transition is lost on the way, and the
simulator's issue still moves once to Done; they reopen it; then a condition hides the
transition and the page says the support team will close it. The action box follows each
action by itself. Jobs run in the live server's
process (IN_PROCESS_JOBS) on either backend."""
import pytest
from playwright.sync_api import expect

from tests.browser import IN_PROCESS_JOBS, Page
from tests.test_browser_replies import delivered_request
from tests.test_browser_support import DESKTOP, portal  # noqa: F401 (fixture)
from webapp.extensions import db
from webapp.models import JiraSettings


@pytest.fixture
def live_app_overrides():
    return {"JIRA_ALLOW_HTTP": True, "SYNC_SECONDS": 1, "LIST_POLL_SECONDS": 1, "SEARCH_LAG_SECONDS": 0.2,
            "DELIVERY_RETRY_BASE_SECONDS": 0.2, **IN_PROCESS_JOBS}


def test_a_user_resolves_and_reopens_their_request(browser, portal, jira_sim):  # noqa: F811
    app, url = portal
    with app.app_context():
        settings = JiraSettings.get()
        settings.resolve_transition, settings.reopen_transition, settings.reopen_days = "Resolve", "Reopen", 14
        db.session.commit()
    request_id, key = delivered_request(app)

    def status():
        issue = jira_sim.state.issues[jira_sim.state.keys[key]]
        return jira_sim.state.statuses[issue["status"]]["name"]
    jira_sim.fault("lost_reply", path="/transitions", method="POST", times=1)

    user = Page(browser, url, **DESKTOP)
    p = user.page
    user.log_in("deniz@example.com")
    user.goto(f"/requests/{request_id}")
    box = p.locator("#status-actions")
    box.get_by_label("Note for the support team (optional)").fill("Works now: it was our proxy.")
    box.get_by_role("button", name="Mark as resolved").click()
    action = p.locator("#comments li.status-action")
    expect(action).to_have_count(1)
    expect(action.locator(".action-state")).to_have_text("Resolved", timeout=20_000)
    assert status() == "Done"
    calls = jira_sim.calls[f"POST {jira_sim.api}/issue/{{issueIdOrKey}}/transitions"]
    assert calls == 1  # the lost answer's retry found the issue done
    p.wait_for_selector("#comments li.reply >> text=Works now: it was our proxy.", timeout=15_000)
    # The box followed the action by itself: now it offers to reopen, without a reload.
    expect(p.locator("#status-actions").get_by_role("button", name="Reopen")).to_be_visible(timeout=10_000)
    user.goto(f"/requests/{request_id}")
    expect(p.locator(".facts")).to_contain_text("Resolved")
    user.shot("desktop-resolved")

    p.locator("#status-actions").get_by_role("button", name="Reopen").click()
    expect(p.locator("#comments li.status-action .action-state").last).to_have_text("Reopened", timeout=20_000)
    assert status() == "To Do"

    jira_sim.hide_transition("Resolve")
    user.goto(f"/requests/{request_id}")
    p.locator("#status-actions").get_by_role("button", name="Mark as resolved").click()
    expect(p.locator("#comments li.status-action .action-state").last).to_have_text(
        "The support team will close it.", timeout=20_000)
    assert status() == "To Do"
    # Refused: the box offers it again (the team may have changed the condition meanwhile).
    expect(p.locator("#status-actions").get_by_role("button", name="Mark as resolved")).to_be_visible(timeout=10_000)
    user.shot("desktop-resolve-refused")
    assert user.errors == []
    user.close()
