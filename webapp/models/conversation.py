"""A request's conversation: the requester's replies and status actions, the team's comments, the status history."""
from sqlalchemy import Index, UniqueConstraint

from ..extensions import db
from .base import UTCDateTime, utcnow
from .requests import DeliveryState, new_reference


def new_reply_reference():
    """A reply's marker in Jira (a comment property on Cloud, the body's last line on Data
    Center): the retry of a post whose answer was lost finds the comment by it."""
    return "RE-" + new_reference()[3:]


class Reply(db.Model):
    """The requester's answer on the detail page, delivered to Jira as one public comment
    (webapp.replies): the same outbox columns, states and lease as a request's."""

    __tablename__ = "replies"
    id = db.Column(db.Integer, primary_key=True)
    reference = db.Column(db.String(16), nullable=False, unique=True, default=new_reply_reference)
    submission_key = db.Column(db.String(64), unique=True)  # a second POST of the form finds this one
    request_id = db.Column(db.Integer, db.ForeignKey("support_requests.id"), nullable=False, index=True)
    author_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    body = db.Column(db.Text, nullable=False)
    delivery_state = db.Column(db.String(16), nullable=False, default=DeliveryState.QUEUED)
    last_error = db.Column(db.JSON)
    attempts = db.Column(db.Integer, nullable=False, default=0)
    next_attempt_at = db.Column(UTCDateTime)
    locked_until = db.Column(UTCDateTime)
    deliverable_since = db.Column(UTCDateTime)
    # A post that may have reached Jira: until when it may still land (delivery.may_land_until).
    post_started_at = db.Column(UTCDateTime)
    jira_comment_id = db.Column(db.String(32))
    delivered_at = db.Column(UTCDateTime)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    request = db.relationship("SupportRequest", back_populates="replies")
    author = db.relationship("User")
    attachments = db.relationship("Attachment", back_populates="reply", order_by="Attachment.id")
    __table_args__ = (Index("ix_replies_state", "delivery_state", "next_attempt_at"),)


def new_action_reference():
    """A status action's reference, for logs and Administration → Deliveries."""
    return "ST-" + new_reference()[3:]


class StatusAction(db.Model):
    """The requester's "Mark as resolved" or "Reopen" (or the move back a reply makes),
    applied to the Jira issue by a worker (webapp.transitions): the outbox's columns,
    states and lease, like a reply's. `outcome` says what Jira did once it is sent."""

    RESOLVE, REOPEN, BACK = "resolve", "reopen", "back"
    MOVED, ALREADY, REFUSED = "moved", "already", "refused"  # outcomes

    __tablename__ = "status_actions"
    id = db.Column(db.Integer, primary_key=True)
    reference = db.Column(db.String(16), nullable=False, unique=True, default=new_action_reference)
    submission_key = db.Column(db.String(64), unique=True)  # a second POST of the form finds this one
    request_id = db.Column(db.Integer, db.ForeignKey("support_requests.id"), nullable=False, index=True)
    author_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    kind = db.Column(db.String(16), nullable=False)  # resolve | reopen | back
    note = db.Column(db.Text, nullable=False, default="")
    delivery_state = db.Column(db.String(16), nullable=False, default=DeliveryState.QUEUED)
    last_error = db.Column(db.JSON)
    attempts = db.Column(db.Integer, nullable=False, default=0)
    next_attempt_at = db.Column(UTCDateTime)
    locked_until = db.Column(UTCDateTime)
    deliverable_since = db.Column(UTCDateTime)
    # The transition chosen and the status it leads to, noted before it is posted: a retry
    # after a lost answer finds the issue there and does not post it again.
    transition_id = db.Column(db.String(32))
    target_status_id = db.Column(db.String(32))
    outcome = db.Column(db.String(16))
    reply_id = db.Column(db.Integer, db.ForeignKey("replies.id"))  # the note, sent as a reply
    delivered_at = db.Column(UTCDateTime)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    request = db.relationship("SupportRequest")
    author = db.relationship("User")
    reply = db.relationship("Reply")
    __table_args__ = (Index("ix_status_actions_state", "delivery_state", "next_attempt_at"),)


class JiraComment(db.Model):
    """A support-team comment copied from Jira; shown only while public."""

    __tablename__ = "jira_comments"
    id = db.Column(db.Integer, primary_key=True)
    request_id = db.Column(
        db.Integer, db.ForeignKey("support_requests.id"), nullable=False, index=True,
    )
    jira_comment_id = db.Column(db.String(32), nullable=False)
    author_name = db.Column(db.String(255), nullable=False, default="")
    body_html = db.Column(db.Text, nullable=False, default="")  # rendered by the allow-list
    public = db.Column(db.Boolean, nullable=False, default=True)
    created_at = db.Column(UTCDateTime, nullable=False)
    updated_at = db.Column(UTCDateTime)
    request = db.relationship("SupportRequest", back_populates="comments")
    __table_args__ = (UniqueConstraint("request_id", "jira_comment_id"),)


class StatusChange(db.Model):
    """The history of a request's Jira status, as the portal saw it change."""

    __tablename__ = "status_changes"
    id = db.Column(db.Integer, primary_key=True)
    request_id = db.Column(
        db.Integer, db.ForeignKey("support_requests.id"), nullable=False, index=True,
    )
    from_status = db.Column(db.String(100))
    to_status = db.Column(db.String(100), nullable=False)
    # Jira's id and category of each status ("status" rows since statuses are mapped): the
    # name shown is the admin's (webapp.statuses.status_name).
    from_status_id = db.Column(db.String(32))
    from_category = db.Column(db.String(32))
    to_status_id = db.Column(db.String(32))
    to_category = db.Column(db.String(32))
    changed_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    # Added by the sync (webapp/sync/apply.py): what kind of change this row records.
    # "status": from_status → to_status are status names; "moved": they are the old and new
    # Jira keys; "deleted": the issue is gone from Jira (to_status holds "deleted").
    kind = db.Column(db.String(16), nullable=False, default="status", server_default="status")
