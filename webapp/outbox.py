"""The outbox both deliveries share: a request becoming an issue (`delivery.deliver`) and a
reply becoming a comment (`replies.deliver_reply`).

A row of either kind carries the same columns (`delivery_state`, `attempts`,
`next_attempt_at`, `locked_until`, `deliverable_since`, `last_error`, `reference`), so one
claim, one lease, one backoff and one give-up serve both: `run` is an attempt, whatever the
work. The database is the truth; the queue only carries wake-ups.
"""
import logging
import random
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, or_, select, update

from . import integration, mail, outage, polls
from .extensions import db
from .jira import JiraError
from .messages import N_, message
from .models import DeliveryState, SupportRequest, utcnow
from .queue import enqueue, enqueue_each

log = logging.getLogger(__name__)

MISSING_FILE = message(N_("An attachment's file is missing from the portal's storage (ATTACHMENTS_DIR); "
                          "restore it, or send the request without it."))
UNREADABLE_FILE = N_("An attachment's file can't be read from the portal's storage (ATTACHMENTS_DIR): "
                     "%(error)s. Check the disk and the folder's permissions, then retry.")


class RetryLater(Exception):
    """Not a failure: try again after `seconds` (e.g. a lost create not yet searchable)."""

    def __init__(self, seconds):
        super().__init__(seconds)
        self.seconds = seconds


class Parked(Exception):
    """Not a failure: the row waits in the portal (`local`) until something else sends it
    (a reply whose request has no issue yet goes when the request is sent)."""


def run(job, model, row_id, work):
    """One attempt of `job` on row `row_id` of `model`: claim it, get a client, do
    `work(jira, row)`, and end in the state the outcome calls for. Returns the row when it
    was sent, else None."""
    if not claim(model, row_id):
        return None
    row = db.session.get(model, row_id)
    jira = integration.connect()
    if jira is None:
        release(row, None, job)  # the sweep resumes it once Jira may be called again
        return None
    log.info("%s %s (attempt %d)", job.__name__, row.reference, row.attempts)
    try:
        work(jira, row)
    except RetryLater as wait:
        release(row, wait.seconds, job)
        return None
    except Parked:
        row.delivery_state, row.locked_until = DeliveryState.LOCAL, None
        db.session.commit()
        return None
    except JiraError as exc:
        if integration.refused(exc):
            refused(row, exc, jira.settings_version, job)
        else:
            failed_attempt(row, exc, job)
        return None
    except OSError as exc:  # the portal's own storage: no retry of Jira brings a file back
        row.last_error = MISSING_FILE if isinstance(exc, FileNotFoundError) else \
            message(UNREADABLE_FILE, error=exc.strerror or type(exc).__name__)
        log.warning("%s %s: failed: an attachment's file can't be read from storage (%s)",
                    job.__name__, row.reference, type(exc).__name__)
        give_up(row)
        return None
    row.delivery_state = DeliveryState.SENT
    row.delivered_at = utcnow()
    row.last_error = None
    row.locked_until = None
    outage.call_worked()
    db.session.commit()
    return row


def requeue(model, row_ids, job):
    """Send failed or portal-only rows (again): the admin's Retry and Send. Returns how
    many were queued."""
    ids = list(row_ids)
    db.session.execute(
        update(model)
        .where(model.id.in_(ids), model.delivery_state.in_(DeliveryState.SENDABLE))
        .values(delivery_state=DeliveryState.QUEUED, next_attempt_at=utcnow(), last_error=None,
                deliverable_since=utcnow())
    )
    shown_changed(model, ids)
    db.session.commit()
    queued = db.session.scalars(select(model.id).where(
        model.id.in_(ids), model.delivery_state == DeliveryState.QUEUED)).all()
    return enqueue_each(job, queued)


def claim(model, row_id):
    """Take the row for this worker: queued and due, or sending with a lapsed lease."""
    now = utcnow()
    lease = now + timedelta(seconds=current_app.config["DELIVERY_LEASE_SECONDS"])
    due_by = now + timedelta(seconds=1)  # a scheduler may wake a job a moment early
    claimed = db.session.execute(
        update(model)
        .where(model.id == row_id, due(model, due_by, now))
        .values(delivery_state=DeliveryState.SENDING, locked_until=lease, attempts=model.attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed:
        shown_changed(model, [row_id])
    db.session.commit()
    return claimed == 1


def shown_changed(model, row_ids):
    """A Core UPDATE of these rows passes the flush: tell the polls (a reply shows on its
    request's page)."""
    if model is SupportRequest:
        polls.changed(row_ids)
    else:
        polls.changed(db.session.scalars(select(model.request_id).where(model.id.in_(list(row_ids)))))


def due(model, queued_before, now):
    """Rows a worker may take: queued (and due by `queued_before`), or sending under a
    lease that lapsed (its worker died)."""
    return or_(
        and_(model.delivery_state == DeliveryState.QUEUED,
             or_(model.next_attempt_at.is_(None), model.next_attempt_at <= queued_before)),
        and_(model.delivery_state == DeliveryState.SENDING, model.locked_until < now),
    )


def renew_lease(row):
    row.locked_until = utcnow() + timedelta(seconds=current_app.config["DELIVERY_LEASE_SECONDS"])
    db.session.commit()


def release(row, delay, job):
    """Back to the queue; with a delay, a job is scheduled for then."""
    row.delivery_state = DeliveryState.QUEUED
    row.locked_until = None
    row.next_attempt_at = utcnow() + timedelta(seconds=delay) if delay is not None else None
    db.session.commit()
    if delay is not None:
        enqueue(job, row.id, delay=delay)


def refused(row, exc, settings_version, job):
    """Jira refused the credentials: every call stops until an admin changes the settings;
    this row waits in the queue, saying why. If the admin saved new settings while the
    call was on its way, it is tried again at once with them."""
    model, row_id = type(row), row.id
    paused = integration.pause(exc, settings_version)
    row = db.session.get(model, row_id)
    if not paused:
        release(row, 0, job)
        return
    row.last_error = integration.explain(exc)
    log.warning("%s %s: Jira refused the credentials; delivery paused", job.__name__, row.reference)
    release(row, None, job)


def failed_attempt(row, exc, job):
    """Transient: retry with backoff for DELIVERY_GIVE_UP_HOURS. Permanent: failed, with why.
    Either way Jira may be failing: webapp/outage.py keeps count, and tells the admins."""
    config = current_app.config
    outage.call_failed(exc)
    row.last_error = integration.explain(exc)
    since = row.deliverable_since or row.created_at
    give_up_at = since + timedelta(hours=config["DELIVERY_GIVE_UP_HOURS"])
    if exc.transient and utcnow() < give_up_at:
        delay = backoff(row.attempts, getattr(exc, "retry_after", None))
        log.warning("%s %s: %s; retrying in %.1f s", job.__name__, row.reference, exc.message(), delay)
        release(row, delay, job)
        return
    log.warning("%s %s: failed: %s", job.__name__, row.reference, exc.message())
    give_up(row)


def give_up(row):
    """Failed for good (`last_error` says why): the admins hear of a request that failed,
    once for this attempt window (Retry opens another), with the reason
    (Administration → Deliveries lists replies too)."""
    row.delivery_state = DeliveryState.FAILED
    row.locked_until = None
    if isinstance(row, SupportRequest):
        since = row.deliverable_since or row.created_at
        mail.note_admins(mail.FAILED, since.isoformat(), row, params={"reason": row.last_error})
    db.session.commit()


def backoff(attempts, retry_after=None):
    """Exponential backoff with jitter, never sooner than Jira's Retry-After."""
    config = current_app.config
    ceiling = min(config["DELIVERY_RETRY_MAX_SECONDS"],
                  config["DELIVERY_RETRY_BASE_SECONDS"] * 2 ** max(0, attempts - 1))
    delay = ceiling / 2 + random.uniform(0, ceiling / 2)
    return max(delay, float(retry_after or 0))


def may_land_until(answered, in_flight=False):
    """Until when a write that may have reached Jira (a create, an upload, a comment) can
    still land there: an answer (a 5xx) ends its work now; with none (a timeout, a hang-up)
    Jira may go on for about a read timeout after the client gave up. `in_flight`: said
    before the call, for a worker killed during it: the call may last a read timeout, and
    Jira go on for another."""
    timeout = current_app.config["JIRA_TIMEOUT"]
    read = 0 if answered else (timeout[1] if isinstance(timeout, tuple) else timeout)
    return utcnow() + timedelta(seconds=read * (2 if in_flight else 1))


def landing_after(exc):
    """What a failed write leaves to look for: None when Jira answered no (a 4xx stored
    nothing), else until when it may still land."""
    if exc.status and 400 <= exc.status < 500:
        return None
    return may_land_until(answered=exc.status is not None)


def wait_for_search(landing):
    """RetryLater while a write that may land until `landing` could still be missing from
    what Jira shows (its search lags SEARCH_LAG_SECONDS behind): looked for again and again."""
    window = current_app.config["SEARCH_LAG_SECONDS"]
    waited = (utcnow() - landing).total_seconds()
    if waited < window:
        raise RetryLater(min(window - waited, max(0.5, window / 4)))
