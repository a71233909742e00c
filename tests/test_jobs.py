"""Both job runners run the same job functions: the in-process thread (embedded default)
and RQ with real worker processes. The heartbeat is the first real job."""
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.workers import worker_env
from webapp import housekeeping
from webapp.periodic import LocalClaims, RedisClaims, enqueue_due, start_scheduler
from webapp.queue import InProcessQueue, RQQueue

ROOT = Path(__file__).resolve().parent.parent


def wait_for(predicate, timeout=20, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def fresh_heartbeat(app):
    with app.app_context():
        return housekeeping.last_heartbeat()


# The in-process runner ----------------------------------------------------------------

def test_without_redis_jobs_run_in_process(app_factory):
    app = app_factory(REDIS_URL=None)
    queue = app.extensions["queue"]
    assert isinstance(queue, InProcessQueue)
    with app.app_context():
        queue.enqueue(housekeeping.heartbeat)
    assert queue.join(timeout=10)
    beat = fresh_heartbeat(app)
    assert beat["mode"] == "in-process" and beat["pid"] == os.getpid()


def test_in_process_delayed_jobs_wait_and_failures_do_not_stop_the_runner(app_factory):
    app = app_factory(REDIS_URL=None)
    queue = app.extensions["queue"]
    ran = []

    def broken():
        raise RuntimeError("boom")

    queue.enqueue(lambda: ran.append(time.monotonic()), delay=0.3)
    queue.enqueue(broken)
    started = time.monotonic()
    queue.enqueue(housekeeping.heartbeat)
    assert wait_for(lambda: ran, timeout=5)
    assert ran[0] - started >= 0.25
    assert fresh_heartbeat(app) is not None


def test_in_process_scheduler_runs_periodic_jobs(app_factory):
    app = app_factory(REDIS_URL=None, HEARTBEAT_SECONDS=1)
    stop = start_scheduler(app, app.extensions["queue"], LocalClaims(), tick=0.05)
    try:
        assert wait_for(lambda: fresh_heartbeat(app), timeout=5)
        first = fresh_heartbeat(app)["at"]
        assert wait_for(lambda: fresh_heartbeat(app)["at"] != first, timeout=5)
    finally:
        stop.set()


def test_the_embedded_web_process_starts_its_scheduler_with_the_app(app_factory):
    """No request needed (real processes: tests/test_scheduler.py)."""
    app = app_factory(REDIS_URL=None, RUN_SCHEDULER=True, HEARTBEAT_SECONDS=1)
    assert wait_for(lambda: fresh_heartbeat(app), timeout=5)


def test_local_claims_allow_one_run_per_interval():
    claims = LocalClaims()
    assert claims.claim("x", 60) is True
    assert claims.claim("x", 60) is False
    assert claims.claim("y", 60) is True


# The RQ runner, with real Redis and real worker processes ------------------------------

@pytest.fixture
def rq_app(app_factory, redis_url):
    queue_name = f"test-{uuid.uuid4().hex[:10]}"
    app = app_factory(REDIS_URL=redis_url, RQ_QUEUE=queue_name)
    yield app
    queue = app.extensions["queue"]
    queue.queue.empty()
    for key in queue.redis.scan_iter(f"*{queue_name}*"):
        queue.redis.delete(key)


def test_an_rq_worker_process_runs_the_job(rq_app):
    queue = rq_app.extensions["queue"]
    assert isinstance(queue, RQQueue)
    with rq_app.app_context():
        job_id = queue.enqueue(housekeeping.heartbeat)
    assert job_id
    result = subprocess.run([sys.executable, "worker.py", "--burst"], cwd=ROOT,
                            env=worker_env(rq_app), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    beat = fresh_heartbeat(rq_app)
    assert beat["mode"] == "rq" and beat["pid"] != os.getpid()


def test_rq_delayed_jobs_run_through_the_worker_scheduler(rq_app):
    queue = rq_app.extensions["queue"]
    with rq_app.app_context():
        queue.enqueue(housekeeping.heartbeat, delay=1)
    assert fresh_heartbeat(rq_app) is None
    worker = subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT,
                              env=worker_env(rq_app, HEARTBEAT_SECONDS="3600"),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        # The periodic heartbeat is claimed too; either way a worker-run heartbeat appears.
        assert wait_for(lambda: fresh_heartbeat(rq_app), timeout=30)
        assert fresh_heartbeat(rq_app)["mode"] == "rq"
        assert wait_for(lambda: queue.queue.scheduled_job_registry.count == 0, timeout=30)
        # Idle past redis-py's default 5 s socket timeout, the worker must keep listening.
        time.sleep(7)
        assert worker.poll() is None, worker.stdout.read().decode()[-2000:]
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)


def test_two_workers_share_the_periodic_schedule(rq_app):
    """Each worker runs a scheduler thread; the Redis claim lets one enqueue per interval."""
    workers = [
        subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT,
                         env=worker_env(rq_app, HEARTBEAT_SECONDS="2"),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(2)
    ]
    try:
        assert wait_for(lambda: fresh_heartbeat(rq_app), timeout=30)
        seen = {fresh_heartbeat(rq_app)["at"]}
        assert wait_for(lambda: fresh_heartbeat(rq_app)["at"] not in seen, timeout=30)
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=30)


def test_redis_claims_let_one_process_enqueue_per_interval(rq_app):
    redis = rq_app.extensions["queue"].redis
    name = f"test-claim-{uuid.uuid4().hex[:8]}"
    first, second = RedisClaims(redis, "q1"), RedisClaims(redis, "q1")
    other_portal = RedisClaims(redis, "q2")
    try:
        assert first.claim(name, 60) is True
        assert second.claim(name, 60) is False
        assert other_portal.claim(name, 60) is True
    finally:
        redis.delete(f"portal:periodic:q1:{name}", f"portal:periodic:q2:{name}")


def test_enqueue_due_puts_the_periodic_jobs_on_the_rq_queue(rq_app):
    queue = rq_app.extensions["queue"]
    with rq_app.app_context():
        due = enqueue_due(rq_app, queue, LocalClaims())
    assert due[:2] == ["heartbeat", "sweep"]
    assert [job.func_name for job in queue.queue.jobs][:2] == ["webapp.housekeeping.heartbeat", "webapp.delivery.sweep"]


def test_worker_refuses_to_start_without_redis(app):
    env = dict(os.environ)
    env.pop("REDIS_URL", None)
    result = subprocess.run([sys.executable, "worker.py"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "worker.py needs REDIS_URL" in result.stderr
