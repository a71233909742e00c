"""Copy what Jira says about one issue into the portal's tables: key, status, public comments,
the support team's attachments.

Pages read only these tables, so this is where a user's view of Jira changes. The request's
`updated_at` (the order of the user's list) moves only when something the user sees changed.
"""
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm.attributes import flag_modified

from .. import storage
from ..extensions import db
from ..mail.events import Seen, note_comment, note_status
from ..models import (Attachment, DuplicateIssue, JiraComment, StatusChange, SupportRequest, column_text,
                      utcnow)
from ..statuses import DELETED, language, status_name
from ..replies import adopt_comment

REMOVED = _l("Removed from Jira")


def shown_status(support_request, locale=None):
    """The request's status as its customer sees it, in `locale`'s language (a code or a
    babel Locale; the reader's when None): the admin's name for its Jira status, else its
    category's (webapp.statuses); "Removed from Jira" once the issue is gone. Never Jira's
    own status name. The one place every page, list, filter and e-mail takes it from."""
    if support_request.jira_status_category == DELETED:
        if locale is None:
            return str(REMOVED)
        with force_locale(language(locale)):
            return str(REMOVED)
    return status_name(support_request.jira_status_id, support_request.jira_status,
                       support_request.jira_status_category, locale)


def shown_change(change, locale=None):
    """A history row's (from, to) status names, as `shown_status` names them."""
    return (status_name(change.from_status_id, change.from_status, change.from_category, locale)
            if change.from_status or change.from_category else None,
            status_name(change.to_status_id, change.to_status, change.to_category, locale))


def is_unchanged(support_request, issue):
    """True when the Issue is exactly as the last refresh saw it (same key and `updated`).

    The sync's overlap window returns issues it has already applied; so does the reconcile
    for every quiet issue. Jira bumps `updated` for every edit and comment."""
    return (issue.updated is not None and issue.updated == support_request.jira_updated_at
            and issue.key == support_request.jira_key
            and (issue.status is None or issue.status.id == support_request.jira_status_id)
            and support_request.jira_status_category != DELETED)


def is_older(support_request, issue):
    """True when the Issue is a snapshot from before what the portal already shows (Jira's
    `updated` is earlier than the one stored): search lags behind writes."""
    return (issue.updated is not None and support_request.jira_updated_at is not None
            and issue.updated < support_request.jira_updated_at)


def mark_synced(support_request, updated_at=None):
    """Nothing new: record the check, keep `updated_at` (onupdate would bump it), or put
    back `updated_at` as it was before a flush on the way (a query's autoflush) bumped it."""
    support_request.last_synced_at = utcnow()
    if updated_at is not None:
        support_request.updated_at = updated_at
    flag_modified(support_request, "updated_at")


def apply_issue(support_request, issue, comments):
    """Bring `support_request` up to date with `issue` (an Issue read with the fields status,
    updated and attachment) and its whole comment list. Returns True when the user sees
    something new."""
    status = issue.status
    name = column_text(status and status.name, 100)
    status_id = column_text(status and status.id, 32)
    category = column_text(status and status.category, 32)
    before = Seen.of(support_request, shown_status)
    updated_at = support_request.updated_at
    seen = False
    if issue.key and issue.key != support_request.jira_key:
        if support_request.jira_key:  # moved to another project: Jira gave it a new key
            _history(support_request, "moved", support_request.jira_key, issue.key, issue.updated)
        support_request.jira_key = column_text(issue.key, 32)
        seen = True
    if (name and name != support_request.jira_status
            or status_id and support_request.jira_status_id and status_id != support_request.jira_status_id):
        db.session.add(StatusChange(
            request_id=support_request.id, kind="status", from_status=support_request.jira_status,
            from_status_id=support_request.jira_status_id, from_category=support_request.jira_status_category,
            to_status=name or support_request.jira_status, to_status_id=status_id, to_category=category,
            changed_at=issue.updated or utcnow()))
        support_request.jira_status = name or support_request.jira_status
        seen = True
    if status_id:  # a request stored before ids were gets its id at the next look (not news)
        support_request.jira_status_id = status_id
    if category and category != support_request.jira_status_category:
        support_request.jira_status_category = category
        seen = True
    support_request.jira_updated_at = issue.updated or support_request.jira_updated_at
    support_request.missing_since = None  # Jira shows it: whatever it said before was a moment's
    seen = apply_comments(support_request, comments) or seen
    if issue.attachments is not None:  # without the field we know nothing, so nothing is removed
        shown = {storage.clean_filename(name) for c in comments if c.public for name in c.files}
        seen = apply_attachments(support_request, issue.attachments, shown) or seen
    note_status(support_request, before, Seen.of(support_request, shown_status), issue.updated)
    _finish(support_request, seen, updated_at)
    return seen


def apply_missing(support_request, confirm_before=None):
    """Jira says the issue does not exist (or the account may not see it). Believed only
    when a reconcile that started after the first such answer says it again
    (`confirm_before`: the start of this reconcile): a moment's 404 removes nothing. Then
    the user sees "Removed from Jira"; the last status and comments stay. Returns True when
    the user sees something new."""
    if support_request.jira_status_category == DELETED:
        mark_synced(support_request)
        return False
    if support_request.missing_since is None:
        support_request.missing_since = utcnow()
        mark_synced(support_request)
        return False
    if confirm_before is None or support_request.missing_since >= confirm_before:
        mark_synced(support_request)
        return False
    _history(support_request, DELETED, support_request.jira_status, DELETED, None)
    before = Seen.of(support_request, shown_status)
    support_request.jira_status_category = DELETED
    note_status(support_request, before, Seen.of(support_request, shown_status), support_request.missing_since)
    _finish(support_request, True)
    return True


def apply_comments(support_request, comments):
    """Upsert Jira's Comments; hide those that vanished or stopped being public.

    Only public comments keep their author and body (the Comment record carries neither
    otherwise): what users may not see is not kept. A comment that delivered the user's own
    reply is kept as not shown: the thread shows the reply itself, under the user's name,
    and it is no news from the support team."""
    stored = {c.jira_comment_id: c for c in support_request.comments}
    seen = False
    for comment in comments:
        shown = comment.public and adopt_comment(support_request, comment) is None
        values = {
            "public": shown,
            "author_name": comment.author if shown else "",
            "body_html": comment.body_html if shown else "",
            "created_at": comment.created or utcnow(),
            "updated_at": comment.updated,
        }
        row = stored.pop(comment.id, None)
        if comment.public and (row is None or not row.public):
            note_comment(support_request, comment)
        if row is None:
            support_request.comments.append(JiraComment(jira_comment_id=column_text(comment.id, 32), **values))
            seen = seen or shown
        elif any(getattr(row, name) != value for name, value in values.items()):
            seen = seen or shown or row.public
            for name, value in values.items():
                setattr(row, name, value)
    for row in stored.values():  # deleted in Jira
        if row.public:
            row.public, row.author_name, row.body_html = False, "", ""
            seen = True
    return seen


def apply_attachments(support_request, jira_files, shown=frozenset()):
    """Add the files attached in Jira (JiraFiles) as source="jira" rows; drop those deleted
    in Jira; note which ones a public comment shows (`shown`: file names). Returns True
    when the requester may see a change.

    Only the file's details are stored here; the worker fetches its bytes
    (`webapp.sync.jira_files`). Portal files, which our delivery uploaded to Jira, are matched
    by their Jira id and never copied nor removed."""
    portal_files = [a for a in support_request.attachments if a.source != "jira"]
    uploaded_ids = {a.jira_attachment_id for a in portal_files if a.jira_attachment_id}
    jira_rows = {a.jira_attachment_id: a for a in support_request.attachments if a.source == "jira"}
    seen = False
    for jira_file in jira_files:
        if jira_file.id in uploaded_ids:
            continue
        row = jira_rows.pop(jira_file.id, None)
        if row is not None:
            row.jira_content_url = jira_file.content_url or row.jira_content_url
            if row.in_public_comment != (row.original_name in shown):
                row.in_public_comment = not row.in_public_comment
                seen = True
            continue
        if _awaits_delivery(portal_files, jira_file):
            continue
        name = storage.clean_filename(jira_file.filename)
        support_request.attachments.append(Attachment(
            source="jira", jira_attachment_id=column_text(jira_file.id, 32), original_name=name,
            content_type=column_text(jira_file.mime_type or "application/octet-stream", 255),
            size=jira_file.size or 0, in_public_comment=name in shown, jira_content_url=jira_file.content_url,
            created_at=jira_file.created or utcnow()))
        seen = True
    # Deleted in Jira; or a row whose id a portal file has since claimed (see _awaits_delivery).
    for row in jira_rows.values():
        support_request.attachments.remove(row)  # delete-orphan: the row goes at the next flush
        if row.stored_name:
            # Removed before the commit: if that fails, the file is fetched again.
            storage.remove(row.stored_name)
        seen = True
    return seen


def _awaits_delivery(portal_files, jira_file):
    """True when `jira_file` looks like a portal file whose upload reached Jira but whose Jira
    id is not recorded yet (a delivery in progress or interrupted). Delivery adopts it by
    the same test (`Attachment.is_upload_of`); a "jira" copy would show the file twice and
    make delivery upload it again."""
    return any(a.jira_attachment_id is None and a.is_upload_of(jira_file) for a in portal_files)


def note_duplicates(issues):
    """Record each issue that carries a request's portal reference but is not its issue."""
    claims = [(ref, issue) for issue in issues for ref in issue.references]
    if not claims:
        return
    requests = {r.reference: r for r in db.session.scalars(
        select(SupportRequest).where(SupportRequest.reference.in_({ref for ref, _ in claims})))}
    for ref, issue in claims:
        support_request = requests.get(ref)
        if support_request is None or not support_request.jira_issue_id or issue.id == support_request.jira_issue_id:
            continue
        known = db.session.scalar(select(DuplicateIssue.id).where(
            DuplicateIssue.request_id == support_request.id, DuplicateIssue.jira_issue_id == issue.id))
        if known is None:
            db.session.add(DuplicateIssue(request_id=support_request.id, jira_issue_id=issue.id,
                                          jira_key=column_text(issue.key, 32)))
            db.session.flush()


def _history(support_request, kind, before, after, when):
    db.session.add(StatusChange(request_id=support_request.id, kind=kind, from_status=before,
                                to_status=after, changed_at=when or utcnow()))


def _finish(support_request, seen, updated_at=None):
    if seen:
        support_request.last_synced_at = support_request.updated_at = utcnow()
    else:
        mark_synced(support_request, updated_at)
