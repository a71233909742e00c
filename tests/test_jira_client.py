"""The Jira client against the simulator, end to end over HTTP.

Every request is checked against Atlassian's OpenAPI spec by the ``jira_sim`` fixture.
"""
import io

import pytest

from tests.jirasim import PORTAL_EMAIL, PORTAL_PAT, PORTAL_TOKEN
from tests.jirasim.fixtures import both_deployments
from webapp.jira import (
    JiraClient,
    JiraInvalidError,
    JiraNotFoundError,
    adf_to_text,
    check_connection,
    reference_label,
    shape_field_value,
)
from webapp.jira.texts import render


def test_connection_checks(jira_client):
    assert jira_client.server_info()["deploymentType"] == "Cloud"
    assert jira_client.myself()["emailAddress"] == PORTAL_EMAIL
    project = jira_client.project("SUP")
    assert (project["key"], project["projectTypeKey"]) == ("SUP", "software")
    assert jira_client.project("HELP")["projectTypeKey"] == "service_desk"
    assert [t["name"] for t in jira_client.issue_types("SUP")] == ["Task", "Bug"]
    fields = {f["fieldId"]: f for f in jira_client.create_fields("SUP", "10002")}
    assert fields["customfield_10050"]["allowedValues"][0]["value"] == "Billing"
    assert "customfield_10060" not in fields
    assert any(f["id"] == "customfield_10060" for f in jira_client.fields())
    assert jira_client.attachment_settings()["enabled"] is True


def test_create_metadata_is_paged(jira_client, jira_sim):
    fields = list(jira_client._pages("/issue/createmeta/SUP/issuetypes/10002", ("fields",),
                                     page_size=2))
    assert len(fields) == 13
    assert jira_sim.calls["GET /rest/api/3/issue/createmeta/{projectIdOrKey}/issuetypes/{issueTypeId}"] == 7


def _portal_fields(client, reference="r1", **overrides):
    meta = {f["fieldId"]: f["schema"] for f in client.create_fields("SUP", "10002")}
    shaped = {fid: shape_field_value(meta[fid], value, client.deployment) for fid, value in (
        ("customfield_10050", "Payments"), ("customfield_10051", "Payments API"),
        ("customfield_10052", "/payments/v1"), ("customfield_10053", "Details\nhere"),
        ("customfield_10055", ["Web", "iOS"]))}
    extra = {**shaped, **overrides}
    return client.new_issue_fields(
        "SUP", "10002", "Cannot get a token",
        "Hello,\nthe token call fails.\n\nSee https://api.example.com/docs now.",
        labels=["api-portal", reference_label(reference)], extra=extra)


def test_create_and_read_issue(jira_client, jira_sim):
    created = jira_client.create_issue(_portal_fields(jira_client))
    assert created.key == "SUP-1" and created.id.isdigit()
    issue = jira_client.issue(created.key, fields=("status", "updated", "attachment"))
    assert (issue.id, issue.key) == (created.id, created.key)
    assert (issue.status.name, issue.status.category) == ("To Do", "new")
    assert issue.updated is not None and issue.attachments == ()
    stored = jira_sim.state.issues[created.id]["fields"]  # what Jira keeps, as it keeps it
    assert stored["customfield_10050"] == {"value": "Payments"}
    assert "portal-ref-r1" in stored["labels"]
    assert "https://api.example.com/docs" in adf_to_text(stored["description"])


def test_find_issue_by_reference_prevents_duplicates(jira_client, jira_sim):
    assert jira_client.find_issue_by_reference("SUP", "r-42") is None
    jira_sim.fault("lost_reply", path="/rest/api/3/issue", method="POST", times=1)
    with pytest.raises(Exception) as failed:
        jira_client.create_issue(_portal_fields(jira_client, "r-42"))
    assert failed.value.transient
    found = jira_client.find_issue_by_reference("SUP", "r-42")
    assert found.key == "SUP-1"
    assert len(jira_sim.state.issues) == 1


def test_upload_and_download_attachment(jira_client, jira_sim, tmp_path):
    key = jira_client.create_issue(_portal_fields(jira_client)).key
    path = tmp_path / "log.txt"
    path.write_bytes(bytes(range(256)) * 1000 + b"\r\n\r\n")
    uploaded = jira_client.upload_attachment(key, str(path), filename="sunucu günlüğü.txt")
    assert uploaded[0].filename == "sunucu günlüğü.txt" and uploaded[0].size == 256_004
    assert uploaded[0].mime_type == "text/plain"
    assert jira_client.files(key) == uploaded
    out = io.BytesIO()
    assert jira_client.download_attachment(uploaded[0].id, out) == 256_004
    assert out.getvalue() == path.read_bytes()
    # Jira's 303 goes to another host: the credentials must not follow it.
    assert jira_sim.media_requests == [{"path": f"/_media/{uploaded[0].id}",
                                        "authorization": False}]


def test_search_pages_with_next_page_token(jira_client, jira_sim):
    for n in range(7):
        jira_client.create_issue(_portal_fields(jira_client, f"p{n}"))
    issues = list(jira_client.search('project = "SUP" ORDER BY updated ASC', page_size=3))
    assert [i.key for i in issues] == [f"SUP-{n}" for n in range(1, 8)]
    assert jira_sim.calls["POST /rest/api/3/search/jql"] == 3


def test_search_updated_since(jira_client, jira_sim):
    for n in range(3):
        jira_client.create_issue(_portal_fields(jira_client, f"u{n}"))
    jira_sim.set_updated("SUP-1", minutes_ago=30)
    jira_sim.set_updated("SUP-2", minutes_ago=3)
    recent = jira_client.search("project = SUP AND updated >= -10m ORDER BY updated ASC")
    assert [i.key for i in recent] == ["SUP-2", "SUP-3"]
    by_id = jira_client.search("id in (10001, 10003)")
    assert sorted(i.key for i in by_id) == ["SUP-1", "SUP-3"]


def test_status_changes_show_in_search(jira_client, jira_sim):
    key = jira_client.create_issue(_portal_fields(jira_client)).key
    jira_sim.set_status(key, "Done")
    (issue,) = jira_client.search(f"key in ({key})")
    assert (issue.status.name, issue.status.category) == ("Done", "done")


@both_deployments
def test_comments_carry_visibility_and_jsd_public(jira_client, jira_sim):
    key = jira_client.create_issue(_portal_fields(jira_client)).key
    jira_sim.add_comment(key, "We are on it.")
    jira_sim.add_comment(key, "Internal note", internal=True)
    jira_sim.add_comment(key, "Admins only", visibility={"type": "role", "value": "Administrators"})
    for n in range(3):
        jira_sim.add_comment(key, f"more {n}")
    comments = list(jira_client.comments(key, page_size=2))
    assert len(comments) == 6
    public = [c for c in comments if c.public]
    assert [c.body_html for c in public] == [
        "<p>We are on it.</p>", "<p>more 0</p>", "<p>more 1</p>", "<p>more 2</p>"]
    assert public[0].author == "Mia Agent" and public[0].created is not None
    # The internal note (jsdPublic false) and the role-restricted one keep nothing to show.
    assert [(c.public, c.author, c.body_html) for c in comments[1:3]] == [(False, "", "")] * 2


def test_moved_issue_keeps_id(jira_client, jira_sim):
    created = jira_client.create_issue(_portal_fields(jira_client))
    new_key = jira_sim.move_issue(created.key, "HELP")
    assert jira_client.issue(created.id).key == new_key


@pytest.mark.parametrize("deployment", ["datacenter"], indirect=True)
def test_data_center_uses_bearer_v2_and_wiki(jira_sim):
    client = JiraClient(jira_sim.url + "/browse/SUP-1", "", PORTAL_PAT, deployment="datacenter",
                        timeout=(2, 2))
    assert client.myself()["displayName"] == "Portal Bot"
    meta = {f["fieldId"]: f["schema"] for f in client.create_fields("SUP", "10002")}
    fields = client.new_issue_fields("SUP", "Task", "DC issue", "Line *one*\nline two",
                                     labels=["dc"], extra={"customfield_10053": shape_field_value(
                                         meta["customfield_10053"], "notes", "datacenter")})
    created = client.create_issue(fields)
    assert jira_sim.calls["POST /rest/api/2/issue"] == 1
    assert client.issue(created.key).key == created.key
    assert jira_sim.state.issues[created.id]["fields"]["description"] == "Line \\*one\\*\nline two"
    assert [i.key for i in client.search("project = SUP")] == [created.key]
    assert jira_sim.calls["POST /rest/api/2/search"] == 1
    jira_sim.add_comment(created.key, "Thanks,\nwe <b>fixed</b> it with *care*.")
    (comment,) = client.comments(created.key)  # Jira's rendering of the wiki markup
    assert comment.body_html == "<p>Thanks,<br>\nwe &lt;b&gt;fixed&lt;/b&gt; it with <strong>care</strong>.</p>"
    assert jira_sim.calls["GET /rest/api/3/myself"] == 0  # v2 only


def test_check_connection_reports_each_step(jira_client):
    report = check_connection(jira_client, "SUP", "Task",
                              ["customfield_10050", "customfield_10051", "customfield_10060"],
                              labels=["bug", "portal"])
    assert [(s.name, s.ok) for s in report.steps] == [
        ("server", True), ("myself", True), ("project", True), ("issue_type", True),
        ("customfield_10050", True), ("customfield_10051", True), ("customfield_10060", False),
        ("labels", True), ("attachments", True)]
    assert "options: Billing, Payments, Other" in render(report.steps[4].message)
    assert not report.ok and report.issue_type_id == "10002"
    assert report.field_schemas["customfield_10050"]["custom"].endswith(":select")
    assert report.upload_limit == 10 * 1024 * 1024


@pytest.mark.parametrize("token, project, issue_type, last, text", [
    ("bad", "SUP", "Task", "myself", "API token"),
    (PORTAL_TOKEN, "NOPE", "Task", "project", "'NOPE' was not found"),
    (PORTAL_TOKEN, "SUP", "Story", "issue_type", "Valid types: Task (10002), Bug (10004)"),
])
def test_check_connection_stops_at_the_first_failure(jira_sim, shown, token, project, issue_type,
                                                     last, text):
    client = JiraClient(jira_sim.url, PORTAL_EMAIL, token, timeout=(2, 2))
    report = check_connection(client, project, issue_type)
    assert report.steps[-1].name == last and not report.steps[-1].ok
    assert text in render(report.steps[-1].message)
    assert shown(report.steps[-1].message, "tr") not in ("", render(report.steps[-1].message))


@both_deployments
def test_a_candidate_issue_is_found_past_search_lag(jira_sim, jira_client, deployment):
    """Search hides an issue for a while after it was created; named as a candidate, it is
    found at once: in reconcileIssues on Cloud, read directly on Data Center."""
    client = jira_client
    created = client.create_issue(client.new_issue_fields("SUP", "10002", "Late", labels=["portal-ref-PR-LATE1"]))
    other = client.create_issue(client.new_issue_fields("SUP", "10002", "Other", labels=["x"]))
    jira_sim.search_lag = 60
    assert client.find_issue_by_reference("SUP", "PR-LATE1") is None  # search does not show it yet
    assert client.find_issue_by_reference("SUP", "PR-LATE1", candidate=created.id) == created
    assert client.find_issue_by_reference("SUP", "PR-LATE1", candidate=other.id) is None  # not its label
    assert client.find_issue_by_reference("SUP", "PR-LATE1", candidate="99999") is None  # no such issue
    if deployment == "cloud":
        assert jira_sim.calls.get("GET /rest/api/3/issue/" + created.id, 0) == 0


@both_deployments
def test_project_statuses_are_read_once_each(jira_client, jira_sim):
    jira_sim.state.projects["SUP"]["issue_types"][1]["statuses"] = ["10000", "10002"]
    statuses = jira_client.statuses("SUP")
    assert [(s.id, s.name, s.category) for s in statuses] == [
        ("10000", "To Do", "new"), ("3", "In Progress", "indeterminate"),
        ("10001", "Waiting for customer", "indeterminate"), ("10002", "Done", "done")]
    api = "/rest/api/2" if jira_sim.deployment == "datacenter" else "/rest/api/3"
    assert jira_sim.calls[f"GET {api}/project/{{projectIdOrKey}}/statuses"] == 1


@both_deployments
def test_transitions_are_those_valid_now_and_one_is_applied(jira_client, jira_sim):
    key = jira_client.create_issue(_portal_fields(jira_client)).key
    names = {t.name: t for t in jira_client.transitions(key)}
    assert set(names) == {"Start progress", "Resolve"}  # from To Do only
    resolve = names["Resolve"]
    assert (resolve.id, resolve.to.name, resolve.to.category, resolve.has_screen) == ("31", "Done", "done", False)
    jira_client.transition(key, resolve.id)
    assert jira_client.issue(key).status.name == "Done"
    assert [t.name for t in jira_client.transitions(key)] == ["Reopen"]
    with pytest.raises(JiraInvalidError) as refused:  # not valid from Done
        jira_client.transition(key, resolve.id)
    assert "is not valid for this issue" in str(refused.value.message())
    jira_sim.require_field("Reopen", "resolution")
    (reopen,) = jira_client.transitions(key)
    assert reopen.has_screen
    with pytest.raises(JiraInvalidError) as refused:
        jira_client.transition(key, reopen.id)
    assert refused.value.errors == {"resolution": "Resolution is required."}
    jira_sim.hide_transition("Reopen")
    assert jira_client.transitions(key) == []
    with pytest.raises(JiraNotFoundError):
        jira_client.transitions("SUP-999")
    assert jira_sim.spec_violations == []
