"""An admin configures the Jira integration in a real browser, against the simulator."""
import pytest

from tests.browser import Page
from tests.jirasim import PORTAL_EMAIL, PORTAL_TOKEN


@pytest.fixture
def live_app_overrides():
    return {"JIRA_ALLOW_HTTP": True, "JIRA_TEST_TIMEOUT": (1, 2)}


@pytest.fixture
def admin_page(browser, live_server, make_user):
    app, url = live_server
    with app.app_context():
        make_user(email="admin@example.com", admin=True, name="Ada Admin")
    page = Page(browser, url)
    page.log_in("admin@example.com")
    page.goto("/admin/jira")
    yield page
    page.close()


def fill_settings(p, jira_sim, token=PORTAL_TOKEN, project="SUP", issue_type="Task",
                  endpoint_field="customfield_10052"):
    p.fill("#base_url", jira_sim.url + "/browse/SUP-1")
    p.fill("#description", "Payments support desk.\nOn call: Ayşe.")
    p.fill("#username", PORTAL_EMAIL)
    p.fill("#api_token", token)
    p.fill("#project_key", project)
    p.fill("#issue_type", issue_type)
    p.fill("#category_field_id", "customfield_10050")
    p.fill("#product_field_id", "10051")
    p.fill("#endpoint_field_id", endpoint_field)


def save_and_test(page):
    page.page.click("button[value=test]")
    page.page.wait_for_selector("#jira-test")
    return page.page.locator("#jira-test")


def failed_steps(results):
    return results.locator("li.check.failed").all_inner_texts()


def test_admin_configures_and_tests_the_integration(admin_page, jira_sim):
    p = admin_page.page
    assert p.locator("#jira-status .badge").inner_text() == "Passive"
    admin_page.shot("admin-jira-empty")

    # Turning it on with nothing filled in is refused, in place.
    p.click("#jira-status button[role=switch]")
    p.wait_for_selector("#jira-status .error")
    assert "Fill in these settings before activating" in p.locator("#jira-status .error").inner_text()

    # Labels: added and removed without reloading.
    p.fill("#label-name", "Feature Request")
    p.click("#labels button[type=submit]")
    p.wait_for_selector("#labels code")
    assert p.locator("#labels code").inner_text() == "Feature-Request"
    assert "cannot contain spaces" in p.locator("#labels .notice").inner_text()

    fill_settings(p, jira_sim)
    results = save_and_test(admin_page)
    assert "Every check passed." in results.inner_text()
    assert failed_steps(results) == []
    assert results.locator("li.check.passed").count() == 9
    assert p.locator("#base_url").input_value() == jira_sim.url  # the pasted /browse path trimmed
    assert p.locator("#api_token").input_value() == ""  # never rendered back
    admin_page.shot("admin-jira-test-passed")

    p.click("#jira-status button[role=switch]")
    p.wait_for_selector("#jira-status .badge-green")
    assert p.locator("#jira-status button[role=switch]").get_attribute("aria-checked") == "true"
    admin_page.shot("admin-jira-active")
    assert not any(call.startswith("POST /rest/api/3/issue") for call in jira_sim.calls)
    assert admin_page.errors == []


@pytest.mark.parametrize("case, settings, expected, advice", [
    ("wrong-token", {"token": "not-the-token"}, "401", "Check the Username"),
    ("wrong-project", {"project": "NOPE"}, "NOPE", "Check the Project Key"),
    ("wrong-issue-type", {"issue_type": "Epic"}, "Task (10002), Bug (10004)", "valid issue types"),
    ("field-off-screen", {"endpoint_field": "customfield_10060"}, "customfield_10060", "create screen"),
    ("jira-down", {}, "", "Check the Jira URL"),
])
def test_each_failure_shows_the_failing_step_and_advice(admin_page, jira_sim, case, settings,
                                                        expected, advice):
    p = admin_page.page
    fill_settings(p, jira_sim, **settings)
    if case == "jira-down":
        jira_sim.go_down()
    results = save_and_test(admin_page)
    assert "A check failed." in results.inner_text()
    failed = failed_steps(results)
    assert len(failed) == 1 and expected in failed[0] and advice in failed[0], failed
    admin_page.shot(f"admin-jira-{case}")
    assert [e for e in admin_page.errors if "status of 4" not in e] == []


def test_admin_lists_categories_and_products(admin_page):
    p = admin_page.page
    p.click("nav.subnav >> text=Categories")
    p.wait_for_url("**/admin/categories")
    for name in ("Payment", "Customer", "Other Request"):
        p.fill("#new-category", name)
        p.click("#categories form.inline-form button")
        p.wait_for_selector(f"#categories input[value='{name}']")
    admin_page.shot("admin-categories")
    p.click("nav.subnav >> text=API Products")
    p.wait_for_url("**/admin/products")
    p.fill("#new-product", "Payments API")
    p.click("#products > form button")
    p.wait_for_selector(".product")
    p.fill(".product input[name=path]", "/payments/v1")
    p.select_option(".product select[name=method]", "POST")
    p.click(".product form.inline-form >> text=Add endpoint")
    p.wait_for_selector(".product code")
    assert p.locator(".product code").inner_text() == "/payments/v1"
    admin_page.shot("admin-products")
    assert admin_page.errors == []


def test_saving_refreshes_the_switch_and_the_admin_note(admin_page, jira_sim):
    p = admin_page.page
    p.click("#jira-status button[role=switch]")
    p.wait_for_selector("#jira-status .error")
    fill_settings(p, jira_sim)
    p.click("button[value=save]")
    p.wait_for_selector("#jira-info .info-card")
    assert "On call: Ayşe." in p.locator("#jira-info").inner_text()
    assert p.locator("#jira-status .error").count() == 0
    assert "Settings saved." in p.locator("#flashes").inner_text()
