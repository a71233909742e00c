"""Jira client package: no Flask in here, so jobs, the CLI and tests build it directly."""
from .adf import adf_to_html, adf_to_text, safe_href, text_to_adf, text_to_wiki
from .check import ConnectionReport, check_connection
from .client import JiraClient, SearchResults
from .pace import LocalHolds, Pace, RedisHolds
from .comments import author_name, body_html, is_public_comment
from .errors import (
    JiraAccessLostError,
    JiraAuthError,
    JiraDownloadRefusedError,
    JiraError,
    JiraForbiddenError,
    JiraInvalidError,
    JiraNotFoundError,
    JiraRateLimitedError,
    JiraTransientError,
    parse_retry_after,
)
from .records import Comment, Issue, IssueRef, JiraFile, Status, Transition, parse_time
from .fields import field_type, make_label, reference_label, shape_field_value
from .urls import jql_quote, normalize_base_url
from .webhooks import EVENTS as WEBHOOK_EVENTS
from .webhooks import NotJson, WebhookEvent, read_event, verify_signature

__all__ = [
    "JiraClient", "SearchResults", "Issue", "IssueRef", "Status", "Transition", "JiraFile", "Comment", "parse_time", "normalize_base_url", "jql_quote", "check_connection", "ConnectionReport",
    "text_to_adf", "text_to_wiki", "adf_to_html", "adf_to_text", "safe_href",
    "is_public_comment", "author_name", "body_html",
    "verify_signature", "read_event", "WebhookEvent", "NotJson", "WEBHOOK_EVENTS",
    "shape_field_value", "field_type", "make_label", "reference_label",
    "JiraError", "JiraAccessLostError", "JiraAuthError", "JiraDownloadRefusedError", "JiraForbiddenError", "JiraNotFoundError",
    "JiraInvalidError", "JiraRateLimitedError", "JiraTransientError", "parse_retry_after",
    "Pace", "LocalHolds", "RedisHolds",
]
