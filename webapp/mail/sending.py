"""Sending the outbox: `send_due` (every MAIL_SEND_SECONDS, and after an account mail is
written) hands each person's due rows to `send_to`, which claims them with a lease (one
atomic UPDATE: two workers never hold the same row), sends one mail per kind (their
requests' news, or a digest of several requests; the admins' alerts; each account link
alone) and records the outcome. A transient failure retries with the delivery's backoff
until MAIL_GIVE_UP_HOURS; a permanent refusal (5xx) fails the row with the server's reason.
A worker killed while sending leaves its rows "sending" until the lease lapses; they are then
sent again (the server never said it took them)."""
import logging
import smtplib
import uuid
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, or_, select, update

from ..delivery import backoff
from ..extensions import db
from ..models import MailOutbox, User, utcnow
from ..queue import enqueue
from . import ACCOUNT_EVENTS, ADMIN_EVENTS, enabled
from .compose import account_message, admin_message, request_message, wants
from .smtp import MailRefused, send

log = logging.getLogger(__name__)
USERS_PER_RUN = 200


def send_due():
    """Send every mail that is due. Returns how many people were sent to."""
    if not enabled():
        return 0
    users = db.session.scalars(select(MailOutbox.user_id).where(_due(utcnow())).distinct()
                               .limit(USERS_PER_RUN)).all()
    db.session.commit()
    for user_id in users:
        send_to(user_id)
    if len(users) == USERS_PER_RUN:
        enqueue(send_due)
    return len(users)


def soon():
    """Send what is due now, from a worker (an account mail was just written)."""
    if enabled():
        enqueue(send_due)


def retry(row_ids):
    """The admin's Retry: failed rows wait to be sent again."""
    db.session.execute(update(MailOutbox).where(MailOutbox.id.in_(list(row_ids)), MailOutbox.state == MailOutbox.FAILED)
                       .values(state=MailOutbox.WAITING, send_after=utcnow(), attempts=0, last_error=None,
                               created_at=utcnow()))
    db.session.commit()
    soon()


def _due(now):
    return or_(and_(MailOutbox.state == MailOutbox.WAITING, MailOutbox.send_after <= now),
               and_(MailOutbox.state == MailOutbox.SENDING, MailOutbox.locked_until < now))


def send_to(user_id):
    """Claim and send the due rows of one person."""
    claim = uuid.uuid4().hex
    now = utcnow()
    lease = now + timedelta(seconds=current_app.config["MAIL_LEASE_SECONDS"])
    db.session.execute(update(MailOutbox).where(MailOutbox.user_id == user_id, _due(now))
                       .values(state=MailOutbox.SENDING, claim=claim, locked_until=lease,
                               attempts=MailOutbox.attempts + 1)
                       .execution_options(synchronize_session=False))
    db.session.commit()
    rows = db.session.scalars(select(MailOutbox).where(MailOutbox.claim == claim).order_by(MailOutbox.id)).all()
    if not rows:
        return
    user = db.session.get(User, user_id)
    kept = []
    for row in rows:
        reason = wants(user, row)
        if reason:
            _finish([row], MailOutbox.SKIPPED, reason)
        else:
            kept.append(row)
    for group, make in _groups(user, kept):
        _send(group, make)


def _groups(user, rows):
    """(rows, function making their message) for each mail the rows make."""
    account = [r for r in rows if r.event in ACCOUNT_EVENTS]
    admin = [r for r in rows if r.event in ADMIN_EVENTS]
    requests = [r for r in rows if r not in account and r not in admin]
    for row in account:
        yield [row], lambda row=row: account_message(user, row)
    if admin:
        yield admin, lambda: admin_message(user, admin)
    if requests:
        yield requests, lambda: request_message(user, requests)


def _send(rows, make):
    try:
        message = make()
    except Exception as exc:  # a row that can't be told must not stop everyone's mail
        log.exception("mail %s: could not be composed", rows[0].id)
        _finish(rows, MailOutbox.FAILED, f"could not be composed: {type(exc).__name__}")
        return
    if message is None:
        _finish(rows, MailOutbox.SKIPPED, "nothing left to tell")
        return
    try:
        send(current_app.config, message)
    except MailRefused as exc:
        if exc.permanent:
            log.warning("mail %s: refused for good: %s", rows[0].id, exc)
            _finish(rows, MailOutbox.FAILED, str(exc))
        else:
            _again(rows, str(exc))
        return
    except (smtplib.SMTPException, OSError) as exc:
        _again(rows, f"{type(exc).__name__}: {exc}")
        return
    _finish(rows, MailOutbox.SENT, None)
    log.info("mail: sent %s (%d event(s))", message["Message-ID"], len(rows))


def _finish(rows, state, reason):
    for row in rows:
        row.state, row.claim, row.locked_until, row.last_error = state, None, None, reason
        if state == MailOutbox.SENT:
            row.sent_at = utcnow()
        if state != MailOutbox.FAILED:
            row.secret_encrypted = None  # a failed link may be retried; a sent one is gone
    db.session.commit()


def _again(rows, reason):
    """Transient: back to waiting, after the delivery's backoff; failed past MAIL_GIVE_UP_HOURS."""
    give_up = timedelta(hours=current_app.config["MAIL_GIVE_UP_HOURS"])
    if utcnow() - min(row.created_at for row in rows) > give_up:
        _finish(rows, MailOutbox.FAILED, reason[:500])
        return
    delay = backoff(max(row.attempts for row in rows))
    for row in rows:
        row.state, row.claim, row.locked_until, row.last_error = MailOutbox.WAITING, None, None, reason[:500]
        row.send_after = utcnow() + timedelta(seconds=delay)
    db.session.commit()
    log.warning("mail: %d row(s) not sent (%s); again in %.1f s", len(rows), reason[:200], delay)
    enqueue(send_due, delay=delay)
