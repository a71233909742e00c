"""Soak: many requests through real RQ workers while Jira misbehaves as it does (500s, 429
bursts, hangs, dropped connections, replies lost after the work was done, creates and
uploads it finishes after the client gave up, a search that lags behind writes and answers
with issues as they were before their last change), workers are SIGKILLed and Redis is
flushed once, while the support team moves issues along. Every request must end as exactly
one issue with each of its files once, and no request may ever show an older status than it
showed before.

`make test` files 60 (SOAK_REQUESTS), CI 30; `bench/soak.py` runs the full 500."""
import io
import os
import random
import threading
import time

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from tests.jirasim.fixtures import both_deployments
from tests.workers import Workers, wait_for, worker_app
from webapp import crypto, delivery, storage
from webapp.extensions import db
from webapp.models import Attachment, JiraSettings, SupportRequest

REQUESTS = int(os.environ.get("SOAK_REQUESTS", "60"))
HOOK_SECRET = "soak-webhook-secret"


@pytest.fixture
def app(app_factory, redis_url, tmp_path):
    with worker_app(app_factory, redis_url, tmp_path, "soak") as app:
        yield app


def inject_faults(jira_sim):
    jira_sim.fault("error", path=f"{jira_sim.api}/issue", method="POST", status=500, rate=0.10)
    jira_sim.fault("error", path="/search", status=503, rate=0.05, retry_after=1)
    jira_sim.fault("rate_limit", path="/rest/api", rate=0.04, retry_after=1)
    jira_sim.fault("timeout", path=f"{jira_sim.api}/issue", method="POST", rate=0.03, seconds=3)
    jira_sim.fault("drop", path="/attachments", rate=0.04)
    jira_sim.fault("slow_reply", path=f"{jira_sim.api}/issue", method="POST", rate=0.04, seconds=3)
    jira_sim.fault("slow_reply", path="/attachments", rate=0.04, seconds=3)
    # Jira finishes these after the client (read timeout 2 s) gave up on them.
    jira_sim.fault("late_commit", path=f"{jira_sim.api}/issue", method="POST", rate=0.04, seconds=3)
    jira_sim.fault("late_commit", path="/attachments", rate=0.04, seconds=3)
    jira_sim.search_lag = SEARCH_LAG  # new issues hidden, changed ones shown as they were


STATUSES = ("To Do", "In Progress", "Done")  # the support team only moves issues forward
SEARCH_LAG = 1.0  # the simulator's; the portal's window (SEARCH_LAG_SECONDS) is twice that


def move_some_issues(jira_sim, chaos):
    """The support team at work: a few issues move one status forward."""
    ours = [issue for issue in list(jira_sim.state.issues.values()) if issue["project"] == "SUP"]
    for issue in chaos.sample(ours, min(3, len(ours))):
        name = jira_sim.state.statuses[issue["status"]]["name"]
        if name in STATUSES[:-1]:
            jira_sim.set_status(issue["key"], STATUSES[STATUSES.index(name) + 1])


class StatusWatch:
    """What each request's page shows, read again and again: it must never go backwards."""

    def __init__(self):
        self.shown, self.backwards = {}, []

    def look(self):
        db.session.expire_all()
        for request_id, status in db.session.execute(select(SupportRequest.id, SupportRequest.jira_status)):
            rank = STATUSES.index(status) if status in STATUSES else -1
            before = self.shown.get(request_id, -1)
            if rank < before:
                self.backwards.append((request_id, STATUSES[before], status))
            self.shown[request_id] = max(rank, before)


def file_requests(reporter_id, count):
    ids, shapes = [], {}
    for n in range(count):
        request = SupportRequest(reporter_id=reporter_id, label="bug", summary=f"Soak request {n}",
                                 description=f"Request number {n}.")
        files = 1 + n % 2
        for f in range(files):
            stored, size, digest = storage.store_stream(io.BytesIO(f"request {n} file {f}\n".encode() * 50))
            request.attachments.append(Attachment(original_name=f"file-{f}.txt", content_type="text/plain",
                                                  size=size, sha256=digest, stored_name=stored))
        delivery.accept(request)
        ids.append(request.id)
        shapes[request.reference] = files
    return ids, shapes


def sent_count():
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(SupportRequest)
                             .where(SupportRequest.delivery_state == "sent"))


def statuses_shown():
    db.session.expire_all()
    return dict(db.session.execute(select(SupportRequest.jira_key, SupportRequest.jira_status)).all())


def statuses_in_jira(jira_sim):
    return {issue["key"]: jira_sim.state.statuses[issue["status"]]["name"]
            for issue in list(jira_sim.state.issues.values()) if issue["project"] == "SUP"}


@pytest.fixture
def webhooks_to_the_portal(app, jira_sim):
    """The portal's web app serving Jira's webhooks: each change is read at once with a GET,
    which is never stale, so a lagging search that follows answers with an older issue."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings = JiraSettings.get()
    settings.webhook_secret_encrypted = crypto.encrypt(HOOK_SECRET)
    db.session.commit()
    jira_sim.register_webhook(f"http://127.0.0.1:{server.server_port}/hooks/jira", HOOK_SECRET)
    yield
    server.shutdown()


@both_deployments
def test_soak_no_request_lost_or_duplicated(app, configure_jira, make_user, jira_sim, tmp_path,
                                            webhooks_to_the_portal):
    configure_jira()
    reporter = make_user(email="soak@example.com")
    inject_faults(jira_sim)
    # A worker killed during a sync holds its lease until it lapses: a short one here, so the
    # sync can catch up within the test.
    workers = Workers(app, tmp_path, JIRA_READ_TIMEOUT=2, SEARCH_LAG_SECONDS=2 * SEARCH_LAG,
                      SYNC_SECONDS=1, RECONCILE_SECONDS=5, SYNC_LEASE_SECONDS=8).start(2)
    chaos = random.Random(7)
    watch = StatusWatch()
    started = time.monotonic()
    kills = flushed = 0
    try:
        ids, shapes = file_requests(reporter.id, REQUESTS)
        deadline = started + max(120, REQUESTS * 1.2)
        next_kill = REQUESTS // 4
        while sent_count() < REQUESTS:
            assert time.monotonic() < deadline, f"only {sent_count()} of {REQUESTS} sent\n" + workers.logs()
            done = sent_count()
            if done >= next_kill and kills < 3:
                workers.kill(chaos.randrange(len(workers.processes)) if workers.alive() else -1)
                workers.processes = workers.alive()
                workers.start()
                kills += 1
                next_kill += REQUESTS // 4
            if not flushed and done >= REQUESTS // 2:
                app.extensions["queue"].redis.flushdb()
                flushed = 1
            move_some_issues(jira_sim, chaos)
            watch.look()
            time.sleep(0.2)
        elapsed = time.monotonic() - started
        # The sync catches up with every status the support team set, lag and all.
        caught_up = wait_for(lambda: watch.look() or statuses_shown() == statuses_in_jira(jira_sim), timeout=120)
    finally:
        workers.stop()
        jira_sim.clear_faults()

    by_reference = {}
    for issue in jira_sim.state.issues.values():
        for label in issue["fields"].get("labels") or []:
            if label.startswith("portal-ref-"):
                by_reference.setdefault(label[len("portal-ref-"):], []).append(issue)
    duplicates = sum(len(issues) - 1 for issues in by_reference.values())
    missing_issues = [ref for ref in shapes if ref not in by_reference]
    wrong_files = [ref for ref, issues in by_reference.items()
                   if len(issues[0]["attachments"]) != shapes.get(ref)]
    attempts = db.session.scalar(select(func.sum(SupportRequest.attempts)))
    print(f"\nsoak: {REQUESTS} requests, {len(by_reference)} issues, {duplicates} duplicates, "
          f"{len(missing_issues)} missing, {len(wrong_files)} with wrong attachments; "
          f"{kills} worker kills, {flushed} Redis flush, {attempts} attempts, "
          f"{len(watch.backwards)} pages gone backwards, "
          f"{sum(jira_sim.calls.values())} Jira calls, {elapsed:.1f} s")
    assert duplicates == 0 and missing_issues == [] and wrong_files == []
    assert watch.backwards == [], f"pages went backwards: {watch.backwards[:5]}"
    behind = {key: (shown, statuses_in_jira(jira_sim).get(key)) for key, shown in statuses_shown().items()
              if shown != statuses_in_jira(jira_sim).get(key)}
    assert caught_up, f"the sync did not catch up with Jira's statuses: {behind}"
    assert len(by_reference) == REQUESTS
    assert wait_for(lambda: sent_count() == REQUESTS, timeout=1)
