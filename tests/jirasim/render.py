"""JSON shapes of Jira Cloud objects, built from the simulator's state.

Only properties present in the official spec's schemas are emitted (several have
``additionalProperties: false``); the response-validation test holds us to that.
"""
import re
from html import escape
from urllib.parse import quote

from webapp.jira.adf import adf_to_html, adf_to_text, text_to_adf

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


def issue_type_statuses(base, it, statuses):
    """GET /project/{key}/statuses: one issue type and its workflow's statuses."""
    return {"self": f"{base}/rest/api/3/issueType/{it['id']}", "id": it["id"], "name": it["name"],
            "subtask": False, "statuses": [status(base, st) for st in statuses]}


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
    file shown in the comment is wiki's ``!name!``). A body written as wiki text (on Data
    Center) stays so."""
    if version == 2 and isinstance(value, dict):
        return adf_to_text(_media_as_wiki(value))
    if version == 3 and isinstance(value, str):
        return text_to_adf(value)
    return value


WIKI_LINK = re.compile(r"\[([^|\]\n]+)\|((?:https?://|mailto:)[^\]\s]+)\]")
WIKI_BOLD = re.compile(r"(?<![\w*])\*(\S[^*\n]*?)\*(?![\w*])")
WIKI_ITALIC = re.compile(r"(?<![\w_])_(\S[^_\n]*?)_(?![\w_])")
WIKI_URL = re.compile(r"(?<![|\w/])((?:https?://)[^\s<\]|]+)(?![^\[]*\])")  # a bare URL, not a [text|url]'s
WIKI_IMAGE = re.compile(r"!([^!|\n]+?)(?:\|[^!\n]*)?!")


def rendered_body(value, version):
    """What ``expand=renderedBody`` returns: the HTML Jira renders from the body (enough of
    Data Center's wiki renderer: paragraphs, *bold*, _italic_, [text|url], !image!, {code})."""
    if isinstance(value, dict):
        return adf_to_html(value)
    blocks = []
    for block in re.split(r"\n{2,}", str(value).strip()):
        if block.startswith("{code}") and block.endswith("{code}") and len(block) >= 12:
            blocks.append('<div class="code panel" style="border-width: 1px;"><div class="codeContent '
                          f'panelContent"><pre class="code-java">{escape(block[6:-6].strip())}</pre></div></div>')
            continue
        html = WIKI_URL.sub(r'<a href="\1" class="external-link" rel="nofollow">\1</a>', escape(block, quote=False))
        html = WIKI_LINK.sub(r'<a href="\2" class="external-link" rel="nofollow">\1</a>', html)
        html = WIKI_BOLD.sub(r"<b>\1</b>", html)
        html = WIKI_ITALIC.sub(r"<em>\1</em>", html)
        html = WIKI_IMAGE.sub(r'<span class="image-wrap"><img src="/secure/attachment/0/\1" border="0" /></span>', html)
        blocks.append("<p>" + html.replace("\n", "<br/>\n") + "</p>")
    return "\n".join(blocks)


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


def comment(base, state, issue, c, version=3, with_properties=False, rendered=False):
    """A comment. Cloud says on each whether it is an internal Service Management note
    (``jsdPublic``); Data Center only through its properties, sent with expand=properties."""
    author = user(base, state.accounts[c["author"]], with_email=False)
    data = {"self": f"{base}/rest/api/{version}/issue/{issue['id']}/comment/{c['id']}",
            "id": c["id"], "author": author, "updateAuthor": author,
            "body": body(c["body"], version),
            "created": jira_time(c["created"]), "updated": jira_time(c["updated"])}
    if state.deployment == "cloud":
        data["jsdPublic"] = c["jsdPublic"]
    if c["visibility"]:
        data["visibility"] = c["visibility"]
    if with_properties:
        data["properties"] = c["properties"]
    if rendered:
        data["renderedBody"] = rendered_body(body(c["body"], version), version)
    return data


def attachment(base, state, a):
    """An attachment; its ``content`` is where it downloads: Cloud's REST resource, or Data
    Center's /secure/attachment/{id}/{filename}."""
    content = (f"{base}/secure/attachment/{a['id']}/{quote(a['filename'])}" if state.deployment == "datacenter"
               else f"{base}/rest/api/3/attachment/content/{a['id']}")
    return {"self": f"{base}/rest/api/{2 if state.deployment == 'datacenter' else 3}/attachment/{a['id']}",
            "id": a["id"],
            "filename": a["filename"], "mimeType": a["mimeType"], "size": len(a["data"]),
            "created": jira_time(a["created"]),
            "author": user(base, state.accounts[a["author"]], with_email=False),
            "content": content}


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
