"""Jira admin webhooks: verify ``X-Hub-Signature: sha256=<hex HMAC-SHA256 of the raw body>``,
and read which issue the event is about."""
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timezone

from .records import Issue

# The events that may change what a portal user sees of an issue.
EVENTS = ("jira:issue_created", "jira:issue_updated", "jira:issue_deleted",
          "comment_created", "comment_updated", "comment_deleted")


MAX_REFERENCES, MAX_REFERENCE_LENGTH = 5, 64  # a portal issue carries one


class NotJson(ValueError):
    """The body is not JSON (or is nested deeper than Python parses)."""


@dataclass(frozen=True)
class WebhookEvent:
    issue_id: str | None  # the issue that changed, for one of EVENTS
    sent_at: datetime | None  # when Jira sent it (its "timestamp"), if it says
    references: tuple = ()  # the portal references the issue's labels carry (a hint only)


def read_event(body):
    """What a webhook body says. Raises NotJson for a body that is not JSON."""
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        raise NotJson() from None
    payload = payload if isinstance(payload, dict) else {}
    issue = payload.get("issue") if payload.get("webhookEvent") in EVENTS else None
    issue_id = str(issue.get("id") or "")[:32] if isinstance(issue, dict) else ""
    stamp = payload.get("timestamp")
    sent_at = None
    if isinstance(stamp, int) and not isinstance(stamp, bool) and 0 < stamp < 10**14:
        sent_at = datetime.fromtimestamp(stamp / 1000, timezone.utc)
    references = Issue.from_json(issue).references[:MAX_REFERENCES] if isinstance(issue, dict) else ()
    return WebhookEvent(issue_id if issue_id.isascii() and issue_id.isdigit() else None, sent_at,
                        tuple(r for r in references if len(r) <= MAX_REFERENCE_LENGTH))


def verify_signature(secret, body, header):
    """True when ``header`` signs ``body`` (raw bytes, before JSON parsing) with ``secret``.

    A missing header or any algorithm other than sha256 is refused.
    """
    if not secret or not header:
        return False
    algorithm, _, received = header.partition("=")
    if algorithm.strip().lower() != "sha256" or not received:
        return False
    expected = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    # As bytes: a header may carry any character, and compare_digest refuses non-ASCII str.
    return hmac.compare_digest(received.strip().lower().encode("utf-8"), expected.encode("ascii"))
