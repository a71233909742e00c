"""JSON shapes of Jira Cloud objects, built from the simulator's state.

Only properties present in the official spec's schemas are emitted (several have
``additionalProperties: false``); the response-validation test holds us to that.
"""
from webapp.jira.adf import adf_to_text

from .state import CATEGORIES, jira_time

AVATARS = {size: f"https://avatar.example/{size}" for size in ("16x16", "24x24", "32x32", "48x48")}


def user(base, account, with_email=True):
    data = {"self": f"{base}/rest/api/3/user?accountId={account['accountId']}",
            "accountId": account["accountId"], "accountType": "atlassian",
            "displayName": account["displayName"], "active": True, "avatarUrls": AVATARS,
            "timeZone": "Etc/UTC"}
    if with_email:
        data["emailAddress"] = account["email"]
    return data


def status(base, st):
    category = CATEGORIES[st["category"]]
    return {"self": f"{base}/rest/api/3/status/{st['id']}", "id": st["id"], "name": st["name"],
            "description": "", "iconUrl": f"{base}/images/icons/statuses/generic.png",
            "statusCategory": {"self": f"{base}/rest/api/3/statuscategory/{category['id']}",
                               **category}}


def issue_type(base, it):
    return {"self": f"{base}/rest/api/3/issuetype/{it['id']}", "id": it["id"],
            "name": it["name"], "description": "", "subtask": False, "hierarchyLevel": 0,
            "iconUrl": f"{base}/images/icons/issuetypes/task.png"}


def project(base, proj, lead=None):
    data = {"self": f"{base}/rest/api/3/project/{proj['id']}", "id": proj["id"],
            "key": proj["key"], "name": proj["name"], "description": "",
            "projectTypeKey": proj["projectTypeKey"], "simplified": False, "style": "classic",
            "isPrivate": False, "avatarUrls": AVATARS, "expand": "description,lead,issueTypes",
            "issueTypes": [issue_type(base, it) for it in proj["issue_types"]]}
    if lead:
        data["lead"] = lead
    return data


def field(fd):
    return {k: fd[k] for k in ("id", "key", "name", "custom", "orderable", "navigable",
                                "searchable", "clauseNames", "schema")}


def create_field(fd, required):
    data = {"fieldId": fd["id"], "key": fd["key"], "name": fd["name"], "required": required,
            "schema": fd["schema"], "hasDefaultValue": False,
            "operations": ["set"] if fd["schema"]["type"] != "array" else ["add", "set", "remove"]}
    if fd["options"]:
        data["allowedValues"] = [{"self": f"/rest/api/3/customFieldOption/{o['id']}", **o}
                                 for o in fd["options"]]
    return data


def body(value, version):
    """Rich text as the API version speaks it: ADF on v3, plain/wiki text on v2 (where a
    file shown in the comment is wiki's ``!name!``)."""
    if version == 2 and isinstance(value, dict):
        return adf_to_text(_media_as_wiki(value))
    return value


def _media_as_wiki(node):
    if not isinstance(node, dict):
        return node
    if node.get("type") in ("media", "mediaInline"):
        return {"type": "paragraph", "content": [{"type": "text", "text": f"!{(node.get('attrs') or {}).get('alt', '')}!"}]}
    if node.get("type") == "mediaSingle":
        return {"type": "paragraph", "content": [_media_as_wiki(child)["content"][0] for child in node.get("content") or []]}
    if isinstance(node.get("content"), list):
        return {**node, "content": [_media_as_wiki(child) for child in node["content"]]}
    return node


def comment(base, state, issue, c, version=3, with_properties=False):
    author = user(base, state.accounts[c["author"]], with_email=False)
    data = {"self": f"{base}/rest/api/{version}/issue/{issue['id']}/comment/{c['id']}",
            "id": c["id"], "author": author, "updateAuthor": author,
            "body": body(c["body"], version),
            "created": jira_time(c["created"]), "updated": jira_time(c["updated"]),
            "jsdPublic": c["jsdPublic"]}
    if c["visibility"]:
        data["visibility"] = c["visibility"]
    if with_properties:
        data["properties"] = c["properties"]
    return data


def attachment(base, state, a):
    return {"self": f"{base}/rest/api/3/attachment/{a['id']}", "id": a["id"],
            "filename": a["filename"], "mimeType": a["mimeType"], "size": len(a["data"]),
            "created": jira_time(a["created"]),
            "author": user(base, state.accounts[a["author"]], with_email=False),
            "content": f"{base}/rest/api/3/attachment/content/{a['id']}"}


def issue(base, state, iss, wanted, version=3):
    """IssueBean with only the ``wanted`` fields (Jira's default for search is id only)."""
    proj = state.project_of(iss)
    values = {
        **iss["fields"],
        "status": status(base, state.statuses[iss["status"]]),
        "updated": jira_time(iss["updated"]), "created": jira_time(iss["created"]),
        "resolution": ({"id": "10000", "name": "Done", "description": "Work is done",
                        "self": f"{base}/rest/api/3/resolution/10000"}
                       if state.statuses[iss["status"]]["category"] == "done" else None),
        "project": {k: v for k, v in project(base, proj).items()
                    if k in ("self", "id", "key", "name", "projectTypeKey", "simplified")},
        "issuetype": issue_type(base, state.issue_type(proj, iss["type"])),
        "reporter": user(base, state.accounts[iss["reporter"]], with_email=False),
        "attachment": [attachment(base, state, state.attachments[a]) for a in iss["attachments"]],
        "comment": {"comments": [comment(base, state, iss, c, version) for c in iss["comments"]],
                    "maxResults": len(iss["comments"]), "total": len(iss["comments"]),
                    "startAt": 0},
    }
    values.setdefault("labels", [])
    if "description" in values:
        values["description"] = body(values["description"], version)
    if "*all" in wanted or "*navigable" in wanted:
        chosen = values
    else:
        chosen = {k: values.get(k) for k in wanted if k not in ("id", "key")}
    return {"expand": "renderedFields,names,schema,operations,editmeta,changelog",
            "id": iss["id"], "key": iss["key"],
            "self": f"{base}/rest/api/{version}/issue/{iss['id']}", "fields": chosen}
