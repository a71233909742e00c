"""7. Capacity: simulated users on loopback against gunicorn on PostgreSQL with 100,000
requests over 1,000 accounts. Each user has an open list polling every LIST_POLL_SECONDS and an
open detail page polling its comments as often; one in a hundred files a request a minute.
Each user's tabs have polled before (they hold their fragments' ETags), as open tabs do.

The load is open-loop: every poll is sent when it is due, and its latency counts from then, so
a server that falls behind is seen. The number of users doubles each step (then one step
between the last good and the first bad); the capacity is the most users whose p95 stays
within 10× the p95 of `GET /healthz` on the idle server, measured in the same run, with at
most 1% failed. Measured with conditional polls on and off (CONDITIONAL_POLLS), on gunicorn with 2
sync workers, and on `make run`'s server (one process, 8 threads, jobs in-process). Where the
time goes: the CPU the web processes spent per request, and the share answered 304. The load
generator (threads sending raw HTTP/1.1) shares the two cores with everything else: the figures
are a lower bound.

    .venv/bin/python -m bench.capacity
"""
import heapq
import os
import random
import re
import socket
import threading
import time
from urllib.parse import urlencode

from bench.common import PYTHON, Bench, dump, free_port, ms, percentile, phase, wait_http

REQUESTS = int(os.environ.get("BENCH_CAPACITY_REQUESTS", "100000"))
ACCOUNTS = 1000
STEP_SECONDS = float(os.environ.get("BENCH_CAPACITY_STEP_SECONDS", "20"))
FIRST_STEP = int(os.environ.get("BENCH_CAPACITY_FIRST", "250"))
MOST_USERS = int(os.environ.get("BENCH_CAPACITY_MOST", "64000"))
THREADS = 48  # the load generator's connections at once
POLL_SECONDS = 15  # LIST_POLL_SECONDS's default
FILERS = 100  # one user in this many files a request a minute
P95_LIMIT = 10  # × /healthz on the idle server
FRAGMENT = {"HX-Request": "true", "HX-Target": "request-results"}


class Tab:
    """One account's open tabs: its cookie, CSRF token, detail page and the ETags it holds."""

    def __init__(self, cookie, csrf, detail_id):
        self.cookie, self.csrf, self.detail_id, self.tags = cookie, csrf, detail_id, {}


def raw_request(method, path, tab=None, headers=None, body=b""):
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close", "Accept-Encoding: br"]
    if tab:
        lines.append(f"Cookie: {tab.cookie}")
        if path in tab.tags:
            lines.append(f"If-None-Match: {tab.tags[path]}")
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body:
        lines += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def send(port, raw):
    """(status, ETag or None) of one request on a fresh connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(raw)
        chunks = []
        while True:
            data = sock.recv(65536)
            if not data:
                break
            chunks.append(data)
    answer = b"".join(chunks)
    head = answer[:answer.find(b"\r\n\r\n")]
    tag = re.search(rb"\r\netag: ([^\r]+)", head, re.I)
    return int(answer[9:12]), tag.group(1).decode() if tag else None


def cpu_seconds(pid):
    """User and system CPU of a process and its children that are alive (gunicorn's workers)."""
    from bench.common import _children
    total = 0.0
    for each in [pid, *_children(pid)]:
        try:
            fields = open(f"/proc/{each}/stat").read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            pass
    return total


def schedule(tabs, users, seconds, chance):
    """(due, kind, tab index) of every request of `users` users during `seconds`."""
    events = []
    for user in range(users):
        tab = user % len(tabs)
        for kind in ("list", "detail"):
            due = chance.uniform(0, POLL_SECONDS)
            while due < seconds:
                events.append((due, kind, tab))
                due += POLL_SECONDS
        if user % FILERS == 0:
            due = chance.uniform(0, 60)
            while due < seconds:
                events.append((due, "file", tab))
                due += 60
    heapq.heapify(events)
    return events


def request_of(kind, tab, n):
    if kind == "list":
        return "/requests/", raw_request("GET", "/requests/", tab, FRAGMENT)
    if kind == "detail":
        path = f"/requests/{tab.detail_id}/comments"
        return path, raw_request("GET", path, tab, {"HX-Request": "true"})
    body = urlencode({"csrf_token": tab.csrf, "label": "Bug", "summary": f"Capacity run request {n}",
                      "description": "Filed by the capacity benchmark."}).encode()
    return None, raw_request("POST", "/requests/new", tab, body=body)


def run_step(port, tabs, users, seconds, server_pid):
    """Open-loop load of `users` users for `seconds`: latencies by kind, 304 share, errors."""
    events = schedule(tabs, users, seconds, random.Random(users))
    lock = threading.Lock()
    times = {"list": [], "detail": [], "file": []}
    counts = {"not_modified": 0, "errors": 0, "requests": 0}
    refused = {}  # "kind status": how many
    started = time.perf_counter()
    cpu_before = cpu_seconds(server_pid)

    def worker():
        while True:
            with lock:
                if not events:
                    return
                due, kind, index = heapq.heappop(events)
                counts["requests"] += 1
                n = counts["requests"]
            wait = started + due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            tab = tabs[index]
            path, raw = request_of(kind, tab, n)
            try:
                status, tag = send(port, raw)
            except OSError:
                status, tag = 0, None
            elapsed = time.perf_counter() - (started + due)  # from when it was due
            with lock:
                times[kind].append(elapsed)
                if status == 304:
                    counts["not_modified"] += 1
                elif status not in (200, 303):
                    counts["errors"] += 1
                    refused[f"{kind} {status}"] = refused.get(f"{kind} {status}", 0) + 1
                if path and tag:
                    tab.tags[path] = tag

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    every = [t for values in times.values() for t in values]
    total = counts["requests"]
    return {"users": users, "requests": total, "per_second": round(total / wall, 1),
            "p95_ms": ms(percentile(every, 95)), "median_ms": ms(percentile(every, 50)),
            "p95_by_kind_ms": {kind: ms(percentile(values, 95)) for kind, values in times.items() if values},
            "not_modified_share": round(counts["not_modified"] / total, 3) if total else None,
            "errors": counts["errors"], "error_statuses": refused,
            "web_cpu_ms_per_request": round((cpu_seconds(server_pid) - cpu_before) * 1000 / total, 2) if total else None}


def idle_healthz_p95(port, samples=200):
    times = []
    for _ in range(samples):
        began = time.perf_counter()
        send(port, raw_request("GET", "/healthz"))
        times.append(time.perf_counter() - began)
    return ms(percentile(times, 95))


def open_tabs(app, port, users, detail_ids):
    """Each account's session, as logging in would make it (signed here with the portal's
    secret key: a thousand password checks would take minutes), with its list's and detail
    poll's ETags."""
    from flask import session
    from flask_login import login_user
    from flask_wtf.csrf import generate_csrf
    signer = app.session_interface.get_signing_serializer(app)
    tabs = []
    for user, detail_id in zip(users, detail_ids):
        with app.test_request_context("/"):
            login_user(user)
            csrf = generate_csrf()
            cookie = f"{app.config['SESSION_COOKIE_NAME']}={signer.dumps(dict(session))}"
        tab = Tab(cookie, csrf, detail_id)
        for kind in ("list", "detail"):
            path, raw = request_of(kind, tab, 0)
            status, tag = send(port, raw)
            if status != 200:
                raise RuntimeError(f"{path} answered {status} to a logged-in account")
            if tag:
                tab.tags[path] = tag
        tabs.append(tab)
    return tabs


def served(step, limit_ms):
    """Within the p95 limit, with at most 1% of the requests failed."""
    return step["p95_ms"] <= limit_ms and step["errors"] <= step["requests"] / 100


def capacity(port, tabs, server_pid, limit_ms):
    """Steps of doubling users until p95 > limit or errors; then one step between. A first
    step, not counted, warms the server (each worker's templates, queries and connections,
    as on a server that has been up a while) and brings the tabs' ETags up to date with what
    the previous server's filings changed."""
    with phase("capacity: warming up"):
        run_step(port, tabs, FIRST_STEP, min(STEP_SECONDS, 10), server_pid)
    steps, users, good, bad = [], FIRST_STEP, None, None
    while users <= MOST_USERS:
        with phase(f"capacity: {users:,} users"):
            step = run_step(port, tabs, users, STEP_SECONDS, server_pid)
        steps.append(step)
        if served(step, limit_ms):
            good, users = users, users * 2
        else:
            bad = users
            break
    if good and bad:
        middle = (good + bad) // 2
        with phase(f"capacity: {middle:,} users"):
            step = run_step(port, tabs, middle, STEP_SECONDS, server_pid)
        steps.append(step)
        if served(step, limit_ms):
            good = middle
    return {"most_users": good or 0, "steps": steps}


def start_server(bench, name, threads=None, **settings):
    port = free_port()
    args = [PYTHON, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}"]
    args += ["--workers", "1", "--threads", str(threads)] if threads else ["--workers", "2"]
    saved = bench.procs.env
    bench.procs.env = {**saved, **settings}
    try:
        process = bench.procs.start(name, args + ["app:app"], role="web process")
    finally:
        bench.procs.env = saved
    wait_http(f"http://127.0.0.1:{port}/healthz", process)
    return port, process


def run():
    from sqlalchemy import func, select

    from bench.list_scale import seed_catalog, seed_requests, seed_users
    from webapp.extensions import db
    from webapp.models import JiraSettings, SupportRequest, User
    result = {"requests": REQUESTS, "accounts": ACCOUNTS, "step_seconds": STEP_SECONDS,
              "poll_seconds": POLL_SECONDS, "modes": {}}
    with Bench("capacity") as bench, bench.app.app_context():
        with phase(f"capacity: {ACCOUNTS:,} accounts and {REQUESTS:,} requests"):
            categories, products = seed_catalog()
            user_ids = seed_users(ACCOUNTS)
            seed_requests(0, REQUESTS, user_ids, categories, products)
            # The settings row every deployment has once set up (its creation by the first
            # filing would otherwise change every page's ETag in the middle of a step).
            JiraSettings.get()
            db.session.commit()
        newest = dict(db.session.execute(select(SupportRequest.reporter_id, func.max(SupportRequest.id))
                                         .group_by(SupportRequest.reporter_id)).all())
        users = db.session.scalars(select(User).where(User.id.in_(user_ids)).order_by(User.id)).all()
        modes = [("conditional polls on, gunicorn 2 workers", None, {}),
                 ("conditional polls off, gunicorn 2 workers", None, {"CONDITIONAL_POLLS": "false"}),
                 ("conditional polls on, `make run`'s server (1 process, 8 threads, jobs in-process)", 8,
                  {"REDIS_URL": ""})]
        tabs = None
        for index, (name, threads, settings) in enumerate(modes):
            port, process = start_server(bench, f"web-{index}", threads, **settings)
            limit = idle_healthz_p95(port)
            if tabs is None:  # the same sessions and ETags on every server: one database
                with phase(f"capacity: {ACCOUNTS:,} accounts open their tabs"):
                    tabs = open_tabs(bench.app, port, users, [newest[u.id] for u in users])
            outcome = capacity(port, tabs, process.pid, limit * P95_LIMIT)
            result["modes"][name] = {"healthz_p95_ms": limit, **outcome}
            bench.procs.stop(process)
    on, off = (result["modes"][name]["most_users"] for name, _, _ in modes[:2])
    result["on_vs_off"] = round(on / off, 1) if off else None
    result["met"] = bool(off and on >= 5 * off and on >= 10_000)
    return result


def markdown(r):
    lines = [
        f"{r['requests']:,} requests over {r['accounts']:,} accounts in PostgreSQL. Each simulated user "
        f"(an account's session; users beyond {r['accounts']:,} share them) polls its list and one "
        f"detail page's comments every {r['poll_seconds']} s, holding the ETags its tabs got before; "
        f"one in {FILERS} files a request a minute. Open-loop, {r['step_seconds']:g} s a step; latency "
        "from when each request was due. Capacity: the most users with p95 ≤ "
        f"{P95_LIMIT}× the idle server's `GET /healthz` p95 and at most 1% of requests failed.",
        "",
        "| server | /healthz p95 (idle) | most users (p95 ≤ 10×) | |",
        "|---|---:|---:|---|",
    ]
    for name, mode in r["modes"].items():
        lines.append(f"| {name} | {mode['healthz_p95_ms']} ms | **{mode['most_users']:,}** | |")
    ratio = f"**{r['on_vs_off']}×** the users" if r["on_vs_off"] else "**not measured** (no step served with them off)"
    lines += ["", f"On vs off: {ratio} (target ≥ 5×, and ≥ 10,000 users with them on).",
              "", "Every step (where the time goes: web CPU per request, the share answered 304):", "",
              "| server | users | requests/s | median / p95 | p95 list / detail / filing | 304 share | errors | web CPU per request |",
              "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, mode in r["modes"].items():
        for step in mode["steps"]:
            kinds = step["p95_by_kind_ms"]
            lines.append(f"| {name.split(',')[0]}{', threads' if 'threads' in name else ''} | {step['users']:,} | "
                         f"{step['per_second']} | {step['median_ms']} / {step['p95_ms']} ms | "
                         f"{kinds.get('list', '—')} / {kinds.get('detail', '—')} / {kinds.get('file', '—')} ms | "
                         f"{step['not_modified_share']:.0%} | {step['errors']}{' (' + ', '.join(f'{k}: {v}' for k, v in step.get('error_statuses', {}).items()) + ')' if step['errors'] else ''} | {step['web_cpu_ms_per_request']} ms |")
    return "\n".join(lines)


if __name__ == "__main__":
    outcome = run()
    dump(outcome)
    print(markdown(outcome))
