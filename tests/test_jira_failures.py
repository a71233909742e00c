"""Each Jira failure from the product's troubleshooting table, reproduced by the simulator and
surfaced by the client as a readable message in English and Turkish; plus transient faults."""
import logging
import time

import pytest

from tests.jirasim import PORTAL_EMAIL, PORTAL_TOKEN
from webapp.jira import (
    JiraAuthError,
    JiraClient,
    JiraForbiddenError,
    JiraInvalidError,
    JiraNotFoundError,
    JiraRateLimitedError,
    JiraTransientError,
)


def client_for(sim, email=PORTAL_EMAIL, token=PORTAL_TOKEN, timeout=(2, 2)):
    return JiraClient(sim.url, email, token, timeout=timeout)


def new_fields(client, project="SUP", issue_type="10002", **extra):
    return client.new_issue_fields(project, issue_type, "Summary", "Body text", extra=extra)


def test_401_wrong_token_says_check_username_and_token(jira_sim, shown):
    client = client_for(jira_sim, token="wrong-token")
    with pytest.raises(JiraAuthError) as caught:
        client.myself()
    err = caught.value
    assert (err.status, err.transient) == (401, False)
    assert "username" in err.message() and "API token" in err.message()
    assert "Kullanıcı adını" in shown(err.as_message(), "tr") and "API token" in shown(err.as_message(), "tr")
    assert "deprecated" in err.message()   # Jira's plain-text body, quoted


def test_404_project_says_check_key_or_permission(jira_client, shown):
    with pytest.raises(JiraNotFoundError) as caught:
        jira_client.project("NOPE")
    assert "'NOPE'" in caught.value.message() and "permission" in caught.value.message()
    assert "proje anahtarını" in shown(caught.value.as_message(), "tr").lower()
    assert "No project could be found with key 'NOPE'" in caught.value.jira_text()


def test_404_project_invisible_to_the_account(jira_sim):
    with pytest.raises(JiraNotFoundError):
        client_for(jira_sim, "outsider@example.com", "outsider-token").project("SUP")


def test_400_unknown_project_on_create(jira_client, shown):
    with pytest.raises(JiraInvalidError) as caught:
        jira_client.create_issue(new_fields(jira_client, project="NOPE"))
    assert caught.value.errors == {"project": "Specify a valid project ID or key"}
    assert "project key" in caught.value.message()
    assert "Proje anahtarını" in shown(caught.value.as_message(), "tr")


def test_400_issue_type_lists_the_valid_types(jira_client, shown):
    with pytest.raises(JiraInvalidError) as caught:
        jira_client.create_issue(new_fields(jira_client, issue_type="Story"))
    message = caught.value.message()
    assert "not valid for project SUP" in message and "Task (10002), Bug (10004)" in message
    assert "Geçerli tipler: Task (10002), Bug (10004)" in shown(caught.value.as_message(), "tr")


def test_403_account_without_create_permission(jira_sim):
    client = client_for(jira_sim, "viewer@example.com", "viewer-token")
    with pytest.raises(JiraForbiddenError) as caught:
        client.create_issue(new_fields(client))
    assert "permission" in caught.value.message()
    assert client.issue_types("SUP") == []


@pytest.mark.parametrize("extra, field, text", [
    ({"labels": ["has space"]}, "labels", "contains spaces"),
    ({"customfield_10060": "x"}, "customfield_10060", "not on the appropriate screen"),
    ({"customfield_99999": "x"}, "customfield_99999", "cannot be set"),
    ({"customfield_10050": {"value": "Nope"}}, "customfield_10050", "Option value 'Nope'"),
    ({"description": "plain string"}, "description", "Atlassian Document"),
    ({"customfield_10053": "plain"}, "customfield_10053", "Atlassian Document"),
])
def test_400_field_errors_are_per_field(jira_client, extra, field, text):
    with pytest.raises(JiraInvalidError) as caught:
        jira_client.create_issue({**new_fields(jira_client), **extra})
    assert text in caught.value.errors[field]
    assert field in caught.value.message()


def test_400_required_field(jira_client):
    fields = jira_client.new_issue_fields("HELP", "10020", "Summary")
    with pytest.raises(JiraInvalidError) as caught:
        jira_client.create_issue(fields)
    assert caught.value.errors == {"customfield_10050": "Category is required."}


def test_429_carries_retry_after(jira_client, jira_sim, shown):
    jira_sim.fault("rate_limit", retry_after=7, times=1)
    with pytest.raises(JiraRateLimitedError) as caught:
        jira_client.myself()
    assert (caught.value.retry_after, caught.value.transient) == (7.0, True)
    assert "7 s" in caught.value.message() and "7 sn" in shown(caught.value.as_message(), "tr")
    assert jira_client.myself()["emailAddress"] == PORTAL_EMAIL


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_transient_and_html_is_not_dumped(jira_client, jira_sim, status):
    jira_sim.fault("error", status=status, retry_after=3 if status == 503 else None)
    with pytest.raises(JiraTransientError) as caught:
        jira_client.myself()
    assert caught.value.status == status and caught.value.transient
    assert len(caught.value.message()) < 600 and "<p>" not in caught.value.message()
    if status == 503:
        assert caught.value.retry_after == 3.0


@pytest.mark.parametrize("kind", ["timeout", "drop"])
def test_hangs_and_drops_are_transient(jira_sim, kind):
    jira_sim.fault(kind, seconds=3)
    client = client_for(jira_sim, timeout=(0.5, 0.3))
    started = time.monotonic()
    with pytest.raises(JiraTransientError):
        client.server_info()
    assert time.monotonic() - started < 2


def test_jira_down_entirely(jira_sim):
    client = client_for(jira_sim)
    jira_sim.go_down()
    try:
        with pytest.raises(JiraTransientError) as caught:
            client.server_info()
        assert "Could not connect" in str(caught.value)
    finally:
        jira_sim.come_up()
    assert client.server_info()["deploymentType"] == "Cloud"


def test_latency_and_error_rate(jira_client, jira_sim):
    jira_sim.fault("latency", seconds=0.2, times=1)
    started = time.monotonic()
    jira_client.server_info()
    assert time.monotonic() - started >= 0.2
    jira_sim.fault("error", status=500, rate=0.5)
    outcomes = []
    for _ in range(20):
        try:
            jira_client.server_info()
            outcomes.append("ok")
        except JiraTransientError:
            outcomes.append("500")
    assert 3 <= outcomes.count("500") <= 17


def test_token_never_leaks(jira_sim, caplog, shown):
    secret = "very-secret-token-123"
    caplog.set_level(logging.DEBUG)
    client = client_for(jira_sim, token=secret)
    errors = []
    for action in (client.myself, lambda: client.project("SUP")):
        try:
            action()
        except JiraAuthError as exc:
            errors.append(exc)
    jira_sim.state.add_account("secret@example.com", secret, "Holder of the secret")
    jira_sim.fault("error", status=500)
    good = client_for(jira_sim, "secret@example.com", secret)
    try:
        good.server_info()
    except JiraTransientError as exc:
        errors.append(exc)
    jira_sim.go_down()
    try:
        good.server_info()
    except JiraTransientError as exc:
        errors.append(exc)
    finally:
        jira_sim.come_up()
    assert len(errors) == 4
    seen = [caplog.text, repr(client), repr(client._auth), str(vars(client))]
    for exc in errors:
        seen += [str(exc), repr(exc), repr(exc.args), exc.message(), shown(exc.as_message(), "tr"),
                 repr(exc.__cause__), repr(vars(exc))]
    for text in seen:
        assert secret not in text
