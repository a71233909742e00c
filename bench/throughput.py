"""4. Delivery throughput: 1,000 queued requests, two RQ workers (`python worker.py`, product
defaults), the Jira simulator answering every call after 50 ms and refusing calls beyond its
burst limit (per endpoint and method, as Jira Cloud's) with 429. Requests delivered per second,
failures, duplicates, and the 429s met per delivered request. Target: 0 failures, 0
duplicates, at least 80% of the simulator's burst limit, and at most half the 429s per
delivered request that workers without shared holds meet, at the same delivered rate.

Baseline, measured first in the same run: the same workers delivering a smaller batch with no
limit at all (what they manage when Jira never refuses). The burst limit is then set to 75% of
the calls per second they made, so that it binds on any machine: the figure shows how the
portal behaves at Jira's limit, not how fast the machine is. The same batch is then delivered
twice at that limit: by workers with `JIRA_RATE_LIMIT_HOLDS=false` (only the job that met a 429
waits: before), and by workers on the defaults (a 429 holds every worker off the endpoint for
its Retry-After: after).

    .venv/bin/python -m bench.throughput [BURST_LIMIT]      (a fixed limit instead)
"""
import os
import sys
import time

from bench.common import Bench, configure_jira, dump, log, make_user, phase, start_simulator

REQUESTS = int(os.environ.get("BENCH_DELIVERY_REQUESTS", "1000"))
BASELINE_REQUESTS = 150
WORKERS = 2
LATENCY = 0.05
LIMIT_SHARE = 0.75  # the burst limit, as a share of the calls per second made with no limit
MIN_CALLS = 1       # a request without attachments: one create (a search only after a create whose
                    # answer was lost, see webapp/delivery.py)
# The limited run is stopped when even a portal at exactly 80% of the limit's ceiling would
# have finished (it has missed the target then), and in any case after MAX_SECONDS, so that
# `make bench` ends.
MAX_SECONDS = 300
SAME_RATE = 0.95  # "the same delivered rate": with holds, at least this share of the rate without
SLICE = 30  # seconds: answered calls per second are also reported per slice of this length


def deliver_batch(sim, reporter_id, prefix, count, timeout=MAX_SECONDS):
    """Queue `count` requests (one bulk insert), enqueue their jobs through the product's queue
    and wait until each is sent or failed. Returns the figures."""
    from sqlalchemy import func, insert, select

    from webapp import delivery
    from webapp.extensions import db
    from webapp.models import SupportRequest, utcnow
    from webapp.queue import enqueue

    now = utcnow()
    references = [f"PR-{prefix}{n:07d}" for n in range(count)]
    db.session.execute(insert(SupportRequest), [
        {"reference": reference, "reporter_id": reporter_id, "label": "Bug",
         "summary": f"Delivery benchmark {reference}", "description": "A request.",
         "delivery_state": "queued", "next_attempt_at": now, "created_at": now, "updated_at": now}
        for reference in references])
    db.session.commit()
    batch = SupportRequest.reference.in_(references)
    ids = db.session.scalars(select(SupportRequest.id).where(batch).order_by(SupportRequest.id)).all()

    def states():
        db.session.expire_all()
        return dict(db.session.execute(select(SupportRequest.delivery_state, func.count())
                                       .where(batch).group_by(SupportRequest.delivery_state)).all())

    sim.reset_counters()
    started = time.monotonic()
    for request_id in ids:
        enqueue(delivery.deliver, request_id)
    while True:
        counts = states()
        if counts.get("sent", 0) + counts.get("failed", 0) >= count or time.monotonic() > started + timeout:
            break
        time.sleep(0.1)
    elapsed = time.monotonic() - started
    log(f"delivery: {counts}")
    delivered = db.session.scalars(select(SupportRequest.delivered_at).where(
        batch, SupportRequest.delivered_at.is_not(None)).order_by(SupportRequest.delivered_at)).all()
    by_reference = sim.issues_by_reference()
    sent, failed = counts.get("sent", 0), counts.get("failed", 0)
    accepted, refused = len(sim.accepted_at), sim.limits.total_refused()
    slices = [0] * (int(elapsed // SLICE) + 1)
    for at in sim.accepted_at:
        if started <= at <= started + elapsed:
            slices[int((at - started) // SLICE)] += 1
    result = {
        "requests": count, "sent": sent, "failed": failed, "unfinished": count - sent - failed,
        "duplicates": sum(len(by_reference[r]) - 1 for r in references if r in by_reference),
        "missing": sum(1 for r in references if r not in by_reference),
        "seconds": round(elapsed, 2), "per_second": round(sent / elapsed, 2),
        "steady_per_second": _steady(delivered),
        "jira_calls": accepted, "throttled": refused, "throttled_by": dict(sim.limits.refused),
        "calls_per_second": round(accepted / elapsed, 2),
        "calls_per_delivery": round(accepted / sent, 2) if sent else None,
        "refused_per_delivery": round(refused / sent, 3) if sent else None,  # 429s met
        "calls_by_endpoint": dict(sim.calls),
        "attempts": db.session.scalar(select(func.sum(SupportRequest.attempts)).where(batch)),
        "calls_per_second_by_slice": [round(n / SLICE, 1) for n in slices[:-1]],
        "timed_out": elapsed >= timeout,
    }
    return result


def _steady(delivered):
    """Deliveries per second between the 10th and the 90th percentile of delivery times: no
    start-up, no tail of requests waiting out a Retry-After."""
    if len(delivered) < 10:
        return None
    lo, hi = delivered[len(delivered) // 10], delivered[len(delivered) * 9 // 10 - 1]
    span = (hi - lo).total_seconds()
    return round((len(delivered) * 9 // 10 - 1 - len(delivered) // 10) / span, 2) if span > 0 else None


def run(requests=REQUESTS, burst_limit=None, latency=LATENCY, workers=WORKERS):
    sim = start_simulator(latency=latency)
    result = {"workers": workers, "latency_ms": latency * 1000}
    try:
        with Bench("delivery") as bench, bench.app.app_context():
            configure_jira(sim)
            reporter = make_user("reporter@example.com")
            bench.procs.workers(workers)
            with phase(f"delivery baseline: {BASELINE_REQUESTS} requests, {workers} workers, "
                       f"{latency * 1000:.0f} ms, no limit"):
                result["baseline"] = deliver_batch(sim, reporter.id, "U", BASELINE_REQUESTS)
            if not burst_limit:
                burst_limit = max(4, round(result["baseline"]["calls_per_second"] * LIMIT_SHARE))
            result["burst_limit"] = burst_limit
            timeout = min(MAX_SECONDS, requests * MIN_CALLS / burst_limit / 0.8 + 10)
            result["timeout"] = round(timeout)
            for name, prefix, holds in (("without_holds", "N", "false"), ("limited", "L", "true")):
                restart_workers(bench, workers, JIRA_RATE_LIMIT_HOLDS=holds)
                sim.set_rate_limits(burst=burst_limit)  # every budget full again
                with phase(f"delivery: {requests} requests, burst limit {burst_limit} calls/s, "
                           f"JIRA_RATE_LIMIT_HOLDS={holds}"):
                    result[name] = deliver_batch(sim, reporter.id, prefix, requests, timeout)
    finally:
        sim.stop()
    limited, before = result["limited"], result["without_holds"]
    result["ceiling_per_second"] = burst_limit / MIN_CALLS
    result["of_ceiling"] = round(limited["per_second"] / result["ceiling_per_second"], 3)
    result["calls_of_limit"] = round(limited["calls_per_second"] / burst_limit, 3)
    result["vs_baseline"] = round(limited["per_second"] / result["baseline"]["per_second"], 3)
    refused_before = before["refused_per_delivery"]
    result["refused_vs_without_holds"] = (round(limited["refused_per_delivery"] / refused_before, 3)
                                          if refused_before else None)
    result["rate_vs_without_holds"] = round(limited["per_second"] / before["per_second"], 3)
    searches = limited["calls_by_endpoint"].get("POST /rest/api/3/search/jql", 0)
    result["extra_searches"] = searches  # only after a create whose answer was lost
    result["creates_refused"] = limited["throttled_by"].get("POST /rest/api/3/issue", 0)
    result["met"] = (all(r["failed"] == 0 and r["duplicates"] == 0 and r["unfinished"] == 0 and r["missing"] == 0
                         for r in (limited, before, result["baseline"]))
                     and result["of_ceiling"] >= 0.8
                     and refused_before and result["refused_vs_without_holds"] <= 0.5
                     and result["rate_vs_without_holds"] >= SAME_RATE)
    return result


def restart_workers(bench, count, **settings):
    """`count` workers started afresh with these settings (read when a worker starts)."""
    bench.procs.stop_all()
    bench.procs.env.update({name: str(value) for name, value in settings.items()})
    bench.procs.workers(count)


def markdown(r):
    b, n, l = r["baseline"], r["without_holds"], r["limited"]
    return "\n".join([
        f"{l['requests']:,} queued requests (no attachments), {r['workers']} RQ workers (`python "
        f"worker.py`), the simulator answering every call after {r['latency_ms']:.0f} ms and refusing "
        f"more than **{r['burst_limit']:g} calls per second** to an endpoint with `429 Retry-After: 1` "
        "at once (and any call to it before that second has passed, as Jira does). Baseline, same "
        f"run and workers: {b['requests']} requests with no limit; the limit is "
        f"{LIMIT_SHARE:.0%} of the calls per second they made, so that it binds. At the limit the batch "
        "is delivered twice: by workers with `JIRA_RATE_LIMIT_HOLDS=false` (only the job that met a 429 "
        "waits), then by workers on the defaults (a 429 holds every worker off that endpoint for its "
        "Retry-After).",
        "",
        "| | no limit (baseline) | burst limit, no holds | **burst limit, holds (default)** |",
        "|---|---:|---:|---:|",
        "| delivered | "
        + " | ".join(f"{x['sent']:,} of {x['requests']:,} in {x['seconds']} s" for x in (b, n, l)) + " |",
        f"| **requests delivered per second** | {b['per_second']} | {n['per_second']} | **{l['per_second']}** "
        f"({r['vs_baseline']:.2f}× the baseline, {r['rate_vs_without_holds']:.2f}× without holds) |",
        "| steady rate (10th–90th percentile of deliveries) | "
        + " | ".join(str(x["steady_per_second"]) for x in (b, n, l)) + " |",
        "| **failures** / unfinished | "
        + " | ".join(f"{x['failed']} / {x['unfinished']}" for x in (b, n, l)) + " |",
        "| **duplicates** / missing issues | "
        + " | ".join(f"{x['duplicates']} / {x['missing']}" for x in (b, n, l)) + " |",
        "| Jira calls answered / refused (429) | "
        + " | ".join(f"{x['jira_calls']:,} / {x['throttled']:,}" for x in (b, n, l)) + " |",
        f"| **429s met per delivered request** | {b['refused_per_delivery']} | {n['refused_per_delivery']} | "
        f"**{l['refused_per_delivery']}** ({_ratio(r['refused_vs_without_holds'])} without holds) |",
        "| Jira calls answered per second | " + " | ".join(str(x["calls_per_second"]) for x in (b, n))
        + f" | {l['calls_per_second']} ({r['calls_of_limit']:.0%} of the limit) |",
        "| Jira calls per delivered request | "
        + " | ".join(str(x["calls_per_delivery"]) for x in (b, n, l)) + " |",
        "| delivery attempts | " + " | ".join(f"{x['attempts']:,}" for x in (b, n, l)) + " |",
        "",
        f"At {r['burst_limit']:g} calls/s and {MIN_CALLS} calls a request the most Jira allows is "
        f"{r['ceiling_per_second']:g} requests/s; with holds the portal delivered **{r['of_ceiling']:.0%}** "
        f"of that (target ≥ 80%), meeting {_ratio(r['refused_vs_without_holds'])} the 429s per delivered "
        f"request of workers without holds (target ≤ 0.50×) at {r['rate_vs_without_holds']:.2f}× their "
        f"delivered rate (target ≥ {SAME_RATE:.2f}×). Searches for creates whose answer was lost: "
        f"{r['extra_searches']:,}."
        + (f" Stopped after {r['timeout']} s (when a portal at 80% would have finished) with "
           f"{l['unfinished']:,} requests still queued, none failed." if l["timed_out"] else ""),
        "",
        f"Jira calls answered per second, by {SLICE} s slice, without holds: "
        + ", ".join(str(x) for x in n["calls_per_second_by_slice"]) + "; with holds: "
        + ", ".join(str(x) for x in l["calls_per_second_by_slice"]) + ".",
    ])


def _ratio(value):
    return f"{value:.2f}×" if value is not None else "— (none met without holds)"


if __name__ == "__main__":
    outcome = run(burst_limit=float(sys.argv[1]) if len(sys.argv) > 1 else None)
    dump(outcome)
    print(markdown(outcome))
