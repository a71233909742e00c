"""Exceptions for Jira failures, one class per kind of failure.

Each carries what the delivery job needs to decide (``transient``) and what an admin needs to
fix the settings (``as_message()``: a message id and its parameters, see texts.py), following the
troubleshooting table of the product docs.
Nothing here ever holds the API token: messages are built from the response body and the
context the client passes in (project key, issue type), never from request headers.
"""
import json
import math
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from .limits import EVERY_CALL, limited_scope
from .texts import N_, message, render

MAX_BODY_CHARS = 300
MAX_RETRY_AFTER = 24 * 3600  # a Retry-After longer than a day is not believed


class JiraError(Exception):
    """Base class. ``status`` is the HTTP status (None without a response)."""

    transient = False
    default_status = None

    def __init__(self, detail="", status=None, error_messages=(), errors=None, context=None):
        self.detail = _truncate(detail)
        self.status = status if status is not None else self.default_status
        self.error_messages = [_truncate(m) for m in error_messages]
        self.errors = {k: _truncate(v) for k, v in (errors or {}).items()}
        self.context = dict(context or {})
        super().__init__(self.detail or self.__class__.__name__)

    def __repr__(self):
        return f"{self.__class__.__name__}(status={self.status!r}, detail={self.detail!r})"

    def jira_text(self):
        """What Jira itself said, joined on one line."""
        parts = list(self.error_messages)
        parts += [f"{field}: {msg}" for field, msg in self.errors.items()]
        if not parts and self.detail:
            parts.append(self.detail)
        return "; ".join(parts)

    def as_message(self):
        """What went wrong and what to fix, then what Jira said: the stored shape (texts.py)."""
        msgid, params = self.advice()
        return message(msgid, jira=self.jira_text(), **params)

    def message(self, lang="en"):
        """The same in English, for logs. Only "en": the portal shows `as_message()` in the
        reader's language (webapp/messages.py)."""
        if lang != "en":
            raise ValueError("render as_message() in the reader's language instead")
        return render(self.as_message())

    def advice(self):
        """(message id, parameters): what went wrong and what to fix."""
        return N_("Jira returned an unexpected error."), {}


class JiraAuthError(JiraError):
    """401: Jira did not accept the username and API token."""

    default_status = 401

    def advice(self):
        return N_("Jira rejected the credentials (401). Check the username (the Atlassian account "
                  "e-mail) and the API token: it may be mistyped, expired or revoked."), {}


class JiraForbiddenError(JiraError):
    """403: the account is known but lacks a permission."""

    default_status = 403

    def advice(self):
        project = self.context.get("project_key", "")
        return N_("The Jira account lacks permission for this action (403). Give it Browse, Create "
                  "issues and Create attachments permissions in project %(project)s."), {"project": project}


class JiraNotFoundError(JiraError):
    """404: the project or issue does not exist or is invisible to the account."""

    default_status = 404

    def advice(self):
        project = self.context.get("project_key")
        if project:
            return N_("Project '%(project)s' was not found (404). Check the project key, and that "
                      "the Jira account has permission to see the project."), {"project": project}
        return N_("Jira could not find it (404): check the Jira URL, or the issue was deleted "
                  "or is not visible to the Jira account."), {}


class JiraInvalidError(JiraError):
    """400: Jira refused the request; ``errors`` maps field ids to messages."""

    default_status = 400

    def advice(self):
        if self.status == 413:
            return N_("Jira refused the attachment as too large (413). Lower the portal's "
                      "upload limit below Jira's attachment size limit."), {}
        if "issuetype" in self.errors:
            project = self.context.get("project_key", "")
            valid = ", ".join(self.context.get("valid_issue_types", []))
            if valid:
                return N_("The issue type is not valid for project %(project)s (400). "
                          "Valid types: %(valid)s."), {"project": project, "valid": valid}
            return N_("The issue type is not valid for project %(project)s (400)."), {"project": project}
        if "project" in self.errors:
            return N_("Jira does not know the project (400). Check the project key, and that the "
                      "Jira account has permission to see and create issues in it."), {}
        return N_("Jira refused the request (400). Check the custom field IDs, labels and "
                  "required fields of the issue type."), {}


class JiraRateLimitedError(JiraError):
    """429: too many requests; retry after ``retry_after`` seconds (Retry-After, else
    X-RateLimit-Reset). ``reason`` is Jira's RateLimit-Reason (None if it gave none),
    ``scope`` what the limit holds back (limits.py), ``limit`` and ``remaining`` its
    X-RateLimit-* counts. ``sent`` is False when the call was never made: a 429 met before
    still held its scope (pace.py)."""

    transient = True
    default_status = 429

    def __init__(self, *args, retry_after=None, reason=None, scope=EVERY_CALL, limit=None,
                 remaining=None, sent=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.retry_after = retry_after
        self.reason, self.scope, self.sent = reason, scope, sent
        self.limit, self.remaining = limit, remaining

    def jira_text(self):
        return super().jira_text() if self.sent else ""  # never sent: Jira said nothing this time

    def advice(self):
        wait = f"{math.ceil(self.retry_after)}" if self.retry_after is not None else "?"
        return N_("Jira is rate limiting requests (429); retrying after %(wait)s s."), {"wait": wait}


class JiraTransientError(JiraError):
    """5xx, timeout or connection failure: worth retrying later."""

    transient = True

    def __init__(self, *args, retry_after=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.retry_after = retry_after

    def advice(self):
        if self.status:
            return N_("Jira is unreachable or failing (%(status)s); the request will be retried. "
                      "If it persists, check the Jira URL and Jira's status page."), {"status": self.status}
        return N_("Jira is unreachable or failing; the request will be retried. "
                  "If it persists, check the Jira URL and Jira's status page."), {}


class JiraAccessLostError(JiraError):
    """Jira showed none of a batch of tracked issues, not even one by one: the account has
    most likely lost access to the project. Nothing is marked removed; the portal pauses."""

    def jira_text(self):
        return ""

    def advice(self):
        return N_("Jira shows none of %(count)s tracked issues checked together: the Jira account "
                  "has probably lost access to the project. Nothing was marked removed. Check the "
                  "account's permissions, then save the settings to resume."), {"count": self.context.get("count", "")}


class JiraDownloadRefusedError(JiraError):
    """A file download answered with Jira's log-in page (a redirect to it, or HTML instead of
    the file): Jira refused the token for downloads. Not a file removed from Jira."""

    def jira_text(self):
        return ""

    def advice(self):
        return N_("Jira refused the portal's token for file downloads: it answered with its log-in "
                  "page. On Data Center, check that personal access tokens may download attachments "
                  "(a single sign-on in front of /secure/ often refuses them), then save the settings "
                  "to fetch the files again."), {}


class JiraHostNotAllowedError(JiraError):
    """The URL's host is not on the operator's JIRA_ALLOWED_HOSTS: no call was made."""

    def jira_text(self):
        return ""  # Jira said nothing: it was never asked

    def advice(self):
        host = self.context.get("host", "")
        return N_("The portal may not call %(host)s: it is not in JIRA_ALLOWED_HOSTS. Check the "
                  "Jira URL, or ask the operator to add the host."), {"host": host}


def _truncate(text):
    text = " ".join(str(text).split())
    return text if len(text) <= MAX_BODY_CHARS else text[:MAX_BODY_CHARS] + "…"


def parse_retry_after(value):
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:  # "inf", "nan" and 1e308 are no waits: they would break the retry schedule
        return min(max(0.0, seconds), MAX_RETRY_AFTER) if seconds == seconds else None
    try:
        return _seconds_until(parsedate_to_datetime(value))
    except (TypeError, ValueError):
        return None


def parse_reset(value):
    """Seconds until X-RateLimit-Reset (ISO 8601, `2026-03-26T16:00Z` on Cloud), or None."""
    try:
        return _seconds_until(datetime.fromisoformat((value or "").strip()))
    except ValueError:
        return None


def _seconds_until(when):
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return min(max(0.0, (when - datetime.now(timezone.utc)).total_seconds()), MAX_RETRY_AFTER)


def _count(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def rate_limited(detail, headers, method=None, path=None, **kwargs):
    """The JiraRateLimitedError for a 429's headers, for a call of `method` to `path`."""
    retry_after = parse_retry_after(headers.get("Retry-After"))
    if retry_after is None:
        retry_after = parse_reset(headers.get("X-RateLimit-Reset"))
    reason = (headers.get("RateLimit-Reason") or "").strip() or None
    return JiraRateLimitedError(detail, retry_after=retry_after, reason=reason,
                                scope=limited_scope(reason, method, path),
                                limit=_count(headers.get("X-RateLimit-Limit")),
                                remaining=_count(headers.get("X-RateLimit-Remaining")), **kwargs)


def error_from_response(status, headers, body, context=None, method=None, path=None):
    """Build the right JiraError for a failed response to a call of `method` to `path`;
    ``body`` is text, JSON or not."""
    messages, errors, detail = _parse_body(body)
    kwargs = dict(status=status, error_messages=messages, errors=errors, context=context)
    retry_after = parse_retry_after(headers.get("Retry-After"))
    if status == 401:
        return JiraAuthError(detail, **kwargs)
    if status == 403:
        return JiraForbiddenError(detail, **kwargs)
    if status == 404:
        return JiraNotFoundError(detail, **kwargs)
    if status == 429:
        return rate_limited(detail, headers, method, path, **kwargs)
    if status >= 500 or status == 408:
        return JiraTransientError(detail, retry_after=retry_after, **kwargs)
    if status in (400, 409, 410, 413, 415, 422):
        return JiraInvalidError(detail, **kwargs)
    return JiraError(detail, **kwargs)


def _parse_body(body):
    """(errorMessages, errors, detail) from an ErrorCollection, plain text or an HTML page."""
    try:
        data = json.loads(body) if body else None
    except (ValueError, RecursionError):
        data = None
    if isinstance(data, dict):
        listed = data.get("errorMessages")
        messages = [str(m) for m in listed if m] if isinstance(listed, list) else []
        errors = data.get("errors") if isinstance(data.get("errors"), dict) else {}
        detail = data.get("message") or ""
        return messages, {str(k): str(v) for k, v in errors.items()}, str(detail)
    text = body or ""
    if "<html" in text[:500].lower():
        text = "(HTML error page)"
    return [], {}, text
