"""Delivery: a stored request becomes exactly one Jira issue, with each attachment once.

The database is the source of truth; the queue only carries wake-ups. `deliver` claims a
request with a lease (one atomic UPDATE), so two workers never send the same request. Before
creating an issue it looks for one an interrupted attempt may have made (every issue carries
the request's reference label), and before re-uploading a file whose upload may have reached
Jira it looks at the issue's attachments. `sweep` re-enqueues whatever a lost job, a killed
worker or a flushed Redis left behind.
"""
import logging
import random
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, or_, select, update

from . import integration, storage
from .crypto import SecretUnreadable
from .extensions import db
from .jira import JiraAuthError, JiraError, field_type, make_label, reference_label, shape_field_value
from .messages import N_, from_error, message
from .models import Label, SupportRequest, utcnow
from .queue import enqueue

log = logging.getLogger(__name__)
SWEEP_BATCH = 500


class RetryLater(Exception):
    """Not a failure: try again after `seconds` (e.g. a lost create not yet searchable)."""

    def __init__(self, seconds):
        super().__init__(seconds)
        self.seconds = seconds


MISSING_FILE = message(N_("An attachment's file is missing from the portal's storage (ATTACHMENTS_DIR); "
                          "restore it, or send the request without it."))


def messages(exc):
    """An error's explanation as stored, shown in each reader's language (webapp/messages.py)."""
    return from_error(exc)


# Accepting requests ---------------------------------------------------------------------

def accept(request):
    """Store a new request in the state the integration calls for, then wake a worker.
    Active: `queued`, and delivered by a job. Passive: `local`, and nothing reaches Jira."""
    settings = integration.settings()
    request.delivery_state = "queued" if settings.enabled else "local"
    request.next_attempt_at = utcnow()
    db.session.add(request)
    db.session.commit()
    if request.delivery_state == "queued":
        enqueue(deliver, request.id)
    return request


def requeue(request_ids):
    """Send failed or portal-only requests (again): the admin's Retry and Send."""
    ids = list(request_ids)
    db.session.execute(
        update(SupportRequest)
        .where(SupportRequest.id.in_(ids), SupportRequest.delivery_state.in_(("failed", "local")))
        .values(delivery_state="queued", next_attempt_at=utcnow(), last_error=None)
    )
    db.session.commit()
    queued = db.session.scalars(select(SupportRequest.id).where(
        SupportRequest.id.in_(ids), SupportRequest.delivery_state == "queued")).all()
    for request_id in queued:
        enqueue(deliver, request_id)
    return len(queued)


# The delivery job -----------------------------------------------------------------------

def deliver(request_id):
    """Send one request to Jira: find or create its issue, then upload its files."""
    if not _claim(request_id):
        return
    request = db.session.get(SupportRequest, request_id)
    settings = integration.settings()
    if not settings.enabled or settings.paused_reason:
        _release(request, None)  # the sweep resumes it once active and unpaused
        return
    log.info("deliver %s (attempt %d)", request.reference, request.attempts)
    try:
        jira = integration.client(settings, timeout=current_app.config["JIRA_TIMEOUT"])
        if not request.jira_issue_id:
            _find_or_create_issue(jira, settings, request)
        _upload_attachments(jira, request)
    except RetryLater as wait:
        _release(request, wait.seconds)
        return
    except JiraAuthError as exc:
        _pause(settings, request, exc)
        return
    except JiraError as exc:
        _failed_attempt(request, exc)
        return
    except SecretUnreadable as exc:
        _pause(settings, request, exc)
        return
    except FileNotFoundError:  # no retry brings a file back: fail now, with why
        request.last_error = MISSING_FILE
        request.delivery_state, request.locked_until = "failed", None
        db.session.commit()
        log.warning("deliver %s: failed: an attachment's file is missing from storage", request.reference)
        return
    request.delivery_state = "sent"
    request.delivered_at = utcnow()
    request.last_error = None
    request.locked_until = None
    db.session.commit()
    log.info("deliver %s: sent as %s", request.reference, request.jira_key)


def _claim(request_id):
    """Take the request for this worker: queued and due, or sending with a lapsed lease."""
    now = utcnow()
    lease = now + timedelta(seconds=current_app.config["DELIVERY_LEASE_SECONDS"])
    due = now + timedelta(seconds=1)  # a scheduler may wake a job a moment early
    claimed = db.session.execute(
        update(SupportRequest)
        .where(SupportRequest.id == request_id, or_(
            and_(SupportRequest.delivery_state == "queued",
                 or_(SupportRequest.next_attempt_at.is_(None), SupportRequest.next_attempt_at <= due)),
            and_(SupportRequest.delivery_state == "sending", SupportRequest.locked_until < now),
        ))
        .values(delivery_state="sending", locked_until=lease, attempts=SupportRequest.attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return claimed == 1


def _renew_lease(request):
    request.locked_until = utcnow() + timedelta(seconds=current_app.config["DELIVERY_LEASE_SECONDS"])
    db.session.commit()


def _release(request, delay):
    """Back to the queue; with a delay, a job is scheduled for then."""
    request.delivery_state = "queued"
    request.locked_until = None
    request.next_attempt_at = utcnow() + timedelta(seconds=delay) if delay is not None else None
    db.session.commit()
    if delay is not None:
        enqueue(deliver, request.id, delay=delay)


def _pause(settings, request, exc):
    """Bad credentials: stop calling Jira until an admin changes the settings."""
    settings.paused_reason = messages(exc)
    request.last_error = messages(exc)
    log.warning("deliver %s: Jira refused the credentials; delivery paused", request.reference)
    _release(request, None)


def _failed_attempt(request, exc):
    """Transient: retry with backoff for DELIVERY_GIVE_UP_HOURS. Permanent: failed, with why."""
    config = current_app.config
    request.last_error = messages(exc)
    give_up = request.created_at + timedelta(hours=config["DELIVERY_GIVE_UP_HOURS"])
    if exc.transient and utcnow() < give_up:
        delay = backoff(request.attempts, getattr(exc, "retry_after", None))
        log.warning("deliver %s: %s; retrying in %.1f s", request.reference, exc.message("en"), delay)
        _release(request, delay)
        return
    log.warning("deliver %s: failed: %s", request.reference, exc.message("en"))
    request.delivery_state = "failed"
    request.locked_until = None
    db.session.commit()


def backoff(attempts, retry_after=None):
    """Exponential backoff with jitter, never sooner than Jira's Retry-After."""
    config = current_app.config
    ceiling = min(config["DELIVERY_RETRY_MAX_SECONDS"],
                  config["DELIVERY_RETRY_BASE_SECONDS"] * 2 ** max(0, attempts - 1))
    delay = ceiling / 2 + random.uniform(0, ceiling / 2)
    return max(delay, float(retry_after or 0))


def _find_or_create_issue(jira, settings, request):
    found = None
    if request.create_started_at:
        # An earlier create may have reached Jira with its answer lost: find it first. Before
        # the first create nothing can exist, so a fresh request costs no search.
        found = jira.find_issue_by_reference(settings.project_key, request.reference)
        waited = (utcnow() - request.create_started_at).total_seconds()
        lag = current_app.config["SEARCH_LAG_SECONDS"]
        if found is None and waited < lag:  # search can lag behind a create
            raise RetryLater(lag - waited)
    if found is None:
        request.create_started_at = utcnow()
        db.session.commit()
        try:
            found = jira.create_issue(issue_fields(jira, settings, request))
        except JiraError as exc:
            if exc.status and 400 <= exc.status < 500:  # Jira answered no: nothing was created
                request.create_started_at = None
                db.session.commit()
            raise
        log.info("deliver %s: created %s", request.reference, found["key"])
    else:
        log.info("deliver %s: found %s from an earlier attempt", request.reference, found["key"])
    request.jira_issue_id, request.jira_key = str(found["id"]), found["key"]
    db.session.commit()


def issue_fields(jira, settings, request):
    """The new issue's fields: summary, description with a portal footer, type, labels and
    the configured custom fields shaped by their Jira type."""
    reporter = request.reporter
    footer = [f"Portal reference: {request.reference}",
              f"Reporter: {reporter.display_name} <{reporter.email}>"]
    link = portal_link(request)
    if link:
        footer.append(f"In the portal: {link}")
    description = request.description.rstrip() + "\n\n" + "\n".join(footer)
    labels = [request.label] + db.session.scalars(
        select(Label.name).where(Label.applies_to_all, Label.active).order_by(Label.position)).all()
    labels = list(dict.fromkeys(make_label(label)[0] for label in labels if label))
    labels.append(reference_label(request.reference))
    extra = {}
    endpoint = request.endpoint
    for field_id, value, url_value in (
        (settings.category_field_id, request.category and request.category.name, None),
        (settings.product_field_id, request.product and request.product.name, None),
        (settings.endpoint_field_id, endpoint and endpoint.label,
         endpoint and endpoint.path),
    ):
        if field_id and value:
            schema = (settings.field_schemas or {}).get(field_id) or {}
            if url_value and field_type(schema) == "url":
                value = url_value  # a URL field takes the path alone
            extra[field_id] = shape_field_value(schema, value, jira.deployment)
    return jira.new_issue_fields(settings.project_key, settings.issue_type_id or settings.issue_type,
                                 request.summary, description, labels, extra)


def portal_link(request):
    """The request's page in the portal, when the portal knows its own address."""
    base = current_app.config.get("PORTAL_BASE_URL")
    return f"{base}/requests/{request.id}" if base else None


def _upload_attachments(jira, request):
    for attachment in request.attachments:
        if attachment.source != "portal" or attachment.uploaded_at:
            continue
        _renew_lease(request)
        if attachment.upload_started_at and _already_uploaded(jira, request, attachment):
            continue
        attachment.upload_started_at = utcnow()
        db.session.commit()
        uploaded = jira.upload_attachment(request.jira_issue_id, storage.path_of(attachment.stored_name),
                                          filename=attachment.original_name,
                                          mime_type=attachment.content_type)
        attachment.jira_attachment_id = str(uploaded[0]["id"])
        attachment.uploaded_at = utcnow()
        db.session.commit()


def _already_uploaded(jira, request, attachment):
    """Did an interrupted upload of this file reach Jira? Then adopt it instead of re-sending."""
    taken = {a.jira_attachment_id for a in request.attachments if a.jira_attachment_id}
    issue = jira.issue(request.jira_issue_id, fields=("attachment",))
    for item in (issue.get("fields") or {}).get("attachment") or []:
        if (str(item.get("id")) not in taken and item.get("filename") == attachment.original_name
                and int(item.get("size") or -1) == attachment.size):
            attachment.jira_attachment_id = str(item["id"])
            attachment.uploaded_at = utcnow()
            db.session.commit()
            return True
    return False


# The sweep ------------------------------------------------------------------------------

def sweep():
    """Re-enqueue requests a lost job left behind (a killed worker, a flushed Redis)."""
    settings = integration.settings()
    if not settings.enabled or settings.paused_reason:
        return 0
    now = utcnow()
    stale = now - timedelta(seconds=current_app.config["DELIVERY_STALE_SECONDS"])
    ids = db.session.scalars(
        select(SupportRequest.id).where(or_(
            and_(SupportRequest.delivery_state == "queued",
                 or_(SupportRequest.next_attempt_at.is_(None), SupportRequest.next_attempt_at <= stale)),
            and_(SupportRequest.delivery_state == "sending", SupportRequest.locked_until < now),
        )).order_by(SupportRequest.id).limit(SWEEP_BATCH)
    ).all()
    if not ids:
        return 0
    # Not picked again until the job had time to run.
    db.session.execute(
        update(SupportRequest).where(SupportRequest.id.in_(ids), SupportRequest.delivery_state == "queued")
        .values(next_attempt_at=now).execution_options(synchronize_session=False))
    db.session.commit()
    for request_id in ids:
        enqueue(deliver, request_id)
    log.info("sweep: re-enqueued %d request(s)", len(ids))
    return len(ids)
