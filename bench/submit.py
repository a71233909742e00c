"""1. Submit latency: POST /requests/new with a 1 MB attachment through gunicorn on loopback
while the Jira simulator answers every call after 2 s. Median and p95, against GET /healthz
on the same server in the same run, and against a synchronous variant (bench/sync_app.py)
that calls Jira inside the request. Target: median ≤ 3× /healthz.

    .venv/bin/python -m bench.submit
"""
import os
import re
import time

from bench.common import (Bench, configure_jira, dump, form_value, logged_in, make_user, ms,
                          percentile, phase, start_simulator)

SAMPLES = int(os.environ.get("BENCH_SUBMIT_SAMPLES", "40"))
SYNC_SAMPLES = int(os.environ.get("BENCH_SUBMIT_SYNC_SAMPLES", "5"))
LATENCY = 2.0
ATTACHMENT = (b"2026-11-30 10:00:00 INFO request id=42 took 12 ms status=200 path=/v1/payments\n" * 14000)[:1024 * 1024]


def seed_catalog():
    """Labels, a category, an API product with an endpoint: what the form offers."""
    from webapp.extensions import db
    from webapp.models import ApiEndpoint, ApiProduct, Category, Label
    db.session.add_all([Label(name="Bug", position=1), Label(name="Question", position=2),
                        Category(name="Payments", position=1)])
    product = ApiProduct(name="Payments API", position=1)
    product.endpoints.append(ApiEndpoint(method="POST", path="/v1/payments", position=1))
    db.session.add(product)
    db.session.commit()
    return product.id, product.endpoints[0].id, db.session.scalar(db.select(Category.id))


def new_request_form(session, base_url):
    page = session.get(base_url + "/requests/new")
    page.raise_for_status()
    return {name: form_value(page.text, name) for name in ("csrf_token", "submission_key")}


def form_data(catalog, n, fields=None):
    product, endpoint, category = catalog
    return {**(fields or {}), "label": "Bug", "summary": f"Payments API answers 500 ({n})",
            "description": "Since this morning every POST /v1/payments answers 500.\nLog attached.",
            "category": str(category), "product": str(product), "endpoint": str(endpoint)}


def post(session, url, data, attach=True, expect=303):
    """One multipart POST, timed from the first byte sent to the answer (the body is encoded
    beforehand, as a browser would have it ready)."""
    import requests
    files = {"attachments": ("payments.log", ATTACHMENT, "text/plain")} if attach else \
        {"attachments": ("", b"", "application/octet-stream")}  # a form with no file chosen
    prepared = session.prepare_request(requests.Request("POST", url, data=data, files=files))
    started = time.perf_counter()
    reply = session.send(prepared, allow_redirects=False)
    elapsed = time.perf_counter() - started
    if reply.status_code != expect:
        raise RuntimeError(f"POST {url} answered {reply.status_code}: {reply.text[:500]}")
    return elapsed, reply


def submit(session, base_url, catalog, n, attach=True):
    """File one request through the form: fetch the form page (untimed), then time the POST."""
    data = form_data(catalog, n, new_request_form(session, base_url))
    elapsed, reply = post(session, base_url + "/requests/new", data, attach)
    if not re.search(r"/requests/\d+$", reply.headers.get("Location", "")):
        raise RuntimeError(f"POST /requests/new did not lead to the new request: {reply.headers}")
    return elapsed


def health(session, base_url):
    started = time.perf_counter()
    reply = session.get(base_url + "/healthz")
    elapsed = time.perf_counter() - started
    reply.raise_for_status()
    return elapsed


def summary(values):
    return {"median_ms": ms(percentile(values, 50)), "p95_ms": ms(percentile(values, 95)), "n": len(values)}


def run(samples=SAMPLES, sync_samples=SYNC_SAMPLES):
    sim = start_simulator(latency=LATENCY)
    result = {"latency_s": LATENCY, "attachment_bytes": len(ATTACHMENT)}
    try:
        with Bench("submit") as bench, bench.app.app_context():
            configure_jira(sim)
            make_user("user@example.com", name="Una User")
            catalog = seed_catalog()
            bench.procs.workers(2)
            base_url, _ = bench.procs.gunicorn("web")
            session = logged_in(base_url, "user@example.com")
            probe_url, _ = bench.procs.gunicorn("web-probe", wsgi="bench.probe_app:app",
                                                role="web process, probe routes")
            with phase(f"submit: {samples} POSTs and /healthz, Jira answering after {LATENCY:g} s"):
                timings = {name: [] for name in ("async", "healthz", "no_file", "parse", "store")}
                for n in range(-3, samples):  # the first three warm up (imports, connections)
                    measured = {
                        "async": submit(session, base_url, catalog, n),
                        "healthz": health(session, base_url),
                        "no_file": submit(session, base_url, catalog, n, attach=False),
                        "parse": post(session, probe_url + "/bench/parse", form_data(catalog, n), expect=204)[0],
                        "store": post(session, probe_url + "/bench/store", form_data(catalog, n), expect=204)[0],
                    }
                    if n >= 0:
                        for name, value in measured.items():
                            timings[name].append(value)
            result.update({name: summary(values) for name, values in timings.items()})

            sync_url, _ = bench.procs.gunicorn("web-sync", wsgi="bench.sync_app:app", workers=1,
                                               role="web process, synchronous variant")
            sync_session = logged_in(sync_url, "user@example.com")
            with phase(f"submit: {sync_samples} POSTs to the synchronous variant"):
                submit(sync_session, sync_url, catalog, -10)
                sync_posts = [submit(sync_session, sync_url, catalog, 100 + n) for n in range(sync_samples)]
            result["sync"] = summary(sync_posts)
    finally:
        sim.stop()
    result["vs_healthz"] = round(result["async"]["median_ms"] / result["healthz"]["median_ms"], 2)
    result["vs_sync"] = round(result["async"]["median_ms"] / result["sync"]["median_ms"], 4)
    result["met"] = result["vs_healthz"] <= 3
    return result


def markdown(r):
    a, h, s = r["async"], r["healthz"], r["sync"]

    def row(label, x):
        return (f"| {label} | {x['n']} | {x['median_ms']} ms | {x['p95_ms']} ms | "
                f"{x['median_ms'] / h['median_ms']:.1f}× |")
    return "\n".join([
        f"A logged-in user files a request (every field, one {r['attachment_bytes'] // 1024} KiB `.log` "
        f"file) through gunicorn (2 sync workers) on loopback; two RQ workers deliver it while the "
        f"simulator answers every call after {r['latency_s']:g} s. Timed: the POST, from the first "
        "byte sent to the 303 answer (the form page is fetched beforehand, untimed). Interleaved "
        "with `GET /healthz` on the same server.",
        "",
        "| | n | median | p95 | median vs /healthz |",
        "|---|---:|---:|---:|---:|",
        f"| `GET /healthz` (baseline) | {h['n']} | {h['median_ms']} ms | {h['p95_ms']} ms | 1× |",
        f"| `POST /requests/new`, 1 MB | {a['n']} | **{a['median_ms']} ms** | {a['p95_ms']} ms | "
        f"**{r['vs_healthz']}×** (target ≤ 3×) |",
        f"| the same, synchronous variant (Jira called in the request) | {s['n']} | {s['median_ms']} ms | "
        f"{s['p95_ms']} ms | {s['median_ms'] / h['median_ms']:.0f}× |",
        "",
        "Where the submit's time goes (same run, interleaved; the probes are bench-only routes in "
        "`bench/probe_app.py`, served by gunicorn with the same settings):",
        "",
        "| | n | median | p95 | median vs /healthz |",
        "|---|---:|---:|---:|---:|",
        row("probe: receive and parse the same 1 MB multipart body, nothing else", r["parse"]),
        row("probe: the same, then check and store the file as the form does (sha256, write)", r["store"]),
        row("`POST /requests/new` with no file (the form, its queries, the insert, the enqueue)", r["no_file"]),
        "",
        f"Against the synchronous variant the portal's submit takes **{r['vs_sync']:.3f}×** the time "
        f"({s['median_ms'] / a['median_ms']:.0f} times faster): the user never waits for Jira.",
    ])


if __name__ == "__main__":
    outcome = run()
    dump(outcome)
    print(markdown(outcome))
