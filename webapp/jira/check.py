"""The admin's "test connection": each Jira check in order, with a readable result per step.

Runs server info → myself → project → issue type → custom fields → labels → attachment
settings. A failure is reported under the step that failed; the steps that depend on it are
skipped (they would only repeat it). What it learns — the issue type id, each configured
field's schema, the upload limit — is what delivery needs, so the admin screen stores it.
It only reads: nothing is created in Jira.
"""
from dataclasses import dataclass, field

from .errors import JiraAuthError, JiraError
from .fields import field_type, make_label

MAX_OPTIONS_SHOWN = 10

TEXTS = {
    "server": {"en": "Jira site reachable ({0} {1})", "tr": "Jira sitesine erişildi ({0} {1})"},
    "reachable": {"en": "Jira site reachable", "tr": "Jira sitesine erişildi"},
    "myself": {"en": "Signed in as {0}", "tr": "{0} olarak giriş yapıldı"},
    "email": {"en": "Signed in, but as {0}, not {1}",
              "tr": "Giriş yapıldı, ancak {1} değil {0} olarak"},
    "project": {"en": "Project {0}: {1} ({2})", "tr": "Proje {0}: {1} ({2})"},
    "issue_type": {"en": "Issue type {0} (id {1})", "tr": "Kayıt türü {0} (id {1})"},
    "no_issue_type": {"en": "Issue type '{0}' is not valid for project {1}. Valid types: {2}",
                      "tr": "'{0}' kayıt türü {1} projesi için geçerli değil. "
                            "Geçerli türler: {2}"},
    "no_create": {"en": "This account may not create issues in project {0}",
                  "tr": "Bu hesap {0} projesinde kayıt oluşturamıyor"},
    "field": {"en": "Field {0}: {1} ({2})", "tr": "Alan {0}: {1} ({2})"},
    "options": {"en": "options: {0}", "tr": "seçenekler: {0}"},
    "no_field": {"en": "Field {0} is not on the create screen of this issue type, or unknown",
                 "tr": "{0} alanı bu kayıt türünün oluşturma ekranında yok veya bilinmiyor"},
    "labels": {"en": "Labels field on the create screen; {0} label(s) valid",
               "tr": "Etiket alanı oluşturma ekranında; {0} etiket geçerli"},
    "no_labels_field": {"en": "The Labels field is not on the create screen of this issue type, "
                              "so labels would not reach Jira",
                        "tr": "Etiket (Labels) alanı bu kayıt türünün oluşturma ekranında yok; "
                              "etiketler Jira'ya ulaşmaz"},
    "bad_labels": {"en": "Labels not valid in Jira (no spaces allowed): {0}",
                   "tr": "Jira'da geçersiz etiketler (boşluk olamaz): {0}"},
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
        return bool(self.steps) and all(step.ok for step in self.steps)


def check_connection(client, project_key, issue_type, field_ids=(), lang="en", labels=()):
    """Run every check; return a ConnectionReport (never raises JiraError)."""
    report = ConnectionReport()
    lang = lang if lang in ("en", "tr") else "en"
    say = lambda key, *args: TEXTS[key][lang].format(*args)
    add = lambda name, ok, message: report.steps.append(Step(name, ok, message)) or ok
    step = "server"
    try:
        info = client.server_info()
        add(step, True, say("server", info.get("deploymentType", ""), info.get("version", "")))
        step = "myself"
        me = client.myself()
        email = me.get("emailAddress") or ""
        if client.deployment == "cloud" and email and email.lower() != client.username.lower():
            return add(step, False, say("email", email, client.username)) or report
        add(step, True, say("myself", me.get("displayName", "")))
        step = "project"
        project = client.project(project_key)
        add(step, True, say("project", project.get("key", project_key), project.get("name"),
                            project.get("projectTypeKey")))
        step = "issue_type"
        types = client.issue_types(project_key)
        if not types:
            return add(step, False, say("no_create", project_key)) or report
        chosen = next((t for t in types
                       if str(issue_type).lower() in (str(t.get("id")), str(t.get("name")).lower())), None)
        if chosen is None:
            valid = ", ".join(f"{t.get('name')} ({t.get('id')})" for t in types)
            return add(step, False, say("no_issue_type", issue_type, project_key, valid)) or report
        report.issue_type_id = chosen["id"]
        add(step, True, say("issue_type", chosen["name"], chosen["id"]))
        step = "fields"
        available = {f["fieldId"]: f for f in client.create_fields(project_key, chosen["id"])}
        for field_id in filter(None, field_ids):
            _check_field(report, available.get(field_id), field_id, say, add)
        if labels:
            step = "labels"
            _check_labels(labels, "labels" in available, say, add)
        step = "attachments"
        settings = client.attachment_settings()
        report.upload_limit = settings.get("uploadLimit")
        if settings.get("enabled"):
            add(step, True, say("attachments", (report.upload_limit or 0) // 2**20))
        else:
            add(step, False, say("no_attachments"))
    except JiraError as exc:
        if step == "server" and isinstance(exc, JiraAuthError):
            # Jira refuses bad credentials on every call: the site answered, the login failed.
            add(step, True, say("reachable"))
            step = "myself"
        add(step, False, exc.message(lang))
    return report


def _check_field(report, meta, field_id, say, add):
    if meta is None:
        return add(field_id, False, say("no_field", field_id))
    schema = meta.get("schema") or {}
    report.field_schemas[field_id] = schema
    message = say("field", field_id, meta.get("name"), field_type(schema) or schema.get("type", "system"))
    options = [str(v.get("value") or v.get("name")) for v in meta.get("allowedValues") or []
               if isinstance(v, dict)]
    if options:
        shown = ", ".join(options[:MAX_OPTIONS_SHOWN]) + (" …" if len(options) > MAX_OPTIONS_SHOWN else "")
        message += "; " + say("options", shown)
    return add(field_id, True, message)


def _check_labels(labels, on_screen, say, add):
    invalid = [label for label in labels if make_label(label)[1]]
    if invalid:
        return add("labels", False, say("bad_labels", ", ".join(invalid)))
    if not on_screen:
        return add("labels", False, say("no_labels_field"))
    return add("labels", True, say("labels", len(labels)))
