"""Holds: a 429 that one call meets keeps every client sharing the holds from calling what
Jira limited (that endpoint, that issue's writes, or everything: limits.py) until its
Retry-After has passed, instead of each worker meeting a 429 of its own.

A `Pace` is handed to `JiraClient(pace=...)`. The holds live in a store: `LocalHolds` in one
process (the embedded mode), `RedisHolds` shared by every worker process. Before a call,
a hold up to `max_sleep` seconds is slept out; a longer one raises JiraRateLimitedError
(`sent=False`) without calling, so a job gives its worker back and comes back then.
"""
import logging
import math
import threading
import time

from redis.exceptions import RedisError

from .errors import JiraRateLimitedError
from .limits import scopes_of

log = logging.getLogger(__name__)

DEFAULT_HOLD = 2.0  # seconds, for a 429 that says neither Retry-After nor X-RateLimit-Reset


class LocalHolds:
    """Holds for the clients of one process."""

    def __init__(self):
        self._until = {}
        self._lock = threading.Lock()

    def hold(self, scope, seconds):
        with self._lock:
            self._until[scope] = max(self._until.get(scope, 0.0), time.monotonic() + seconds)

    def longest(self, scopes):
        """(seconds, scope) of the longest hold on any of `scopes`; (0, None) if none."""
        now = time.monotonic()
        with self._lock:
            return max(((self._until.get(scope, 0.0) - now, scope) for scope in scopes),
                       default=(0.0, None))


class RedisHolds:
    """Holds shared by every worker: a key per scope that expires when the hold ends
    (Redis keeps the time, so the workers' clocks need not agree)."""

    def __init__(self, redis, namespace):
        self.redis = redis
        self.namespace = namespace  # the queue name: portals sharing a Redis keep apart

    def _key(self, scope):
        return f"portal:jira-hold:{self.namespace}:{scope}"

    def hold(self, scope, seconds):
        ms = max(1, math.ceil(seconds * 1000))
        try:
            with self.redis.pipeline() as pipe:  # a hold only ever grows
                pipe.set(self._key(scope), "1", px=ms, nx=True)
                pipe.pexpire(self._key(scope), ms, gt=True)
                pipe.execute()
        except RedisError as exc:  # the worker goes on without: it paces only itself
            log.warning("jira: could not store a rate-limit hold (%s)", type(exc).__name__)

    def longest(self, scopes):
        try:
            with self.redis.pipeline(transaction=False) as pipe:
                for scope in scopes:
                    pipe.pttl(self._key(scope))
                left = pipe.execute()
        except RedisError as exc:
            log.warning("jira: could not read the rate-limit holds (%s)", type(exc).__name__)
            return 0.0, None
        return max(((ms / 1000, scope) for ms, scope in zip(left, scopes)), default=(0.0, None))


class Pace:
    """Waits out the holds before each call and records the hold a 429 asks for."""

    def __init__(self, holds, max_sleep=3.0, sleep=time.sleep):
        self.holds = holds
        self.max_sleep = max_sleep
        self.sleep = sleep

    def wait_for(self, method, path):
        """Return when no hold keeps this call back: at once, or after sleeping at most
        `max_sleep` seconds in all. Longer: JiraRateLimitedError, and no call."""
        slept = 0.0
        while True:
            seconds, scope = self.holds.longest(scopes_of(method, path))
            if seconds <= 0:
                return
            if slept + seconds > self.max_sleep:
                raise JiraRateLimitedError(
                    f"Not sent: Jira's rate limit holds {scope} for {seconds:.1f} s more",
                    retry_after=seconds, scope=scope, sent=False)
            self.sleep(seconds)
            slept += seconds

    def note(self, error):
        """A 429 came: hold its scope for as long as Jira asked."""
        seconds = DEFAULT_HOLD if error.retry_after is None else error.retry_after
        if seconds > 0:
            self.holds.hold(error.scope, seconds)
            log.info("jira: %s held for %.1f s (%s)", error.scope, seconds, error.reason or "429")
