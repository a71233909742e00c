"""The admin's "test connection": each Jira check in order, with a readable result per step.

Runs server info → myself → project → issue type → custom fields → labels → attachment
settings. A failure is reported under the step that failed; the steps that depend on it are
skipped (they would only repeat it). What it learns — the issue type id, each configured
field's schema, the upload limit — is what delivery needs, so the admin screen stores it.
It only reads: nothing is created in Jira. Each step's message is a message id and its
parameters (texts.py): the admin screen shows it in the admin's language.
"""
from dataclasses import dataclass, field

from .errors import JiraAuthError, JiraError
from .fields import field_type, make_label
from .texts import N_, message

MAX_OPTIONS_SHOWN = 10

@dataclass
class Step:
    name: str
    ok: bool
    message: dict  # the stored shape of texts.message()


@dataclass
class ConnectionReport:
    steps: list = field(default_factory=list)
    issue_type_id: str = None
    field_schemas: dict = field(default_factory=dict)
    upload_limit: int = None

    @property
    def ok(self):
        return bool(self.steps) and all(step.ok for step in self.steps)


def check_connection(client, project_key, issue_type, field_ids=(), labels=()):
    """Run every check; return a ConnectionReport (never raises JiraError)."""
    report = ConnectionReport()
    add = lambda name, ok, said: report.steps.append(Step(name, ok, said)) or ok
    step = "server"
    try:
        info = client.server_info()
        add(step, True, message(N_("Jira site reachable (%(deployment)s %(version)s)"),
                                deployment=info.get("deploymentType", ""), version=info.get("version", "")))
        step = "myself"
        me = client.myself()
        email = me.get("emailAddress") or ""
        if client.deployment == "cloud" and email and email.lower() != client.username.lower():
            return add(step, False, message(N_("Signed in, but as %(email)s, not %(username)s"),
                                            email=email, username=client.username)) or report
        add(step, True, message(N_("Signed in as %(name)s"), name=me.get("displayName", "")))
        step = "project"
        project = client.project(project_key)
        add(step, True, message(N_("Project %(key)s: %(name)s (%(type)s)"), key=project.get("key", project_key),
                                name=project.get("name"), type=project.get("projectTypeKey")))
        step = "issue_type"
        types = client.issue_types(project_key)
        if not types:
            return add(step, False, message(N_("This account may not create issues in project %(project)s"),
                                            project=project_key)) or report
        chosen = next((t for t in types
                       if str(issue_type).lower() in (str(t.get("id")), str(t.get("name")).lower())), None)
        if chosen is None:
            valid = ", ".join(f"{t.get('name')} ({t.get('id')})" for t in types)
            return add(step, False, message(
                N_("Issue type '%(issue_type)s' is not valid for project %(project)s. Valid types: %(valid)s"),
                issue_type=issue_type, project=project_key, valid=valid)) or report
        report.issue_type_id = chosen["id"]
        add(step, True, message(N_("Issue type %(name)s (id %(id)s)"), name=chosen["name"], id=chosen["id"]))
        step = "fields"
        available = {f["fieldId"]: f for f in client.create_fields(project_key, chosen["id"])}
        for field_id in filter(None, field_ids):
            _check_field(report, available.get(field_id), field_id, add)
        if labels:
            step = "labels"
            _check_labels(labels, "labels" in available, add)
        step = "attachments"
        settings = client.attachment_settings()
        report.upload_limit = settings.get("uploadLimit")
        if settings.get("enabled"):
            add(step, True, message(N_("Attachments enabled, up to %(size)s MB"),
                                    size=(report.upload_limit or 0) // 2**20))
        else:
            add(step, False, message(N_("Attachments are disabled in Jira")))
    except JiraError as exc:
        if step == "server" and isinstance(exc, JiraAuthError):
            # Jira refuses bad credentials on every call: the site answered, the login failed.
            add(step, True, message(N_("Jira site reachable")))
            step = "myself"
        add(step, False, exc.as_message())
    return report


def _check_field(report, meta, field_id, add):
    if meta is None:
        return add(field_id, False, message(
            N_("Field %(field)s is not on the create screen of this issue type, or unknown"), field=field_id))
    schema = meta.get("schema") or {}
    report.field_schemas[field_id] = schema
    params = dict(field=field_id, name=meta.get("name"), type=field_type(schema) or schema.get("type", "system"))
    options = [str(v.get("value") or v.get("name")) for v in meta.get("allowedValues") or []
               if isinstance(v, dict)]
    if not options:
        return add(field_id, True, message(N_("Field %(field)s: %(name)s (%(type)s)"), **params))
    shown = ", ".join(options[:MAX_OPTIONS_SHOWN]) + (" …" if len(options) > MAX_OPTIONS_SHOWN else "")
    return add(field_id, True, message(N_("Field %(field)s: %(name)s (%(type)s); options: %(options)s"),
                                       options=shown, **params))


def _check_labels(labels, on_screen, add):
    invalid = [label for label in labels if make_label(label)[1]]
    if invalid:
        return add("labels", False, message(N_("Labels not valid in Jira (no spaces allowed): %(labels)s"),
                                            labels=", ".join(invalid)))
    if not on_screen:
        return add("labels", False, message(N_("The Labels field is not on the create screen of this issue "
                                               "type, so labels would not reach Jira")))
    return add("labels", True, message(N_("Labels field on the create screen; %(count)s label(s) valid"),
                                       count=len(labels)))


def check_transitions(client, report, mapped, samples):
    """Add a step per mapped transition (`mapped`: {kind: name}, kinds resolve, reopen,
    back) to `report`: found by name among the transitions of a sample issue the portal
    follows (`samples`: {kind: (issue id, key)}), leading where it should. Without a sample
    the step says it could not be checked (and passes: nothing is known to be wrong)."""
    add = lambda ok, said: report.steps.append(Step("transitions", ok, said)) or ok
    for kind, name in mapped.items():
        if not name:
            continue
        sample = samples.get(kind)
        if sample is None:
            add(True, message(N_("Transition “%(name)s” could not be checked: the portal follows no "
                                 "request in Jira in a status it starts from yet"), name=name))
            continue
        issue_id, key = sample
        try:
            found = client.transitions(issue_id)
        except JiraError as exc:
            add(False, exc.as_message())
            continue
        match = next((t for t in found if t.name.casefold() == name.casefold()), None)
        if match is None:
            add(False, message(N_("No transition “%(name)s” on %(key)s now; it may take: %(names)s"),
                               name=name, key=key, names=", ".join(t.name for t in found) or "—"))
        elif (match.to.category == "done") != (kind == "resolve"):
            add(False, message(N_("Transition “%(name)s” leads to %(status)s, which is not where it "
                                  "should lead (a resolved status for Mark as resolved, an open one otherwise)"),
                               name=name, status=match.to.name or "?"))
        else:
            said = (N_("Transition “%(name)s” found on %(key)s, leading to %(status)s; it has a "
                       "screen: if Jira asks for a field there, the support team finishes it")
                    if match.has_screen else
                    N_("Transition “%(name)s” found on %(key)s, leading to %(status)s"))
            add(True, message(said, name=name, key=key, status=match.to.name or "?"))
    return report
