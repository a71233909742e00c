"""Prometheus metrics: requests by delivery state, Jira calls and latency by endpoint, sync lag.

Jira is called from worker processes, so call statistics are kept where every process can
add to them: a Redis hash with RQ, the process itself in the embedded mode."""
import hmac
import ipaddress
import re
import threading
from collections import defaultdict
from urllib.parse import urlsplit

from flask import Response, current_app, request
from sqlalchemy import func, select

from .extensions import db
from .models import DeliveryState, DuplicateIssue, SupportRequest, utcnow
from .sync.state import read_cursor

ID_SEGMENT = re.compile(r"/(?:[A-Z][A-Z0-9_]*-\d+|\d+)(?=/|$)")
API_PREFIX = re.compile(r"^(.*?/rest/api/\d+)(/.*)?$")


def endpoint_of(method, path):
    """`GET /rest/api/3/issue/{id}/comment` from a concrete call: bounded label values."""
    path = urlsplit(path).path
    match = API_PREFIX.match(path)
    if not match:
        return f"{method} (other)"
    return f"{method} {match.group(1)}{ID_SEGMENT.sub('/{id}', match.group(2) or '')}"


class LocalStats:
    def __init__(self):
        self.lock = threading.Lock()
        self.values = defaultdict(float)

    def add(self, fields):
        with self.lock:
            for field, amount in fields.items():
                self.values[field] += amount

    def read(self):
        with self.lock:
            return dict(self.values)


class RedisStats:
    def __init__(self, redis, namespace):
        self.redis, self.key = redis, f"portal:metrics:{namespace}"

    def add(self, fields):
        pipe = self.redis.pipeline(transaction=False)
        for field, amount in fields.items():
            pipe.hincrbyfloat(self.key, field, amount)
        pipe.execute()

    def read(self):
        return {k.decode(): float(v) for k, v in self.redis.hgetall(self.key).items()}


def init_app(app):
    queue = app.extensions["queue"]
    stats = RedisStats(queue.redis, queue.queue.name) if queue.mode == "rq" else LocalStats()
    app.extensions["jira_stats"] = stats
    # Handed to every JiraClient by webapp.integration, which need not know of metrics.
    app.extensions["jira_call_observer"] = jira_call_observer(stats)

    @app.get("/metrics")
    def metrics():
        """With METRICS_TOKEN: for its bearer only. Without: for this machine only (a scraper
        beside the portal), unless METRICS_PUBLIC says anyone may read them."""
        token = app.config.get("METRICS_TOKEN")
        given = request.headers.get("Authorization", "").encode("utf-8")  # bytes: any character may come
        if token and not hmac.compare_digest(given, f"Bearer {token}".encode("utf-8")):
            return Response("Unauthorized\n", 401, {"WWW-Authenticate": "Bearer"}, mimetype="text/plain")
        if not token and not app.config.get("METRICS_PUBLIC") and not _is_loopback(request.remote_addr):
            return Response("Metrics are for this machine only: set METRICS_TOKEN or METRICS_PUBLIC.\n",
                            403, mimetype="text/plain")
        return Response(render(), mimetype="text/plain; version=0.0.4")


def _is_loopback(address):
    try:
        return ipaddress.ip_address(address or "").is_loopback
    except ValueError:
        return False


def jira_call_observer(stats):
    """The JiraClient `on_call` hook that counts calls into `stats`."""

    def on_call(method, path, status, seconds):
        endpoint = endpoint_of(method, path)
        stats.add({f"calls|{endpoint}|{status or 'none'}": 1, f"seconds|{endpoint}": seconds,
                   f"count|{endpoint}": 1})
    return on_call


def _label(value):
    return str(value).replace("\\", "\\\\").replace('"', '\\"')


def render():
    lines = ["# HELP portal_requests Support requests by delivery state.",
             "# TYPE portal_requests gauge"]
    counts = SupportRequest.counts_by_state()
    for state in DeliveryState.ALL:
        lines.append(f'portal_requests{{state="{state}"}} {counts.get(state, 0)}')
    stats = current_app.extensions["jira_stats"].read()
    lines += ["# HELP portal_jira_calls_total Calls to Jira by endpoint and HTTP status.",
              "# TYPE portal_jira_calls_total counter"]
    for field, value in sorted(stats.items()):
        if field.startswith("calls|"):
            _, endpoint, status = field.split("|")
            lines.append(f'portal_jira_calls_total{{endpoint="{_label(endpoint)}",status="{status}"}} {value:g}')
    lines += ["# HELP portal_jira_call_seconds Time spent in calls to Jira by endpoint.",
              "# TYPE portal_jira_call_seconds summary"]
    for field, value in sorted(stats.items()):
        if field.startswith("seconds|"):
            endpoint = field.split("|", 1)[1]
            lines.append(f'portal_jira_call_seconds_sum{{endpoint="{_label(endpoint)}"}} {value:.6f}')
            lines.append(f'portal_jira_call_seconds_count{{endpoint="{_label(endpoint)}"}} '
                         f'{stats.get("count|" + endpoint, 0):g}')
    lines += ["# HELP portal_duplicate_issues Second Jira issues found carrying a request's portal reference.",
              "# TYPE portal_duplicate_issues gauge",
              f"portal_duplicate_issues {db.session.scalar(select(func.count()).select_from(DuplicateIssue))}"]
    cursor = read_cursor()
    lines += ["# HELP portal_sync_lag_seconds Seconds since the start of the last successful sync.",
              "# TYPE portal_sync_lag_seconds gauge"]
    if cursor is not None:
        lines.append(f"portal_sync_lag_seconds {(utcnow() - cursor).total_seconds():.1f}")
    return "\n".join(lines) + "\n"
