"""E-mail: people hear about their requests without watching the portal (docs/email.md).

Every mail starts as an outbox row (`MailOutbox`), written by `note` in the transaction of
the change it tells of; `sending.send_due` sends what is due. The row's key names the event
and the Jira object it is about, so replays, reconciles and second workers write nothing new.
With no SMTP_HOST nothing is written, nor sent.
"""
from datetime import timedelta

from flask import Blueprint, current_app
from sqlalchemy import select

from .. import crypto
from ..extensions import db
from ..models import MailOutbox, User, utcnow
from .smtp import configured

# Events about a request (to its reporter), about the integration (to admins), and accounts.
RECEIVED, CREATED, STATUS, COMMENT, WAITING, RESOLVED = "received", "created", "status", "comment", "waiting", "resolved"
REQUEST_EVENTS = (RECEIVED, CREATED, STATUS, COMMENT, WAITING, RESOLVED)
FAILED, PAUSED, FAILING = "failed", "paused", "failing"
ADMIN_EVENTS = (FAILED, PAUSED, FAILING)
SET_PASSWORD, RESET_PASSWORD = "set_password", "reset_password"
ACCOUNT_EVENTS = (SET_PASSWORD, RESET_PASSWORD)

# User.mail_preference: what mail about their requests a user gets.
ALL, STATUS_ONLY, NONE = "all", "status", "none"
MAIL_PREFERENCES = (ALL, STATUS_ONLY, NONE)


def enabled():
    """Whether the portal sends mail: SMTP_HOST is set."""
    return configured(current_app.config)


def note(user, event, about, support_request=None, params=None, secret=None, gather=True):
    """Put the mail telling `user` of `event` (about `about`: the Jira object or moment it
    concerns) in the outbox, in the caller's transaction; nothing when it is there already,
    or when mail is off. `secret`: an account link, kept encrypted until it is sent.
    `gather`: wait MAIL_GATHER_SECONDS for more changes to go in the same mail."""
    if not enabled() or user is None:
        return None
    if support_request is not None and support_request.id is None:
        db.session.flush()
    key = f"{event}:{support_request.id if support_request else '-'}:{about}:{user.id}"[:255]
    if db.session.scalar(select(MailOutbox.id).where(MailOutbox.key == key)) is not None:
        return None
    delay = current_app.config["MAIL_GATHER_SECONDS"] if gather else 0
    row = MailOutbox(key=key, user=user, request=support_request, event=event, params=params or {},
                     secret_encrypted=crypto.encrypt(secret) if secret else None,
                     send_after=utcnow() + timedelta(seconds=delay))
    db.session.add(row)
    return row


def note_admins(event, about, support_request=None, params=None):
    """Tell every active admin of `event` (an integration problem)."""
    if not enabled():
        return
    for admin in db.session.scalars(select(User).where(User.role == "admin", User.active.is_(True))):
        note(admin, event, about, support_request, params)


def note_for_reporter(support_request, event, about, params=None):
    """Tell the request's reporter of `event`."""
    reporter = support_request.reporter or db.session.get(User, support_request.reporter_id)
    note(reporter, event, about, support_request, params)


bp = Blueprint("mail", __name__)

from . import routes  # noqa: E402,F401
