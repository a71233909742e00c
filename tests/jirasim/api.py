"""The Jira REST endpoints the portal uses, as handler functions.

Each handler takes the simulator and a parsed request and returns ``(status, body, headers)``;
the body is a dict or list (JSON), ``str`` (text/plain) or ``bytes``. The server holds the
state lock while a handler runs.
"""
import base64
import email.parser
import json
from datetime import timedelta
import secrets

from . import jql, render
from .state import jira_time, now
from .validate import CreateRefused, check_create

NOT_FOUND_ISSUE = "Issue does not exist or you do not have permission to see it."
NOT_FOUND_ISSUE_DC = "Issue Does Not Exist"  # Data Center's words for the same


def issue_not_found(sim):
    return error(404, [NOT_FOUND_ISSUE_DC if sim.deployment == "datacenter" else NOT_FOUND_ISSUE])
ATTACHMENTS_DISABLED = "Attachments have been disabled for this instance of Jira."
SEARCH_REMOVED = ("The requested API has been removed. Please migrate to the /rest/api/3/search/jql "
                  "API. A full migration guideline is available at "
                  "https://developer.atlassian.com/changelog/#CHANGE-2046")


def error(status, messages=(), errors=None, headers=None):
    return status, {"errorMessages": list(messages), "errors": errors or {}}, headers or {}


def ok(body, status=200, headers=None):
    return status, body, headers or {}


def _number(value, default):
    try:
        return int(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        return default


def _int(req, name, default, maximum=None):
    value = _number(req.query.get(name, [default])[0], default)
    return min(value, maximum) if maximum else value


def server_info(sim, req):
    if sim.deployment == "datacenter":
        return ok({"baseUrl": req.base, "version": "9.12.15", "versionNumbers": [9, 12, 15],
                   "deploymentType": "DataCenter", "buildNumber": 9120015,
                   "buildDate": "2026-10-01T00:00:00.000+0000", "serverTime": jira_time(now()),
                   "scmInfo": "1b8c7a0b", "serverTitle": "Jira"})
    return ok({"baseUrl": req.base, "displayUrl": req.base, "version": "1001.0.0-SNAPSHOT",
               "versionNumbers": [1001, 0, 0], "deploymentType": "Cloud", "buildNumber": 100285,
               "buildDate": "2026-11-20T00:00:00.000+0000", "serverTime": jira_time(now()),
               "scmInfo": "57a0ca5b4a0bb0ac5f3fee4764acb1c14e4d7e71", "serverTitle": "Jira",
               "serverTimeZone": "Etc/UTC"})


def myself(sim, req):
    return ok(render.user(req.base, req.account), headers={"X-AAccountId": req.account["accountId"]})


def get_project(sim, req, key):
    project = sim.state.find_project(key, req.account)
    if project is None:
        return error(404, [f"No project could be found with key '{key}'."])
    return ok(render.project(req.base, project, render.user(req.base, req.account, False)))


def project_statuses(sim, req, key):
    """Each issue type of the project with the statuses of its workflow (here: every status
    the simulator knows, unless the issue type names its own with "statuses")."""
    project = sim.state.find_project(key, req.account)
    if project is None:
        return error(404, [f"No project could be found with key '{key}'."])
    return ok([render.issue_type_statuses(req.base, t, [sim.state.statuses[s] for s in
                                                        t.get("statuses") or sim.state.statuses])
               for t in project["issue_types"]])


def createmeta_types(sim, req, key):
    project = sim.state.find_project(key, req.account)
    if project is None:
        return error(404, [f"No project could be found with key '{key}'."])
    types = project["issue_types"] if req.account["can_create"] else []
    return _page(req, [render.issue_type(req.base, t) for t in types], "issueTypes")


def _items_name(req, cloud_name):
    """Cloud names the list per resource; Data Center (v2) always calls it ``values``."""
    return cloud_name if req.version == 3 else "values"


def createmeta_fields(sim, req, key, type_id):
    project = sim.state.find_project(key, req.account)
    issue_type = project and sim.state.issue_type(project, type_id)
    if issue_type is None or not req.account["can_create"]:
        return error(404, ["Issue type with id '%s' does not exist or you do not have permission "
                           "to see it." % type_id] if project else
                     [f"No project could be found with key '{key}'."])
    fields = [render.create_field(sim.state.fields[f], required)
              for f, required in issue_type["screen"].items()]
    return _page(req, fields, "fields")


def _page(req, items, name):
    name = _items_name(req, name)
    max_results = _int(req, "maxResults", 50)
    if max_results > 200:
        return error(400, ["The maxResults parameter must be at most 200."])
    start = _int(req, "startAt", 0)
    return ok({name: items[start:start + max_results], "maxResults": max_results,
               "startAt": start, "total": len(items)})


def fields(sim, req):
    return ok([render.field(f) for f in sim.state.fields.values()])


def attachment_meta(sim, req):
    return ok({"enabled": sim.state.attachments_enabled, "uploadLimit": sim.state.upload_limit})


def json_body(req):
    """(the request's JSON body, None) — or (None, Jira's 400) when the body is not JSON."""
    try:
        return json.loads(req.body or b"null"), None
    except ValueError:
        return None, error(400, ["Unexpected character: was expecting a JSON value."])


def create_issue(sim, req):
    body, refused = json_body(req)
    if refused:
        return refused
    try:
        project, issue_type, fields = check_create(sim.state, req.account, body, req.version)
    except CreateRefused as refused:
        return error(refused.status, refused.messages, refused.errors)
    issue = sim.state.new_issue(project, issue_type, fields, req.account)
    sim.webhook("jira:issue_created", issue, "issue_created")
    return ok({"id": issue["id"], "key": issue["key"],
               "self": f"{req.base}/rest/api/{req.version}/issue/{issue['id']}"}, 201)


def get_issue(sim, req, key):
    issue = sim.state.find_issue(key, req.account)
    if issue is None:
        return issue_not_found(sim)
    wanted = ",".join(req.query.get("fields", ["*all"])).split(",")
    return ok(render.issue(req.base, sim.state, issue, wanted, req.version))


def search_jql(sim, req):
    """Enhanced search: nextPageToken paging, no total, pages capped at ``sim.page_cap``."""
    if req.method == "POST":
        try:
            params = json.loads(req.body or b"{}")
        except ValueError:
            return error(400, ["Invalid request payload. Refer to the REST API documentation."])
    else:
        params = {k: v[0] for k, v in req.query.items()}
        params["fields"] = params["fields"].split(",") if params.get("fields") else None
    wanted = params.get("fields") or ["id"]
    size = max(1, min(_number(params.get("maxResults"), 50), sim.page_cap))
    offset = _decode_token(params.get("nextPageToken"))
    if req.account is None:  # anonymous search answers 200 with nothing, as on Jira Cloud
        return ok({"issues": [], "isLast": True})
    try:
        found = _run_jql(sim, req, params.get("jql") or "", reconciled=params.get("reconcileIssues") or ())
    except jql.JqlError as exc:
        return error(400, [str(exc)])
    page = [_as_indexed(sim, i, params.get("reconcileIssues") or ()) for i in found[offset:offset + size]]
    body = {"issues": [render.issue(req.base, sim.state, i, wanted, req.version) for i in page],
            "isLast": offset + size >= len(found)}
    if not body["isLast"]:
        body["nextPageToken"] = _encode_token(offset + size)
    return ok(body)


def search_classic(sim, req):
    """/rest/api/3/search is gone on Cloud; Data Center (v2) still serves it with startAt."""
    if req.version == 3:
        return error(410, [SEARCH_REMOVED])
    params = json.loads(req.body or b"{}") if req.method == "POST" else \
        {k: v[0] for k, v in req.query.items()}
    start, size = _number(params.get("startAt"), 0), _number(params.get("maxResults"), 50)
    try:
        found = _run_jql(sim, req, params.get("jql") or "")
    except jql.JqlError as exc:
        return error(400, [str(exc)])
    wanted = params.get("fields") or ["*navigable"]
    wanted = wanted.split(",") if isinstance(wanted, str) else wanted
    return ok({"startAt": start, "maxResults": size, "total": len(found),
               "issues": [render.issue(req.base, sim.state, i, wanted, 2)
                          for i in found[start:start + size]]})


def _run_jql(sim, req, text, reconciled=()):
    clauses, order = jql.parse(text)
    reconciled = {str(i) for i in reconciled if isinstance(i, int)}
    state, current = sim.state, now()
    for field, op, values in clauses:
        if field in ("key", "issuekey") and op in ("=", "in"):
            for key in values:
                if state.find_issue(key, req.account) is None:
                    raise jql.JqlError(f"An issue with key '{key}' does not exist for field 'key'.")
        if field == "project":
            for key in values:
                if state.find_project(key, req.account) is None:
                    raise jql.JqlError(f"The value '{key}' does not exist for the field 'project'.")
    candidates = state.issues.values()
    for field, op, values in clauses:
        if field == "id" and op in ("=", "in"):  # looked up, as Jira's index does: no full scan
            candidates = [state.issues[v] for v in values if v in state.issues]
    lagging = current - timedelta(seconds=sim.search_lag)
    found = [i for i in candidates if state.visible(req.account, i["project"])
             and (i["created"] <= lagging or i["id"] in reconciled)  # not indexed yet
             and jql.matches(i, clauses, current, state.statuses[i["status"]]["name"])]
    return sorted(found, key=jql.sort_key(order))


def _as_indexed(sim, issue, reconciled):
    """The issue as search has it: as it was before its last change, while that change is
    younger than the search lag (unless the search names it in reconcileIssues)."""
    taken = sim.state.snapshots.get(issue["id"])
    if not sim.search_lag or taken is None or int(issue["id"]) in reconciled:
        return issue
    when, snapshot = taken
    return snapshot if now() - when < timedelta(seconds=sim.search_lag) else issue


def _encode_token(offset):
    raw = json.dumps({"o": offset, "n": secrets.token_hex(4)}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token):
    if not token:
        return 0
    try:
        return int(json.loads(base64.urlsafe_b64decode(token + "==="))["o"])
    except (ValueError, KeyError, TypeError):
        return 0


def get_comments(sim, req, key):
    issue = sim.state.find_issue(key, req.account)
    if issue is None:
        return issue_not_found(sim)
    comments = sorted(issue["comments"], key=lambda c: c["created"],
                      reverse=req.query.get("orderBy", [""])[0] == "-created")
    start, size = _int(req, "startAt", 0), _int(req, "maxResults", 100, 100)
    expand = req.query.get("expand", [""])[0].split(",")
    return ok({"comments": [render.comment(req.base, sim.state, issue, c, req.version,
                                           "properties" in expand, "renderedBody" in expand)
                            for c in comments[start:start + size]],
               "startAt": start, "maxResults": size, "total": len(comments)})


def add_comment(sim, req, key):
    """POST /issue/{k}/comment: a comment by the account (ADF on v3, wiki text on v2)."""
    issue = sim.state.find_issue(key, req.account)
    if issue is None:
        return issue_not_found(sim)
    data, refused = json_body(req)
    if refused:
        return refused
    body = data.get("body") if isinstance(data, dict) else None
    if not (isinstance(body, dict) if req.version == 3 else isinstance(body, str) and body.strip()):
        return error(400, [], {"comment": "Comment body can not be empty!"})
    # Cloud stores the comment properties sent with it (sd.public.comment among them);
    # the v2 call we make on Data Center sends none.
    properties = data.get("properties") if req.version == 3 and isinstance(data.get("properties"), list) else []
    comment = sim.state.add_comment(issue, body, req.account["email"], data.get("visibility"),
                                    properties=properties)
    sim.webhook("comment_created", issue, "issue_commented", comment=comment)
    return ok(render.comment(req.base, sim.state, issue, comment, req.version), 201)


def comment_list(sim, req):
    """POST /comment/list (Cloud): the comments with these ids the account may see, in one
    page; ``expand=properties`` adds each one's properties."""
    data, refused = json_body(req)
    if refused:
        return refused
    ids = data.get("ids") if isinstance(data, dict) else None
    if not isinstance(ids, list) or len(ids) > 1000:
        return error(400, ["The ids parameter must contain between 1 and 1000 ids."])
    wanted = {str(i) for i in ids}
    expand = req.query.get("expand", [""])[0].split(",")
    found = [(issue, c) for issue in sim.state.issues.values() if sim.state.visible(req.account, issue["project"])
             for c in issue["comments"] if c["id"] in wanted]
    values = [render.comment(req.base, sim.state, issue, c, req.version, "properties" in expand,
                             "renderedBody" in expand) for issue, c in found]
    return ok({"isLast": True, "maxResults": 1000, "startAt": 0, "total": len(values), "values": values})


def add_attachments(sim, req, key):
    if req.headers.get("X-Atlassian-Token", "").lower() != "no-check":
        return ok("XSRF check failed", 403)
    issue = sim.state.find_issue(key, req.account)
    if issue is None:
        return issue_not_found(sim)
    if not sim.state.attachments_enabled:
        return error(403, [ATTACHMENTS_DISABLED])
    parts = _multipart_files(req)
    if not parts:
        return error(400, ["No attachments were found in the request."])
    if any(len(data) > sim.state.upload_limit for _, _, data in parts):
        return error(413, [f"The file(s) exceed the maximum attachment size of "
                           f"{sim.state.upload_limit} bytes."])
    added = [sim.state.add_attachment(issue, name, mime, data, req.account["email"])
             for name, mime, data in parts]
    sim.webhook("jira:issue_updated", issue, "issue_updated")
    return ok([render.attachment(req.base, sim.state, a) for a in added])


def _multipart_files(req):
    """[(filename, mime, bytes)] of the parts named ``file``.

    Parsed as latin-1 text so every byte survives: clients send raw UTF-8 file names, as
    browsers do, which the bytes parser of the email package would mangle.
    """
    head = f"Content-Type: {req.headers.get('Content-Type', '')}\r\n\r\n"
    message = email.parser.Parser().parsestr(head + (req.body or b"").decode("latin-1"))
    if not message.is_multipart():
        return []
    return [(_utf8(part.get_filename()) or "file", part.get_content_type(),
             part.get_payload().encode("latin-1"))
            for part in message.get_payload()
            if part.get_param("name", header="content-disposition") == "file"]


def _utf8(name):
    try:
        return name.encode("latin-1").decode("utf-8") if name else name
    except UnicodeError:
        return name


def attachment_content(sim, req, attachment_id):
    attachment = sim.state.attachments.get(attachment_id)
    issue = attachment and sim.state.find_issue(attachment["issue"], req.account)
    if issue is None:
        return error(404, ["The attachment with id '%s' does not exist." % attachment_id])
    if req.query.get("redirect", ["true"])[0] == "false":
        return ok(attachment["data"], headers={"Content-Type": attachment["mimeType"]})
    return ok(b"", 303, {"Location": sim.media_url(attachment)})
