"""The simulator itself: spec-valid responses, Jira's rules, control API, webhooks."""
import hashlib
import hmac
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
import requests

from tests.jirasim import PORTAL_EMAIL, PORTAL_TOKEN, validate_response
from webapp.jira import text_to_adf, verify_signature

AUTH = (PORTAL_EMAIL, PORTAL_TOKEN)
ISSUE = {"fields": {"project": {"key": "SUP"}, "issuetype": {"id": "10002"},
                    "summary": "Token fails", "description": text_to_adf("Body"),
                    "labels": ["portal-ref-1"]}}


def call(sim, method, path, **kwargs):
    kwargs.setdefault("auth", AUTH)
    return requests.request(method, sim.url + path, timeout=5, allow_redirects=False, **kwargs)


def assert_spec_valid(response):
    parts = urlsplit(response.request.url)
    query = dict(pair.split("=", 1) for pair in parts.query.split("&") if pair)
    problems = validate_response(response.request.method, parts.path, response.status_code,
                                 dict(response.headers), response.content, query)
    assert problems == [], problems


def test_responses_match_the_official_spec(jira_sim, tmp_path):
    created = call(jira_sim, "POST", "/rest/api/3/issue", json=ISSUE)
    assert created.status_code == 201
    key = created.json()["key"]
    jira_sim.add_comment(key, "Public")
    jira_sim.add_comment(key, "Restricted", visibility={"type": "group", "value": "jira-servicedesk-users"})
    uploaded = call(jira_sim, "POST", f"/rest/api/3/issue/{key}/attachments",
                    headers={"X-Atlassian-Token": "no-check"},
                    files={"file": ("a.txt", b"hello", "text/plain")})
    attachment_id = uploaded.json()[0]["id"]
    responses = [
        created, uploaded,
        call(jira_sim, "GET", "/rest/api/3/serverInfo"),
        call(jira_sim, "GET", "/rest/api/3/myself"),
        call(jira_sim, "GET", "/rest/api/3/project/SUP"),
        call(jira_sim, "GET", "/rest/api/3/project/NOPE"),
        call(jira_sim, "GET", "/rest/api/3/issue/createmeta/HELP/issuetypes"),
        call(jira_sim, "GET", "/rest/api/3/issue/createmeta/SUP/issuetypes/10002"),
        call(jira_sim, "GET", "/rest/api/3/field"),
        call(jira_sim, "GET", "/rest/api/3/attachment/meta"),
        call(jira_sim, "POST", "/rest/api/3/issue", json={"fields": {"project": {"key": "X"}}}),
        call(jira_sim, "GET", f"/rest/api/3/issue/{key}"),
        call(jira_sim, "GET", f"/rest/api/3/issue/{key}", params={"fields": "status,updated"}),
        call(jira_sim, "GET", "/rest/api/3/issue/SUP-999"),
        call(jira_sim, "GET", f"/rest/api/3/issue/{key}/comment"),
        call(jira_sim, "POST", "/rest/api/3/search/jql",
             json={"jql": "project = SUP", "fields": ["*all"], "maxResults": 1}),
        call(jira_sim, "GET", "/rest/api/3/search/jql", params={"jql": "project = SUP"}),
        call(jira_sim, "POST", "/rest/api/3/search/jql", json={"jql": "key in (SUP-77)"}),
        call(jira_sim, "GET", f"/rest/api/3/attachment/content/{attachment_id}"),
        call(jira_sim, "GET", f"/rest/api/3/attachment/content/{attachment_id}",
             params={"redirect": "false"}),
    ]
    for response in responses:
        assert_spec_valid(response)
    assert [r.status_code for r in responses] == [201, 200, 200, 200, 200, 404, 200, 200, 200,
                                                  200, 400, 200, 200, 404, 200, 200, 200, 400,
                                                  303, 200]


def test_sim_records_requests_that_break_the_spec(jira_sim):
    call(jira_sim, "POST", "/rest/api/3/search/jql", json={"jql": "project = SUP", "bogus": 1})
    call(jira_sim, "GET", "/rest/api/3/issue/createmeta/SUP/issuetypes", params={"maxResults": 500})
    assert len(jira_sim.spec_violations) == 2
    assert "bogus" in jira_sim.spec_violations[0]
    jira_sim.spec_violations.clear()


def test_removed_search_endpoint(jira_sim):
    response = call(jira_sim, "GET", "/rest/api/3/search", params={"jql": "project = SUP"})
    assert response.status_code == 410
    assert "/rest/api/3/search/jql" in response.json()["errorMessages"][0]


def test_attachment_rules(jira_sim):
    key = call(jira_sim, "POST", "/rest/api/3/issue", json=ISSUE).json()["key"]
    files = {"file": ("a.bin", b"x" * 2000)}
    no_token = call(jira_sim, "POST", f"/rest/api/3/issue/{key}/attachments", files=files)
    assert (no_token.status_code, no_token.text) == (403, "XSRF check failed")
    jira_sim.set_upload_limit(1000)
    too_big = call(jira_sim, "POST", f"/rest/api/3/issue/{key}/attachments", files=files,
                   headers={"X-Atlassian-Token": "no-check"})
    assert too_big.status_code == 413


@pytest.mark.parametrize("jql, status, message", [
    ("", 400, "Unbounded"),
    ("ORDER BY updated", 400, "Unbounded"),
    ("key in (SUP-1, SUP-99)", 400, "An issue with key 'SUP-99' does not exist"),
    ("project = NOPE", 400, "The value 'NOPE' does not exist for the field 'project'"),
    ("priority = High", 400, "Field 'priority' does not exist"),
    ('updated >= "yesterday"', 400, "Date value 'yesterday'"),
])
def test_jql_errors(jira_sim, jql, status, message):
    call(jira_sim, "POST", "/rest/api/3/issue", json=ISSUE)
    response = call(jira_sim, "POST", "/rest/api/3/search/jql", json={"jql": jql})
    assert response.status_code == status
    assert message in response.json()["errorMessages"][0]


def test_jql_subset(jira_client, jira_sim):
    for n in range(4):
        body = json.loads(json.dumps(ISSUE))
        body["fields"]["labels"] = [f"portal-ref-{n}"]
        call(jira_sim, "POST", "/rest/api/3/issue", json=body)
    jira_sim.set_updated("SUP-1", minutes_ago=60 * 24 * 3)
    since = (datetime.now(timezone.utc) - timedelta(days=1)).strftime("%Y-%m-%d %H:%M")
    keys = lambda jql: [i.key for i in jira_client.search(jql)]
    assert keys(f'project = SUP AND updated >= "{since}" ORDER BY updated DESC') == \
        ["SUP-4", "SUP-3", "SUP-2"]
    assert keys('labels = "portal-ref-2" AND project = SUP') == ["SUP-3"]
    assert keys("project = SUP AND updated < -1d") == ["SUP-1"]
    assert keys('status = "To Do" AND key in (SUP-1, SUP-2) ORDER BY key ASC') == ["SUP-1", "SUP-2"]


def test_pages_are_capped_and_anonymous_search_is_empty(jira_sim):
    for _ in range(3):
        call(jira_sim, "POST", "/rest/api/3/issue", json=ISSUE)
    jira_sim.page_cap = 2
    try:
        page = call(jira_sim, "POST", "/rest/api/3/search/jql",
                    json={"jql": "project = SUP", "maxResults": 1000}).json()
    finally:
        jira_sim.page_cap = 100
    assert len(page["issues"]) == 2 and page["isLast"] is False and page["nextPageToken"]
    anonymous = call(jira_sim, "POST", "/rest/api/3/search/jql", auth=None,
                     json={"jql": "project = SUP"})
    assert anonymous.json() == {"issues": [], "isLast": True}


def test_concurrent_creates_get_unique_keys(jira_sim):
    with ThreadPoolExecutor(8) as pool:
        keys = list(pool.map(lambda _: call(jira_sim, "POST", "/rest/api/3/issue",
                                            json=ISSUE).json()["key"], range(24)))
    assert sorted(keys, key=lambda k: int(k[4:])) == [f"SUP-{n}" for n in range(1, 25)]


def test_control_over_http_and_call_counts(jira_sim):
    key = call(jira_sim, "POST", "/rest/api/3/issue", json=ISSUE).json()["key"]
    assert requests.post(f"{jira_sim.url}/_sim/set_status",
                         json={"key": key, "status": "In Progress"}, timeout=5).ok
    assert requests.post(f"{jira_sim.url}/_sim/add_comment",
                         json={"key": key, "text": "note", "internal": True}, timeout=5).ok
    issue = call(jira_sim, "GET", f"/rest/api/3/issue/{key}").json()
    assert issue["fields"]["status"]["statusCategory"]["key"] == "indeterminate"
    assert issue["fields"]["comment"]["comments"][0]["jsdPublic"] is False
    calls = requests.get(f"{jira_sim.url}/_sim/calls", timeout=5).json()
    assert calls["POST /rest/api/3/issue"] == 1
    assert calls["GET /rest/api/3/issue/{issueIdOrKey}"] == 1
    assert requests.post(f"{jira_sim.url}/_sim/delete_issue", json={"key": key}, timeout=5).ok
    assert call(jira_sim, "GET", f"/rest/api/3/issue/{key}").status_code == 404
    assert requests.post(f"{jira_sim.url}/_sim/nope", json={}, timeout=5).status_code == 404


class _Receiver(BaseHTTPRequestHandler):
    received = []
    statuses = []   # answers to give, in order; then 204

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((dict(self.headers), body))
        self.send_response(self.statuses.pop(0) if self.statuses else 204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def hook_url():
    """A tiny receiver for webhooks; what it got is in ``_Receiver.received``."""
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    _Receiver.received, _Receiver.statuses = [], []
    yield f"http://127.0.0.1:{receiver.server_address[1]}/hooks/jira"
    receiver.shutdown()
    receiver.server_close()


def test_signed_webhooks(jira_sim, hook_url):
    jira_sim.register_webhook(hook_url, "s3cret")
    key = call(jira_sim, "POST", "/rest/api/3/issue", json=ISSUE).json()["key"]
    jira_sim.set_status(key, "Done")
    jira_sim.add_comment(key, "Fixed.")
    jira_sim.flush_webhooks()
    events = [json.loads(body)["webhookEvent"] for _, body in _Receiver.received]
    assert events == ["jira:issue_created", "jira:issue_updated", "comment_created"]
    for headers, body in _Receiver.received:
        expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
        assert headers["X-Hub-Signature"] == f"sha256={expected}"
        assert verify_signature("s3cret", body, headers["X-Hub-Signature"])
        assert not verify_signature("other", body, headers["X-Hub-Signature"])
        assert not verify_signature("s3cret", body + b" ", headers["X-Hub-Signature"])
        assert not verify_signature("s3cret", body, "sha1=" + expected)
        assert not verify_signature("s3cret", body, None)
        assert headers["X-Atlassian-Webhook-Identifier"]
    status_change = json.loads(_Receiver.received[1][1])
    assert status_change["changelog"]["items"][0]["toString"] == "Done"
    assert [d["status"] for d in jira_sim.webhooks.deliveries] == [204, 204, 204]


def test_failed_webhook_deliveries_are_retried(jira_sim, hook_url):
    _Receiver.statuses = [503, 500]
    jira_sim.register_webhook(hook_url, "s")
    call(jira_sim, "POST", "/rest/api/3/issue", json=ISSUE)
    jira_sim.flush_webhooks()
    assert [d["status"] for d in jira_sim.webhooks.deliveries] == [503, 500, 204]
    headers = [h for h, _ in _Receiver.received]
    assert [h.get("X-Atlassian-Webhook-Retry") for h in headers] == [None, "1", "2"]
    assert len({h["X-Atlassian-Webhook-Identifier"] for h in headers}) == 1


@pytest.mark.parametrize("what", ["create", "upload", "comment"])
def test_late_commit_lands_after_the_client_hung_up(jira_sim, what):
    """Jira finishes what it started: a create, an upload or a comment whose caller timed
    out still lands, seconds later."""
    auth = (PORTAL_EMAIL, PORTAL_TOKEN)
    issue = requests.post(jira_sim.url + "/rest/api/3/issue", auth=auth, timeout=5, json={"fields": {
        "project": {"key": "SUP"}, "issuetype": {"id": "10002"}, "summary": "Late"}}).json()
    calls = {
        "create": ("/rest/api/3/issue", {"json": {"fields": {"project": {"key": "SUP"},
                                                              "issuetype": {"id": "10002"}, "summary": "Late 2"}}}),
        "upload": (f"/rest/api/3/issue/{issue['id']}/attachments",
                   {"files": {"file": ("late.txt", b"late")}, "headers": {"X-Atlassian-Token": "no-check"}}),
        "comment": (f"/rest/api/3/issue/{issue['id']}/comment", {"json": {"body": text_to_adf("Late words")}}),
    }
    path, options = calls[what]
    jira_sim.fault("late_commit", path=path, method="POST", seconds=1.0, times=1)
    with pytest.raises(requests.Timeout):
        requests.post(jira_sim.url + path, auth=auth, timeout=0.3, **options)
    landed = {
        "create": lambda: any(i["fields"].get("summary") == "Late 2" for i in jira_sim.state.issues.values()),
        "upload": lambda: any(a["filename"] == "late.txt" for a in jira_sim.state.attachments.values()),
        "comment": lambda: len(jira_sim.state.issues[issue["id"]]["comments"]) == 1,
    }[what]
    assert not landed()  # not yet: Jira is still at it
    deadline = datetime.now() + timedelta(seconds=5)
    while not landed() and datetime.now() < deadline:
        threading.Event().wait(0.05)
    assert landed()


@pytest.mark.parametrize("deployment", ["datacenter"], indirect=True)
def test_data_center_says_so_in_its_own_words(jira_sim):
    from tests.jirasim import PORTAL_PAT
    bearer = {"Authorization": f"Bearer {PORTAL_PAT}"}
    missing = requests.get(jira_sim.url + "/rest/api/2/issue/SUP-999", headers=bearer, timeout=5)
    assert missing.status_code == 404 and missing.json()["errorMessages"] == ["Issue Does Not Exist"]
    assert requests.get(jira_sim.url + "/rest/api/3/myself", headers=bearer, timeout=5).status_code == 404
    basic = requests.get(jira_sim.url + "/rest/api/2/myself", auth=(PORTAL_EMAIL, PORTAL_TOKEN), timeout=5)
    assert basic.status_code == 401 and "Basic Authentication has been disabled" in basic.text
    assert requests.get(jira_sim.url + "/rest/api/2/serverInfo", headers=bearer, timeout=5).json()[
        "deploymentType"] == "DataCenter"


def test_project_statuses_are_shaped_as_jira_answers(jira_sim):
    response = call(jira_sim, "GET", "/rest/api/3/project/SUP/statuses")
    assert_spec_valid(response)
    task = response.json()[0]
    assert (task["id"], task["name"], task["subtask"]) == ("10002", "Task", False)
    waiting = next(s for s in task["statuses"] if s["id"] == "10001")
    assert waiting["name"] == "Waiting for customer"
    assert waiting["statusCategory"]["key"] == "indeterminate" and waiting["statusCategory"]["id"] == 4
    missing = call(jira_sim, "GET", "/rest/api/3/project/NOPE/statuses")
    assert missing.status_code == 404
    assert missing.json()["errorMessages"] == ["No project could be found with key 'NOPE'."]
