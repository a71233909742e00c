"""Replies: the requester's answer on the detail page becomes exactly one public comment on
the request's Jira issue, its files attached to the issue and named in it.

A reply rides the outbox requests use (`webapp.outbox`: claim, lease, backoff, give-up,
the sweep). Jira comments take no idempotency key, so each reply carries its reference as a
marker (`JiraClient.add_reply`); a post that may have reached Jira is looked for by it
(`JiraClient.find_reply`) until it could have landed, and adopted rather than posted twice.
A reply waits in the portal (`local`) while the integration is passive or its request has no
issue yet, and goes when the request is sent (`delivery.send_waiting_replies`).
"""
import logging

from . import integration, outbox
from .extensions import db
from .jira import JiraError
from .models import DeliveryState, Reply, SupportRequest, utcnow
from .outbox import landing_after, may_land_until, wait_for_search
from .queue import enqueue
from .uploads import upload_files

log = logging.getLogger(__name__)


def accept_reply(reply):
    """Store a new reply and, when it can go now, wake a worker: `queued` while the
    integration is active and the request has its issue, `local` otherwise."""
    request = db.session.get(SupportRequest, reply.request_id)
    goes = integration.settings().enabled and bool(request.jira_issue_id)
    reply.delivery_state = DeliveryState.QUEUED if goes else DeliveryState.LOCAL
    reply.next_attempt_at = reply.deliverable_since = utcnow()
    db.session.add(reply)
    db.session.commit()
    if goes:
        enqueue(deliver_reply, reply.id)
    return reply


def deliver_reply(reply_id):
    """Send one reply: its files to the issue, then the comment, each once."""
    reply = outbox.run(deliver_reply, Reply, reply_id, _send_reply)
    if reply is not None:
        log.info("deliver_reply %s: sent as comment %s on %s", reply.reference, reply.jira_comment_id,
                 reply.request.jira_key)


def retry_replies(reply_ids):
    """The admin's Retry of failed replies (a reply whose request has no issue yet waits
    for it again)."""
    return outbox.requeue(Reply, reply_ids, deliver_reply)


def comment_text(reply):
    """What the support team reads: who wrote it, since every call is the integration
    account's, then the reply as written."""
    return f"{reply.author.display_name}, via the support portal:\n\n{reply.body}"


def _send_reply(jira, reply):
    support_request = reply.request
    if not support_request.jira_issue_id:
        raise outbox.Parked()  # goes when its request is sent
    files = [a for a in reply.attachments if not a.not_sent_at]
    upload_files(jira, support_request, files, reply)
    if reply.jira_comment_id:
        return
    outbox.renew_lease(reply)
    if reply.post_started_at:
        # An earlier post may have reached Jira with its answer lost: adopt what it made.
        found = jira.find_reply(support_request.jira_issue_id, reply.reference)
        if found:
            log.info("deliver_reply %s: found comment %s from an earlier attempt", reply.reference, found)
            reply.jira_comment_id = found
            db.session.commit()
            return
        wait_for_search(reply.post_started_at)
    earlier = reply.post_started_at
    reply.post_started_at = may_land_until(answered=False, in_flight=True)
    db.session.commit()
    try:
        comment = jira.add_reply(support_request.jira_issue_id, comment_text(reply), reply.reference,
                                 files=[a.original_name for a in files])
    except JiraError as exc:
        landing = landing_after(exc)
        reply.post_started_at = earlier if landing is None else landing
        db.session.commit()
        raise
    reply.jira_comment_id = comment.id
    db.session.commit()


def adopt_comment(support_request, comment):
    """The reply a comment the sync read delivered, if any (by its id, or by the marker
    that came with it): its Jira id is noted, so a lost answer is adopted here too."""
    for reply in support_request.replies:
        if reply.jira_comment_id == comment.id:
            return reply
        if comment.reply and reply.reference == comment.reply:
            if not reply.jira_comment_id:
                reply.jira_comment_id = comment.id
            return reply
    return None
