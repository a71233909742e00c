"""Periodic jobs. Every worker (or the embedded web process) runs a small scheduler
thread; a claim per job and interval makes sure only one of them enqueues each run."""
import logging
import threading
import time

from . import delivery, housekeeping, sync

log = logging.getLogger(__name__)


def periodic_jobs(app):
    """(name, job function, interval in seconds) for every periodic job."""
    return [
        ("heartbeat", housekeeping.heartbeat, app.config["HEARTBEAT_SECONDS"]),
        ("sweep", delivery.sweep, app.config["SWEEP_SECONDS"]),
        ("sync", sync.sync_changed, app.config["SYNC_SECONDS"]),
        ("reconcile", sync.reconcile, app.config["RECONCILE_SECONDS"]),
        ("file-cleanup", housekeeping.remove_unclaimed_files, 3600),
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


def start_scheduler(app, queue, claims, tick=1.0):
    """Start the scheduler thread; returns an Event that stops it when set."""
    stop = threading.Event()

    def run():
        while not stop.is_set():
            try:
                enqueue_due(app, queue, claims)
            except Exception:  # Redis briefly away: try again next tick
                log.exception("periodic scheduler tick failed")
            stop.wait(tick)

    threading.Thread(target=run, name="portal-scheduler", daemon=True).start()
    return stop
