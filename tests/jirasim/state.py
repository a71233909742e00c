"""The simulator's data: accounts, projects, fields, statuses, issues, comments, attachments.

Plain dicts guarded by one lock (``State.lock``); the HTTP layer holds it for each request,
so every operation is atomic. ``demo_state()`` builds the data the tests and the demo use.
"""
import itertools
import threading
from datetime import datetime, timezone

CATEGORIES = {
    "new": {"id": 2, "key": "new", "colorName": "blue-gray", "name": "To Do"},
    "indeterminate": {"id": 4, "key": "indeterminate", "colorName": "yellow", "name": "In Progress"},
    "done": {"id": 3, "key": "done", "colorName": "green", "name": "Done"},
}
CUSTOM = "com.atlassian.jira.plugin.system.customfieldtypes:"


def now():
    return datetime.now(timezone.utc)


def jira_time(when):
    """Jira's timestamp format: 2026-11-28T10:03:00.000+0000."""
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + \
        f"{when.microsecond // 1000:03d}+0000"


class State:
    def __init__(self):
        self.lock = threading.RLock()
        self.accounts = {}        # e-mail → account (Cloud, Basic e-mail:token)
        self.pats = {}            # personal access token → e-mail (Data Center, Bearer)
        self.statuses = {}        # id → {"id", "name", "category"}
        self.workflow = []        # transitions between them (workflow.py)
        self.fields = {}          # id → FieldDetails-like dict (+ "options" for selects)
        self.projects = {}        # key → project dict (issue types, screens)
        self.issues = {}          # id → issue dict
        self.keys = {}            # every key an issue ever had → id (moved issues keep old keys)
        self.attachments = {}     # id → attachment dict, "data" holds the bytes
        self.snapshots = {}       # issue id → (when, the issue as it was before its last change)
        self.upload_limit = 10 * 1024 * 1024
        self.attachments_enabled = True  # Jira's global "Allow attachments" setting
        self.deployment = "cloud"  # JiraSimulator.deployment: how the answers are shaped
        self.downloads_refused = None  # Data Center: "redirect" or "html" (a log-in page) for tokens
        self.ids = itertools.count(10001)

    def next_id(self):
        return str(next(self.ids))

    # ---- set-up helpers ------------------------------------------------------------------

    def add_account(self, email, token, name, projects=None, can_create=True, pat=None):
        """``projects``: keys the account can see (None: all)."""
        self.accounts[email] = {
            "email": email, "token": token, "displayName": name, "can_create": can_create,
            "accountId": f"5b10ac8d82e05b22cc7d{len(self.accounts):04d}",
            "projects": set(projects) if projects is not None else None,
        }
        if pat:
            self.pats[pat] = email

    def add_field(self, field_id, name, schema, options=()):
        custom = field_id.startswith("customfield_")
        self.fields[field_id] = {
            "id": field_id, "key": field_id, "name": name, "custom": custom,
            "orderable": True, "navigable": True, "searchable": True,
            "clauseNames": [f"cf[{field_id[12:]}]", name] if custom else [field_id],
            "schema": schema,
            "options": [{"id": str(10100 + i + 10 * len(self.fields)), "value": v}
                        for i, v in enumerate(options)],
        }

    def add_project(self, key, pid, name, type_key, issue_types):
        """``issue_types``: [(id, name, {field_id: required})] — the create screen per type."""
        self.projects[key] = {
            "id": pid, "key": key, "name": name, "projectTypeKey": type_key, "next": 1,
            "issue_types": [{"id": i, "name": n, "screen": screen} for i, n, screen in issue_types],
        }

    # ---- queries ---------------------------------------------------------------------------

    def visible(self, account, project_key):
        return account["projects"] is None or project_key in account["projects"]

    def find_project(self, id_or_key, account):
        for project in self.projects.values():
            if id_or_key in (project["key"], project["id"]) and self.visible(account, project["key"]):
                return project
        return None

    def find_issue(self, id_or_key, account):
        issue = self.issues.get(self.keys.get(str(id_or_key), str(id_or_key)))
        if issue and self.visible(account, issue["project"]):
            return issue
        return None

    def project_of(self, issue):
        return self.projects[issue["project"]]

    def issue_type(self, project, type_id):
        return next((t for t in project["issue_types"] if t["id"] == type_id), None)

    # ---- changes (also used by the control API) ---------------------------------------------

    def new_issue(self, project, issue_type, fields, account):
        key = f"{project['key']}-{project['next']}"
        project["next"] += 1
        issue = {
            "id": self.next_id(), "key": key, "project": project["key"],
            "project_id": project["id"], "old_keys": [], "type": issue_type["id"],
            "fields": dict(fields), "status": "10000", "created": now(), "updated": now(),
            "reporter": account["email"], "comments": [], "attachments": [],
        }
        self.issues[issue["id"]] = issue
        self.keys[key] = issue["id"]
        return issue

    def remember(self, issue):
        """Keep the issue as it is now: search may show it so for a while after it changes."""
        self.snapshots[issue["id"]] = (now(), {**issue, "fields": dict(issue["fields"]),
                                               "comments": list(issue["comments"]),
                                               "attachments": list(issue["attachments"])})

    def add_comment(self, issue, body, author_email, visibility=None, internal=False, properties=()):
        """``properties``: those sent with the create call; an ``sd.public.comment`` among
        them says whether it is internal, as Service Management reads it."""
        self.remember(issue)
        sent = {p.get("key"): p for p in properties if isinstance(p, dict) and p.get("key")}
        marked = (sent.get("sd.public.comment") or {}).get("value")
        if isinstance(marked, dict) and isinstance(marked.get("internal"), bool):
            internal = marked["internal"]
        sent["sd.public.comment"] = {"key": "sd.public.comment", "value": {"internal": internal}}
        comment = {
            "id": self.next_id(), "body": body, "author": author_email, "created": now(),
            "updated": now(), "visibility": visibility,
            "jsdPublic": not internal,
            "properties": list(sent.values()),
        }
        issue["comments"].append(comment)
        issue["updated"] = now()
        return comment

    def add_attachment(self, issue, filename, mime_type, data, author_email):
        attachment = {"id": self.next_id(), "filename": filename, "mimeType": mime_type,
                      "data": data, "created": now(), "author": author_email,
                      "issue": issue["id"]}
        self.attachments[attachment["id"]] = attachment
        issue["attachments"].append(attachment["id"])
        issue["updated"] = now()
        return attachment


def demo_state():
    """Two projects (software and service_desk), a handful of fields, three accounts."""
    state = State()
    for sid, name, category in [("10000", "To Do", "new"), ("3", "In Progress", "indeterminate"),
                                ("10001", "Waiting for customer", "indeterminate"),
                                ("10002", "Done", "done")]:
        state.statuses[sid] = {"id": sid, "name": name, "category": category}
    system = {"type": "string", "system": "summary"}
    state.add_field("summary", "Summary", system)
    state.add_field("description", "Description", {"type": "string", "system": "description"})
    state.add_field("labels", "Labels", {"type": "array", "items": "string", "system": "labels"})
    state.add_field("project", "Project", {"type": "project", "system": "project"})
    state.add_field("issuetype", "Issue Type", {"type": "issuetype", "system": "issuetype"})
    custom = [("customfield_10050", "Category", "option", "select", ["Billing", "Payments", "Other"]),
              ("customfield_10051", "API Product", "string", "textfield", []),
              ("customfield_10052", "API Endpoint", "string", "url", []),
              ("customfield_10053", "Details", "string", "textarea", []),
              ("customfield_10054", "Tags", "array", "labels", []),
              ("customfield_10055", "Platforms", "array", "multiselect", ["Web", "iOS", "Android"]),
              ("customfield_10056", "Environment", "option", "radiobuttons", ["Sandbox", "Live"]),
              ("customfield_10057", "HTTP status", "number", "float", []),
              ("customfield_10060", "Off-screen note", "string", "textfield", [])]
    for number, (fid, name, kind, custom_type, options) in enumerate(custom):
        schema = {"type": kind, "custom": CUSTOM + custom_type, "customId": int(fid[12:])}
        if kind == "array":
            schema["items"] = "option" if options else "string"
        state.add_field(fid, name, schema, options)
    base = {"summary": True, "issuetype": True, "project": True, "description": False,
            "labels": False}
    portal = {f"customfield_{n}": False for n in (10050, 10051, 10052, 10053, 10054, 10055, 10056, 10057)}
    state.add_project("SUP", "10000", "Support", "software",
                      [("10002", "Task", {**base, **portal}), ("10004", "Bug", base)])
    state.add_project("HELP", "10010", "Help Desk", "service_desk",
                      [("10020", "Support request",
                        {**base, **portal, "customfield_10050": True})])
    from .workflow import demo_workflow
    state.workflow = demo_workflow()
    state.add_account("portal@example.com", "sim-token", "Portal Bot", pat="sim-pat")
    state.add_account("agent@example.com", "agent-token", "Mia Agent")
    state.add_account("outsider@example.com", "outsider-token", "Out Sider", projects=[],
                      can_create=False)
    state.add_account("viewer@example.com", "viewer-token", "Vi Ewer", can_create=False)
    return state
