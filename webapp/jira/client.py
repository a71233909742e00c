"""JiraClient: the portal's only contact with Jira.

One class for Jira Cloud (REST v3, Basic e-mail:API token, ADF bodies) and Jira Data Center
(REST v2, Bearer personal access token, wiki text), picked by ``deployment``. Plain values in;
out come the typed records of ``records`` for what the portal reads back (issues, comments,
files), plain dicts only for the configuration the admin's check reads (``check``). Every
failure is raised as a ``JiraError`` subclass from ``errors``. Its comment, download and
workflow calls live in ``comment_calls``, ``download`` and ``workflow``, mixed in.
"""
import base64
import json
import logging
import time
from urllib.parse import urlsplit

import requests
import urllib3

from .adf import rows_to_adf_table, rows_to_wiki_table, text_to_adf, text_to_wiki
from .errors import (JiraError, JiraHostNotAllowedError, JiraInvalidError,
                     JiraNotFoundError, JiraRateLimitedError, JiraTransientError, error_from_response)
from .fields import reference_label
from .records import Issue, IssueRef, JiraFile, project_statuses
from .upload import MultipartFile
from .comment_calls import CommentCalls
from .download import DownloadCalls
from .workflow import WorkflowCalls
from .urls import ApiPath, host_allowed, jql_quote, normalize_base_url

log = logging.getLogger(__name__)

DEPLOYMENTS = {"cloud": "/rest/api/3", "datacenter": "/rest/api/2"}
MAX_ERROR_BODY = 10_000
MAX_BODY = 32 * 1024 * 1024  # the largest JSON answer read; a page of 100 issues is far smaller
READ_BLOCK = 64 * 1024
MAX_PAGES = 1000


class _TokenAuth(requests.auth.AuthBase):
    """Sets the Authorization header; its repr never shows the token."""

    def __init__(self, header_value):
        self._header_value = header_value

    def __call__(self, request):
        request.headers["Authorization"] = self._header_value
        return request

    def __repr__(self):
        return "<_TokenAuth (hidden)>"


class SearchResults:
    """The issues of one search, read as they are iterated (once). ``truncated`` is False
    until the pages ran out with Jira still holding more: then True."""

    def __init__(self, pages):
        self._pages = pages  # a generator of Issues returning whether it left pages unread
        self.truncated = False

    def __iter__(self):
        self.truncated = yield from self._pages


class JiraClient(CommentCalls, DownloadCalls, WorkflowCalls):
    """Talks to one Jira site on behalf of one account."""

    def __init__(self, base_url, username, token, deployment="cloud", timeout=(5, 30),
                 session=None, on_call=None, allowed_hosts=(), max_body=MAX_BODY, total_timeout=None,
                 settings_version=None, pace=None):
        if deployment not in DEPLOYMENTS:
            raise ValueError("deployment must be 'cloud' or 'datacenter'")
        self.base_url = normalize_base_url(base_url)
        self.username = username
        self.deployment = deployment
        self.api = DEPLOYMENTS[deployment]
        self.timeout = timeout
        # `timeout` bounds each wait; a reply that trickles in must also end: this bounds
        # the whole call, body included.
        self.total_timeout = total_timeout or 4 * (timeout[1] if isinstance(timeout, tuple) else timeout)
        self.max_body = max_body
        self.allowed_hosts = list(allowed_hosts or ())  # empty: any host (JIRA_ALLOWED_HOSTS)
        self.session = session or requests.Session()
        # on_call(method, path, status, seconds) after each call, e.g. for metrics;
        # status is None when no answer came (timeout, refused connection).
        self.on_call = on_call
        # Which saved settings built this client (opaque here): a refusal is theirs alone.
        self.settings_version = settings_version
        # The holds shared with other clients (pace.py): a 429 one of them met keeps this one
        # from calling what Jira limited until its Retry-After passed. None: no holds.
        self.pace = pace
        if deployment == "cloud":
            pair = base64.b64encode(f"{username}:{token}".encode("utf-8")).decode("ascii")
            self._auth = _TokenAuth(f"Basic {pair}")
        else:
            self._auth = _TokenAuth(f"Bearer {token}")

    def __repr__(self):
        return f"<JiraClient {self.deployment} {self.base_url} as {self.username!r}>"

    # ---- HTTP --------------------------------------------------------------------------

    def _url(self, path):
        if path.startswith(("http://", "https://")):
            return path
        return self.base_url + (path if path.startswith("/rest/") else self.api + path)

    def _check_host(self, url, context=None):
        """Refuse, before any connection, a URL whose host the operator did not allow."""
        if not host_allowed(url, self.allowed_hosts):
            host = urlsplit(url).netloc.rpartition("@")[2]
            log.warning("jira: refused to call %s (not in JIRA_ALLOWED_HOSTS)", host)
            raise JiraHostNotAllowedError(f"{host} is not an allowed Jira host",
                                          context={**(context or {}), "host": host})

    def _send(self, method, path, context=None, expected=(200,), **kwargs):
        """Send one request; return the response or raise the matching JiraError."""
        url = self._url(path)
        self._check_host(url, context)
        if self.pace is not None:
            self.pace.wait_for(method, path)
        headers = {"Accept": "application/json", **kwargs.pop("headers", {})}
        started = time.monotonic()
        try:
            response = self.session.request(method, url, headers=headers, auth=self._auth,
                                            timeout=self.timeout, **kwargs)
        except requests.Timeout as exc:
            log.warning("jira %s %s timed out", method, path)
            self._observe(method, path, None, started)
            raise JiraTransientError(f"Timed out after {self.timeout} s ({type(exc).__name__})",
                                     context=context) from None
        except requests.RequestException as exc:
            log.warning("jira %s %s failed: %s", method, path, type(exc).__name__)
            self._observe(method, path, None, started)
            raise JiraTransientError(f"Could not connect to {self.base_url} ({type(exc).__name__})",
                                     context=context) from None
        log.info("jira %s %s -> %s in %.0f ms", method, path, response.status_code,
                 (time.monotonic() - started) * 1000)
        self._observe(method, path, response.status_code, started)
        if response.status_code not in expected:
            if kwargs.get("stream"):
                body = self._read(response, started, MAX_ERROR_BODY, context, cut=True)
            else:
                body = response.content[:MAX_ERROR_BODY]
            response.close()
            error = error_from_response(response.status_code, response.headers,
                                        body.decode("utf-8", "replace"), context, method, path)
            if isinstance(error, JiraRateLimitedError) and self.pace is not None:
                self.pace.note(error)
            raise error
        return response

    def _read(self, response, started, limit, context=None, cut=False):
        """The body, read as it arrives: at most `limit` bytes (more is an error, or with
        `cut` is dropped) and no later than `total_timeout` after the call started."""
        body = bytearray()
        with response:
            while True:
                if time.monotonic() - started > self.total_timeout:
                    raise JiraTransientError(f"Jira's answer took longer than {self.total_timeout:g} s",
                                             context=context)
                try:  # read1: what has arrived (up to a block), so a trickle can't hold us
                    block = response.raw.read1(READ_BLOCK, decode_content=True)
                except (urllib3.exceptions.HTTPError, requests.RequestException, OSError, ValueError) as exc:
                    raise JiraTransientError(f"Jira's answer broke off ({type(exc).__name__})",
                                             context=context) from None
                if not block:
                    return bytes(body)
                body += block
                if len(body) > limit:
                    if cut:
                        return bytes(body[:limit])
                    raise JiraError(f"Jira's answer is larger than {limit // (1024 * 1024)} MB",
                                    status=response.status_code, context=context)

    def _observe(self, method, path, status, started):
        if self.on_call:
            try:
                self.on_call(method, urlsplit(self._url(path)).path, status, time.monotonic() - started)
            except Exception:  # metrics must never break a delivery
                log.exception("on_call failed")

    def _json(self, method, path, context=None, expected=(200,), **kwargs):
        started = time.monotonic()
        response = self._send(method, path, context, expected, stream=True, **kwargs)
        body = self._read(response, started, self.max_body, context)
        try:
            return json.loads(body)
        except (ValueError, RecursionError):
            raise JiraError("Jira answered with a body that is not JSON (is the Jira URL right?)",
                            status=response.status_code, context=context) from None

    def _pages(self, path, items_keys, params=None, page_size=50, context=None):
        """Yield items from a startAt/maxResults/total paged GET."""
        start = 0
        for _ in range(MAX_PAGES):
            data = self._json("GET", path, context,
                              params={**(params or {}), "startAt": start, "maxResults": page_size})
            items = next((data[k] for k in items_keys if isinstance(data.get(k), list)), [])
            yield from items
            start += len(items)
            total = data.get("total")
            if not items or data.get("isLast") or (total is not None and start >= total):
                return

    # ---- reading configuration ---------------------------------------------------------

    def server_info(self):
        return self._json("GET", "/serverInfo")

    def myself(self):
        return self._json("GET", "/myself")

    def project(self, project_key):
        return self._json("GET", ApiPath("/project/{projectIdOrKey}", project_key),
                          {"project_key": project_key})

    def statuses(self, project_key):
        """The project's statuses (Status records: id, name, category key), each once."""
        return project_statuses(self._json("GET", ApiPath("/project/{projectIdOrKey}/statuses", project_key),
                                           {"project_key": project_key}))

    def issue_types(self, project_key):
        """Issue types the account can create in the project (empty: no Create permission)."""
        return list(self._pages(ApiPath("/issue/createmeta/{projectIdOrKey}/issuetypes", project_key),
                                ("issueTypes", "values"), context={"project_key": project_key}))

    def create_fields(self, project_key, issue_type_id):
        """Fields on the create screen of that issue type, with schema and allowedValues."""
        path = ApiPath("/issue/createmeta/{projectIdOrKey}/issuetypes/{issueTypeId}",
                       project_key, issue_type_id)
        return list(self._pages(path, ("fields", "results", "values"),
                                context={"project_key": project_key}))

    def fields(self):
        return self._json("GET", "/field")

    def attachment_settings(self):
        return self._json("GET", "/attachment/meta")

    # ---- issues ------------------------------------------------------------------------

    def new_issue_fields(self, project_key, issue_type, summary, description="", labels=(),
                         extra=None, table=None):
        """The ``fields`` of a new issue, with the description in this deployment's format.

        ``issue_type`` is an id ("10002") or a name ("Task"); ids survive renames and
        translation. ``extra`` holds already-shaped custom field values (see fields.py).
        ``table`` is (title, [(name, value), ...]), added to the description as a table: an
        ADF table on Cloud, a wiki table on Data Center.
        """
        fields = {
            "project": {"key": project_key},
            "issuetype": {"id": issue_type} if str(issue_type).isdigit() else {"name": issue_type},
            "summary": summary,
        }
        if description and description.strip():
            fields["description"] = (text_to_adf(description) if self.deployment == "cloud"
                                     else text_to_wiki(description))
            if table and table[1] and self.deployment == "cloud":
                fields["description"]["content"] += rows_to_adf_table(*table)
            elif table and table[1]:
                fields["description"] += "\n\n" + rows_to_wiki_table(*table)
        if labels:
            fields["labels"] = list(labels)
        fields.update(extra or {})
        return fields

    def create_issue(self, fields):
        """Create an issue; return its IssueRef."""
        project_key = (fields.get("project") or {}).get("key")
        context = {"project_key": project_key}
        try:
            return IssueRef.from_json(self._json("POST", "/issue", context, expected=(201,),
                                                 json={"fields": fields}))
        except JiraInvalidError as exc:
            if "issuetype" in exc.errors and project_key:
                exc.context["valid_issue_types"] = self._valid_issue_type_names(project_key)
            raise

    def _valid_issue_type_names(self, project_key):
        """Best effort, for the error message: the types the project does accept."""
        try:
            return [f"{t.get('name')} ({t.get('id')})" for t in self.issue_types(project_key)]
        except JiraError:
            return []

    def upload_attachment(self, issue_id_or_key, path, filename=None, mime_type=None):
        """Upload the file at ``path``, streamed from disk; return the JiraFiles Jira made."""
        body = MultipartFile(path, filename, mime_type)
        headers = {"X-Atlassian-Token": "no-check", "Content-Type": body.content_type}
        data = self._json("POST", ApiPath("/issue/{issueIdOrKey}/attachments", issue_id_or_key),
                          headers=headers, data=body)
        return tuple(JiraFile.from_json(item) for item in (data if isinstance(data, list) else []))

    def issue(self, issue_id_or_key, fields=("summary", "status", "updated", "resolution")):
        """The issue with these fields, as an Issue."""
        return Issue.from_json(self._json("GET", ApiPath("/issue/{issueIdOrKey}", issue_id_or_key),
                                          params={"fields": ",".join(fields)}))

    def files(self, issue_id_or_key):
        """The issue's attachments, as JiraFiles."""
        return self.issue(issue_id_or_key, fields=("attachment",)).attachments or ()

    def search(self, jql, fields=("summary", "status", "updated", "resolution"),
               page_size=100, reconcile_issues=(), max_pages=MAX_PAGES):
        """The issues matching ``jql``, as Issues read page by page while they are iterated:
        a ``SearchResults``. At most ``max_pages`` pages are read; its ``truncated`` then says
        that Jira had more, so a caller never takes a part for the whole.

        Cloud uses the enhanced search (``/search/jql``, ``nextPageToken``); Data Center has
        only the classic ``/search`` with ``startAt``.
        """
        body = {"jql": jql, "fields": list(fields), "maxResults": page_size}
        if self.deployment != "cloud":
            return SearchResults(self._classic_search(body, max_pages))
        if reconcile_issues:
            body["reconcileIssues"] = [int(i) for i in reconcile_issues]
        return SearchResults(self._enhanced_search(body, max_pages))

    def _classic_search(self, body, max_pages):
        """Yield the Issues of each page; return True when pages were left unread."""
        for _ in range(max_pages):
            data = self._json("POST", "/search", json=body)
            issues = data.get("issues") or []
            yield from (Issue.from_json(issue) for issue in issues)
            body["startAt"] = body.get("startAt", 0) + len(issues)
            if not issues or body["startAt"] >= data.get("total", 0):
                return False
        return True

    def _enhanced_search(self, body, max_pages):
        """Yield the Issues of each page; return True when pages were left unread."""
        for _ in range(max_pages):
            data = self._json("POST", "/search/jql", json=body)
            yield from (Issue.from_json(issue) for issue in data.get("issues") or [])
            token = data.get("nextPageToken")
            if not token or data.get("isLast", True):
                return False
            body["nextPageToken"] = token
        return True

    def find_issue_by_reference(self, project_key, reference, candidate=None):
        """The IssueRef of the issue created earlier for portal request ``reference``, or None.

        Every issue the portal creates carries the label ``portal-ref-<reference>``; a retried
        delivery calls this first so an interrupted create never yields a second issue.
        Search lags behind writes. ``candidate``, the id of an issue said to carry the label
        (a webhook), is looked at consistently: named in Cloud's ``reconcileIssues``, read
        directly on Data Center, whose search has no such thing.
        """
        candidate = str(candidate) if candidate and str(candidate).isdigit() else None
        if candidate and self.deployment != "cloud":
            try:
                issue = self.issue(candidate, fields=("labels",))
            except JiraNotFoundError:
                issue = None
            if issue is not None and reference in issue.references:
                return IssueRef(issue.id, issue.key)
        jql = (f"project = {jql_quote(project_key)} AND "
               f"labels = {jql_quote(reference_label(reference))}")
        named = (candidate,) if candidate and self.deployment == "cloud" else ()
        for issue in self.search(jql, fields=("labels",), page_size=1, reconcile_issues=named):
            return IssueRef(issue.id, issue.key)
        return None
