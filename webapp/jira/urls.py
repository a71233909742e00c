"""Jira URLs: the site's base URL as admins paste it, the hosts the portal may call, path
segments and endpoints, JQL literals."""
import re
from fnmatch import fnmatchcase
from urllib.parse import quote, urlsplit, urlunsplit

HOST_RE = re.compile(r"[a-z0-9_.-]+|[0-9a-f:.]+")
PLACEHOLDER = re.compile(r"\{[^}]+\}")  # `{issueIdOrKey}` in an endpoint's path template
INVALID_URL = "Jira URL must be an http(s) URL such as https://your-site.atlassian.net"

# A pasted URL often carries the page the admin was on: cut it at the first such segment.
PASTED_SUFFIX_RE = re.compile(
    r"/(rest|browse|secure|projects|plugins|servicedesk|"
    r"jira/(software|servicedesk|core|projects|your-work|dashboards|for-you))(/.*)?$", re.I)


def normalize_base_url(url):
    """``https://x.atlassian.net/browse/SUP-1/`` → ``https://x.atlassian.net``.

    Drops credentials, query, fragment, trailing slashes and pasted ``/rest/...`` or
    ``/browse/...`` paths, keeping a Data Center context path such as ``/jira-prod``.
    """
    url = (url or "").strip()
    if url and "://" not in url:
        url = "https://" + url
    try:
        parts = urlsplit(url)
        port = parts.port  # ValueError when it is no port number
        host = parts.hostname or ""
        if ":" not in host:  # a name, not an IPv6 address: IDNA (UnicodeError is a ValueError)
            host = host.encode("idna").decode("ascii")
    except ValueError:
        raise ValueError(INVALID_URL) from None
    if parts.scheme not in ("http", "https") or not host or not HOST_RE.fullmatch(host):
        raise ValueError(INVALID_URL)
    if any(ch.isspace() or not ch.isprintable() for ch in parts.path):
        raise ValueError(INVALID_URL)
    netloc = (f"[{host}]" if ":" in host else host) + (f":{port}" if port else "")
    path = PASTED_SUFFIX_RE.sub("", parts.path.rstrip("/")).rstrip("/")
    return urlunsplit((parts.scheme, netloc, path, "", ""))


def host_allowed(url, allowed_hosts):
    """Whether the portal may call `url`: always when `allowed_hosts` is empty, else when its
    host (with the port, if the entry has one) matches an entry: `jira.example.com`,
    `*.atlassian.net` (any subdomain), `jira.intranet:8443`."""
    if not allowed_hosts:
        return True
    try:
        parts = urlsplit(url)
        host, port = (parts.hostname or "").rstrip("."), parts.port
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not host:
        return False
    for entry in allowed_hosts:
        pattern = entry.strip().lower().rstrip(".")
        if ":" in pattern and not pattern.endswith("]"):
            pattern, _, wanted = pattern.rpartition(":")
            if str(port or (443 if parts.scheme == "https" else 80)) != wanted:
                continue
        if pattern.strip("[]") == host or (pattern.startswith("*.") and fnmatchcase(host, pattern)
                               and "*" not in pattern[2:]):
            return True
    return False


def jql_quote(value):
    """A JQL string literal: user values never change the query's shape."""
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def path_segment(value):
    """One URL path segment: admin input like a project key can't change the path."""
    return quote(str(value), safe="")


class ApiPath(str):
    """A REST path that knows its endpoint: `/issue/10001/attachments` is
    `/issue/{issueIdOrKey}/attachments` with `values` ("10001",), each value one quoted
    segment. Jira's rate limits are per endpoint (limits.py)."""

    def __new__(cls, template, *values):
        segments = iter(values)
        path = super().__new__(cls, PLACEHOLDER.sub(lambda _: path_segment(next(segments)), template))
        path.template, path.values = template, tuple(str(value) for value in values)
        return path


def origin(url):
    parts = urlsplit(url)
    return (parts.scheme, parts.hostname, parts.port)


LOGIN_PATHS = ("/login.jsp", "/login", "/secure/login", "/plugins/servlet/samlsso", "/saml")


def is_login_page(url):
    """Whether `url` is one of Jira's log-in pages (or a single sign-on's start)."""
    path = urlsplit(url).path.lower()
    return any(path.endswith(p) or f"{p}/" in path or path.endswith(p + ".jsp") for p in LOGIN_PATHS)
