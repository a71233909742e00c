"""People: accounts, their set-password links and failed log-ins."""
from flask import current_app
from flask_login import UserMixin
from sqlalchemy import Index, UniqueConstraint
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from .base import UTCDateTime, utcnow


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
