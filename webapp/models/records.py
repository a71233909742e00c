"""What happened once: the audit log, mail sent or waiting, and the webhooks and hand-over tokens already seen."""
from sqlalchemy import Index

from ..extensions import db
from .base import UTCDateTime, utcnow


class AuditLog(db.Model):
    """Who changed which setting when; details never hold secrets."""

    __tablename__ = "audit_log"
    id = db.Column(db.Integer, primary_key=True)
    actor_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    action = db.Column(db.String(64), nullable=False)
    details = db.Column(db.JSON, nullable=False, default=dict)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow, index=True)
    actor = db.relationship("User")


class MailOutbox(db.Model):
    """One mail to send: an event about a request, the integration or an account, for one
    person. `key` names the event and the Jira object it is about (a comment's id, a status
    change's time), so a replayed webhook or a second sync writes nothing new. Written in the
    transaction of the change it tells of; sent by `webapp.mail.sending`."""

    __tablename__ = "mail_outbox"
    WAITING, SENDING, SENT, FAILED, SKIPPED = "waiting", "sending", "sent", "failed", "skipped"
    STATES = (WAITING, SENDING, SENT, FAILED, SKIPPED)
    id = db.Column(db.Integer, primary_key=True)
    key = db.Column(db.String(255), nullable=False, unique=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    request_id = db.Column(db.Integer, db.ForeignKey("support_requests.id", ondelete="CASCADE"), index=True)
    event = db.Column(db.String(32), nullable=False)
    params = db.Column(db.JSON, nullable=False, default=dict)
    # An account mail's link (it opens the account): Fernet-encrypted, removed once sent.
    secret_encrypted = db.Column(db.Text)
    state = db.Column(db.String(16), nullable=False, default=WAITING)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    # Not sent before this: changes to one request in MAIL_GATHER_SECONDS go out together.
    send_after = db.Column(UTCDateTime, nullable=False, default=utcnow)
    attempts = db.Column(db.Integer, nullable=False, default=0)
    claim = db.Column(db.String(32))  # the sending job that holds it
    locked_until = db.Column(UTCDateTime)  # that job's lease
    sent_at = db.Column(UTCDateTime)
    last_error = db.Column(db.String(500))  # why it failed or was not sent
    user = db.relationship("User")
    request = db.relationship("SupportRequest")
    __table_args__ = (
        Index("ix_mail_outbox_user_state", "user_id", "state"),
        Index("ix_mail_outbox_state_send_after", "state", "send_after"),
    )


class SeenWebhook(db.Model):
    """A webhook delivery already handled (Jira's X-Atlassian-Webhook-Identifier, the same on
    its retries): a captured one sent again refreshes nothing."""

    __tablename__ = "seen_webhooks"
    identifier = db.Column(db.String(128), primary_key=True)
    seen_at = db.Column(UTCDateTime, nullable=False, default=utcnow, index=True)


class UsedHandoverToken(db.Model):
    """A hand-over token already used (its `jti`, kept until it expires): the primary key lets
    only one of two requests carrying it through, however close together they come."""

    __tablename__ = "used_handover_tokens"
    jti = db.Column(db.String(128), primary_key=True)
    expires_at = db.Column(UTCDateTime, nullable=False, index=True)
