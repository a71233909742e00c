"""Jira's checks on ``POST /issue``, with the error bodies Jira Cloud really sends.

Messages follow those observed in public issue threads (see shared/jira-notes.md §1); clients
should match on status and field key, not on wording.
"""

ADF_ERROR = "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
CANNOT_SET = "Field '{0}' cannot be set. It is not on the appropriate screen, or unknown."


class CreateRefused(Exception):
    """400 (or 403) with Jira's ErrorCollection."""

    def __init__(self, errors=None, messages=(), status=400):
        super().__init__(errors, messages)
        self.errors = errors or {}
        self.messages = list(messages)
        self.status = status


def valid_adf(doc):
    """Structural ADF checks Jira applies: a doc, version 1, no empty text nodes."""
    if not isinstance(doc, dict) or doc.get("type") != "doc" or doc.get("version") != 1:
        return False
    stack, seen = [doc], 0
    while stack:
        node = stack.pop()
        seen += 1
        if not isinstance(node, dict) or not isinstance(node.get("type"), str) or seen > 100_000:
            return False
        if node["type"] == "text" and not (isinstance(node.get("text"), str) and node["text"]):
            return False
        content = node.get("content", [])
        if not isinstance(content, list):
            return False
        stack.extend(content)
    return True


def check_create(state, account, body, version):
    """Return (project, issue_type, fields) or raise CreateRefused."""
    fields = body.get("fields") if isinstance(body, dict) else None
    if not isinstance(fields, dict):
        raise CreateRefused(messages=["INVALID_INPUT"])
    ref = fields.get("project") or {}
    project = state.find_project(str(ref.get("key") or ref.get("id") or ""), account) \
        if isinstance(ref, dict) else None
    if project is None:
        raise CreateRefused({"project": "Specify a valid project ID or key"})
    if not account["can_create"]:
        raise CreateRefused(messages=["You do not have permission to create issues in this "
                                      "project."], status=403)
    ref = fields.get("issuetype") or {}
    issue_type = next((t for t in project["issue_types"] if isinstance(ref, dict) and
                       (t["id"] == str(ref.get("id")) or t["name"] == ref.get("name"))), None)
    if issue_type is None:
        raise CreateRefused({"issuetype": "Specify a valid issue type"})
    errors = {}
    screen = issue_type["screen"]
    for field_id, value in fields.items():
        if field_id in ("project", "issuetype"):
            continue
        if field_id not in screen or field_id not in state.fields:
            errors[field_id] = CANNOT_SET.format(field_id)
            continue
        problem = check_value(state.fields[field_id], value, version)
        if problem:
            errors[field_id] = problem
    for field_id, required in screen.items():
        if required and fields.get(field_id) in (None, "", [], {}):
            name = state.fields[field_id]["name"]
            errors[field_id] = ("You must specify a summary of the issue." if field_id == "summary"
                                else f"{name} is required.")
    if errors:
        raise CreateRefused(errors)
    if version == 3 and "description" in fields and not valid_adf(fields["description"]):
        if isinstance(fields["description"], dict):
            raise CreateRefused(messages=["INVALID_INPUT"])
    return project, issue_type, fields


def check_value(field, value, version):
    """Jira's message for a value of the wrong shape, or None when it is fine."""
    schema = field["schema"]
    kind = (schema.get("custom") or schema.get("system") or "").rsplit(":", 1)[-1]
    options = {o["value"] for o in field["options"]} | {o["id"] for o in field["options"]}
    if kind in ("description", "textarea"):
        if version == 3 and not isinstance(value, dict):
            return ADF_ERROR
        if version == 2 and not isinstance(value, str):
            return "Operation value must be a string"
        return None
    if kind in ("summary", "textfield", "url"):
        if not isinstance(value, str):
            return "Operation value must be a string"
        if kind == "summary" and len(value) > 255:
            return "Summary must be less than 255 characters."
        if kind == "textfield" and len(value) > 255:
            return "The entered text is too long. It exceeds the allowed limit of 255 characters."
        return None
    if kind == "labels":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return "Operation value must be an array of strings"
        for label in value:
            if any(ch.isspace() for ch in label):
                return f"The label '{label}' contains spaces which is invalid."
            if len(label) > 255:
                return f"The label '{label[:20]}…' exceeds the maximum length of 255 characters."
        return None
    if kind == "float":  # a number field takes a JSON number, never its digits as a string
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return "Operation value must be a number"
        return None
    if kind in ("select", "radiobuttons"):
        return _option_problem(value, options)
    if kind in ("multiselect", "multicheckboxes"):
        if not isinstance(value, list):
            return "Operation value must be an array"
        return next(filter(None, (_option_problem(v, options) for v in value)), None)
    return None


def _option_problem(value, options):
    if not isinstance(value, dict) or not (value.get("value") or value.get("id")):
        return "Could not find valid 'id' or 'value' in the Parent Option object."
    chosen = value.get("id") or value.get("value")
    if chosen not in options:
        return f"Option value '{chosen}' is not valid"
    return None
