"""Jira's rate limits (issue 14, item 13): the simulator enforces them as Atlassian documents
them."""
import re

import requests

from tests.jirasim import PORTAL_EMAIL, PORTAL_PAT, PORTAL_TOKEN

AUTH = (PORTAL_EMAIL, PORTAL_TOKEN)
ATTACH = {"X-Atlassian-Token": "no-check"}
SEARCH = {"jql": "project = SUP", "fields": ["status"]}


def call(sim, method, path, **kwargs):
    kwargs.setdefault("auth", AUTH)
    return requests.request(method, sim.url + "/rest/api/" + path, timeout=5, **kwargs)


def attach(sim, issue):
    return call(sim, "POST", f"3/issue/{issue}/attachments", headers=ATTACH,
                files={"file": ("a.txt", b"hello", "text/plain")})


def new_issue(jira_client, summary="Token fails"):
    return jira_client.create_issue(jira_client.new_issue_fields("SUP", "10002", summary))


# The simulator -------------------------------------------------------------------------------

def test_each_endpoint_and_method_has_a_burst_budget_of_its_own(jira_sim):
    requests.post(jira_sim.url + "/_sim/set_rate_limits", json={"burst": 2, "endpoints": {"POST /search/jql": 1}},
                  timeout=5).raise_for_status()
    first, second, refused = (call(jira_sim, "GET", "3/myself") for _ in range(3))
    assert [first.status_code, second.status_code, refused.status_code] == [200, 200, 429]
    assert (first.headers["X-RateLimit-Limit"], first.headers["X-RateLimit-Remaining"]) == ("2", "1")
    assert "X-RateLimit-NearLimit" not in first.headers
    assert second.headers["X-RateLimit-NearLimit"] == "true"  # less than 20% left
    assert refused.headers["RateLimit-Reason"] == "jira-burst-based"
    assert refused.headers["Retry-After"] == "1" and refused.headers["X-RateLimit-Remaining"] == "0"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\dZ", refused.headers["X-RateLimit-Reset"])
    # Other endpoints, and the same path with another method, go on.
    assert call(jira_sim, "POST", "3/search/jql", json=SEARCH).status_code == 200
    assert call(jira_sim, "POST", "3/search/jql", json=SEARCH).status_code == 429
    assert call(jira_sim, "GET", "3/search/jql", params={"jql": "project = SUP"}).status_code == 200
    assert dict(jira_sim.limits.refused) == {"GET /rest/api/3/myself": 1, "POST /rest/api/3/search/jql": 1}
    assert requests.get(jira_sim.url + "/_sim/refused", timeout=5).json()["GET /rest/api/3/myself"] == 1


def test_writes_to_one_issue_share_a_budget_of_their_own(jira_sim, jira_client):
    first, second = new_issue(jira_client), new_issue(jira_client)
    jira_sim.set_rate_limits(issue_writes=1, issue_write_seconds=10)
    assert attach(jira_sim, first.key).status_code == 200
    refused = attach(jira_sim, first.id)  # by id or by key: the same issue
    assert refused.status_code == 429
    assert refused.headers["RateLimit-Reason"] == "jira-per-issue-on-write"
    assert 9 <= int(refused.headers["Retry-After"]) <= 10
    assert attach(jira_sim, second.key).status_code == 200  # another issue
    assert call(jira_sim, "GET", f"3/issue/{first.key}").status_code == 200  # a read


def test_data_center_limits_each_user_over_every_endpoint(jira_sim):
    jira_sim.set_rate_limits(user_limit=1, burst=100)
    bearer = {"Authorization": f"Bearer {PORTAL_PAT}"}
    answered = call(jira_sim, "GET", "2/myself", auth=None, headers=bearer)
    refused = call(jira_sim, "GET", "2/serverInfo", auth=None, headers=bearer)  # another endpoint
    assert (answered.status_code, refused.status_code) == (200, 429)
    assert {name: answered.headers[name] for name in ("X-RateLimit-Limit", "X-RateLimit-FillRate",
                                                      "X-RateLimit-Interval-Seconds", "Retry-After")} == {
        "X-RateLimit-Limit": "1", "X-RateLimit-FillRate": "1", "X-RateLimit-Interval-Seconds": "1",
        "Retry-After": "0"}
    assert refused.headers["Retry-After"] == "1" and "RateLimit-Reason" not in refused.headers
    assert call(jira_sim, "GET", "3/myself").status_code == 200  # Cloud's budget is another
