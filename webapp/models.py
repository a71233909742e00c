"""The data model of the whole portal."""
import secrets
from datetime import datetime, timezone

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import DDL, Index, UniqueConstraint, event, func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db


MAX_ID = 2**31 - 1  # the largest value of an integer id column on every database


def utcnow():
    return datetime.now(timezone.utc)


def column_text(value, length):
    """Text from outside (Jira) as a string column holds it: no NUL, which PostgreSQL refuses,
    and no longer than the column. None stays None."""
    return None if value is None else str(value).replace("\x00", "")[:length]


def as_id(value):
    """An id typed by someone: a plain decimal number a row could have, else None (never a
    number the database would fail on, nor "²", which Python calls a digit)."""
    text = str(value) if value is not None else ""
    if not (text.isascii() and text.isdigit()) or len(text) > 10 or int(text) > MAX_ID:
        return None
    return int(text)


class UTCDateTime(db.TypeDecorator):
    """Timezone-aware UTC datetimes on every database (SQLite drops the zone)."""

    impl = db.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(timezone.utc)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


class User(UserMixin, db.Model):
    __tablename__ = "users"
    ROLES = ("admin", "user")

    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(254), nullable=False, unique=True)
    display_name = db.Column(db.String(120), nullable=False)
    password_hash = db.Column(db.String(256), nullable=False)
    role = db.Column(db.String(16), nullable=False, default="user")
    language = db.Column(db.String(8))  # None: follow the browser
    timezone = db.Column(db.String(64))  # None: the portal's default
    active = db.Column(db.Boolean, nullable=False, default=True)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    last_login_at = db.Column(UTCDateTime)
    # Carried in every session and remember-me cookie (get_id); bumping it ends them all, on
    # every web process, since each request checks it against this row.
    session_version = db.Column(db.Integer, nullable=False, default=1, server_default="1")
    # Bumped with every change to the user's requests (webapp/polls.py): their list's ETag.
    requests_version = db.Column(db.Integer, nullable=False, default=0, server_default="0")
    # Who the account is at the OpenID provider that signs it in (webapp/auth/accounts.py).
    oidc_issuer = db.Column(db.String(500))
    oidc_subject = db.Column(db.String(255))
    # Which mail about their requests the user wants (webapp/mail/): MAIL_PREFERENCES.
    mail_preference = db.Column(db.String(16), nullable=False, default="all", server_default="all")
    # An admin's mail about the integration (a request failed, Jira paused or failing).
    admin_mail = db.Column(db.Boolean, nullable=False, default=True, server_default=db.true())
    __table_args__ = (UniqueConstraint("oidc_issuer", "oidc_subject", name="uq_users_oidc_identity"),)

    # The password of an account made by single sign-on: not a hash, so nothing matches it.
    NO_PASSWORD = "!sso"

    @property
    def is_admin(self):
        return self.role == "admin"

    SIGN_INS = ("password", "sso", "handover")

    @property
    def sign_in(self):
        """How the account signs in: "sso" (its OpenID provider), "password" (the portal's
        own), else "handover" (the framing site's, or no way yet: a link to set a password)."""
        if self.oidc_subject is not None:
            return "sso"
        return "handover" if self.password_hash == self.NO_PASSWORD else "password"

    @property
    def has_password(self):
        """Whether the account logs in with a password of the portal's (not elsewhere)."""
        return self.password_hash != self.NO_PASSWORD

    @property
    def is_active(self):
        return self.active

    def get_id(self):
        """What Flask-Login keeps in the session and the remember-me cookie."""
        return f"{self.id}:{self.session_version}"

    def end_sessions(self):
        """Revoke every session and remember-me cookie issued so far."""
        self.session_version = (self.session_version or 1) + 1

    def set_active(self, active):
        """Enable or disable the account; disabling ends its sessions at once."""
        self.active = active
        if not active:
            self.end_sessions()

    def set_password(self, password):
        """A new password ends every session of the old one."""
        self.password_hash = generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])
        if self.id is not None:
            self.end_sessions()

    def check_password(self, password):
        return check_password_hash(self.password_hash, password)

    @staticmethod
    def normalize_email(email):
        return (email or "").strip().lower()

    def __repr__(self):
        return f"<User {self.email} {self.role}>"


class SetPasswordToken(db.Model):
    """A one-time link to set an account's password, made by an admin. Only the SHA-256 of
    the link's random token is kept: the database alone opens no account."""

    __tablename__ = "set_password_tokens"
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    token_hash = db.Column(db.String(64), nullable=False, unique=True)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    expires_at = db.Column(UTCDateTime, nullable=False)
    used_at = db.Column(UTCDateTime)
    user = db.relationship("User")


class LoginFailure(db.Model):
    """One failed log-in; recent rows per e-mail or address throttle further tries."""

    __tablename__ = "login_failures"
    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(254), nullable=False)
    remote_addr = db.Column(db.String(64), nullable=False)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    __table_args__ = (
        Index("ix_login_failures_email_created", "email", "created_at"),
        Index("ix_login_failures_addr_created", "remote_addr", "created_at"),
    )


class JiraSettings(db.Model):
    """The single row behind the admin's Jira Config screen."""

    __tablename__ = "jira_settings"
    id = db.Column(db.Integer, primary_key=True)
    enabled = db.Column(db.Boolean, nullable=False, default=False)  # Active / Passive
    deployment = db.Column(db.String(16), nullable=False, default="cloud")  # cloud | datacenter
    base_url = db.Column(db.String(500), nullable=False, default="")
    description = db.Column(db.Text, nullable=False, default="")  # admin note, never sent
    username = db.Column(db.String(254), nullable=False, default="")
    api_token_encrypted = db.Column(db.Text)  # Fernet token, see webapp.crypto
    api_token_last4 = db.Column(db.String(4))
    project_key = db.Column(db.String(32), nullable=False, default="")
    issue_type = db.Column(db.String(100), nullable=False, default="")
    issue_type_id = db.Column(db.String(32))  # resolved by "Save and Test"
    category_field_id = db.Column(db.String(40))
    product_field_id = db.Column(db.String(40))
    endpoint_field_id = db.Column(db.String(40))
    field_schemas = db.Column(db.JSON, nullable=False, default=dict)  # as Jira reported them
    webhook_secret_encrypted = db.Column(db.Text)
    # Show the requester every file on the issue, not only those a public comment shows.
    show_all_jira_files = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())
    # The "Technical details" the form asks for (webapp/technical.py), and the environments offered.
    technical_fields = db.Column(db.JSON, nullable=False, default=list, server_default="[]")
    environments = db.Column(db.Text, nullable=False, default="", server_default="")
    environment_field_id = db.Column(db.String(40))  # optional custom fields for the details
    application_field_id = db.Column(db.String(40))
    correlation_field_id = db.Column(db.String(40))
    http_status_field_id = db.Column(db.String(40))
    occurred_field_id = db.Column(db.String(40))
    # Resolve and reopen (webapp/transitions.py): the workflow transitions, by Jira's name, that
    # "Mark as resolved", "Reopen" and a reply to a request waiting for its customer apply;
    # blank switches each off. "Reopen" is offered for `reopen_days` after a request closed.
    resolve_transition = db.Column(db.String(100))
    reopen_transition = db.Column(db.String(100))
    reopen_days = db.Column(db.Integer, nullable=False, default=14, server_default="14")
    reply_transition = db.Column(db.String(100))
    # Set after a 401, as a stored message (webapp/messages.py): no calls until settings change.
    paused_reason = db.Column(db.JSON(none_as_null=True))
    version = db.Column(db.Integer, nullable=False, default=1)  # bumped on every change
    # Who changed what, and when: the audit log.

    @classmethod
    def get(cls):
        """The settings row, created empty (passive) on first use."""
        settings = db.session.get(cls, 1)
        if settings is None:
            settings = cls(id=1)
            db.session.add(settings)
            db.session.flush()
        return settings


class ApinizerSettings(db.Model):
    """The single row of the optional Apinizer API Manager connector (webapp/catalog/apinizer.py):
    where its Management API is, the token (encrypted like Jira's), the projects followed, and
    the last reading, which waits in `found` for the admin to apply."""

    __tablename__ = "apinizer_settings"
    id = db.Column(db.Integer, primary_key=True)
    base_url = db.Column(db.String(500), nullable=False, default="")
    api_token_encrypted = db.Column(db.Text)  # Fernet token, see webapp.crypto
    api_token_last4 = db.Column(db.String(4))
    projects = db.Column(db.JSON, nullable=False, default=list)  # the project names followed
    known_projects = db.Column(db.JSON(none_as_null=True))  # those the last reading could see
    reading = db.Column(db.Boolean, nullable=False, default=False)
    found = db.Column(db.JSON(none_as_null=True))  # [{"project", "proxy", "endpoints": [[m, p, s]]}]
    error = db.Column(db.JSON(none_as_null=True))  # a stored message (webapp/messages.py)
    read_at = db.Column(UTCDateTime)

    @classmethod
    def get(cls):
        settings = db.session.get(cls, 1)
        if settings is None:
            settings = cls(id=1, projects=[])
            db.session.add(settings)
            db.session.flush()
        return settings


class Label(db.Model):
    __tablename__ = "labels"
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(255), nullable=False, unique=True)
    position = db.Column(db.Integer, nullable=False, default=0)
    # Added to every issue (the seed's "Label List"); otherwise offered in the form only.
    applies_to_all = db.Column(db.Boolean, nullable=False, default=False)
    active = db.Column(db.Boolean, nullable=False, default=True)


class Category(db.Model):
    __tablename__ = "categories"
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(120), nullable=False)
    position = db.Column(db.Integer, nullable=False, default=0)
    active = db.Column(db.Boolean, nullable=False, default=True)  # removed ones stay on old requests


class ApiProduct(db.Model):
    __tablename__ = "api_products"
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(200), nullable=False)
    position = db.Column(db.Integer, nullable=False, default=0)
    published = db.Column(db.Boolean, nullable=False, default=True)  # offered in the form
    active = db.Column(db.Boolean, nullable=False, default=True)  # removed ones stay on old requests
    # An OpenAPI 3 / Swagger 2 document the product follows (webapp/catalog): the worker reads
    # it daily or when asked; what it found waits in `source_found` until the admin applies it.
    source_url = db.Column(db.String(2000))
    source_reading = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())
    source_found = db.Column(db.JSON(none_as_null=True))  # [[method, path, summary], ...]
    source_error = db.Column(db.JSON(none_as_null=True))  # a stored message (webapp/messages.py)
    source_read_at = db.Column(UTCDateTime)
    # The Apinizer API proxy this product mirrors (webapp/catalog/apinizer.py), if any.
    apinizer_project = db.Column(db.String(200))
    apinizer_proxy = db.Column(db.String(200))
    endpoints = db.relationship(
        "ApiEndpoint", back_populates="product", order_by="[ApiEndpoint.position, ApiEndpoint.id]",
        cascade="all, delete-orphan",
    )


class ApiEndpoint(db.Model):
    __tablename__ = "api_endpoints"
    id = db.Column(db.Integer, primary_key=True)
    product_id = db.Column(db.Integer, db.ForeignKey("api_products.id"), nullable=False, index=True)
    method = db.Column(db.String(10))
    path = db.Column(db.String(500), nullable=False)
    summary = db.Column(db.String(500))  # the operation's summary in the product's document
    position = db.Column(db.Integer, nullable=False, default=0)
    # Removed by the admin, or retired: it left the product's document. Either way it leaves
    # the form and stays on the requests that name it.
    active = db.Column(db.Boolean, nullable=False, default=True)
    product = db.relationship("ApiProduct", back_populates="endpoints")

    @property
    def label(self):
        """What the form and the pages show: "GET /pets/{id}", or the path alone."""
        return f"{self.method} {self.path}" if self.method else self.path

    @property
    def choice_label(self):
        """The form's choice: the label, and beside it the summary from the product's document."""
        return f"{self.label} — {self.summary}" if self.summary else self.label


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


class JiraStatus(db.Model):
    """A status of the project's workflows as Jira last listed it, with the names customers
    see and whether it means the request waits for its customer (Administration → Statuses;
    webapp.statuses reads them)."""

    __tablename__ = "jira_statuses"
    id = db.Column(db.Integer, primary_key=True)
    jira_id = db.Column(db.String(32), nullable=False, unique=True)
    name = db.Column(db.String(100), nullable=False)  # Jira's own, shown to admins only
    category = db.Column(db.String(32))  # new | indeterminate | done
    name_en = db.Column(db.String(100), nullable=False)
    name_tr = db.Column(db.String(100), nullable=False)
    waiting_for_customer = db.Column(db.Boolean, nullable=False, default=False)
    in_jira = db.Column(db.Boolean, nullable=False, default=True)  # False: gone from Jira's list
    read_at = db.Column(UTCDateTime, nullable=False, default=utcnow)


class AuditLog(db.Model):
    """Who changed which setting when; details never hold secrets."""

    __tablename__ = "audit_log"
    id = db.Column(db.Integer, primary_key=True)
    actor_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    action = db.Column(db.String(64), nullable=False)
    details = db.Column(db.JSON, nullable=False, default=dict)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow, index=True)
    actor = db.relationship("User")


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


class AppState(db.Model):
    """Small named values shared by every process: heartbeats, sync cursors."""

    __tablename__ = "app_state"
    key = db.Column(db.String(64), primary_key=True)
    value = db.Column(db.Text, nullable=False, default="")  # each value carries its own time

    @classmethod
    def ensure(cls, key):
        """Make the row `key` (value "") unless it exists, so a conditional UPDATE can take
        it; commits. Two processes racing to make it: one does, the other finds it."""
        if db.session.get(cls, key) is not None:
            return
        try:
            db.session.add(cls(key=key, value=""))
            db.session.commit()
        except IntegrityError:  # another process made it first
            db.session.rollback()
