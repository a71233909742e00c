"""The admin's "test connection": each Jira check in order, with a readable result per step.

Runs server info → myself → project → issue type → custom fields → attachment settings, and
stops at the first failure (later steps would only repeat it). What it learns — the issue
type id, each configured field's schema, the upload limit — is what delivery needs to shape
values, so the admin screen can store it along with the settings.
"""
from dataclasses import dataclass, field

from .errors import JiraError

TEXTS = {
    "server": {"en": "Jira site reachable", "tr": "Jira sitesine erişildi"},
    "myself": {"en": "Signed in as {0}", "tr": "{0} olarak giriş yapıldı"},
    "email": {"en": "Signed in, but as {0}, not {1}",
              "tr": "Giriş yapıldı, ancak {1} değil {0} olarak"},
    "project": {"en": "Project {0} ({1})", "tr": "Proje {0} ({1})"},
    "issue_type": {"en": "Issue type {0} (id {1})", "tr": "Issue type {0} (id {1})"},
    "no_issue_type": {"en": "Issue type '{0}' is not valid for project {1}. Valid types: {2}",
                      "tr": "'{0}' issue type'ı {1} projesi için geçerli değil. "
                            "Geçerli tipler: {2}"},
    "field": {"en": "Field {0}: {1} ({2})", "tr": "Alan {0}: {1} ({2})"},
    "no_field": {"en": "Field {0} is not on the create screen of this issue type, or unknown",
                 "tr": "{0} alanı bu issue type'ın oluşturma ekranında yok veya bilinmiyor"},
    "attachments": {"en": "Attachments enabled, up to {0} MB", "tr": "Ekler açık, en fazla {0} MB"},
    "no_attachments": {"en": "Attachments are disabled in Jira", "tr": "Jira'da ekler kapalı"},
}


@dataclass
class Step:
    name: str
    ok: bool
    message: str


@dataclass
class ConnectionReport:
    steps: list = field(default_factory=list)
    issue_type_id: str = None
    field_schemas: dict = field(default_factory=dict)
    upload_limit: int = None

    @property
    def ok(self):
        return all(step.ok for step in self.steps)


def check_connection(client, project_key, issue_type, field_ids=(), lang="en"):
    """Run every check; return a ConnectionReport (never raises JiraError)."""
    report = ConnectionReport()
    say = lambda key, *args: TEXTS[key][lang if lang in ("en", "tr") else "en"].format(*args)
    add = lambda name, ok, message: report.steps.append(Step(name, ok, message)) or ok
    try:
        client.server_info()
        add("server", True, say("server"))
        me = client.myself()
        email = me.get("emailAddress") or ""
        if client.deployment == "cloud" and email and email.lower() != client.username.lower():
            add("myself", False, say("email", email, client.username))
            return report
        add("myself", True, say("myself", me.get("displayName", "")))
        project = client.project(project_key)
        add("project", True, say("project", project.get("name"), project.get("projectTypeKey")))
        types = client.issue_types(project_key)
        chosen = next((t for t in types if str(issue_type) in (t.get("id"), t.get("name"))), None)
        if chosen is None:
            valid = ", ".join(f"{t.get('name')} ({t.get('id')})" for t in types) or "-"
            add("issue_type", False, say("no_issue_type", issue_type, project_key, valid))
            return report
        report.issue_type_id = chosen["id"]
        add("issue_type", True, say("issue_type", chosen["name"], chosen["id"]))
        available = {f["fieldId"]: f for f in client.create_fields(project_key, chosen["id"])}
        for field_id in filter(None, field_ids):
            meta = available.get(field_id)
            if meta is None:
                add(field_id, False, say("no_field", field_id))
                continue
            report.field_schemas[field_id] = meta.get("schema") or {}
            kind = (meta.get("schema") or {}).get("custom", "").rsplit(":", 1)[-1] or "system"
            add(field_id, True, say("field", field_id, meta.get("name"), kind))
        settings = client.attachment_settings()
        report.upload_limit = settings.get("uploadLimit")
        if settings.get("enabled"):
            add("attachments", True, say("attachments", (report.upload_limit or 0) // 2**20))
        else:
            add("attachments", False, say("no_attachments"))
    except JiraError as exc:
        add("error", False, exc.message(lang))
    return report
