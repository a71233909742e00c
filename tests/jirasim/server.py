"""JiraSimulator: a real HTTP server on loopback speaking a stateful subset of Jira Cloud.

Start it in-process (``JiraSimulator().start()``, or the ``jira_sim`` fixture) or standalone
(``python -m tests.jirasim``). Every /rest/api request is checked against the official OpenAPI
spec; problems land in ``spec_violations`` for the tests to assert on.
"""
import base64
import json
import re
import secrets
import socket
import threading
import traceback
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from . import api, workflow
from .control import ControlMixin
from .faults import HOSTILE, Faults, Stream, drip, error_reply, hostile_reply
from .limits import RateLimits
from .spec import validate_request
from .state import demo_state
from .webhooks import Webhooks

ANONYMOUS_OK = {"/serverInfo", "/search/jql"}
CLOUD_ONLY = {"/search/jql", "/attachment/content/{id}", "/comment/list"}  # Data Center has neither
DC_BASIC_REFUSED = "Basic Authentication has been disabled on this instance."
ROUTES = [
    ("GET", "/serverInfo", "/serverInfo", api.server_info),
    ("GET", "/myself", "/myself", api.myself),
    ("GET", "/project/(?P<key>[^/]+)", "/project/{projectIdOrKey}", api.get_project),
    ("GET", "/project/(?P<key>[^/]+)/statuses", "/project/{projectIdOrKey}/statuses",
     api.project_statuses),
    ("GET", "/issue/createmeta/(?P<key>[^/]+)/issuetypes",
     "/issue/createmeta/{projectIdOrKey}/issuetypes", api.createmeta_types),
    ("GET", "/issue/createmeta/(?P<key>[^/]+)/issuetypes/(?P<type_id>[^/]+)",
     "/issue/createmeta/{projectIdOrKey}/issuetypes/{issueTypeId}", api.createmeta_fields),
    ("GET", "/field", "/field", api.fields),
    ("GET", "/attachment/meta", "/attachment/meta", api.attachment_meta),
    ("POST", "/issue", "/issue", api.create_issue),
    ("GET", "/issue/(?P<key>[^/]+)", "/issue/{issueIdOrKey}", api.get_issue),
    ("GET", "/issue/(?P<key>[^/]+)/comment", "/issue/{issueIdOrKey}/comment", api.get_comments),
    ("POST", "/issue/(?P<key>[^/]+)/comment", "/issue/{issueIdOrKey}/comment", api.add_comment),
    ("POST", "/comment/list", "/comment/list", api.comment_list),
    ("GET", "/issue/(?P<key>[^/]+)/transitions", "/issue/{issueIdOrKey}/transitions", workflow.get_transitions),
    ("POST", "/issue/(?P<key>[^/]+)/transitions", "/issue/{issueIdOrKey}/transitions", workflow.do_transition),
    ("POST", "/issue/(?P<key>[^/]+)/attachments", "/issue/{issueIdOrKey}/attachments",
     api.add_attachments),
    ("GET|POST", "/search/jql", "/search/jql", api.search_jql),
    ("GET|POST", "/search", "/search", api.search_classic),
    ("GET", "/attachment/content/(?P<attachment_id>[^/]+)", "/attachment/content/{id}",
     api.attachment_content),
]
COMPILED = [(re.compile(f"^(?:{m})$"), re.compile(f"^/rest/api/(?P<version>[23]){p}$"), t, h)
            for m, p, t, h in ROUTES]


class Request:
    """What a handler needs: parsed query, headers, raw body, account, API version."""

    def __init__(self, method, path, query, headers, body, base):
        self.method, self.path, self.query = method, path, query
        self.headers, self.body, self.base = headers, body, base
        self.account, self.version = None, 3


class JiraSimulator(ControlMixin):
    def __init__(self, state=None, host="127.0.0.1", port=0, validate=True, page_cap=100):
        self.state = state or demo_state()
        self.host, self.port = host, port
        self.validate = validate
        self.page_cap = page_cap
        # Search is eventually consistent on Jira Cloud: for this many seconds after a write a
        # new issue is not found by JQL, and a changed one is shown as it was before the
        # change (a stale read), unless the search names it in reconcileIssues.
        self.search_lag = 0.0
        # "cloud": REST v3 and v2, Basic e-mail:API token. "datacenter": what a Data Center
        # server answers (docs/jira-simulator.md): v2 only, Bearer personal access tokens.
        self.calls = Counter()
        self.spec_violations = []
        self.media_requests = []
        self.credentials_seen = []  # (Host, Authorization) of every request, for secrets tests
        self.crashes = []         # tracebacks of simulator bugs; the fixture fails on any
        self.faults = Faults()
        self.limits = RateLimits()  # Jira's rate limits (limits.py); off until set_rate_limits
        self.webhooks = Webhooks()
        self._server = None
        self._media_tokens = {}

    @property
    def deployment(self):
        """"cloud": REST v3 and v2, Basic e-mail:API token. "datacenter": what a Data Center
        server answers (docs/jira-simulator.md): v2 only, Bearer personal access tokens only,
        no jsdPublic, /secure/attachment downloads. Reset makes it "cloud" again."""
        return self.state.deployment

    @deployment.setter
    def deployment(self, value):
        if value not in ("cloud", "datacenter"):
            raise ValueError("deployment must be 'cloud' or 'datacenter'")
        self.state.deployment = value

    @property
    def url(self):
        return f"http://{self.host}:{self.port}"

    def start(self):
        handler = type("Handler", (_Handler,), {"sim": self})
        self._server = ThreadingHTTPServer((self.host, self.port), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, name="jirasim", daemon=True,
                         kwargs={"poll_interval": 0.05}).start()
        return self

    def stop(self):
        self.faults.clear()
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def go_down(self):
        """Jira unreachable: the port refuses connections until ``come_up()``."""
        self.stop()

    def come_up(self):
        if self._server is None:
            self.start()

    def media_url(self, attachment):
        """Where attachment downloads redirect: another host name, like Jira's media service."""
        token = secrets.token_urlsafe(8)
        self._media_tokens[token] = attachment["id"]
        return f"http://localhost:{self.port}/_media/{attachment['id']}?token={token}"

    # ---- one request ------------------------------------------------------------------

    def handle(self, request):
        """→ (status, body, headers) or None to drop the connection."""
        route = self._route(request)
        label = f"{request.method} {route[1] if route else request.path}"
        with self.state.lock:
            self.calls[label] += 1
        if self.validate:
            problems = validate_request(request.method, request.path, request.query,
                                        dict(request.headers.items()), request.body)
            self.spec_violations.extend(f"{label}: {p}" for p in problems)
        limit_headers = {}
        if route is not None:  # Jira's limiter answers before any work
            refusal, limit_headers = self._rate_limit(request, *route)
            if refusal is not None:
                return refusal
        reply = self.answer(request, route)
        if reply is None or not limit_headers:
            return reply
        status, body, headers = reply
        return status, body, {**limit_headers, **headers}

    def _rate_limit(self, request, params, template, handler):
        version = int(params["version"])
        endpoint = template[len(f"/rest/api/{version}"):]
        issue_id = None
        if endpoint.startswith("/issue/{issueIdOrKey}"):
            with self.state.lock:
                issue_id = self.state.keys.get(params["key"], params["key"])
        return self.limits.check(version, request.method, endpoint, issue_id,
                                 request.headers.get("Authorization", ""), self.deployment == "datacenter")

    def answer(self, request, route):
        """The answer to a request the rate limits let through: faults, then Jira's own."""
        lost_reply, slow_reply, late_commit, drip_seconds = False, 0.0, 0.0, None
        for rule in self.faults.pick(request.method, request.path):
            if rule["kind"] == "latency":
                self.faults.sleep(rule["seconds"])
            elif rule["kind"] in ("error", "rate_limit"):
                return error_reply(rule)
            elif rule["kind"] in HOSTILE:
                return hostile_reply(rule)
            elif rule["kind"] == "drip":
                drip_seconds = rule["seconds"]
            elif rule["kind"] == "timeout":
                self.faults.sleep(rule["seconds"])
                return None
            elif rule["kind"] == "drop":
                return None
            elif rule["kind"] == "lost_reply":
                lost_reply = True
            elif rule["kind"] == "slow_reply":
                slow_reply = rule["seconds"]
            elif rule["kind"] == "late_commit":
                late_commit = rule["seconds"]
        if route is None:
            return 404, {"message": f"null for uri: {request.base}{request.path}",
                         "status-code": 404}, {}
        params, template, handler = route
        params = dict(params)
        request.version = int(params.pop("version"))
        denied = self._authenticate(request, template)
        if denied:
            return denied
        if late_commit and self.faults.wake.wait(late_commit):
            return None  # reset meanwhile: the test is over, nothing to commit
        with self.state.lock:
            reply = handler(self, request, **params)
        if slow_reply:
            self.faults.sleep(slow_reply)
        if lost_reply:
            return 500, {"errorMessages": ["Internal server error"], "errors": {}}, {}
        return drip(reply, drip_seconds) if drip_seconds is not None else reply

    def _route(self, request):
        for method_re, path_re, template, handler in COMPILED:
            match = path_re.match(request.path)
            if match and method_re.match(request.method):
                version = match.group("version")
                if self.deployment == "datacenter" and (version == "3" or template in CLOUD_ONLY):
                    return None
                return match.groupdict(), f"/rest/api/{version}{template}", handler
        return None

    @property
    def api(self):
        """The REST prefix the portal speaks to this deployment: "/rest/api/3" or "/rest/api/2"."""
        return "/rest/api/2" if self.deployment == "datacenter" else "/rest/api/3"

    def _authenticate(self, request, template):
        """Set ``request.account``; answer 401 (plain text, as Jira does) on bad credentials."""
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        account = None
        if self.deployment == "datacenter" and scheme.lower() != "bearer" and header:
            # A server that takes personal access tokens only (basic authentication disabled).
            return 401, {"errorMessages": [DC_BASIC_REFUSED], "errors": {}}, {
                "X-Seraph-LoginReason": "AUTHENTICATION_DENIED", "WWW-Authenticate": "Bearer"}
        if self.deployment == "datacenter" and scheme.lower() == "bearer":
            email = self.state.pats.get(value)
            account = self.state.accounts.get(email) if email else None
        elif scheme.lower() == "basic":
            try:
                email, _, token = base64.b64decode(value).decode("utf-8").partition(":")
            except (ValueError, UnicodeDecodeError):
                email, token = "", None
            candidate = self.state.accounts.get(email)
            if candidate and secrets.compare_digest(candidate["token"], token or ""):
                account = candidate
        if account is None and (header or not template.endswith(tuple(ANONYMOUS_OK))):
            return 401, ("Client must be authenticated to access this resource." if not header else
                         "Basic authentication with passwords is deprecated. For more "
                         "information, see: https://developer.atlassian.com/cloud/confluence/"
                         "deprecation-notice-basic-auth/"), {"WWW-Authenticate": 'Basic realm="protected-area"'}
        request.account = account
        return None

    def serve_secure_attachment(self, request):
        """Data Center's download URL (an attachment's ``content``): the file to a valid
        token; without one, what a browser gets: a redirect to the log-in page."""
        self.calls[f"{request.method} /secure/attachment/{{id}}/{{filename}}"] += 1
        attachment_id, _, _ = request.path[len("/secure/attachment/"):].partition("/")
        request.version = 2
        login = f"{request.base}/login.jsp?os_destination=%2Fsecure%2Fattachment"
        if self.deployment != "datacenter" or self._authenticate(request, "/secure/attachment") \
                or self.state.downloads_refused == "redirect":
            return 302, "", {"Location": login}
        if self.state.downloads_refused == "html":  # a single sign-on in front of /secure/
            return 200, f'<html><body><form action="{login}">Log in</form></body></html>', {
                "Content-Type": "text/html;charset=UTF-8"}
        attachment = self.state.attachments.get(attachment_id)
        if attachment is None or self.state.find_issue(attachment["issue"], request.account) is None:
            return 404, "<html><body>Attachment not found</body></html>", {"Content-Type": "text/html"}
        return 200, attachment["data"], {"Content-Type": attachment["mimeType"]}

    def serve_media(self, request):
        """The media host: no credentials needed or wanted (the token in the URL is enough)."""
        self.media_requests.append({"path": request.path,
                                    "authorization": "Authorization" in request.headers})
        token = request.query.get("token", [""])[0]
        attachment = self.state.attachments.get(self._media_tokens.get(token, ""))
        if attachment is None:
            return 404, "Not found", {}
        return 200, attachment["data"], {"Content-Type": attachment["mimeType"]}


class _Handler(BaseHTTPRequestHandler):
    sim = None
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else every answer waits ~40 ms for the client's delayed ACK

    def log_message(self, format, *args):  # keep test output quiet
        pass

    def _serve(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        host = self.headers.get("Host") or f"{self.sim.host}:{self.sim.port}"
        request = Request(self.command, parts.path, parse_qs(parts.query, keep_blank_values=True),
                          self.headers, body, f"http://{host}")
        self.sim.credentials_seen.append((host, self.headers.get("Authorization", "")))
        try:
            reply = self._dispatch(parts.path, request)
        except Exception:  # a simulator bug: answer 500 and make the test fail
            self.sim.crashes.append(traceback.format_exc())
            reply = 500, {"errorMessages": ["Simulator crashed"], "errors": {}}, {}
        if reply is None:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self._send(*reply)

    do_GET = do_POST = do_PUT = do_DELETE = _serve

    def _dispatch(self, path, request):
        if self.server is not self.sim._server:
            return None  # went down while this keep-alive connection was open
        if path.startswith("/_sim/"):
            return self.sim.control(request)
        if path.startswith("/_media/"):
            return self.sim.serve_media(request)
        if path.startswith("/secure/attachment/"):
            return self.sim.serve_secure_attachment(request)
        return self.sim.handle(request)

    def _send(self, status, body, headers):
        if isinstance(body, Stream):
            return self._send_stream(status, body, headers)
        if isinstance(body, (dict, list)):
            data, ctype = json.dumps(body).encode("utf-8"), "application/json;charset=UTF-8"
        elif isinstance(body, str):
            data, ctype = body.encode("utf-8"), "text/plain;charset=UTF-8"
        else:
            data, ctype = body, "application/octet-stream"
        self.send_response(status)
        headers = {"Content-Type": ctype, **headers}
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        try:
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away (a killed worker): nothing to tell

    def _send_stream(self, status, body, headers):
        """A hostile fault's body, piece by piece (the client may hang up: that is its right)."""
        self.send_response(status)
        for name, value in {"Content-Type": "application/octet-stream", **headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(body.length))
        try:
            self.end_headers()
            for piece in body.pieces:
                if body.pause:
                    self.wfile.flush()
                    if self.sim.faults.wake.wait(body.pause):
                        break  # reset: stop dripping
                self.wfile.write(piece)
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True
