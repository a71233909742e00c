"""7. Reconcile at scale: the full reconcile of 100,000 tracked requests on an RQ worker,
against the simulator. It runs as parts (jobs) of RECONCILE_BATCHES_PER_JOB batches of 100;
printed: the number of jobs, the longest job against RQ's job timeout, the total time and
the peak memory. Target: every job well within the timeout (at most a tenth of it).

    .venv/bin/python -m bench.reconcile_scale [--tracked 100000] [--latency 0.05]
"""
import argparse
import re
import time
from datetime import timedelta

from bench.common import Bench, MEMORY, configure_jira, dump, log, make_user, phase, start_simulator

TRACKED = 100_000
LATENCY = 0.05  # seconds the simulator waits before each answer (a real Jira takes more)
# RQ's own line for each job it finished: "Successfully completed <description> job in 0:00:01.5s"
COMPLETED = re.compile(r"Successfully completed (webapp\.sync\.\w+)\((.*?)\) job in (\d+):(\d\d):([\d.]+)s")


def run(tracked=TRACKED, latency=LATENCY, timeout=1800):
    from sqlalchemy import func, select

    from tests.support import track_issues
    from webapp import sync
    from webapp.extensions import db
    from webapp.models import SupportRequest
    from webapp.periodic import RedisClaims
    from webapp.queue import JOB_TIMEOUT_SECONDS
    from webapp.sync.state import read_cursor, reconcile_run

    sim = start_simulator(latency=latency)
    try:
        with Bench("reconcile") as bench, bench.app.app_context():
            with phase(f"reconcile: {tracked:,} tracked issues and requests"):
                configure_jira(sim)
                track_issues(make_user("reporter@example.com"), sim.add_issues(tracked))
            queue = bench.app.extensions["queue"]
            claims = RedisClaims(queue.redis, queue.queue.name)
            for name in ("sync", "reconcile"):  # the worker's scheduler leaves this run to us
                claims.claim(name, 3600)
            (worker,) = bench.procs.workers(1)
            sim.reset_counters()
            with phase(f"reconcile: {tracked:,} on an RQ worker"):
                started = time.monotonic()
                queue.enqueue(sync.reconcile)
                while read_cursor() is None or reconcile_run() is not None:
                    if time.monotonic() - started > timeout:
                        raise RuntimeError(f"the reconcile did not finish in {timeout} s")
                    db.session.rollback()  # a fresh read of what the worker wrote
                    time.sleep(0.5)
                total = time.monotonic() - started
            bench.procs.stop(worker)
            memory = dict(MEMORY.peaks)  # this worker's alone (bench.run takes them for item 7 too)
            jobs = completed_jobs((bench.tmp / "logs" / "worker-0.log").read_text(errors="replace"))
            unchecked = db.session.scalar(select(func.count()).select_from(SupportRequest)
                                          .where(SupportRequest.last_synced_at.is_(None)))
            longest = max(jobs, key=lambda job: job["seconds"])
            return {
                "tracked": tracked, "latency_ms": round(latency * 1000), "batch": sync.BATCH,
                "batches_per_job": bench.app.config["RECONCILE_BATCHES_PER_JOB"],
                "jobs": len(jobs), "parts": sum(job["func"] == "reconcile_part" for job in jobs) + 1,
                "longest_seconds": longest["seconds"], "longest_job": longest["func"],
                "median_seconds": sorted(job["seconds"] for job in jobs)[len(jobs) // 2],
                "jobs_seconds": round(sum(job["seconds"] for job in jobs), 1),  # what one job would take
                "job_timeout": JOB_TIMEOUT_SECONDS, "total_seconds": round(total, 1),
                "searches": sim.calls["POST /rest/api/3/search/jql"], "calls": sim.total_calls(),
                "jira_seconds": round(sim.busy, 1), "unchecked": unchecked,
                "peak_rss": {role: value for role, value in memory.items()},
                "met": unchecked == 0 and longest["seconds"] <= JOB_TIMEOUT_SECONDS / 10,
            }
    finally:
        sim.stop()


def completed_jobs(worker_log):
    """The sync jobs the worker finished, with RQ's own measure of each one's duration."""
    jobs = []
    for func, args, hours, minutes, seconds in COMPLETED.findall(worker_log):
        duration = timedelta(hours=int(hours), minutes=int(minutes), seconds=float(seconds))
        jobs.append({"func": func.rsplit(".", 1)[1], "args": args,
                     "seconds": round(duration.total_seconds(), 2)})
    return jobs


def markdown(r):
    rss = r["peak_rss"]
    horse = rss.get("RQ work horse (forked per job)", 0) / 1024 / 1024
    worker = rss.get("RQ worker", 0) / 1024 / 1024
    return "\n".join([
        f"{r['tracked']:,} tracked requests in PostgreSQL, each with its issue in the simulator "
        f"({r['latency_ms']} ms added to every answer), reconciled by one RQ worker from a "
        f"`reconcile` job: `id in (…)` batches of {r['batch']}, {r['batches_per_job']} batches a "
        "part, each part a job that enqueues the next. Durations are RQ's own (its “Successfully "
        "completed … in” line for each job).",
        "",
        "| jobs | longest job | median job | RQ job timeout | longest vs timeout | whole run | "
        "Jira calls (searches) | of which in Jira | requests not checked | peak RSS (work horse / worker) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {r['jobs']} ({r['parts']} parts) | {r['longest_seconds']} s ({r['longest_job']}) | "
        f"{r['median_seconds']} s | {r['job_timeout']} s | "
        f"{r['longest_seconds'] / r['job_timeout']:.3f}× | {r['total_seconds']} s | "
        f"{r['calls']:,} ({r['searches']:,}) | {r['jira_seconds']} s | {r['unchecked']} | "
        f"{horse:.0f} / {worker:.0f} MiB |",
        "",
        f"Baseline: the same work in one job, as before the split, would run about as long as "
        f"the jobs together, **{r['jobs_seconds']} s = {r['jobs_seconds'] / r['job_timeout']:.2f}× "
        f"the timeout** with this simulator, and it grows with the tracked requests and Jira's "
        f"latency: at 0.6 s a search, {r['searches']:,} searches alone fill the "
        f"{r['job_timeout']} s, while a part's {r['batches_per_job']} take "
        f"{0.6 * r['batches_per_job']:.0f} s.",
    ])


def headline(r):
    return (f"{r['tracked']:,} in {r['jobs']} jobs, longest {r['longest_seconds']} s = "
            f"{r['longest_seconds'] / r['job_timeout']:.3f}× RQ's timeout; whole run {r['total_seconds']} s; "
            f"{r['unchecked']} not checked")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracked", type=int, default=TRACKED)
    parser.add_argument("--latency", type=float, default=LATENCY)
    args = parser.parse_args()
    outcome = run(args.tracked, args.latency)
    dump(outcome)
    log(headline(outcome))
    print(markdown(outcome))
