"""The admin's view of deliveries, and the same from the command line."""
import pytest
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import SupportRequest
from tests.test_delivery import issues_in, new_request, reload


@pytest.fixture
def app(app_factory):
    # No test here waits on a timeout: a loaded machine's slow answer must not look like one.
    app = app_factory(DELIVERY_RETRY_BASE_SECONDS=0.05, SEARCH_LAG_SECONDS=0.2, JIRA_TIMEOUT=(5, 5))
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


# Send without this file (a file Jira will never take, or the portal lost) -----------------

def failed_over_a_file(client, configure_jira, reporter, drain, jira_sim, break_file):
    """A request with two files whose second one fails for good (`break_file` makes it so);
    Retry fails again. Returns the request and its two Attachment rows."""
    configure_jira()
    request = new_request(reporter, files=[("trace.log", b"log line\n", "text/plain"),
                                           ("dump.bin", b"x" * 4096, "application/octet-stream")],
                          accept=False)
    break_file(request.attachments[1])
    from webapp import delivery
    delivery.accept(request)
    drain()
    assert reload(request).delivery_state == "failed"
    client.post("/admin/deliveries/send", data={"ids": [str(request.id)], "state": "failed"})
    drain()
    request = reload(request)
    assert request.delivery_state == "failed"  # a plain Retry repeats the failure
    return request, request.attachments


def jira_files_of(jira_sim, request):
    return [attachment["filename"] for attachment in jira_sim.state.attachments.values()
            if attachment["issue"] == request.jira_issue_id]


@pytest.mark.parametrize("cause, user_sees", [
    ("too_large", "Not sent to the support team: Jira refused it as too large."),
    ("missing", "Not sent to the support team: the portal lost its stored copy."),
])
def test_a_failed_file_can_be_left_out_and_the_request_goes_on(client, admin, configure_jira, reporter, drain,
                                                               jira_sim, cause, user_sees):
    from webapp import storage

    def breaks(attachment):
        if cause == "too_large":
            jira_sim.set_upload_limit(1024)
        else:
            storage.remove(attachment.stored_name)
    request, (sent, left) = failed_over_a_file(client, configure_jira, reporter, drain, jira_sim, breaks)
    assert request.jira_key and jira_files_of(jira_sim, request) == ["trace.log"]
    page = client.get("/admin/deliveries?state=failed").data.decode()
    leave_out = f"/admin/deliveries/files/{left.id}/leave-out"
    assert leave_out in page and "Send without this file" in page
    assert f"/admin/deliveries/files/{sent.id}/leave-out" not in page  # only the file that failed
    response = client.post(leave_out)
    assert response.status_code == 303
    drain()
    request = reload(request)
    assert request.delivery_state == "sent" and request.last_error is None
    assert jira_files_of(jira_sim, request) == ["trace.log"]  # the good file once, the other never
    assert "is queued for Jira without dump.bin" in client.get("/admin/deliveries").data.decode()
    detail = client.get(f"/requests/{request.id}").data.decode()
    assert user_sees in detail and detail.count("Not sent to the support team") == 1
    audit = client.get("/admin/audit").data.decode()
    assert "Request sent on without a file" in audit and "dump.bin" in audit


def test_with_attachments_turned_off_in_jira_the_request_goes_on_without_its_files(
        client, admin, configure_jira, reporter, drain, jira_sim):
    request, files = failed_over_a_file(client, configure_jira, reporter, drain, jira_sim,
                                        lambda attachment: jira_sim.set_attachments_enabled(False))
    for _ in files:  # each file in turn is refused, and left out
        (refused,) = [a for a in reload(request).attachments if a.may_be_left_out()]
        client.post(f"/admin/deliveries/files/{refused.id}/leave-out")
        drain()
    request = reload(request)
    assert request.delivery_state == "sent" and jira_files_of(jira_sim, request) == []
    assert len(issues_in(jira_sim)) == 1
    detail = client.get(f"/requests/{request.id}").data.decode()
    assert detail.count("Not sent to the support team: Jira did not accept it.") == 2


def test_a_file_can_be_left_out_only_of_a_request_it_failed(client, admin, configure_jira, reporter, drain,
                                                            jira_sim):
    request, (sent, left) = failed_over_a_file(client, configure_jira, reporter, drain, jira_sim,
                                               lambda attachment: jira_sim.set_upload_limit(1024))
    refused = client.post(f"/admin/deliveries/files/{sent.id}/leave-out")  # it did not fail
    assert refused.status_code == 303
    assert "can no longer be left out" in client.get("/admin/deliveries").data.decode()
    configure_jira(enabled=False)
    client.post(f"/admin/deliveries/files/{left.id}/leave-out")
    assert "The integration is passive" in client.get("/admin/deliveries").data.decode()
    assert reload(request).delivery_state == "failed"
    assert db.session.get(type(left), left.id).not_sent_at is None
    assert client.post("/admin/deliveries/files/999999/leave-out").status_code == 404


def test_a_file_fixed_in_jira_goes_with_a_plain_retry(client, admin, configure_jira, reporter, drain, jira_sim):
    request, (sent, left) = failed_over_a_file(client, configure_jira, reporter, drain, jira_sim,
                                               lambda attachment: jira_sim.set_upload_limit(1024))
    jira_sim.set_upload_limit(10 * 1024 * 1024)  # the Jira admin raised the limit
    client.post("/admin/deliveries/send", data={"ids": [str(request.id)], "state": "failed"})
    drain()
    request = reload(request)
    assert request.delivery_state == "sent"
    assert sorted(jira_files_of(jira_sim, request)) == ["dump.bin", "trace.log"]
    assert all(a.send_problem is None and a.not_sent_at is None for a in request.attachments)
    assert "Not sent to the support team" not in client.get(f"/requests/{request.id}").data.decode()
