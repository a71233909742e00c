"""One small job-queue interface with two backends: RQ on Redis (production) and a
background thread in this process (the embedded default, when REDIS_URL is unset).
Both run the same job functions: delivery, sync, the support team's files, housekeeping."""
import heapq
import itertools
import logging
import threading
import time
from datetime import datetime, timedelta, timezone

from flask import current_app

log = logging.getLogger(__name__)
JOB_TIMEOUT_SECONDS = 600  # RQ stops a job running longer; long work is split into jobs below it


class InProcessQueue:
    """Runs jobs one at a time on a daemon thread, each inside an app context."""

    mode = "in-process"

    def __init__(self, app):
        self.app = app
        # Jobs live in this process's memory: those enqueued before it started died with
        # the process that held them (`make run` stopped and started again).
        self.jobs_kept_since = datetime.now(timezone.utc)
        self._heap = []  # (due, seq, func, args)
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._running = 0
        self._thread = None

    def enqueue(self, func, *args, delay=0):
        with self._cond:
            heapq.heappush(self._heap, (time.monotonic() + delay, next(self._seq), func, args))
            self._start()
            self._cond.notify_all()

    def _start(self):
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._work, name="portal-jobs", daemon=True)
            self._thread.start()

    def _work(self):
        while True:
            with self._cond:
                while not self._heap or self._heap[0][0] > time.monotonic():
                    timeout = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._cond.wait(timeout)
                _, _, func, args = heapq.heappop(self._heap)
                self._running += 1
            try:
                with self.app.app_context():
                    func(*args)
            except Exception:
                log.exception("job %s failed", func.__name__)
            finally:
                with self._cond:
                    self._running -= 1
                    self._cond.notify_all()

    def discard_pending(self):
        """Drop the jobs not started yet (a stopping app's retries must not outlive it)."""
        with self._cond:
            self._heap.clear()

    def join(self, timeout=10, delayed=False):
        """Wait until every job that is due (with `delayed`, every job) has run."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._running or (self._heap and (delayed or self._heap[0][0] <= time.monotonic())):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.05))
        return True


class RQQueue:
    """Enqueues onto an RQ queue; `python worker.py` runs the jobs."""

    mode = "rq"
    jobs_kept_since = None  # Redis keeps jobs across restarts (a flush is the sweep's stale rule)

    def __init__(self, redis_url, name):
        from redis import Redis
        from rq import Queue

        self.redis = Redis.from_url(redis_url)
        self.queue = Queue(name, connection=self.redis)

    def enqueue(self, func, *args, delay=0):
        options = {"job_timeout": JOB_TIMEOUT_SECONDS, "result_ttl": 0, "failure_ttl": 7 * 86400}
        if delay:
            job = self.queue.enqueue_in(timedelta(seconds=delay), func, *args, **options)
        else:
            job = self.queue.enqueue(func, *args, **options)
        return job.id


def init_app(app):
    if app.config.get("REDIS_URL"):
        queue = RQQueue(app.config["REDIS_URL"], app.config["RQ_QUEUE"])
    else:
        queue = InProcessQueue(app)
    app.extensions["queue"] = queue


def get_queue():
    return current_app.extensions["queue"]


def enqueue(func, *args, delay=0):
    """Enqueue a job function (it takes ids or nothing) on this app's queue, to run `delay`
    seconds from now."""
    return get_queue().enqueue(func, *args, delay=delay)


def lost_before(stale_seconds):
    """Work last moved on before this moment (UTC) has lost its job: more than `stale_seconds`
    ago (a killed worker, a flushed Redis), or, with the in-process queue, before this process
    started (its jobs died with the last one)."""
    moment = datetime.now(timezone.utc) - timedelta(seconds=stale_seconds)
    kept_since = get_queue().jobs_kept_since
    return moment if kept_since is None else max(moment, kept_since)


def enqueue_each(func, ids):
    """Enqueue `func(id)` for each id; returns how many."""
    ids = list(ids)
    for item_id in ids:
        enqueue(func, item_id)
    return len(ids)
