"""Who runs the periodic jobs without Redis: the process serving the app, from its start (no
page needs opening), one per instance folder however many processes serve it; never another
CLI command. Real processes: `make run`'s gunicorn (one process, several threads), `flask run`
and its reloader, gunicorn with three workers."""
import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.request import urlopen

import click
import pytest

from tests.workers import start, stop, wait_for, worker_env
from webapp import housekeeping
from webapp.extensions import db
from webapp.models import SupportRequest, utcnow
from webapp.periodic import InstanceLock, serves_requests

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def embedded_app(app_factory):
    """The test's app without Redis (whatever TEST_JOBS says): it reads what the portal
    processes write, and runs no job of its own."""
    app = app_factory(REDIS_URL=None)
    with app.app_context():
        yield app


@pytest.fixture
def portal(embedded_app, tmp_path):
    """portal(*args, **settings): a portal process on the test's database, without Redis,
    with an instance folder of its own; each is stopped at the end."""
    started = []

    def run(*args, **settings):
        env = worker_env(embedded_app, INSTANCE_PATH=tmp_path / "instance", **settings)
        process = start([sys.executable, "-m", *args], env, tmp_path / f"portal-{len(started)}.log")
        started.append(process)
        return process

    run.logs = lambda: "\n".join(p.read_text(errors="replace")[-3000:] for p in tmp_path.glob("*.log"))
    yield run
    stop(started)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def heartbeat():
    db.session.remove()  # a fresh read of what another process wrote
    return housekeeping.last_heartbeat()


def heartbeat_pids(seconds):
    """The processes that wrote the heartbeat during `seconds` (read every 50 ms)."""
    pids, deadline = set(), time.monotonic() + seconds
    while time.monotonic() < deadline:
        pids.add((heartbeat() or {}).get("pid"))
        time.sleep(0.05)
    return pids - {None}


def queued_request(reporter_id):
    """A request accepted before the portal stopped: queued, its job gone with the process."""
    now = utcnow()
    request = SupportRequest(reporter_id=reporter_id, label="bug", summary="Sent before the restart",
                             description="...", delivery_state="queued", next_attempt_at=now,
                             deliverable_since=now)
    db.session.add(request)
    db.session.commit()
    return request.id


def state_of(request_id):
    db.session.remove()
    return db.session.get(SupportRequest, request_id).delivery_state


def test_a_restarted_portal_resumes_queued_requests_before_any_page_is_opened(
        embedded_app, portal, configure_jira, jira_sim, make_user):
    configure_jira()
    request_id = queued_request(make_user().id)
    server = portal(*make_run_server(free_port()))
    # No request reaches the portal: its scheduler starts with it, and the first sweep, at
    # once, takes up what the stopped process had queued.
    assert wait_for(lambda: state_of(request_id) == "sent", timeout=30), portal.logs()
    assert parent_of(heartbeat()["pid"]) == server.pid and heartbeat()["mode"] == "in-process"
    assert [i["fields"]["summary"] for i in jira_sim.state.issues.values()
            if i["project"] == "SUP"] == ["Sent before the restart"]


def parent_of(pid):
    """The parent process of `pid` (gunicorn's master, for one of its workers)."""
    with open(f"/proc/{pid}/stat") as stat:
        return int(stat.read().rsplit(")", 1)[1].split()[1])


def make_run_server(port):
    """The command `make run` serves the portal with (from `make -n`), for `python -m`."""
    lines = subprocess.run(["make", "-s", "-n", "run", f"PORT={port}"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.splitlines()
    [command] = [line.split() for line in lines if "gunicorn " in line]
    return ["gunicorn", *command[1:]]


def test_make_run_serves_with_gunicorn_one_process_several_threads_one_scheduler(embedded_app, portal):
    port = free_port()
    command = make_run_server(port)
    assert command[command.index("--workers") + 1] == "1" and int(command[command.index("--threads") + 1]) > 1
    portal(*command, HEARTBEAT_SECONDS=1)
    assert wait_for(heartbeat, timeout=30), portal.logs()
    assert len(heartbeat_pids(3)) == 1
    with ThreadPoolExecutor(4) as pool:  # requests at once, each on a thread of the one process
        answers = list(pool.map(lambda _: urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10).status, range(8)))
    assert answers == [200] * 8
    assert "development server" not in portal.logs()


def test_under_the_reloader_only_the_child_runs_the_scheduler(embedded_app, portal):
    watcher = portal("flask", "--app", "app", "run", "--reload", "--port", str(free_port()),
                     HEARTBEAT_SECONDS=1)
    assert wait_for(heartbeat, timeout=30), portal.logs()
    pids = heartbeat_pids(3)
    assert len(pids) == 1 and watcher.pid not in pids, portal.logs()


def test_gunicorn_workers_without_redis_run_one_scheduler_which_another_takes_over(embedded_app, portal):
    portal("gunicorn", "--bind", f"127.0.0.1:{free_port()}", "--workers", "3", "app:app",
           HEARTBEAT_SECONDS=1)
    assert wait_for(heartbeat, timeout=30), portal.logs()
    pids = heartbeat_pids(4)
    assert len(pids) == 1, f"{len(pids)} schedulers: {pids}"
    os.kill(pids.pop(), signal.SIGKILL)  # the kernel frees its lock; another worker takes it
    first = heartbeat()["pid"]
    assert wait_for(lambda: heartbeat()["pid"] != first, timeout=15), portal.logs()
    assert len(heartbeat_pids(3)) == 1


def test_only_serving_starts_the_embedded_scheduler(app_factory, monkeypatch):
    from flask.cli import run_command
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    monkeypatch.delenv("WERKZEUG_RUN_MAIN", raising=False)
    assert serves_requests()  # a WSGI server (gunicorn) imported the app
    for name in ("upgrade", "demo", "sync", "shell"):  # flask db upgrade, flask demo, ...
        with click.Context(click.Command(name)):
            assert not serves_requests()
            app = app_factory(REDIS_URL=None, RUN_SCHEDULER=True)
            assert "scheduler" not in app.extensions
    with click.Context(run_command):
        assert serves_requests()
    with click.Context(run_command) as context:
        context.params["reload"] = True
        assert not serves_requests()  # the reloader's watcher: it never serves
        monkeypatch.setenv("WERKZEUG_RUN_MAIN", "true")
        assert serves_requests()  # its child does


def test_one_instance_lock_holder_at_a_time(tmp_path):
    first, second = InstanceLock(tmp_path / "lock"), InstanceLock(tmp_path / "lock")
    assert first.acquire() and first.acquire()
    assert not second.acquire()
    first.release()
    assert second.acquire()
    second.release()
