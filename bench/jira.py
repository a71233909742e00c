"""The Jira simulator (tests/jirasim) with what the benchmarks need on top: a fixed latency
on every REST call Jira's rate limits (the simulator's own, tests/jirasim/limits.py) let
through, and the times of those calls."""
import time

from tests.jirasim import JiraSimulator


class BenchSimulator(JiraSimulator):
    """``latency``: seconds before every /rest/api answer the rate limits let through (a
    refused call costs no latency: Jira's limiter answers before the work). The rate limits
    are the simulator's own: ``sim.set_rate_limits(burst=...)``."""

    def __init__(self, latency=0.0, **options):
        options.setdefault("validate", False)
        super().__init__(**options)
        self.latency = latency
        self.accepted_at = []    # monotonic time of every call let through the limiter
        self.busy = 0.0          # seconds spent answering REST calls, latency included

    def start(self):
        """As JiraSimulator.start, but with TCP_NODELAY on every connection. Without it each
        answer (headers, then body: two writes) waits ~40 ms for the client's delayed ACK
        (Nagle's algorithm), which real Jira does not do and which would swamp the figures."""
        super().start()
        self._server.RequestHandlerClass.disable_nagle_algorithm = True  # read per connection
        return self

    def answer(self, request, route):
        if not request.path.startswith("/rest/api"):
            return super().answer(request, route)
        started = time.monotonic()
        self.accepted_at.append(started)
        if self.latency:
            time.sleep(self.latency)
        try:
            return super().answer(request, route)
        finally:
            with self.state.lock:
                self.busy += time.monotonic() - started

    def total_calls(self):
        return sum(self.calls.values())

    def reset_counters(self):
        with self.state.lock:
            self.calls.clear()
            self.accepted_at = []
            self.busy = 0.0
        self.limits.clear_refused()

    def issues_by_reference(self):
        """{portal reference: [issues carrying its label]}: more than one is a duplicate."""
        found = {}
        with self.state.lock:
            for issue in self.state.issues.values():
                for label in issue["fields"].get("labels") or []:
                    if label.startswith("portal-ref-"):
                        found.setdefault(label[len("portal-ref-"):], []).append(issue)
        return found
