"""What a 429 holds back. Jira Cloud's limits each have a scope (RateLimit-Reason, the team's
jira-notes.md §6), and a scope is what the portal's holds are keyed by (pace.py):

- `jira-burst-based`: one endpoint and HTTP method, e.g. `POST /issue`; other endpoints go on.
- `jira-per-issue-on-write`: the writes to one issue (`writes to issue 10001`).
- anything else, or no reason at all: every call (`*`). That is Data Center's limit (one
  budget per user, no reason given) and Cloud's quotas.

An endpoint is named by its path template as in Jira's OpenAPI spec
(`POST /issue/{issueIdOrKey}/attachments`); an issue by the id or key the call named.
"""
from urllib.parse import urlsplit

BURST = "jira-burst-based"
PER_ISSUE_WRITES = "jira-per-issue-on-write"
EVERY_CALL = "*"
WRITES = ("POST", "PUT", "DELETE")
ONE_ISSUE = "/issue/{issueIdOrKey}"


def endpoint(method, path):
    """`POST /issue/{issueIdOrKey}/attachments`: the method and the path's template (an
    ApiPath's; a plain path or URL stands for itself)."""
    template = getattr(path, "template", None) or urlsplit(path).path
    return f"{method} {template}"


def written_issue(method, path):
    """The issue a call writes to, or None (a read, or no one issue's endpoint)."""
    template = getattr(path, "template", "")
    if method in WRITES and (template == ONE_ISSUE or template.startswith(ONE_ISSUE + "/")):
        return path.values[0]
    return None


def issue_writes(issue):
    return f"writes to issue {issue}"


def scopes_of(method, path):
    """Every scope whose hold keeps this call back."""
    scopes = [EVERY_CALL, endpoint(method, path)]
    issue = written_issue(method, path)
    if issue is not None:
        scopes.append(issue_writes(issue))
    return scopes


def limited_scope(reason, method=None, path=None):
    """The scope a 429 with this RateLimit-Reason holds back, for a call of `method` to `path`."""
    if method is None:
        return EVERY_CALL
    if reason == BURST:
        return endpoint(method, path)
    if reason == PER_ISSUE_WRITES:
        issue = written_issue(method, path)
        return issue_writes(issue) if issue is not None else endpoint(method, path)
    return EVERY_CALL
