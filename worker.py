"""RQ worker entry point: `python worker.py` (needs REDIS_URL).

Runs the portal's jobs (delivery, sync, the support team's files, housekeeping), with RQ's scheduler for delayed jobs and the
portal's periodic-job scheduler thread."""
import logging
import os
import sys

from redis import Redis
from rq import Queue, Worker, get_current_job

from webapp import create_app
from webapp.extensions import db
from webapp.periodic import RedisClaims, start_scheduler


class JobIdFilter(logging.Filter):
    """Tag every log line with the RQ job it belongs to."""

    def filter(self, record):
        job = get_current_job()
        record.job = job.id if job else "-"
        return True


def tag_logs_with_job_ids():
    for handler in logging.getLogger().handlers:
        handler.addFilter(JobIdFilter())
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [job %(job)s]: %(message)s"))


def main(argv):
    app = create_app()
    queue = app.extensions["queue"]
    if queue.mode != "rq":
        sys.exit("worker.py needs REDIS_URL; without it the web process runs the jobs itself.")
    app.app_context().push()
    tag_logs_with_job_ids()

    def dispose_engine_in_child():
        # A forked work horse must not share the parent's database connections.
        db.engine.dispose(close=False)

    os.register_at_fork(after_in_child=dispose_engine_in_child)
    start_scheduler(app, queue, RedisClaims(queue.redis, queue.queue.name))
    # The worker gets a connection pool of its own: RQ sets the long socket timeout its
    # blocking dequeue needs on new connections only, and the scheduler's are already made.
    connection = Redis.from_url(app.config["REDIS_URL"])
    worker = Worker([Queue(queue.queue.name, connection=connection)], connection=connection)
    worker.work(with_scheduler=True, burst="--burst" in argv)


if __name__ == "__main__":
    main(sys.argv[1:])
