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
- ``late_commit``: wait ``seconds``, *then* do the work and answer, whatever the client did
  meanwhile (timed out, hung up, was killed): real Jira finishes what it started

Hostile answers (a broken proxy, a hijacked host, a Jira gone wrong), all with status 200:

- ``malformed_json``: JSON cut off in the middle, labelled as JSON
- ``html_page``: an HTML page (a proxy's log-in or error page) instead of JSON
- ``huge_body``: ``size`` bytes of valid-looking JSON, sent without keeping it in memory
- ``drip``: the headers at once, then the (real) body one byte every ``seconds``
"""
import json
import random
import threading

KINDS = ("latency", "error", "rate_limit", "timeout", "drop", "lost_reply", "slow_reply", "late_commit",
         "malformed_json", "html_page", "huge_body", "drip")
HOSTILE = ("malformed_json", "html_page", "huge_body")


class Faults:
    def __init__(self, seed=0):
        self.rules = []
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.wake = threading.Event()   # set on reset so hanging handlers return at once

    def add(self, kind, path=None, method=None, times=None, rate=1.0, status=500,
            retry_after=None, seconds=1.0, size=64 * 1024 * 1024):
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; use one of {KINDS}")
        with self.lock:
            self.rules.append({"kind": kind, "path": path, "method": method, "times": times,
                               "rate": rate, "status": int(status), "retry_after": retry_after,
                               "seconds": float(seconds), "size": int(size)})
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


class Stream:
    """A body the handler writes piece by piece: ``pieces`` yields bytes, ``pause`` seconds
    are waited before each piece."""

    def __init__(self, length, pieces, pause=0.0):
        self.length, self.pieces, self.pause = length, pieces, pause


def hostile_reply(rule):
    """(status, body, headers) for a ``malformed_json``, ``html_page`` or ``huge_body`` rule."""
    json_type = {"Content-Type": "application/json;charset=UTF-8"}
    if rule["kind"] == "malformed_json":
        return 200, b'{"issues": [{"id": "10001", "key": "SUP-1", "fields": {"summary": "cut', json_type
    if rule["kind"] == "html_page":
        page = ("<!DOCTYPE html><html><head><title>Log in</title><script>alert(1)</script></head>"
                "<body><form action='/login'><input name=os_password></form></body></html>")
        return 200, page, {"Content-Type": "text/html;charset=UTF-8"}
    size, block = rule["size"], b"x" * 65536
    head, tail = b'{"issues": [], "padding": "', b'"}'
    middle = size - len(head) - len(tail)

    def pieces():
        yield head
        for start in range(0, middle, len(block)):
            yield block[:min(len(block), middle - start)]
        yield tail
    return 200, Stream(size, pieces()), json_type


def drip(reply, seconds):
    """The same reply, its body sent one byte every ``seconds``."""
    status, body, headers = reply
    if isinstance(body, (dict, list)):
        data = json.dumps(body).encode("utf-8")
        headers = {"Content-Type": "application/json;charset=UTF-8", **headers}
    else:
        data = body.encode("utf-8") if isinstance(body, str) else body
    return status, Stream(len(data), (data[i:i + 1] for i in range(len(data))), pause=seconds), headers
