"""Jira admin webhooks: verify ``X-Hub-Signature: sha256=<hex HMAC-SHA256 of the raw body>``,
and read which issue the event is about."""
import hashlib
import hmac
import json

# The events that may change what a portal user sees of an issue.
EVENTS = ("jira:issue_updated", "jira:issue_deleted",
          "comment_created", "comment_updated", "comment_deleted")


class NotJson(ValueError):
    """The body is not JSON (or is nested deeper than Python parses)."""


def changed_issue_id(body):
    """The id of the issue a webhook body says changed, for one of EVENTS; else None.
    Raises NotJson for a body that is not JSON."""
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        raise NotJson() from None
    event = payload.get("webhookEvent") if isinstance(payload, dict) else None
    issue = payload.get("issue") if event in EVENTS else None
    issue_id = str(issue.get("id") or "")[:32] if isinstance(issue, dict) else ""
    return issue_id if issue_id.isascii() and issue_id.isdigit() else None


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
