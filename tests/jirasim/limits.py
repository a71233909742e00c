"""Jira's rate limits, as Atlassian documents them (the team's jira-notes.md, §6 and §9).

Jira Cloud (REST v3), for API-token traffic:

- **burst**: every endpoint and HTTP method has a per-second budget of its own (`POST /issue`
  apart from `POST /search/jql` and `GET /issue/{issueIdOrKey}`); beyond it a 429 with
  `RateLimit-Reason: jira-burst-based`.
- **per-issue writes**: the writes to one issue (attachments, comments, edits) share a budget
  of their own; beyond it a 429 with `RateLimit-Reason: jira-per-issue-on-write`.

A 429 carries `Retry-After` (whole seconds), `X-RateLimit-Limit`, `X-RateLimit-Remaining: 0`
and `X-RateLimit-Reset` (`yyyy-MM-ddTHH:mmZ`, the request's time plus Retry-After). A call to
that budget before the Retry-After has passed fails again (Atlassian: "with the same or a
longer Retry-After"; here the time left, in whole seconds), even when the budget has room. An answer
let through carries `X-RateLimit-Limit` and `X-RateLimit-Remaining`, and
`X-RateLimit-NearLimit: true` once less than 20% of the budget is left. The points-based hourly
quotas (`Beta-RateLimit-*`, `jira-quota-*`) apply to apps, not to API tokens: not simulated.

Jira Data Center (REST v2): one token bucket per user over every endpoint (the admin's "Max
requests" and "Requests allowed" per interval, here one second); every answer carries
`X-RateLimit-Limit`, `X-RateLimit-Remaining`, `X-RateLimit-Interval-Seconds`,
`X-RateLimit-FillRate` and `Retry-After` (0 while tokens are left), and no reason.

A refused call costs no token: the limiter answers before any work.
"""
import math
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

BURST = "jira-burst-based"
PER_ISSUE = "jira-per-issue-on-write"
WRITES = ("POST", "PUT", "DELETE")
NEAR_LIMIT = 0.2  # Atlassian: X-RateLimit-NearLimit when less than 20% of a budget remains


class Bucket:
    """`capacity` calls at once, refilled at `rate` calls per second."""

    def __init__(self, capacity, rate):
        self.capacity, self.rate = float(capacity), float(rate)
        self.tokens, self.at = self.capacity, time.monotonic()

    def take(self):
        """(taken, tokens left, seconds until the next token)."""
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True, int(self.tokens), 0.0
        return False, 0, (1 - self.tokens) / self.rate


class RateLimits:
    """The limits one simulator enforces; all off until `configure` sets them."""

    def __init__(self):
        self.lock = threading.Lock()
        self.configure()

    def configure(self, burst=None, endpoints=None, issue_writes=None, issue_write_seconds=2.0,
                  user_limit=None, burst_seconds=1.0):
        """`burst`: calls per second each Cloud endpoint and method allows (None: no limit);
        `endpoints`: {"POST /issue": 2, ...} for particular ones; `burst_seconds`: the period
        of those budgets (Jira's is a second; a test on a loaded machine makes it longer, so
        that its second call still meets the limit). `issue_writes`: writes to
        one issue allowed per `issue_write_seconds`. `user_limit`: Data Center's calls per
        second per user, over every endpoint."""
        with self.lock:
            self.burst, self.endpoints = burst, dict(endpoints or {})
            self.burst_seconds = float(burst_seconds)
            self.issue_writes, self.issue_write_seconds = issue_writes, float(issue_write_seconds)
            self.user_limit = user_limit
            self.buckets = {}
            self.blocked = {}  # budget key -> when its last Retry-After ends (monotonic)
            self.refused = Counter()  # "METHOD /rest/api/N/template" of every call refused

    def check(self, version, method, template, issue_id, user, datacenter=False):
        """(a 429 reply, or None) and the headers for an answer let through. `template` is the
        route without `/rest/api/N`; `user` tells callers apart (their Authorization header);
        `datacenter`: the simulator answers as Data Center (one budget per user)."""
        endpoint = f"{method} {template}"
        label = f"{method} /rest/api/{version}{template}"
        with self.lock:
            if datacenter:
                return self._data_center(label, user)
            headers, tightest = {}, None
            for reason, key, limit, seconds in self._cloud_budgets(endpoint, method, issue_id):
                now = time.monotonic()
                if now < self.blocked.get(key, 0.0):  # retried before Retry-After passed
                    self.refused[label] += 1
                    return _refusal(reason, limit, self.blocked[key] - now), {}
                taken, left, wait = self._take(key, limit, limit / seconds)
                if not taken:
                    self.refused[label] += 1
                    refusal = _refusal(reason, limit, wait)
                    self.blocked[key] = now + int(refusal[2]["Retry-After"])
                    return refusal, {}
                if tightest is None or left / limit < tightest:  # the headers tell of the tightest
                    tightest = left / limit
                    headers = {"X-RateLimit-Limit": str(int(limit)), "X-RateLimit-Remaining": str(left)}
                    if tightest < NEAR_LIMIT:
                        headers["X-RateLimit-NearLimit"] = "true"
            return None, headers

    def _cloud_budgets(self, endpoint, method, issue_id):
        """(reason, bucket key, calls, per seconds) of each budget this call draws on."""
        limit = self.endpoints.get(endpoint, self.burst)
        if limit:
            yield BURST, ("burst", endpoint), limit, self.burst_seconds
        if self.issue_writes and issue_id and method in WRITES:
            yield PER_ISSUE, ("issue", issue_id), self.issue_writes, self.issue_write_seconds

    def _data_center(self, label, user):
        if not self.user_limit:
            return None, {}
        taken, left, wait = self._take(("user", user), self.user_limit, self.user_limit)
        headers = {"X-RateLimit-Limit": str(int(self.user_limit)), "X-RateLimit-Remaining": str(left),
                   "X-RateLimit-Interval-Seconds": "1", "X-RateLimit-FillRate": str(int(self.user_limit)),
                   "Retry-After": str(math.ceil(wait))}
        if taken:
            return None, headers
        self.refused[label] += 1
        return (429, {"message": "Rate limit exceeded", "status-code": 429}, headers), {}

    def _take(self, key, capacity, rate):
        if key not in self.buckets:
            self.buckets[key] = Bucket(capacity, rate)
        return self.buckets[key].take()

    def total_refused(self):
        with self.lock:
            return sum(self.refused.values())

    def clear_refused(self):
        with self.lock:
            self.refused.clear()


def _refusal(reason, limit, wait):
    retry_after = max(1, math.ceil(wait))  # whole seconds, as Jira sends them
    reset = datetime.now(timezone.utc) + timedelta(seconds=retry_after)
    return 429, {"errorMessages": ["Rate limit exceeded."], "errors": {}}, {
        "Retry-After": str(retry_after), "RateLimit-Reason": reason,
        "X-RateLimit-Limit": str(int(limit)), "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%MZ")}
