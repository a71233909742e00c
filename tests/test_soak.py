"""Soak: many requests through real RQ workers while Jira misbehaves (500s, 429 bursts,
hangs, dropped connections, replies lost after the work was done), workers are SIGKILLed
and Redis is flushed once. Every request must end as exactly one issue with all its files.

CI runs SOAK_REQUESTS=60 (the default); `bench/soak.py` runs the full 500."""
import io
import os
import random
import time

import pytest
from sqlalchemy import func, select

from tests.workers import Workers, wait_for, worker_app
from webapp import delivery, storage
from webapp.extensions import db
from webapp.models import Attachment, SupportRequest

REQUESTS = int(os.environ.get("SOAK_REQUESTS", "60"))


@pytest.fixture
def app(app_factory, redis_url, tmp_path):
    with worker_app(app_factory, redis_url, tmp_path, "soak") as app:
        yield app


def inject_faults(jira_sim):
    jira_sim.fault("error", path="/rest/api/3/issue", method="POST", status=500, rate=0.10)
    jira_sim.fault("error", path="/search/jql", status=503, rate=0.05, retry_after=1)
    jira_sim.fault("rate_limit", path="/rest/api", rate=0.04, retry_after=1)
    jira_sim.fault("timeout", path="/rest/api/3/issue", method="POST", rate=0.03, seconds=3)
    jira_sim.fault("drop", path="/attachments", rate=0.04)
    jira_sim.fault("slow_reply", path="/rest/api/3/issue", method="POST", rate=0.04, seconds=3)
    jira_sim.fault("slow_reply", path="/attachments", rate=0.04, seconds=3)


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


def test_soak_no_request_lost_or_duplicated(app, configure_jira, make_user, jira_sim, tmp_path):
    configure_jira()
    reporter = make_user(email="soak@example.com")
    inject_faults(jira_sim)
    workers = Workers(app, tmp_path, JIRA_READ_TIMEOUT=2).start(2)
    chaos = random.Random(7)
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
            time.sleep(0.2)
        elapsed = time.monotonic() - started
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
          f"{sum(jira_sim.calls.values())} Jira calls, {elapsed:.1f} s")
    assert duplicates == 0 and missing_issues == [] and wrong_files == []
    assert len(by_reference) == REQUESTS
    assert wait_for(lambda: sent_count() == REQUESTS, timeout=1)
