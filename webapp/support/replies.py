"""The Reply form's helpers: whose request may be replied to, the blank form, and what the
requester reads beside a reply. The route is `routes.reply`; a worker posts the reply to
Jira (webapp.replies)."""
from flask import abort
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from .forms import ReplyForm
from ..extensions import db
from ..models import DeliveryState, Reply, SupportRequest


def own_request(request_id):
    """The request, if it is this user's own; 404 otherwise. Only the requester replies:
    an admin sees every request but speaks to the support team in Jira."""
    support_request = db.session.get(SupportRequest, request_id)
    if support_request is None or support_request.reporter_id != current_user.id:
        abort(404)
    return support_request


def may_reply(support_request):
    return support_request.reporter_id == current_user.id


def already_sent(submission_key):
    if not submission_key:
        return None
    return db.session.scalar(select(Reply).where(Reply.submission_key == submission_key,
                                                 Reply.author_id == current_user.id))


def new_reply_form():
    form = ReplyForm(formdata=None)
    form.submission_key.data = SupportRequest.new_submission_key()
    return form


def reply_state(reply):
    """What the requester reads beside their reply: (css class, words)."""
    if reply.delivery_state == DeliveryState.SENT:
        return "sent", _("Sent")
    if reply.delivery_state == DeliveryState.FAILED:
        return "failed", _("Not delivered yet: the portal keeps your reply and the administrator has been told.")
    if reply.delivery_state == DeliveryState.LOCAL:
        return "local", _("Kept in the portal: it goes to the support team with your request.")
    return "sending", _("Sending…")
