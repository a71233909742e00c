"""Admin webhooks as Jira Cloud sends them: JSON POSTs signed with the registered secret.

``X-Hub-Signature: sha256=<hex HMAC-SHA256 of the raw body>``, plus
``X-Atlassian-Webhook-Identifier``. Deliveries run on one background thread so a slow
receiver never blocks the simulated REST API; ``flush()`` waits for them in tests. Like Jira,
a delivery answered with 408, 409, 425, 429 or 5xx (or not answered) is retried, with
``X-Atlassian-Webhook-Retry: <n>`` and the same identifier (Jira keeps at it for about 30
minutes; here ``max_retries`` times, ``retry_delay`` seconds apart).
"""
import hashlib
import hmac
import json
import queue
import threading
import time
import urllib.error
import urllib.request
import uuid

RETRY_STATUSES = {408, 409, 425, 429}


def sign(secret, body):
    """The X-Hub-Signature header value for ``body`` (bytes)."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


class Webhooks:
    def __init__(self, max_retries=2, retry_delay=0.1):
        self.max_retries, self.retry_delay = max_retries, retry_delay
        self.registered = []      # {"url", "secret", "events"}
        self.deliveries = []      # {"url", "event", "status", "identifier"}
        self._queue = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="jirasim-webhooks", daemon=True)
        self._thread.start()

    def register(self, url, secret, events=None):
        self.registered.append({"url": url, "secret": secret, "events": events})

    def clear(self):
        self.flush()
        self.registered.clear()
        self.deliveries.clear()

    def send(self, event, payload):
        """Queue ``payload`` for every webhook listening to ``event``."""
        body = json.dumps({"timestamp": int(time.time() * 1000), "webhookEvent": event,
                           **payload}).encode("utf-8")
        for hook in self.registered:
            if hook["events"] is None or event in hook["events"]:
                self._queue.put((hook, event, body, str(uuid.uuid4()), 0))

    def flush(self, timeout=5.0):
        """Wait until every queued delivery was attempted."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)

    def _run(self):
        while True:
            hook, event, body, identifier, attempt = self._queue.get()
            headers = {"Content-Type": "application/json; charset=utf-8",
                       "X-Atlassian-Webhook-Identifier": identifier,
                       "User-Agent": "Atlassian Webhook HTTP Client"}
            if hook["secret"]:  # older Data Center versions have no secret: unsigned
                headers["X-Hub-Signature"] = sign(hook["secret"], body)
            if attempt:
                headers["X-Atlassian-Webhook-Retry"] = str(attempt)
            request = urllib.request.Request(hook["url"], data=body, method="POST",
                                             headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    status = response.status
            except urllib.error.HTTPError as exc:
                status = exc.code
            except OSError:
                status = None
            self.deliveries.append({"url": hook["url"], "event": event, "status": status,
                                    "identifier": identifier, "attempt": attempt})
            if (status is None or status >= 500 or status in RETRY_STATUSES) \
                    and attempt < self.max_retries:
                time.sleep(self.retry_delay)
                self._queue.put((hook, event, body, identifier, attempt + 1))
            self._queue.task_done()
