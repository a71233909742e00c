"""Faults the tests inject: latency, 5xx, 429, hangs, dropped connections, lost replies.

A fault is a rule: which requests (``path`` substring, ``method``), how often (``rate``, a
probability, and ``times``, how many requests it may still hit; None is forever), and what
happens (``kind``). Kinds:

- ``latency``: wait ``seconds``, then answer normally
- ``error``: answer ``status`` (500, 502, 503; 503 may carry ``retry_after``)
- ``rate_limit``: 429 with ``Retry-After: retry_after`` and Jira's rate-limit headers
- ``timeout``: hang ``seconds`` (longer than the client's timeout), then close
- ``drop``: close the connection without answering
- ``lost_reply``: do the work (e.g. create the issue), then answer 500
- ``slow_reply``: do the work, then wait ``seconds`` before answering (a client that times
  out, or a worker killed meanwhile, never learns that the work was done)
"""
import random
import threading

KINDS = ("latency", "error", "rate_limit", "timeout", "drop", "lost_reply", "slow_reply")


class Faults:
    def __init__(self, seed=0):
        self.rules = []
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.wake = threading.Event()   # set on reset so hanging handlers return at once

    def add(self, kind, path=None, method=None, times=None, rate=1.0, status=500,
            retry_after=None, seconds=1.0):
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; use one of {KINDS}")
        with self.lock:
            self.rules.append({"kind": kind, "path": path, "method": method, "times": times,
                               "rate": rate, "status": int(status), "retry_after": retry_after,
                               "seconds": float(seconds)})
        self.wake.clear()

    def clear(self):
        with self.lock:
            self.rules.clear()
        self.wake.set()

    def pick(self, method, path):
        """The rules that hit this request (each one consumed once)."""
        hits = []
        with self.lock:
            for rule in self.rules:
                if rule["path"] and rule["path"] not in path:
                    continue
                if rule["method"] and rule["method"].upper() != method:
                    continue
                if rule["times"] is not None and rule["times"] <= 0:
                    continue
                if rule["rate"] < 1.0 and self.random.random() >= rule["rate"]:
                    continue
                if rule["times"] is not None:
                    rule["times"] -= 1
                hits.append(dict(rule))
        return hits

    def sleep(self, seconds):
        self.wake.wait(seconds)


def error_reply(rule):
    """(status, body, headers) for an ``error`` or ``rate_limit`` rule."""
    headers = {}
    if rule["retry_after"] is not None:
        headers["Retry-After"] = str(rule["retry_after"])
    if rule["kind"] == "rate_limit":
        headers.update({"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "0",
                        "RateLimit-Reason": "jira-burst-based"})
        headers.setdefault("Retry-After", "5")
        return 429, {"errorMessages": ["Rate limit exceeded."], "errors": {}}, headers
    if rule["status"] in (502, 503, 504):
        # What a proxy in front of Jira answers: an HTML page, not JSON.
        page = (f"<!DOCTYPE html><html><head><title>{rule['status']}</title></head><body>"
                f"<h1>Service unavailable</h1>{'<p>padding</p>' * 500}</body></html>")
        return rule["status"], page, {**headers, "Content-Type": "text/html"}
    return rule["status"], {"errorMessages": ["Internal server error"], "errors": {}}, headers
