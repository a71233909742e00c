"""Copy what Jira says about one issue into the portal's tables: key, status, public comments,
the support team's attachments.

Pages read only these tables, so this is where a user's view of Jira changes. The request's
`updated_at` (the order of the user's list) moves only when something the user sees changed.
"""
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.attributes import flag_modified

from .. import storage
from ..extensions import db
from ..jira import author_name, body_html, is_public_comment
from ..models import Attachment, JiraComment, StatusChange, column_text, utcnow

DELETED = "deleted"  # jira_status_category of a request whose issue is gone from Jira
REMOVED = _l("Removed from Jira")


def shown_status(request):
    """The Jira status as the user sees it: not an error, once the issue is gone."""
    return REMOVED if request.jira_status_category == DELETED else request.jira_status


def parse_jira_time(value):
    """Jira's "2026-11-28T10:03:00.000+0000" as an aware datetime; None when absent."""
    if not value:
        return None
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            continue
    return None


def embedded_comments(issue):
    """(comments, complete): the comment page that came inside the issue's fields.

    Search and GET issue cut it short (20 comments on Cloud search); `complete` is False then
    and the caller reads the whole list with JiraClient.comments()."""
    page = (issue.get("fields") or {}).get("comment") or {}
    comments = page.get("comments") or []
    total = page.get("total")
    return comments, total is None or total <= len(comments)


def is_unchanged(request, issue):
    """True when the issue is exactly as the last refresh saw it (same key and `updated`).

    The sync's overlap window returns issues it has already applied; so does the reconcile
    for every quiet issue. Jira bumps `updated` for every edit and comment."""
    updated = parse_jira_time((issue.get("fields") or {}).get("updated"))
    return (updated is not None and updated == request.jira_updated_at
            and issue.get("key") == request.jira_key
            and request.jira_status_category != DELETED)


def mark_synced(request):
    """Nothing new: record the check, keep `updated_at` (onupdate would bump it)."""
    request.last_synced_at = utcnow()
    flag_modified(request, "updated_at")


def apply_issue(request, issue, comments):
    """Bring `request` up to date with `issue` (fields status, updated and attachment) and
    its whole comment list. Returns True when the user sees something new."""
    fields = issue.get("fields") or {}
    status = fields.get("status") or {}
    name = column_text(status.get("name"), 100)
    category = column_text((status.get("statusCategory") or {}).get("key"), 32)
    updated = parse_jira_time(fields.get("updated"))
    seen = False
    if issue.get("key") and issue["key"] != request.jira_key:
        if request.jira_key:  # moved to another project: Jira gave it a new key
            _history(request, "moved", request.jira_key, issue["key"], updated)
        request.jira_key = issue["key"]
        seen = True
    if name and name != request.jira_status:
        _history(request, "status", request.jira_status, name, updated)
        request.jira_status = name
        seen = True
    if category and category != request.jira_status_category:
        request.jira_status_category = category
        seen = True
    request.jira_updated_at = updated or request.jira_updated_at
    seen = apply_comments(request, comments) or seen
    if "attachment" in fields:  # without the field we know nothing, so nothing is removed
        seen = apply_attachments(request, fields["attachment"] or []) or seen
    _finish(request, seen)
    return seen


def apply_deleted(request):
    """The issue no longer exists in Jira (or the account may no longer see it).

    Not an error: the user sees "Removed from Jira"; the last status and comments stay."""
    if request.jira_status_category == DELETED:
        mark_synced(request)
        return False
    _history(request, DELETED, request.jira_status, DELETED, None)
    request.jira_status_category = DELETED
    _finish(request, True)
    return True


def apply_comments(request, comments):
    """Upsert Jira's comments; hide those that vanished or stopped being public.

    Only public comments keep their author and body: what users may not see is not kept."""
    stored = {c.jira_comment_id: c for c in request.comments}
    seen = False
    for comment in comments:
        public = is_public_comment(comment)
        values = {
            "public": public,
            "author_name": author_name(comment) if public else "",
            "body_html": body_html(comment) if public else "",
            "created_at": parse_jira_time(comment.get("created")) or utcnow(),
            "updated_at": parse_jira_time(comment.get("updated")),
        }
        row = stored.pop(str(comment["id"]), None)
        if row is None:
            request.comments.append(JiraComment(jira_comment_id=str(comment["id"]), **values))
            seen = seen or public
        elif any(getattr(row, name) != value for name, value in values.items()):
            seen = seen or public or row.public
            for name, value in values.items():
                setattr(row, name, value)
    for row in stored.values():  # deleted in Jira
        if row.public:
            row.public, row.author_name, row.body_html = False, "", ""
            seen = True
    return seen


def apply_attachments(request, jira_attachments):
    """Add the files attached in Jira as source="jira" rows; drop those deleted in Jira.

    Only the file's details are stored here; its bytes are fetched on first download
    (`webapp.sync.files`). Portal files, which our delivery uploaded to Jira, are matched
    by their Jira id and never copied nor removed. Returns True when one was added or removed."""
    portal_files = [a for a in request.attachments if a.source != "jira"]
    uploaded_ids = {a.jira_attachment_id for a in portal_files if a.jira_attachment_id}
    jira_files = {a.jira_attachment_id: a for a in request.attachments if a.source == "jira"}
    seen = False
    for item in jira_attachments:
        attachment_id = str(item["id"])
        if attachment_id in uploaded_ids or jira_files.pop(attachment_id, None):
            continue
        if _awaits_delivery(portal_files, item):
            continue
        request.attachments.append(Attachment(
            source="jira", jira_attachment_id=attachment_id,
            original_name=storage.clean_filename(item.get("filename")),
            content_type=column_text(item.get("mimeType") or "application/octet-stream", 255),
            size=int(item.get("size") or 0),
            created_at=parse_jira_time(item.get("created")) or utcnow()))
        seen = True
    # Deleted in Jira; or a row whose id a portal file has since claimed (see _awaits_delivery).
    for row in jira_files.values():
        request.attachments.remove(row)  # delete-orphan: the row goes at the next flush
        if row.stored_name:
            # Removed before the commit: if that fails, the download re-fetches or says "removed".
            storage.remove(row.stored_name)
        seen = True
    return seen


def _awaits_delivery(portal_files, item):
    """True when `item` looks like a portal file whose upload reached Jira but whose Jira id
    is not recorded yet (a delivery in progress or interrupted). Delivery adopts it by the
    same name and size test (`delivery._already_uploaded`); a "jira" copy would show the
    file twice and make delivery upload it again."""
    return any(a.jira_attachment_id is None and a.original_name == item.get("filename")
               and a.size == int(item.get("size") or -1) for a in portal_files)


def _history(request, kind, before, after, when):
    db.session.add(StatusChange(request_id=request.id, kind=kind, from_status=before,
                                to_status=after, changed_at=when or utcnow()))


def _finish(request, seen):
    if seen:
        request.last_synced_at = request.updated_at = utcnow()
    else:
        mark_synced(request)
