"""Support requests, their files, kept uploads and the duplicates found in Jira."""
import secrets

from flask_babel import lazy_gettext as _l
from sqlalchemy import DDL, Index, UniqueConstraint, event, func, select

from ..extensions import db
from .base import UTCDateTime, utcnow


def new_reference():
    """A short, unambiguous portal reference such as PR-7K3M9QXA, sent to Jira as a label."""
    alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    return "PR-" + "".join(secrets.choice(alphabet) for _ in range(8))


class DeliveryState:
    """A request's way to Jira (`SupportRequest.delivery_state`): the one list of states, their
    names for people, and the groups pages and jobs ask about. See docs/delivery.md."""

    LOCAL = "local"      # kept in the portal: the integration was passive when it came
    QUEUED = "queued"    # waiting for a worker (again, after a transient failure)
    SENDING = "sending"  # a worker holds its lease and is talking to Jira
    SENT = "sent"        # the issue exists and every file is uploaded
    FAILED = "failed"    # given up; `last_error` says why; an admin may retry it
    ALL = (LOCAL, QUEUED, SENDING, SENT, FAILED)  # the order of the admin's overview
    NOT_SENT = (FAILED, QUEUED, SENDING, LOCAL)  # the admin's Deliveries tabs: what needs a hand first
    MOVING = (QUEUED, SENDING)  # a page showing one keeps watching it
    SENDABLE = (FAILED, LOCAL)  # what an admin may (re)send to Jira
    NAMES = {
        LOCAL: _l("Portal only"),
        QUEUED: _l("Queued"),
        SENDING: _l("Sending"),
        SENT: _l("Sent to Jira"),
        FAILED: _l("Not forwarded"),
    }

    @classmethod
    def name_of(cls, state):
        return cls.NAMES.get(state, state)


class SupportRequest(db.Model):
    __tablename__ = "support_requests"

    id = db.Column(db.Integer, primary_key=True)
    reference = db.Column(db.String(16), nullable=False, unique=True, default=new_reference)
    # The form's one-time token: a second POST of the same form finds this request, not a new one.
    submission_key = db.Column(db.String(64), unique=True)
    reporter_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    label = db.Column(db.String(255), nullable=False)
    summary = db.Column(db.String(255), nullable=False)
    description = db.Column(db.Text, nullable=False)
    category_id = db.Column(db.Integer, db.ForeignKey("categories.id"))
    product_id = db.Column(db.Integer, db.ForeignKey("api_products.id"))
    endpoint_id = db.Column(db.Integer, db.ForeignKey("api_endpoints.id"))
    # What went with it besides what was typed ("Sent with your request": the framing page,
    # the browser, language, time zone; webapp/sent_with.py); None when left out.
    context = db.Column(db.JSON)
    technical = db.Column(db.JSON)  # the "Technical details" given, as text (webapp/technical.py)

    delivery_state = db.Column(db.String(16), nullable=False, default=DeliveryState.QUEUED)
    last_error = db.Column(db.JSON)  # why the last attempt failed, a stored message (webapp/messages.py)
    attempts = db.Column(db.Integer, nullable=False, default=0)
    next_attempt_at = db.Column(UTCDateTime)  # a queued request is not retried before this
    locked_until = db.Column(UTCDateTime)  # a worker's lease while it is sending
    # A create that may have reached Jira: until when it may still land there
    # (delivery.may_land_until); its issue is looked for until SEARCH_LAG_SECONDS later.
    create_started_at = db.Column(UTCDateTime)
    # An issue a webhook said carries this request's reference while its create was in
    # doubt: looked at first, past search's lag (webapp.delivery.note_candidate).
    jira_candidate_id = db.Column(db.String(32))
    delivered_at = db.Column(UTCDateTime)
    # When it last became deliverable (accepted while active, Retry, Send, activation, the
    # pause lifted): DELIVERY_GIVE_UP_HOURS count from here, not from when it was filed.
    deliverable_since = db.Column(UTCDateTime)

    jira_issue_id = db.Column(db.String(32))
    jira_key = db.Column(db.String(32))
    jira_status = db.Column(db.String(100))
    jira_status_id = db.Column(db.String(32), index=True)  # what people see: webapp.statuses
    jira_status_category = db.Column(db.String(32))  # new | indeterminate | done
    jira_updated_at = db.Column(UTCDateTime)
    # When Jira first said the issue is gone (404): "Removed from Jira" needs a later
    # reconcile to say so again (sync.apply.apply_missing).
    missing_since = db.Column(UTCDateTime)
    last_synced_at = db.Column(UTCDateTime)
    # The reporter's "Mute this request": no mail about it.
    mail_muted = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())

    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    updated_at = db.Column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)
    # Bumped with every change its detail page shows (webapp/polls.py): the polls' ETag.
    poll_version = db.Column(db.Integer, nullable=False, default=0, server_default="0")

    reporter = db.relationship("User")
    category = db.relationship("Category")
    product = db.relationship("ApiProduct")
    endpoint = db.relationship("ApiEndpoint")
    attachments = db.relationship(
        "Attachment", back_populates="request", order_by="Attachment.id",
        cascade="all, delete-orphan",
    )
    replies = db.relationship("Reply", back_populates="request", order_by="Reply.id",
                              cascade="all, delete-orphan")
    comments = db.relationship(
        "JiraComment", back_populates="request", order_by="JiraComment.created_at",
        cascade="all, delete-orphan",
    )

    __table_args__ = (
        Index("ix_support_requests_reporter_updated", "reporter_id", "updated_at"),
        Index("ix_support_requests_updated", "updated_at"),
        Index("ix_support_requests_state", "delivery_state", "next_attempt_at"),
        Index("ix_support_requests_jira_issue_id", "jira_issue_id"),
        # A search by key (SUP-123, PR-7K3M9QXA): equality and prefix (support/query.py).
        Index("ix_support_requests_jira_key", "jira_key",
              postgresql_ops={"jira_key": "varchar_pattern_ops"}),
        Index("ix_support_requests_reference_prefix", "reference",
              postgresql_ops={"reference": "varchar_pattern_ops"}),
        # Substring search as you type: trigram indexes on PostgreSQL (see below).
        Index("ix_support_requests_summary_trgm", "summary",
              postgresql_using="gin", postgresql_ops={"summary": "gin_trgm_ops"}),
        Index("ix_support_requests_jira_key_trgm", "jira_key",
              postgresql_using="gin", postgresql_ops={"jira_key": "gin_trgm_ops"}),
        Index("ix_support_requests_reference_trgm", "reference",
              postgresql_using="gin", postgresql_ops={"reference": "gin_trgm_ops"}),
    )

    @property
    def display_key(self):
        return self.jira_key or self.reference

    @classmethod
    def counts_by_state(cls):
        """{delivery state: how many requests are in it}; a state no request is in is absent."""
        return dict(db.session.execute(
            select(cls.delivery_state, func.count()).group_by(cls.delivery_state)).all())

    @staticmethod
    def new_submission_key():
        """A one-time token for a new-request form (see `submission_key`)."""
        return secrets.token_urlsafe(32)


# pg_trgm lives in "public" so that every schema on the search path can use it.
event.listen(
    db.metadata, "before_create",
    DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public").execute_if(dialect="postgresql"),
)


DOWNLOAD_REFUSED = "refused"  # Attachment.fetch_problem: Jira answered a download with its log-in page


class Attachment(db.Model):
    __tablename__ = "attachments"
    id = db.Column(db.Integer, primary_key=True)
    request_id = db.Column(
        db.Integer, db.ForeignKey("support_requests.id"), nullable=False, index=True,
    )
    # A file sent with a reply (webapp.replies): uploaded by the reply's job, not the request's.
    reply_id = db.Column(db.Integer, db.ForeignKey("replies.id"), index=True)
    source = db.Column(db.String(8), nullable=False, default="portal")  # portal | jira
    original_name = db.Column(db.String(255), nullable=False)
    content_type = db.Column(db.String(255), nullable=False)
    size = db.Column(db.BigInteger, nullable=False)
    sha256 = db.Column(db.String(64))
    stored_name = db.Column(db.String(64), unique=True)  # random; None until a Jira file is fetched
    jira_attachment_id = db.Column(db.String(32))
    upload_started_at = db.Column(UTCDateTime)  # an upload may have reached Jira, landing until then
    uploaded_at = db.Column(UTCDateTime)  # when Jira confirmed it
    # Why the last upload of a portal file failed for good (webapp.delivery.SEND_PROBLEMS),
    # and when the admin chose to send the request without it: it is never sent then.
    send_problem = db.Column(db.String(16))
    not_sent_at = db.Column(UTCDateTime)
    # The support team's files (source "jira"), fetched by a worker (webapp.sync.jira_files):
    fetch_started_at = db.Column(UTCDateTime)  # a job's lease while it downloads
    fetch_problem = db.Column(db.String(16))  # too_large | removed: never tried again; refused: till settings are saved
    jira_content_url = db.Column(db.String(2000))  # where Jira says it downloads (its "content")
    # A Jira file is shown to the requester only when a public comment shows it (fail
    # closed: one attached beside an internal note stays hidden), or when the admin shows
    # every file (JiraSettings.show_all_jira_files).
    in_public_comment = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    request = db.relationship("SupportRequest", back_populates="attachments")
    reply = db.relationship("Reply", back_populates="attachments")

    def may_be_left_out(self):
        """Whether the admin may send its failed request on without this file: a portal file
        whose upload failed for good, on a request that failed because of it."""
        return (self.source == "portal" and self.reply_id is None and self.send_problem is not None
                and not self.uploaded_at
                and not self.not_sent_at and self.request.delivery_state == DeliveryState.FAILED)

    def is_upload_of(self, jira_file):
        """Whether `jira_file` (a JiraFile) is this portal file, uploaded by an attempt whose
        answer was lost: Jira names no upload, so the same name and size are the test."""
        return self.original_name == jira_file.filename and self.size == jira_file.size


class DuplicateIssue(db.Model):
    """A second Jira issue carrying a request's portal reference (a create that landed after
    every window, or an agent's clone): shown to admins on Deliveries, counted in /metrics."""

    __tablename__ = "duplicate_issues"
    id = db.Column(db.Integer, primary_key=True)
    request_id = db.Column(db.Integer, db.ForeignKey("support_requests.id"), nullable=False, index=True)
    jira_issue_id = db.Column(db.String(32), nullable=False)
    jira_key = db.Column(db.String(32), nullable=False)
    seen_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    request = db.relationship("SupportRequest")
    __table_args__ = (UniqueConstraint("request_id", "jira_issue_id"),)


class KeptUpload(db.Model):
    """A stored file a user's unsent form keeps (the form came back with errors): counted
    against KEPT_FILES_MAX_MB per user, and removed once a request owns it."""

    __tablename__ = "kept_uploads"
    stored_name = db.Column(db.String(64), primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False, index=True)
    size = db.Column(db.BigInteger, nullable=False)
    kept_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
