"""Periodic jobs. Every worker (or, without Redis, the processes serving the app) runs a
small scheduler thread; a claim per job and interval makes sure only one of them enqueues
each run."""
import fcntl
import logging
import os
import threading
import time

import click
from flask.cli import run_command
from flask.helpers import get_debug_flag
from werkzeug.serving import is_running_from_reloader

from . import delivery, housekeeping, sync
from .catalog import apinizer
from .catalog import sources as catalog_sources
from .mail import sending as mail_sending

log = logging.getLogger(__name__)


def periodic_jobs(app):
    """(name, job function, interval in seconds) for every periodic job."""
    return [
        ("heartbeat", housekeeping.heartbeat, app.config["HEARTBEAT_SECONDS"]),
        ("sweep", delivery.sweep, app.config["SWEEP_SECONDS"]),
        ("sync", sync.sync_changed, app.config["SYNC_SECONDS"]),
        ("reconcile", sync.reconcile, app.config["RECONCILE_SECONDS"]),
        ("file-cleanup", housekeeping.remove_unclaimed_files, 3600),
        ("catalog", catalog_sources.refresh_all, app.config["CATALOG_REFRESH_SECONDS"]),
        ("apinizer", apinizer.refresh, app.config["CATALOG_REFRESH_SECONDS"]),
        ("mail", mail_sending.send_due, app.config["MAIL_SEND_SECONDS"]),
    ]


class LocalClaims:
    """Claims for a single process: the embedded default."""

    def __init__(self):
        self._next_due = {}

    def claim(self, name, interval):
        now = time.monotonic()
        if self._next_due.get(name, 0) > now:
            return False
        self._next_due[name] = now + interval
        return True


class RedisClaims:
    """Claims shared by every worker: the first to set the key runs this interval."""

    def __init__(self, redis, namespace):
        self.redis = redis
        self.namespace = namespace  # the queue name: portals sharing a Redis keep apart

    def claim(self, name, interval):
        key = f"portal:periodic:{self.namespace}:{name}"
        return bool(self.redis.set(key, "1", nx=True, ex=max(1, int(interval))))


def enqueue_due(app, queue, claims):
    """Enqueue each periodic job whose interval has passed; returns their names."""
    due = []
    for name, func, interval in periodic_jobs(app):
        if claims.claim(name, interval):
            queue.enqueue(func)
            due.append(name)
    return due


class InstanceLock:
    """One scheduler among the processes sharing an instance folder without Redis (gunicorn's
    workers): the one holding an exclusive lock on a file there. The kernel frees the lock
    when its holder dies, and another process takes it at its next try."""

    def __init__(self, path):
        self.path = path
        self._fd = None
        self.held = False

    def acquire(self):
        """True when this process holds the lock (now, or already)."""
        if not self.held:
            if self._fd is None:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            self.held = True
        return True

    def release(self):
        if self._fd is not None:
            os.close(self._fd)  # frees the lock too
        self._fd, self.held = None, False


def start_scheduler(app, queue, claims, tick=1.0, lock=None):
    """Start the scheduler thread; returns an Event that stops it when set. With a `lock`,
    it enqueues only while it holds the lock, and tries to take it every tick."""
    stop = threading.Event()

    def run():
        while not stop.is_set():
            try:
                if lock is None or lock.acquire():
                    enqueue_due(app, queue, claims)
            except Exception:  # Redis briefly away: try again next tick
                log.exception("periodic scheduler tick failed")
            stop.wait(tick)
        if lock is not None:
            lock.release()

    threading.Thread(target=run, name="portal-scheduler", daemon=True).start()
    return stop


def start_embedded(app):
    """Without Redis, the processes serving the app run the periodic jobs themselves from
    their start (no page needs opening first), one at a time through the instance folder's
    lock. Other CLI commands and tests (RUN_SCHEDULER=False) start none."""
    queue = app.extensions["queue"]
    if queue.mode != "in-process" or not app.config["RUN_SCHEDULER"] or not serves_requests():
        return
    lock = InstanceLock(os.path.join(app.instance_path, "scheduler.lock"))
    app.extensions["scheduler"] = start_scheduler(app, queue, LocalClaims(), lock=lock)


def serves_requests():
    """Whether this process is about to serve the app: a WSGI server imported it (gunicorn,
    `python app.py`), or `flask run` did. Not another CLI command (`flask db upgrade`, `flask
    demo`, ...), nor the watcher of `flask run`'s reloader: its child serves."""
    context = click.get_current_context(silent=True)
    if context is None:
        return True
    if context.command is not run_command:
        return False
    reloads = context.params.get("reload")
    if reloads is None:  # as `flask run` decides: the reloader comes with --debug
        reloads = get_debug_flag()
    return not reloads or is_running_from_reloader()
