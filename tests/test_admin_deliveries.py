"""The admin's view of deliveries, and the same from the command line."""
import pytest
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import SupportRequest
from tests.test_delivery import issues_in, new_request, reload


@pytest.fixture
def app(app_factory):
    app = app_factory(DELIVERY_RETRY_BASE_SECONDS=0.05, SEARCH_LAG_SECONDS=0.2, JIRA_TIMEOUT=(1, 1))
    with app.app_context():
        yield app


@pytest.fixture
def reporter(make_user):
    return make_user(email="deniz@example.com", name="Deniz Yılmaz")


def test_failed_requests_show_their_reason_and_retry(client, admin, configure_jira, reporter, drain, jira_sim,
                                                      shown):
    configure_jira(issue_type="Epic", issue_type_id=None)
    request = new_request(reporter)
    drain()
    page = client.get("/admin/deliveries?state=failed").data.decode()
    assert request.reference in page and "Task (10002), Bug (10004)" in page
    turkish = client.get("/admin/deliveries?state=failed", headers={"Accept-Language": "tr"}).data.decode()
    assert shown(reload(request).last_error, "tr") in turkish.replace("&#39;", "'")
    configure_jira(issue_type="Task", issue_type_id="10002")
    response = client.post("/admin/deliveries/send", data={"ids": [str(request.id)], "state": "failed"})
    assert response.status_code == 303
    drain()
    assert reload(request).delivery_state == "sent"
    assert "1 request(s) queued for Jira." in client.get("/admin/deliveries").data.decode()


def test_send_all_portal_only_requests(client, admin, configure_jira, reporter, drain, jira_sim):
    configure_jira(enabled=False)
    for n in range(3):
        new_request(reporter, summary=f"Local {n}")
    refused = client.post("/admin/deliveries/send", data={"all": "local", "state": "local"})
    assert refused.status_code == 303
    assert "The integration is passive" in client.get("/admin/deliveries?state=local").data.decode()
    configure_jira(enabled=True)
    client.post("/admin/deliveries/send", data={"all": "local", "state": "local"})
    drain()
    assert len(issues_in(jira_sim)) == 3
    assert db.session.scalars(select(SupportRequest.delivery_state).distinct()).all() == ["sent"]


def test_a_pause_is_shown_with_what_to_do(client, admin, configure_jira, reporter, drain):
    configure_jira(token="revoked")
    new_request(reporter)
    drain()
    page = client.get("/admin/deliveries?state=queued").data.decode()
    assert "Delivery is paused." in page and "API token" in page


def test_users_cannot_see_or_send_deliveries(client, auth, make_user):
    make_user(email="u@example.com")
    auth.login("u@example.com")
    assert client.get("/admin/deliveries").status_code == 403
    assert client.post("/admin/deliveries/send", data={"all": "failed"}).status_code == 403


def test_cli_lists_and_sends(runner, configure_jira, reporter, drain, jira_sim):
    configure_jira(enabled=False)
    request = new_request(reporter, summary="From the command line")
    listing = runner.invoke(args=["deliveries", "list", "--state", "local"]).output
    assert request.reference in listing and "From the command line" in listing
    refused = runner.invoke(args=["deliveries", "send", "--all-local"])
    assert refused.exit_code != 0 and "passive" in refused.output
    configure_jira(enabled=True)
    result = runner.invoke(args=["deliveries", "send", "--all-local"])
    assert "Queued 1 request(s) for Jira." in result.output
    drain()
    assert reload(request).delivery_state == "sent"
    assert runner.invoke(args=["deliveries", "list"]).output == ""
