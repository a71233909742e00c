"""The Jira Config screen: fields and their rules, the live switch, labels, Save and Test."""
import time

import pytest
from sqlalchemy import select

from tests.jirasim import PORTAL_EMAIL, PORTAL_PAT, PORTAL_TOKEN
from tests.jirasim.fixtures import both_deployments
from tests.support import tracked
from webapp import crypto
from webapp.extensions import db
from webapp.models import AuditLog, JiraSettings, Label

TOKEN = "ATATT3xFfGF0-TEST-token-0123456789-wxyz"


@pytest.fixture
def app(app_factory):
    app = app_factory(JIRA_ALLOW_HTTP=True, JIRA_TEST_TIMEOUT=(1, 2))
    with app.app_context():
        yield app


def settings_form(**changes):
    data = {
        "deployment": "cloud", "base_url": "https://acme.atlassian.net", "description": "",
        "username": "portal@example.com", "api_token": TOKEN, "project_key": "SUP",
        "issue_type": "Task", "category_field_id": "", "product_field_id": "", "endpoint_field_id": "",
        "action": "save",
    }
    data.update(changes)
    return data


def row():
    db.session.expire_all()
    return JiraSettings.get()


def test_the_screen_has_every_field_of_the_seed(client, admin):
    page = client.get("/admin/jira").data.decode()
    for label in ("Jira Integration Status", "Jira URL", "Description", "Username", "API Token",
                  "Project Key", "Issue Type", "Category Custom Field ID", "API Product Custom Field ID",
                  "API Product Endpoint Custom Field ID", "Label List", "No labels found",
                  "Passive", "Save and Test", "Jira Cloud", "Data Center"):
        assert label in page, label
    assert "confluence.atlassian.com/adminjiraserver/adding-custom-fields" in page
    assert 'placeholder="e.g. Task, Bug or Service Request"' in page
    assert 'type="password"' in page


def test_users_and_visitors_cannot_reach_it(client, auth, make_user):
    assert client.get("/admin/jira").status_code == 302
    make_user(email="u@example.com")
    auth.login("u@example.com")
    assert client.get("/admin/jira").status_code == 403
    assert client.post("/admin/jira", data=settings_form()).status_code == 403
    assert client.post("/admin/jira/status", data={"enabled": "1"}).status_code == 403


def test_required_fields_say_so_next_to_each_and_keep_what_was_typed(client, admin):
    response = client.post("/admin/jira", data=settings_form(
        base_url="", username="", api_token="", project_key="", issue_type="",
        description="keep this note"))
    page = response.data.decode()
    assert response.status_code == 200
    assert page.count("This field is required.") == 5
    assert "keep this note" in page
    assert row().base_url == ""  # nothing saved


def test_required_message_in_turkish(client, admin):
    page = client.post("/admin/jira", data=settings_form(project_key=""),
                       headers={"Accept-Language": "tr"}).data.decode()
    assert "Bu alan zorunludur." in page


def test_saving_normalises_and_encrypts(client, admin):
    response = client.post("/admin/jira", data=settings_form(
        base_url=" https://acme.atlassian.net/browse/SUP-12/ ", project_key="sup",
        category_field_id="10070", product_field_id="customfield_10071", endpoint_field_id="cf[10072]",
        description="Support desk of the payments team.\nAsk Ayşe."))
    assert response.status_code == 303
    saved = row()
    assert saved.base_url == "https://acme.atlassian.net"
    assert saved.project_key == "SUP"
    assert (saved.category_field_id, saved.product_field_id, saved.endpoint_field_id) == (
        "customfield_10070", "customfield_10071", "customfield_10072")
    assert TOKEN not in saved.api_token_encrypted
    assert crypto.decrypt(saved.api_token_encrypted) == TOKEN
    assert saved.api_token_last4 == "wxyz"
    page = client.get("/admin/jira").data.decode()
    assert TOKEN not in page and "…wxyz" in page
    assert "Ask Ayşe." in page  # the admin note, in its information card
    entry = db.session.scalars(select(AuditLog).where(AuditLog.action == "jira.settings.saved")).one()
    assert "api_token" in entry.details["fields"] and TOKEN not in str(entry.details)


def test_an_empty_token_keeps_the_stored_one_and_clearing_needs_a_new_one(client, admin):
    client.post("/admin/jira", data=settings_form())
    version = row().version
    client.post("/admin/jira", data=settings_form(api_token="", issue_type="Bug"))
    assert crypto.decrypt(row().api_token_encrypted) == TOKEN and row().issue_type == "Bug"
    assert row().version == version + 1
    page = client.post("/admin/jira", data=settings_form(api_token="", clear_token="y")).data.decode()
    assert "This field is required." in page and row().api_token_encrypted
    client.post("/admin/jira", data=settings_form(api_token="new-token-9999"))
    assert crypto.decrypt(row().api_token_encrypted) == "new-token-9999"


def test_clearing_the_token_switches_the_integration_off(client, admin, app):
    client.post("/admin/jira", data=settings_form())
    client.post("/admin/jira/status", data={"enabled": "1"})
    assert row().enabled
    settings = row()
    from webapp import integration
    integration.save(settings, {name: getattr(settings, name) for name in integration.SETTINGS_FIELDS},
                     clear_token=True)
    db.session.commit()
    assert not row().enabled and row().api_token_encrypted is None


@pytest.mark.parametrize("url, message", [
    ("http://jira.intranet.local", "Use https://."),
    ("https://user:secret@acme.atlassian.net", "Leave the user name and token out of the URL"),
    ("ftp://acme.atlassian.net", "Enter the address of your Jira site"),
])
def test_bad_urls_are_explained(app_factory, auth, make_user, url, message):
    app = app_factory(JIRA_ALLOW_HTTP=False)
    with app.app_context():
        make_user(email="boss@example.com", admin=True)
        client = app.test_client()
        client.post("/auth/login", data={"email": "boss@example.com", "password": "correct horse battery"})
        page = client.post("/admin/jira", data=settings_form(base_url=url)).data.decode()
    assert message in page


def test_http_is_allowed_when_the_operator_says_so(client, admin):
    assert client.post("/admin/jira", data=settings_form(base_url="http://jira.intranet.local/jira/")).status_code == 303
    assert row().base_url == "http://jira.intranet.local/jira"


@pytest.mark.parametrize("field, value, message", [
    ("category_field_id", "category", "Use the form customfield_10070"),
    ("project_key", "S P", "A project key starts with a letter"),
    ("api_token", "two words", "A token has no spaces"),
])
def test_field_rules(client, admin, field, value, message):
    assert message in client.post("/admin/jira", data=settings_form(**{field: value})).data.decode()


def test_data_center_needs_no_username(client, admin):
    response = client.post("/admin/jira", data=settings_form(deployment="datacenter", username=""))
    assert response.status_code == 303 and row().deployment == "datacenter"


# The live switch -----------------------------------------------------------------------

def test_activating_incomplete_settings_is_refused_with_the_reason(client, admin):
    response = client.post("/admin/jira/status", data={"enabled": "1"}, headers={"HX-Request": "true"})
    page = response.data.decode()
    assert "<html" not in page and 'id="jira-status"' in page
    assert "Fill in these settings before activating: Jira URL, Username, Project Key, Issue Type, API Token." in page
    assert row().enabled is False


def test_the_switch_flips_in_place_and_every_process_sees_it_at_once(client, admin, app_factory):
    client.post("/admin/jira", data=settings_form())
    other_process = app_factory()  # a separate app: its own engine and sessions
    response = client.post("/admin/jira/status", data={"enabled": "1"}, headers={"HX-Request": "true"})
    assert 'aria-checked="true"' in response.data.decode() and "Active" in response.data.decode()
    with other_process.app_context():
        assert JiraSettings.get().enabled is True
    client.post("/admin/jira/status", data={"enabled": "0"}, headers={"HX-Request": "true"})
    with other_process.app_context():
        assert JiraSettings.get().enabled is False
    actions = db.session.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
    assert actions[-2:] == ["jira.settings.enabled", "jira.settings.disabled"]


def test_the_switch_works_without_javascript(client, admin):
    response = client.post("/admin/jira/status", data={"enabled": "1"})
    assert response.status_code == 303
    assert "Fill in these settings" in client.get("/admin/jira").data.decode()


# Labels --------------------------------------------------------------------------------

def test_labels_are_added_and_removed_in_place(client, admin):
    fragment = client.post("/admin/jira/labels", data={"name": "Feature Request"},
                           headers={"HX-Request": "true"}).data.decode()
    assert "<html" not in fragment
    assert "Feature-Request" in fragment and "cannot contain spaces" in fragment
    client.post("/admin/jira/labels", data={"name": "bug"}, headers={"HX-Request": "true"})
    duplicate = client.post("/admin/jira/labels", data={"name": "BUG"}, headers={"HX-Request": "true"})
    assert "already in the list" in duplicate.data.decode()
    labels = db.session.scalars(select(Label).order_by(Label.position)).all()
    assert [label.name for label in labels] == ["Feature-Request", "bug"]
    client.post(f"/admin/jira/labels/{labels[0].id}/every-issue", data={"applies_to_all": "1"},
                headers={"HX-Request": "true"})
    db.session.expire_all()
    assert labels[0].applies_to_all is True
    for label in labels:
        fragment = client.post(f"/admin/jira/labels/{label.id}/remove", headers={"HX-Request": "true"}).data.decode()
    assert "No labels found" in fragment
    assert db.session.scalars(select(Label)).all() == []


def test_an_empty_label_is_refused(client, admin):
    fragment = client.post("/admin/jira/labels", data={"name": "  "}, headers={"HX-Request": "true"}).data.decode()
    assert "This field is required." in fragment


# Save and Test against the simulator -----------------------------------------------------

def sim_settings(jira_sim, **changes):
    """The form as an admin fills it for the simulator: an API token on Cloud, a personal
    access token (and no username) on Data Center."""
    datacenter = jira_sim.deployment == "datacenter"
    values = dict(base_url=jira_sim.url, deployment=jira_sim.deployment,
                  username="" if datacenter else PORTAL_EMAIL, api_token=PORTAL_PAT if datacenter else PORTAL_TOKEN,
                  category_field_id="customfield_10050", product_field_id="customfield_10051",
                  endpoint_field_id="customfield_10052", action="test")
    return settings_form(**{**values, **changes})


def steps(page):
    """(passed?, text) per check in the results."""
    import re
    found = re.findall(r'<li class="check (passed|failed)">(.*?)</li>', page, re.S)
    texts = [" ".join(re.sub(r"<[^>]+>", " ", text).split()) for _, text in found]
    return [(state == "passed", re.sub(r"^[✓✗] (Passed|Failed): ", "", text))
            for (state, _), text in zip(found, texts)]


@both_deployments
def test_save_and_test_passes_every_check(client, admin, jira_sim):
    response = client.post("/admin/jira", data=sim_settings(jira_sim))
    page = response.data.decode()
    assert "Every check passed." in page
    results = steps(page)
    assert all(ok for ok, _ in results)
    texts = " | ".join(text for _, text in results)
    for expected in ("Jira site reachable", "Signed in as", "Project", "Task",
                     "customfield_10050", "customfield_10051", "customfield_10052", "Attachments enabled"):
        assert expected in texts
    saved = row()
    assert saved.issue_type_id == "10002"
    assert saved.field_schemas["customfield_10050"]["custom"].endswith(":select")
    assert not any(call.startswith(f"POST {jira_sim.api}/issue") for call in jira_sim.calls)
    assert ("Jira site reachable (DataCenter 9.12.15)" in texts) == (jira_sim.deployment == "datacenter")


@both_deployments
@pytest.mark.parametrize("changes, failing_text, advice", [
    ({"api_token": "wrong-token"}, "401", "Check the Username"),
    ({"project_key": "NOPE"}, "NOPE", "Check the Project Key"),
    ({"issue_type": "Epic"}, "Task (10002), Bug (10004)", "Enter one of the valid issue types"),
    ({"endpoint_field_id": "customfield_10060"}, "customfield_10060", "create screen"),
])
def test_save_and_test_names_the_failing_check_and_what_to_do(client, admin, jira_sim, changes,
                                                              failing_text, advice):
    page = client.post("/admin/jira", data=sim_settings(jira_sim, **changes)).data.decode()
    assert "A check failed." in page
    failed = [text for ok, text in steps(page) if not ok]
    assert failed and failing_text in " ".join(failed), steps(page)
    assert advice in page
    assert "wrong-token" not in page


def test_save_and_test_with_jira_down_answers_within_seconds(client, admin, jira_sim):
    jira_sim.go_down()
    started = time.monotonic()
    page = client.post("/admin/jira", data=sim_settings(jira_sim)).data.decode()
    assert time.monotonic() - started < 10
    failed = [text for ok, text in steps(page) if not ok]
    assert failed and "A check failed." in page
    assert row().project_key == "SUP"  # the settings were saved all the same


def test_save_and_test_with_a_hanging_jira_gives_up_quickly(client, admin, jira_sim):
    jira_sim.fault("timeout", seconds=10)
    started = time.monotonic()
    page = client.post("/admin/jira", data=sim_settings(jira_sim)).data.decode()
    assert time.monotonic() - started < 8
    assert "A check failed." in page


def test_the_token_never_appears_in_pages_or_the_audit_log(client, admin, jira_sim):
    pages = [client.post("/admin/jira", data=sim_settings(jira_sim)).data.decode()]
    pages += [client.get(path).data.decode() for path in ("/admin/jira", "/admin/audit", "/admin/")]
    assert all(PORTAL_TOKEN not in page for page in pages)
    details = db.session.scalars(select(AuditLog.details)).all()
    assert details and PORTAL_TOKEN not in str(details)


def test_audit_log_lists_changes_with_field_names(client, admin):
    client.post("/admin/jira", data=settings_form())
    page = client.get("/admin/audit").data.decode()
    assert "jira.settings.saved" in page and "Ada Admin" in page
    assert "Project Key" in page and TOKEN not in page


def test_keys_rotate_reencrypts_with_the_newest_key(client, admin, app, runner):
    client.post("/admin/jira", data=settings_form())
    old_key = app.config["ENCRYPTION_KEYS"][0]
    new_key = "Gq0Q3cS8cF0dYw0x8oYqVqfQmF7pQ2bJbJ9lP1mM0cU="
    app.config["ENCRYPTION_KEYS"] = [new_key, old_key]
    result = runner.invoke(args=["keys", "rotate"])
    assert "Re-encrypted 1 stored secret(s)" in result.output
    app.config["ENCRYPTION_KEYS"] = [new_key]  # the old key can go now
    assert crypto.decrypt(row().api_token_encrypted) == TOKEN


def test_labels_are_checked_against_the_create_screen(client, admin, jira_sim):
    client.post("/admin/jira/labels", data={"name": "portal"})
    page = client.post("/admin/jira", data=sim_settings(jira_sim)).data.decode()
    assert "Labels field on the create screen; 1 label(s) valid" in page
    # The seed's "label information not appearing in Jira": Labels is off the create screen.
    task = next(t for t in jira_sim.state.projects["SUP"]["issue_types"] if t["name"] == "Task")
    del task["screen"]["labels"]
    page = client.post("/admin/jira", data=sim_settings(jira_sim)).data.decode()
    failed = [text for ok, text in steps(page) if not ok]
    assert failed == ["The Labels field is not on the create screen of this issue type, so labels would "
                      "not reach Jira Add the Labels field to the create screen of this issue type in Jira, "
                      "and make sure the workflow allows labels; or remove the list's labels."]


# The token stays with the site it was typed for (issue 13, item 3) ----------------------------

@pytest.mark.parametrize("change", [{"base_url": "https://evil.example.net"},
                                    {"deployment": "datacenter", "username": ""},
                                    {"username": "someone-else@example.com"}])
def test_a_changed_site_or_account_drops_the_stored_token(client, admin, jira_sim, change):
    client.post("/admin/jira", data=settings_form())
    client.post("/admin/jira/status", data={"enabled": "1"})
    response = client.post("/admin/jira", data=settings_form(api_token="", **change))
    assert response.status_code == 303
    saved = row()
    assert saved.api_token_encrypted is None and saved.api_token_last4 is None
    assert not saved.enabled  # no credentials: passive until a token is typed again
    page = client.get("/admin/jira").get_data(as_text=True)
    assert "The stored token was removed" in page and "…wxyz" not in page
    entry = db.session.scalars(select(AuditLog).where(AuditLog.action == "jira.settings.token_dropped")).one()
    assert entry.details == {"because": sorted(change)} and TOKEN not in str(entry.details)


def test_a_token_typed_again_goes_with_the_new_site(client, admin):
    client.post("/admin/jira", data=settings_form())
    client.post("/admin/jira", data=settings_form(base_url="https://other.atlassian.net",
                                                  api_token="a-new-token-5678"))
    assert crypto.decrypt(row().api_token_encrypted) == "a-new-token-5678"
    assert not db.session.scalars(select(AuditLog).where(AuditLog.action == "jira.settings.token_dropped")).all()


def test_the_form_says_next_to_the_token_when_it_is_dropped(client, admin):
    client.post("/admin/jira", data=settings_form())
    page = client.get("/admin/jira").get_data(as_text=True)
    assert ("Changing the Jira URL, the deployment or the username removes the stored token "
            "unless you type it again.") in page


@both_deployments
def test_save_and_test_checks_the_mapped_transitions_on_requests_the_portal_follows(
        client, admin, jira_sim, jira_client, make_user):
    mapped = dict(resolve_transition="Resolve", reopen_transition="Reopen", reopen_days="7",
                  reply_transition="Respond")
    results = steps(client.post("/admin/jira", data=sim_settings(jira_sim, **mapped)).data.decode())
    said = [text for ok, text in results if "Transition" in text]
    assert len(said) == 3 and all("could not be checked" in text for text in said)  # nothing followed yet
    assert all(ok for ok, _ in results)
    assert (row().resolve_transition, row().reopen_days, row().reply_transition) == ("Resolve", 7, "Respond")
    reporter = make_user(email="r@example.com")
    request, issue = tracked(jira_client, reporter, "Open one")
    results = steps(client.post("/admin/jira", data=sim_settings(jira_sim, **mapped)).data.decode())
    assert (True, f"Transition “Resolve” found on {issue.key}, leading to Done") in results
    mistyped = dict(mapped, resolve_transition="Close")
    page = client.post("/admin/jira", data=sim_settings(jira_sim, **mistyped)).data.decode()
    assert (False, f"No transition “Close” on {issue.key} now; it may take: Start progress, "
                   "Resolve " + "Type the transition's name as the project's workflow names it (the button on the "
                   "issue in Jira), make sure the portal's Jira account may use it, or clear it to switch the "
                   "action off.") in steps(page)
    wrong_way = dict(mapped, resolve_transition="Start progress")
    results = steps(client.post("/admin/jira", data=sim_settings(jira_sim, **wrong_way)).data.decode())
    assert any(not ok and "leads to In Progress" in text for ok, text in results)
    assert not any(call.startswith(f"POST {jira_sim.api}/issue/{{issueIdOrKey}}/transitions") for call in jira_sim.calls)


@pytest.mark.parametrize("days", ["0", "-3", "abc", "99999"])
def test_the_reopen_window_must_be_a_sensible_number_of_days(client, admin, days):
    page = client.post("/admin/jira", data=settings_form(reopen_days=days)).data.decode()
    assert "Some settings need attention" in page
