"""The Jira simulator (tests/jirasim) with what the benchmarks need on top: a fixed latency
on every REST call and a burst limit that answers 429, as Jira Cloud's rate limiter does."""
import threading
import time
from collections import Counter

from tests.jirasim import JiraSimulator


class TokenBucket:
    """At most `rate` calls per second, `rate` of them at once (a one-second burst)."""

    def __init__(self, rate):
        self.rate = float(rate)
        self.tokens = self.rate
        self.at = time.monotonic()
        self.lock = threading.Lock()

    def take(self):
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.rate, self.tokens + (now - self.at) * self.rate)
            self.at = now
            if self.tokens >= 1:
                self.tokens -= 1
                return True
            return False


class BenchSimulator(JiraSimulator):
    """``latency``: seconds before every /rest/api answer. ``burst_limit``: calls per second
    beyond which Jira answers 429 with ``Retry-After: 1`` at once (a refused call costs no
    token and no latency: Jira's limiter answers before the work)."""

    def __init__(self, latency=0.0, burst_limit=None, **options):
        options.setdefault("validate", False)
        super().__init__(**options)
        self.latency = latency
        self.bucket = TokenBucket(burst_limit) if burst_limit else None
        self.throttled = 0
        self.throttled_by = Counter()  # "METHOD /path" of the calls refused with 429
        self.accepted_at = []    # monotonic time of every call let through the limiter
        self.busy = 0.0          # seconds spent answering REST calls, latency included

    def start(self):
        """As JiraSimulator.start, but with TCP_NODELAY on every connection. Without it each
        answer (headers, then body: two writes) waits ~40 ms for the client's delayed ACK
        (Nagle's algorithm), which real Jira does not do and which would swamp the figures."""
        super().start()
        self._server.RequestHandlerClass.disable_nagle_algorithm = True  # read per connection
        return self

    def handle(self, request):
        if request.path.startswith("/rest/api"):
            if self.bucket is not None and not self.bucket.take():
                with self.state.lock:
                    self.throttled += 1
                    self.throttled_by[f"{request.method} {request.path}"] += 1
                return 429, {"errorMessages": ["Rate limit exceeded."], "errors": {}}, {
                    "Retry-After": "1", "X-RateLimit-Limit": str(int(self.bucket.rate)),
                    "X-RateLimit-Remaining": "0", "RateLimit-Reason": "jira-burst-based"}
            started = time.monotonic()
            self.accepted_at.append(started)
            if self.latency:
                time.sleep(self.latency)
            try:
                return super().handle(request)
            finally:
                with self.state.lock:
                    self.busy += time.monotonic() - started
        return super().handle(request)

    def total_calls(self):
        return sum(self.calls.values())

    def reset_counters(self):
        with self.state.lock:
            self.calls.clear()
            self.throttled = 0
            self.throttled_by.clear()
            self.accepted_at = []
            self.busy = 0.0

    def issues_by_reference(self):
        """{portal reference: [issues carrying its label]}: more than one is a duplicate."""
        found = {}
        with self.state.lock:
            for issue in self.state.issues.values():
                for label in issue["fields"].get("labels") or []:
                    if label.startswith("portal-ref-"):
                        found.setdefault(label[len("portal-ref-"):], []).append(issue)
        return found
