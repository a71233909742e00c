"""Uploading the portal's files to an issue, each once: a request's (`delivery`) and a
reply's (`replies`). An upload whose answer was lost is looked for on the issue before it is
sent again (`Attachment.is_upload_of`, the sync's rule too)."""
from flask_babel import lazy_gettext as _l

from . import outbox, storage
from .extensions import db
from .jira import JiraError
from .models import utcnow
from .outbox import landing_after, may_land_until, wait_for_search

# Attachment.send_problem: why a file's upload failed for good. The admin may then send the
# request on without it (`leave_out`); the requester sees why it was not sent.
TOO_LARGE, NOT_ACCEPTED, MISSING, UNREADABLE = "too_large", "not_accepted", "missing", "unreadable"
NOT_SENT = {
    TOO_LARGE: _l("Not sent to the support team: Jira refused it as too large."),
    NOT_ACCEPTED: _l("Not sent to the support team: Jira did not accept it."),
    MISSING: _l("Not sent to the support team: the portal lost its stored copy."),
    UNREADABLE: _l("Not sent to the support team: the portal could not read its stored copy."),
}


def upload_files(jira, support_request, files, holder):
    """Upload each of `files` (the request's, or a reply's) to the request's issue once,
    renewing the lease of `holder` (the row whose job this is) before each."""
    for attachment in files:
        if attachment.source != "portal" or attachment.uploaded_at or attachment.not_sent_at:
            continue
        outbox.renew_lease(holder)
        if attachment.upload_started_at:
            if _adopt_earlier_upload(jira, support_request, attachment):
                continue
            # Jira may still be storing an upload that got no answer: wait, then look again.
            wait_for_search(attachment.upload_started_at)
        path = storage.path_of(attachment.stored_name)
        try:
            with open(path, "rb"):  # a file the portal can't read fails here, as the portal's fault
                pass
        except OSError as exc:
            attachment.send_problem = MISSING if isinstance(exc, FileNotFoundError) else UNREADABLE
            raise
        attachment.upload_started_at = may_land_until(answered=False, in_flight=True)
        db.session.commit()
        try:
            (uploaded, *_) = jira.upload_attachment(
                support_request.jira_issue_id, path,
                filename=attachment.original_name, mime_type=attachment.content_type)
        except JiraError as exc:
            attachment.upload_started_at = landing_after(exc)  # answered no: nothing was stored
            attachment.send_problem = _send_problem(exc)
            db.session.commit()
            raise
        attachment.jira_attachment_id = uploaded.id
        attachment.uploaded_at = utcnow()
        attachment.send_problem = None
        db.session.commit()


def _send_problem(exc):
    """Why Jira will never take this file, when its answer says so (too large; attachments
    turned off or not permitted; a file it refuses); None for anything a retry may cure."""
    if exc.status == 413:
        return TOO_LARGE
    if exc.status in (400, 403, 415, 422):
        return NOT_ACCEPTED
    return None


def _adopt_earlier_upload(jira, support_request, attachment):
    """Did an interrupted upload of this file reach Jira? Then adopt it instead of re-sending."""
    taken = {a.jira_attachment_id for a in support_request.attachments if a.jira_attachment_id}
    for jira_file in jira.files(support_request.jira_issue_id):
        if jira_file.id not in taken and attachment.is_upload_of(jira_file):
            attachment.jira_attachment_id = jira_file.id
            attachment.uploaded_at = utcnow()
            db.session.commit()
            return True
    return False
