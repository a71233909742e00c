"""ApinizerSimulator: a real HTTP server on loopback with a stateful subset of Apinizer's
Management API (see the package's docstring). Tests change `projects` between readings."""
import json
import re
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

TOKEN = "apinizer-sim-token"
ROUTES = [
    (re.compile(r"^/apiops/projects/?$"), "list_projects"),
    (re.compile(r"^/apiops/projects/(?P<project>[^/]+)/apiProxies/?$"), "list_proxies"),
    (re.compile(r"^/apiops/projects/(?P<project>[^/]+)/apiProxies/(?P<proxy>[^/]+)/endpoints/?$"), "list_endpoints"),
    (re.compile(r"^/apiops/environments/(?P<project>[^/]+)/?$"), "list_project_environments"),
]


def demo_projects():
    """{project: {"description", "environments": [{"name", "description", "type", "status",
    "accessUrl"}], "proxies": {name: {"description", "type", "relativePath",
    "endpoints": [{"id", "endpoint", "description", "active", "httpMethod"}]}}}}"""
    return {
        "Payments": {"description": "Payment APIs", "environments": [
            {"name": "production", "description": "Production environment", "type": "PRODUCTION",
             "status": "PUBLISHED", "accessUrl": "https://gw.example.com"},
            {"name": "sandbox", "description": "Sandbox environment", "type": "SANDBOX",
             "status": "PUBLISHED", "accessUrl": "https://gw-sandbox.example.com"},
        ], "proxies": {
            "Cards API": {"description": "Card payments", "type": "REST", "relativePath": "/cards",
                          "endpoints": [
                              {"id": "e1", "endpoint": "/charges", "description": "Charge a card", "active": True, "httpMethod": "POST"},
                              {"id": "e2", "endpoint": "/charges/{id}", "description": "Get a charge", "active": True, "httpMethod": "GET"},
                              {"id": "e3", "endpoint": "/legacy", "description": "Switched off", "active": False, "httpMethod": "GET"},
                          ]},
            "Refunds API": {"description": "", "type": "REST", "relativePath": "/refunds",
                            "endpoints": [{"id": "e4", "endpoint": "/", "description": "Any refund call", "active": True, "httpMethod": "ALL"}]},
        }},
        "Internal": {"description": "Not for customers", "environments": [], "proxies": {
            "Admin API": {"description": "", "type": "REST", "relativePath": "/admin", "endpoints": []},
        }},
    }


class ApinizerSimulator:
    def __init__(self, host="127.0.0.1", port=0):
        self.projects = demo_projects()
        self.token = TOKEN
        self.calls = Counter()       # "GET /apiops/projects/" -> count
        self.authorizations = []     # every Authorization header received (secrets tests)
        self.host, self.port = host, port
        self.httpd = None

    def reset(self):
        self.projects, self.token = demo_projects(), TOKEN
        self.calls.clear()
        self.authorizations.clear()

    @property
    def url(self):
        return f"http://{self.host}:{self.port}"

    def start(self):
        self.httpd = ThreadingHTTPServer((self.host, self.port), _handler(self))
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def answer(self, method, path, authorization):
        """(status, JSON body) for one call."""
        self.authorizations.append(authorization)
        if authorization != f"Bearer {self.token}":
            return 401, {"error": "unauthorized_client", "error_description": "Invalid token"}
        for pattern, name in ROUTES:
            match = pattern.match(path)
            if match and method == "GET":
                self.calls[f"GET {name}"] += 1
                return getattr(self, name)(**{k: unquote(v) for k, v in match.groupdict().items()})
        return 404, {"error": "not_found", "error_description": "No such endpoint"}

    def list_projects(self):
        rows = [{"name": name, "description": p["description"]} for name, p in self.projects.items()]
        return 200, {"status": "SUCCESS", "resultList": rows, "resultCount": len(rows)}

    def list_project_environments(self, project):
        if project not in self.projects:
            return 400, {"error": "bad_request", "error_description": f"Project ({project}) is not found!"}
        rows = [dict(row, deployed=None, redeployRequired=None) for row in self.projects[project]["environments"]]
        return 200, {"success": True, "resultList": rows, "resultCount": len(rows)}

    def list_proxies(self, project):
        if project not in self.projects:
            return 404, {"error": "not_found", "error_description":
                         f"Project ({project}) is not found or user does not have privilege to access it!"}
        rows = [{"name": name, "description": p["description"], "type": p["type"],
                 "relativePath": p["relativePath"], "soapToRest": False}
                for name, p in sorted(self.projects[project]["proxies"].items())]
        return 200, {"status": "SUCCESS", "resultList": rows, "resultCount": len(rows)}

    def list_endpoints(self, project, proxy):
        proxies = self.projects.get(project, {}).get("proxies", {})
        if proxy not in proxies:
            return 404, {"error": "not_found", "error_description": f"ApiProxy (name: {proxy}) was not found!"}
        rows = [{"backendResourceUrl": e["endpoint"], "backendHttpMethod": e["httpMethod"], **e}
                for e in proxies[proxy]["endpoints"]]
        return 200, {"success": True, "resultList": rows, "resultCount": len(rows)}


def _handler(sim):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            status, body = sim.answer("GET", urlsplit(self.path).path, self.headers.get("Authorization"))
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

    return Handler
