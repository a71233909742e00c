"""Bench only, never deployed: the portal as if it called Jira inside the web request (what
"may take a few seconds" implies). It is the product app, except that a job enqueued without
a delay runs at once, in the request, instead of on a worker; so POST /requests/new files
the request with the product's own form code and then delivers it to Jira before answering.

    gunicorn bench.sync_app:app      (bench/submit.py starts it)
"""
from webapp import create_app


class InlineQueue:
    """Runs a job enqueued for now inside the caller; delayed ones (retries) go to the real queue."""

    mode = "inline"

    def __init__(self, queue):
        self.queue = queue

    def enqueue(self, func, *args, delay=0):
        if delay:
            return self.queue.enqueue(func, *args, delay=delay)
        func(*args)

    def __getattr__(self, name):
        return getattr(self.queue, name)


app = create_app()
app.extensions["queue"] = InlineQueue(app.extensions["queue"])
