"""Jira's rate limits (issue 14, item 13): the simulator enforces them as Atlassian documents
them, the client reads the 429's headers, and a 429 one client or worker meets holds every
other one off what Jira limited, in one process or across worker processes through Redis.
Delivery and the sync under a hold: tests/test_delivery.py and tests/test_sync.py."""
import io
import re
import time
import uuid

import pytest
import requests
from redis import Redis

from tests.jirasim import PORTAL_EMAIL, PORTAL_PAT, PORTAL_TOKEN
from tests.jirasim.portal import configure_portal
from tests.support import PASSWORD
from tests.workers import Workers, wait_for, worker_app
from webapp import delivery, integration, storage
from webapp.cli import create_user
from webapp.extensions import db
from webapp.jira import JiraClient, JiraRateLimitedError, LocalHolds, Pace, RedisHolds
from webapp.models import Attachment, SupportRequest, utcnow

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
    limits = {"burst": 2, "endpoints": {"POST /search/jql": 1}}
    requests.post(jira_sim.url + "/_sim/set_rate_limits", json=limits, timeout=5).raise_for_status()
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


def test_a_call_before_retry_after_passed_fails_again_though_the_budget_has_room(jira_sim):
    """Atlassian: reissued before the retry period expires, the request fails again."""
    jira_sim.set_rate_limits(burst=10)
    statuses = []
    while len(statuses) < 100 and 429 not in statuses:  # the budget refills as calls go (a slow machine)
        statuses.append(call(jira_sim, "GET", "3/myself").status_code)
    assert statuses[-1] == 429 and statuses[:10] == [200] * 10
    time.sleep(0.4)  # room for a few calls again, but Retry-After (1 s) has not passed
    early = call(jira_sim, "GET", "3/myself")
    assert early.status_code == 429 and early.headers["Retry-After"] == "1"
    time.sleep(0.7)
    assert call(jira_sim, "GET", "3/myself").status_code == 200


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


@pytest.mark.parametrize("deployment", ["datacenter"], indirect=True)
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


# The client reads the 429 ---------------------------------------------------------------------

def rate_limited(func, *args):
    with pytest.raises(JiraRateLimitedError) as caught:
        func(*args)
    return caught.value


def test_a_429_says_why_and_what_it_holds_back(jira_sim, jira_client, tmp_path):
    issue = new_issue(jira_client)
    jira_sim.set_rate_limits(burst=1, burst_seconds=30)  # a slow second call still meets it
    jira_client.issue(issue.id)
    burst = rate_limited(jira_client.issue, issue.id)
    assert (burst.reason, burst.scope, burst.limit, burst.remaining, burst.sent) == (
        "jira-burst-based", "GET /issue/{issueIdOrKey}", 1, 0, True)
    assert 20 <= burst.retry_after <= 30
    jira_sim.set_rate_limits(issue_writes=1, issue_write_seconds=5)
    path = tmp_path / "trace.log"
    path.write_bytes(b"line\n")
    jira_client.upload_attachment(issue.id, path)
    per_issue = rate_limited(jira_client.upload_attachment, issue.id, path)
    assert (per_issue.reason, per_issue.scope) == ("jira-per-issue-on-write", f"writes to issue {issue.id}")
    assert 4 <= per_issue.retry_after <= 5


@pytest.mark.parametrize("deployment", ["datacenter"], indirect=True)
def test_a_data_center_429_holds_back_every_call(jira_sim):
    jira_sim.set_rate_limits(user_limit=1)
    jira = JiraClient(jira_sim.url, "", PORTAL_PAT, deployment="datacenter", timeout=(2, 2))
    jira.myself()
    refused = rate_limited(jira.server_info)
    assert (refused.reason, refused.scope, refused.retry_after) == (None, "*", 1.0)


# Holds shared between clients --------------------------------------------------------------

@pytest.fixture(params=["in one process", "in Redis"])
def holds(request):
    if request.param == "in one process":
        yield LocalHolds()
        return
    redis = Redis.from_url(request.getfixturevalue("redis_url"))
    namespace = f"test-{uuid.uuid4().hex[:10]}"
    yield RedisHolds(redis, namespace)
    for key in redis.scan_iter(f"portal:jira-hold:{namespace}:*"):
        redis.delete(key)


def sharing(sim, holds, max_sleep):
    """Two clients, as two workers would hold them, sharing `holds`."""
    return [JiraClient(sim.url, PORTAL_EMAIL, PORTAL_TOKEN, timeout=(2, 2), pace=Pace(holds, max_sleep))
            for _ in range(2)]


def test_a_429_one_client_met_keeps_the_other_off_that_endpoint_only(jira_sim, holds):
    jira_sim.set_rate_limits(endpoints={"POST /issue": 1})
    one, other = sharing(jira_sim, holds, max_sleep=0)
    fields = one.new_issue_fields("SUP", "10002", "Token fails")
    created = one.create_issue(fields)
    rate_limited(one.create_issue, fields)  # Retry-After: 1, for everyone sharing the holds
    held = rate_limited(other.create_issue, fields)
    assert (held.sent, held.scope, held.status) == (False, "POST /issue", 429)
    assert 0 < held.retry_after <= 1
    assert jira_sim.calls["POST /rest/api/3/issue"] == 2  # the held call was never made
    assert other.issue(created.id).key == created.key  # other endpoints go on
    assert [issue.key for issue in other.search("project = SUP")] == [created.key]


def test_a_short_hold_is_waited_out_instead_of_meeting_a_429(jira_sim, holds):
    jira_sim.set_rate_limits(endpoints={"POST /issue": 1})
    one, other = sharing(jira_sim, holds, max_sleep=3)
    fields = one.new_issue_fields("SUP", "10002", "Token fails")
    one.create_issue(fields)
    rate_limited(one.create_issue, fields)
    assert other.create_issue(fields).key == "SUP-2"
    assert dict(jira_sim.limits.refused) == {"POST /rest/api/3/issue": 1}


def test_a_hold_only_grows(holds):
    holds.hold("POST /issue", 5)
    holds.hold("POST /issue", 0.5)  # a shorter Retry-After met meanwhile
    seconds, scope = holds.longest(["*", "POST /issue", "GET /myself"])
    assert scope == "POST /issue" and 4 < seconds <= 5
    assert holds.longest(["GET /myself"])[0] <= 0


# Across real RQ worker processes -----------------------------------------------------------

@pytest.fixture
def rq_app(app_factory, redis_url, tmp_path):
    with worker_app(app_factory, redis_url, tmp_path, "rate") as app:
        yield app


def test_a_429_met_in_one_process_holds_a_worker_process_off_that_endpoint(rq_app, jira_sim, jira_client,
                                                                          tmp_path):
    """Only worker processes run rq_app's jobs (no `app` fixture here: its context would be
    current, with jobs and holds of its own)."""
    configure_portal(jira_sim)
    reporter = create_user("deniz@example.com", PASSWORD)
    issue = new_issue(jira_client, "Created earlier")
    # This process meets the 429, as another worker would: Jira asks everyone to wait 30 s.
    jira_sim.fault("rate_limit", path="/rest/api/3/issue", method="POST", retry_after=30, times=1)
    jira = integration.client(integration.settings())
    rate_limited(jira.create_issue, jira.new_issue_fields("SUP", "10002", "Refused"))
    workers = Workers(rq_app, tmp_path).start()
    try:
        held = delivery.accept(SupportRequest(reporter_id=reporter.id, label="bug", summary="Held",
                                              description="Waits for Jira's Retry-After."))
        # Another endpoint goes on: a file for an issue that exists is uploaded meanwhile.
        stored, size, digest = storage.store_stream(io.BytesIO(b"log line\n"))
        other = SupportRequest(reporter_id=reporter.id, label="bug", summary="Other", description="...",
                               jira_issue_id=issue.id, jira_key=issue.key)
        other.attachments.append(Attachment(original_name="trace.log", content_type="text/plain", size=size,
                                            sha256=digest, stored_name=stored))
        delivery.accept(other)
        assert wait_for(lambda: reread(other).delivery_state == "sent"), workers.logs()
        assert wait_for(lambda: reread(held).last_error is not None), workers.logs()
        held = reread(held)
        assert held.delivery_state == "queued" and held.jira_issue_id is None
        assert (held.next_attempt_at - utcnow()).total_seconds() > 20
        assert jira_sim.calls["POST /rest/api/3/issue"] == 2  # the earlier issue and the refused call
        assert len(jira_sim.state.issues[issue.id]["attachments"]) == 1
    finally:
        workers.stop()


def reread(request):
    db.session.expire_all()
    return db.session.get(SupportRequest, request.id)
