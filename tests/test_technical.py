"""The optional "Technical details" of a request (issue 19 item 3, webapp/technical.py): the
admin switches each field on under Jira Config, the form asks only for those, and what was
given reaches Jira as a table in the description: an ADF table on Cloud, a wiki table on
Data Center."""
import pytest
from sqlalchemy import select

from tests.jirasim.fixtures import both_deployments
from tests.test_admin_jira import settings_form, sim_settings, steps
from tests.test_delivery import issues_in, new_request, reload
from tests.test_support_uploads import user  # noqa: F401 (a fixture: a logged-in user, label Bug)
from webapp.extensions import db
from webapp.models import JiraSettings, SupportRequest

pytestmark = pytest.mark.usefixtures("no_server_errors")
FORM = {"label": "Bug", "summary": "s", "description": "d"}


def ask(*keys, environments=""):
    settings = JiraSettings.get()
    settings.technical_fields, settings.environments = list(keys), environments
    db.session.commit()


def test_the_admin_switches_fields_on_and_lists_environments(client, admin):
    page = client.get("/admin/jira").get_data(as_text=True)
    assert "Technical details to ask for" in page and "Request or correlation ID" in page
    response = client.post("/admin/jira", data=settings_form(
        technical_fields=["occurred_at", "environment"], environments=" Production \nSandbox\n\nProduction"))
    assert response.status_code == 303
    db.session.expire_all()
    settings = JiraSettings.get()
    assert settings.technical_fields == ["environment", "occurred_at"]  # in the form's order
    assert settings.environments == "Production \nSandbox\n\nProduction"
    assert client.post("/admin/jira", data=settings_form(technical_fields=["password"])).status_code == 200
    db.session.expire_all()
    assert JiraSettings.get().technical_fields == ["environment", "occurred_at"]


def test_the_form_asks_only_for_what_the_admin_switched_on(client, user):
    assert "Technical details" not in client.get("/requests/new").get_data(as_text=True)
    ask("environment", "http_status", environments="Production\nSandbox")
    page = client.get("/requests/new").get_data(as_text=True)
    assert "Technical details" in page and '<select id="environment" name="environment">' in page
    assert '<option value="Sandbox">Sandbox</option>' in page
    assert 'name="http_status"' in page and 'name="correlation_id"' not in page
    response = client.post("/requests/new", data={**FORM, "environment": "Sandbox", "http_status": "502",
                                                  "correlation_id": "not asked", "occurred_at": "junk"})
    assert response.status_code == 303
    assert db.session.scalar(select(SupportRequest.technical)) == {"environment": "Sandbox", "http_status": "502"}


def test_a_wrong_detail_is_refused_next_to_its_field_and_nothing_is_lost(client, user):
    ask("http_status", "occurred_at", "application_id")
    page = client.post("/requests/new", data={**FORM, "http_status": "999", "occurred_at": "yesterday",
                                              "application_id": "app-42"}).get_data(as_text=True)
    assert "An HTTP status is a number from 100 to 599." in page
    assert "Not a valid datetime value." in page and 'value="app-42"' in page
    assert db.session.scalar(select(SupportRequest)) is None
    client.post("/requests/new", data={**FORM, "occurred_at": "2026-12-01T09:58", "time_zone": "Europe/Istanbul"})
    assert db.session.scalar(select(SupportRequest.technical)) == {"occurred_at": "2026-12-01 09:58 (Europe/Istanbul)"}
    client.post("/requests/new", data={**FORM, "submission_key": "k2"})
    assert db.session.scalars(select(SupportRequest.technical)).all()[-1] is None  # none given


@both_deployments
def test_the_details_reach_jira_as_a_table(configure_jira, make_user, drain, jira_sim, app):
    configure_jira()
    technical = {"environment": "Sandbox | EU", "correlation_id": "c-81f2*", "http_status": "502"}
    request = new_request(make_user(email="deniz@example.com"), technical=technical)
    drain()
    assert reload(request).delivery_state == "sent"
    (issue,) = issues_in(jira_sim)
    description = issue["fields"]["description"]
    if jira_sim.deployment == "cloud":
        title, table = description["content"][-2:]
        assert title["content"][0] == {"type": "text", "text": "Technical details", "marks": [{"type": "strong"}]}
        assert table["type"] == "table"
        cells = [[cell["type"], cell["content"][0]["content"][0]["text"]] for row in table["content"]
                 for cell in row["content"]]
        assert cells == [["tableHeader", "Environment"], ["tableCell", "Sandbox | EU"],
                         ["tableHeader", "Request or correlation ID"], ["tableCell", "c-81f2*"],
                         ["tableHeader", "HTTP status"], ["tableCell", "502"]]
    else:
        assert description.endswith("\n\n*Technical details*\n||Environment|Sandbox \\| EU|\n"
                                     "||Request or correlation ID|c\\-81f2\\*|\n||HTTP status|502|")


@both_deployments
def test_mapped_custom_fields_get_the_details_in_their_own_shape(configure_jira, make_user, drain, jira_sim, app):
    fields = {"environment_field_id": "customfield_10056", "correlation_field_id": "customfield_10051",
              "http_status_field_id": "customfield_10057"}
    configure_jira(**fields, field_schemas={fid: jira_sim.state.fields[fid]["schema"]
                                            for fid in ("customfield_10050", "customfield_10051",
                                                        "customfield_10052", *fields.values())})
    technical = {"environment": "Live", "correlation_id": "c-81f2", "http_status": "502"}
    request = new_request(make_user(email="deniz@example.com"), technical=technical)
    drain()
    assert reload(request).delivery_state == "sent"
    (issue,) = issues_in(jira_sim)
    assert issue["fields"]["customfield_10056"] == {"value": "Live"}
    assert issue["fields"]["customfield_10051"] == "c-81f2"
    assert issue["fields"]["customfield_10057"] == 502


def test_a_number_field_refuses_digits_as_text(jira_sim):
    from tests.jirasim.validate import check_value
    assert check_value(jira_sim.state.fields["customfield_10057"], "502", 3) == "Operation value must be a number"
    assert check_value(jira_sim.state.fields["customfield_10057"], 502, 3) is None


@both_deployments
def test_save_and_test_checks_the_mapped_fields_like_the_others(client, admin, jira_sim, app):
    app.config.update(JIRA_ALLOW_HTTP=True, JIRA_TEST_TIMEOUT=(1, 2))  # the simulator is on http
    page = client.post("/admin/jira", data=sim_settings(jira_sim, http_status_field_id="customfield_10057")).data.decode()
    assert "Every check passed." in page and "customfield_10057" in page
    db.session.expire_all()
    assert JiraSettings.get().field_schemas["customfield_10057"]["custom"].endswith(":float")
    page = client.post("/admin/jira", data=sim_settings(jira_sim, application_field_id="customfield_10060")).data.decode()
    failed = [text for ok, text in steps(page) if not ok]
    assert failed and "customfield_10060" in failed[0]  # not on the create screen
