"""Nothing lost, nothing duplicated: real RQ worker processes are SIGKILLed at the worst
moments of a delivery, Redis is flushed, and every request still ends as exactly one Jira
issue with each attachment uploaded once; a reply, as exactly one comment."""
import io
import re

import pytest

from tests.jirasim.fixtures import both_deployments
from tests.workers import Workers, wait_for, worker_app
from webapp import delivery, storage
from webapp.extensions import db
from webapp.models import Attachment, Reply, SupportRequest
from webapp.replies import accept_reply


pytestmark = both_deployments


@pytest.fixture
def app(app_factory, redis_url, tmp_path):
    with worker_app(app_factory, redis_url, tmp_path, "kill") as app:
        yield app


@pytest.fixture
def workers(app, tmp_path):
    # A worker killed mid-call leaves a create that may land for two read timeouts: short
    # ones keep the tests short.
    workers = Workers(app, tmp_path, JIRA_READ_TIMEOUT=3)
    yield workers
    workers.stop()


@pytest.fixture
def reporter(make_user):
    return make_user(email="deniz@example.com", name="Deniz Yılmaz")


def file_request(reporter, files=0, summary="Payment webhook not firing"):
    request = SupportRequest(reporter_id=reporter.id, label="bug", summary=summary,
                             description="It stopped yesterday.")
    for n in range(files):
        stored, size, digest = storage.store_stream(io.BytesIO(f"log file {n}\n".encode() * 100))
        request.attachments.append(Attachment(original_name=f"log-{n}.txt", content_type="text/plain",
                                              size=size, sha256=digest, stored_name=stored))
    return delivery.accept(request)


def state_of(request_id):
    db.session.expire_all()
    return db.session.get(SupportRequest, request_id).delivery_state


def create_started(request_id):
    db.session.expire_all()
    return db.session.get(SupportRequest, request_id).create_started_at is not None


def issues_for(jira_sim, request):
    label = f"portal-ref-{request.reference}"
    return [i for i in jira_sim.state.issues.values() if label in (i["fields"].get("labels") or [])]


def assert_delivered_once(jira_sim, request, workers, files=0):
    assert wait_for(lambda: state_of(request.id) == "sent", timeout=60), workers.logs()
    (issue,) = issues_for(jira_sim, request)
    assert len(issue["attachments"]) == files
    db.session.expire_all()
    request = db.session.get(SupportRequest, request.id)
    assert request.jira_issue_id == issue["id"]
    assert len({a.jira_attachment_id for a in request.attachments}) == files


def test_killed_before_jira_acted_on_the_create_call(configure_jira, reporter, workers, jira_sim):
    configure_jira()
    # The create call is held before Jira acts on it: no issue exists when the worker dies.
    jira_sim.fault("timeout", path=f"{jira_sim.api}/issue", method="POST", seconds=60, times=1)
    request = file_request(reporter, files=1)
    workers.start()
    assert wait_for(lambda: jira_sim.calls[f"POST {jira_sim.api}/issue"] >= 1), workers.logs()
    workers.kill()
    jira_sim.clear_faults()
    assert issues_for(jira_sim, request) == []
    workers.start()
    assert_delivered_once(jira_sim, request, workers, files=1)
    # Worker logs name the request and the RQ job they belong to.
    assert re.search(rf"\[job [0-9a-f-]{{36}}\]: deliver {request.reference} ", workers.logs())


def test_killed_after_jira_created_the_issue_before_we_stored_the_key(configure_jira, reporter,
                                                                      workers, jira_sim):
    configure_jira()
    jira_sim.fault("slow_reply", path=f"{jira_sim.api}/issue", method="POST", seconds=60, times=1)
    request = file_request(reporter, files=2)
    workers.start()
    assert wait_for(lambda: issues_for(jira_sim, request)), workers.logs()
    workers.kill()
    jira_sim.clear_faults()
    db.session.expire_all()
    assert db.session.get(SupportRequest, request.id).jira_issue_id is None  # the key was lost
    workers.start()
    assert_delivered_once(jira_sim, request, workers, files=2)


def test_killed_during_an_attachment_upload(configure_jira, reporter, workers, jira_sim):
    configure_jira()
    jira_sim.fault("slow_reply", path="/attachments", method="POST", seconds=60, times=1)
    request = file_request(reporter, files=3)
    workers.start()
    assert wait_for(lambda: any(i["attachments"] for i in issues_for(jira_sim, request))), workers.logs()
    workers.kill()
    jira_sim.clear_faults()
    workers.start()
    assert_delivered_once(jira_sim, request, workers, files=3)


def test_redis_flushed_with_jobs_waiting(configure_jira, reporter, workers, jira_sim, app):
    configure_jira()
    requests = [file_request(reporter, files=1, summary=f"Request {n}") for n in range(3)]
    queue = app.extensions["queue"]
    assert queue.queue.count == 3
    queue.redis.flushdb()  # every job and claim is gone; the database still knows
    workers.start()
    for request in requests:
        assert_delivered_once(jira_sim, request, workers, files=1)


def test_jira_times_out_after_creating_the_issue(configure_jira, reporter, jira_sim, app, tmp_path):
    configure_jira()
    # Longer than the worker's read timeout: the worker gives up while Jira has the issue.
    jira_sim.fault("slow_reply", path=f"{jira_sim.api}/issue", method="POST", seconds=10, times=1)
    request = file_request(reporter)
    workers = Workers(app, tmp_path, JIRA_READ_TIMEOUT=1).start()
    try:
        assert wait_for(lambda: issues_for(jira_sim, request)), workers.logs()
        assert_delivered_once(jira_sim, request, workers)
    finally:
        workers.stop()
        jira_sim.clear_faults()


def test_killed_while_jira_is_still_creating_the_issue(app, configure_jira, reporter, jira_sim, tmp_path):
    """The worker dies half a second into a create that Jira finishes 5.9 s after it arrived
    (beyond the 3 s read timeout: the client would have given up, Jira did not), and search
    shows the issue half a second later. A killed worker's call may have lasted a read timeout and
    Jira gone on for another: the next worker looks that long before it creates again."""
    configure_jira()
    jira_sim.search_lag = 0.5
    jira_sim.fault("late_commit", path=f"{jira_sim.api}/issue", method="POST", seconds=5.9, times=1)
    workers = Workers(app, tmp_path, JIRA_READ_TIMEOUT=3, SEARCH_LAG_SECONDS=0.6)
    try:
        request = file_request(reporter)
        workers.start()
        assert wait_for(lambda: create_started(request.id)), workers.logs()
        wait_for(lambda: False, timeout=0.5)  # the create call is on its way
        workers.kill()
        workers.start()  # takes the request once the dead worker's lease lapses (3 s)
        assert wait_for(lambda: state_of(request.id) == "sent", timeout=60), workers.logs()
        wait_for(lambda: False, timeout=7)  # whatever Jira was still doing has landed by now
        assert len(issues_for(jira_sim, request)) == 1, workers.logs()
    finally:
        workers.stop()


def test_killed_while_sending_a_reply(configure_jira, reporter, workers, jira_sim):
    """Issue 17: Jira stored the reply's comment, the worker died before it heard so; the
    next worker finds the comment by the reply's marker and adopts it: one comment, one file."""
    configure_jira()
    request = file_request(reporter)
    workers.start()
    assert_delivered_once(jira_sim, request, workers)
    jira_sim.fault("slow_reply", path="/comment", method="POST", seconds=60, times=1)
    stored, size, digest = storage.store_stream(io.BytesIO(b"trace\n" * 50))
    reply = Reply(request_id=request.id, author_id=reporter.id, body="The application ID is 4711.",
                  attachments=[Attachment(request_id=request.id, original_name="trace.log", content_type="text/plain",
                                          size=size, sha256=digest, stored_name=stored)])
    accept_reply(reply)
    (issue,) = issues_for(jira_sim, request)
    assert wait_for(lambda: issue["comments"]), workers.logs()
    workers.kill()
    jira_sim.clear_faults()
    workers.start()

    def sent():
        db.session.expire_all()
        return db.session.get(Reply, reply.id).delivery_state == "sent"
    assert wait_for(sent, timeout=60), workers.logs()
    (comment,) = issue["comments"]
    assert db.session.get(Reply, reply.id).jira_comment_id == comment["id"]
    assert [jira_sim.state.attachments[a]["filename"] for a in issue["attachments"]] == ["trace.log"]
