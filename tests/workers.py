"""Real RQ worker processes for tests: started on the test's database and Redis, and killed
the hard way (SIGKILL to the whole process group: the worker and its work horse)."""
import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

FAST_SETTINGS = {
    "DELIVERY_LEASE_SECONDS": "3", "SWEEP_SECONDS": "1", "DELIVERY_STALE_SECONDS": "2",
    "SEARCH_LAG_SECONDS": "0.5", "DELIVERY_RETRY_BASE_SECONDS": "0.2",
    "DELIVERY_RETRY_MAX_SECONDS": "2", "HEARTBEAT_SECONDS": "3600",
}


@contextmanager
def worker_app(app_factory, redis_url, tmp_path, name):
    """An app on Redis with a queue of its own and the attachments folder its workers share,
    inside its app context; the queue's keys are deleted afterwards."""
    app = app_factory(REDIS_URL=redis_url, RQ_QUEUE=f"{name}-{uuid.uuid4().hex[:10]}",
                      ATTACHMENTS_DIR=str(tmp_path / "files"))
    with app.app_context():
        yield app
    queue = app.extensions["queue"]
    for key in queue.redis.scan_iter(f"*{queue.queue.name}*"):
        queue.redis.delete(key)


def worker_env(app, **extra):
    """The environment of a portal process (`worker.py`, `flask run`, gunicorn) on the app's
    database and, when the app has it, Redis; without, its jobs run in-process."""
    env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "RQ_QUEUE")}
    env.update(
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        SECRET_KEY=app.config["SECRET_KEY"],
        ENCRYPTION_KEYS=",".join(app.config["ENCRYPTION_KEYS"]),
        **{key: str(value) for key, value in extra.items()},
    )
    if app.config.get("REDIS_URL"):
        env.update(REDIS_URL=app.config["REDIS_URL"], RQ_QUEUE=app.config["RQ_QUEUE"])
    if app.config.get("ATTACHMENTS_DIR"):
        env["ATTACHMENTS_DIR"] = app.config["ATTACHMENTS_DIR"]
    return env


class Workers:
    """Start, count and SIGKILL worker processes; everything is stopped at the end."""

    def __init__(self, app, log_dir, **settings):
        self.env = worker_env(app, **{**FAST_SETTINGS, **settings})
        self.log_dir = Path(log_dir)
        self.processes = []

    def start(self, count=1):
        for _ in range(count):
            self.processes.append(start([sys.executable, "worker.py"], self.env,
                                        self.log_dir / f"worker-{len(self.processes)}.log"))
        return self

    def kill(self, index=-1):
        """SIGKILL a worker and its work horse: as if the machine died. RQ puts the horse in
        a process group of its own, so each group is killed, the horse's first."""
        process = self.processes[index]
        for pid in children_of(process.pid) + [process.pid]:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:  # the horse finished its job meanwhile
                pass
        process.wait(timeout=10)

    def alive(self):
        return [p for p in self.processes if p.poll() is None]

    def stop(self):
        stop(self.processes)

    def logs(self):
        return "\n".join(path.read_text(errors="replace")[-3000:] for path in sorted(self.log_dir.glob("*.log")))


def children_of(pid):
    """The pids of a process's children (Linux: /proc)."""
    children = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            children += [int(child) for child in task.read_text().split()]
        except OSError:
            continue
    return children


def start(args, env, log_path):
    """A portal process (`flask run`, gunicorn, ...) in a process group of its own."""
    with open(log_path, "wb") as log:
        return subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)


def stop(processes):
    """SIGTERM to each process group (gunicorn's workers, a reloader's child), then SIGKILL."""
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_for(predicate, timeout=30, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False
