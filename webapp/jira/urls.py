"""Jira URLs: the site's base URL as admins paste it, path segments, JQL literals."""
import re
from urllib.parse import quote, urlsplit, urlunsplit

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
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("Jira URL must be an http(s) URL such as https://your-site.atlassian.net")
    netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
    path = PASTED_SUFFIX_RE.sub("", parts.path.rstrip("/")).rstrip("/")
    return urlunsplit((parts.scheme, netloc, path, "", ""))


def jql_quote(value):
    """A JQL string literal: user values never change the query's shape."""
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def path_segment(value):
    """One URL path segment: admin input like a project key can't change the path."""
    return quote(str(value), safe="")


def origin(url):
    parts = urlsplit(url)
    return (parts.scheme, parts.hostname, parts.port)
