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
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select, update

from . import integration, mail, polls, storage
from .choices import labels_on_every_issue
from .extensions import db
from .jira import JiraError, field_type, make_label, reference_label, shape_field_value
from .messages import N_, message
from .models import DeliveryState, SupportRequest, utcnow
from .queue import enqueue, enqueue_each, lost_before
from .sent_with import description_part
from .technical import detail_rows, mapped_fields

log = logging.getLogger(__name__)
SWEEP_BATCH = 500


class RetryLater(Exception):
    """Not a failure: try again after `seconds` (e.g. a lost create not yet searchable)."""

    def __init__(self, seconds):
        super().__init__(seconds)
        self.seconds = seconds


MISSING_FILE = message(N_("An attachment's file is missing from the portal's storage (ATTACHMENTS_DIR); "
                          "restore it, or send the request without it."))
UNREADABLE_FILE = N_("An attachment's file can't be read from the portal's storage (ATTACHMENTS_DIR): "
                     "%(error)s. Check the disk and the folder's permissions, then retry.")

# Attachment.send_problem: why a file's upload failed for good. The admin may then send the
# request on without it (`leave_out`); the requester sees why it was not sent.
TOO_LARGE, NOT_ACCEPTED, MISSING, UNREADABLE = "too_large", "not_accepted", "missing", "unreadable"
NOT_SENT = {
    TOO_LARGE: _l("Not sent to the support team: Jira refused it as too large."),
    NOT_ACCEPTED: _l("Not sent to the support team: Jira did not accept it."),
    MISSING: _l("Not sent to the support team: the portal lost its stored copy."),
    UNREADABLE: _l("Not sent to the support team: the portal could not read its stored copy."),
}


# Accepting requests ---------------------------------------------------------------------

def accept(support_request):
    """Store a new request in the state the integration calls for, then wake a worker.
    Active: `queued`, and delivered by a job. Passive: `local`, and nothing reaches Jira."""
    settings = integration.settings()
    support_request.delivery_state = DeliveryState.QUEUED if settings.enabled else DeliveryState.LOCAL
    support_request.next_attempt_at = support_request.deliverable_since = utcnow()
    db.session.add(support_request)
    mail.note_for_reporter(support_request, mail.RECEIVED, support_request.reference)
    db.session.commit()
    if support_request.delivery_state == DeliveryState.QUEUED:
        enqueue(deliver, support_request.id)
    return support_request


def requeue(request_ids):
    """Send failed or portal-only requests (again): the admin's Retry and Send."""
    ids = list(request_ids)
    db.session.execute(
        update(SupportRequest)
        .where(SupportRequest.id.in_(ids), SupportRequest.delivery_state.in_(DeliveryState.SENDABLE))
        .values(delivery_state=DeliveryState.QUEUED, next_attempt_at=utcnow(), last_error=None,
                deliverable_since=utcnow())
    )
    polls.changed(ids)
    db.session.commit()
    queued = db.session.scalars(select(SupportRequest.id).where(
        SupportRequest.id.in_(ids), SupportRequest.delivery_state == DeliveryState.QUEUED)).all()
    return enqueue_each(deliver, queued)


def leave_out(attachment):
    """Send the attachment's failed request on without this file (the admin's "Send
    without this file"): it is never uploaded, and the requester sees why. False when
    the file may not be left out (see Attachment.may_be_left_out)."""
    if not attachment.may_be_left_out():
        return False
    attachment.not_sent_at = utcnow()
    db.session.commit()
    requeue([attachment.request_id])
    return True


def note_candidate(issue_id, references):
    """Jira said (a webhook) that issue `issue_id` carries these references. A request among
    them whose create is in doubt looks at that issue next, at once, past search's lag.
    Returns how many were woken."""
    in_doubt = and_(SupportRequest.reference.in_(list(references)), SupportRequest.jira_issue_id.is_(None),
                    SupportRequest.create_started_at.isnot(None))
    ids = db.session.scalars(select(SupportRequest.id).where(in_doubt)).all()
    if not ids:
        return 0
    db.session.execute(update(SupportRequest).where(SupportRequest.id.in_(ids))
                       .values(jira_candidate_id=str(issue_id)))
    db.session.execute(update(SupportRequest).where(
        SupportRequest.id.in_(ids), SupportRequest.delivery_state == DeliveryState.QUEUED)
        .values(next_attempt_at=utcnow()))
    polls.changed(ids)
    db.session.commit()
    log.info("webhook: issue %s may be the lost create of %d request(s)", issue_id, len(ids))
    return enqueue_each(deliver, ids)


# The delivery job -----------------------------------------------------------------------

def deliver(request_id):
    """Send one request to Jira: find or create its issue, then upload its files."""
    if not _claim(request_id):
        return
    support_request = db.session.get(SupportRequest, request_id)
    jira = integration.connect()
    if jira is None:
        _release(support_request, None)  # the sweep resumes it once Jira may be called again
        return
    log.info("deliver %s (attempt %d)", support_request.reference, support_request.attempts)
    try:
        if not support_request.jira_issue_id:
            _find_or_create_issue(jira, support_request)
        _upload_attachments(jira, support_request)
    except RetryLater as wait:
        _release(support_request, wait.seconds)
        return
    except JiraError as exc:
        if integration.refused(exc):
            _refused(support_request, exc, jira.settings_version)
        else:
            _failed_attempt(support_request, exc)
        return
    except OSError as exc:  # the portal's own storage: no retry of Jira brings a file back
        support_request.last_error = MISSING_FILE if isinstance(exc, FileNotFoundError) else \
            message(UNREADABLE_FILE, error=exc.strerror or type(exc).__name__)
        _give_up(support_request)
        log.warning("deliver %s: failed: an attachment's file can't be read from storage (%s)",
                    support_request.reference, type(exc).__name__)
        return
    support_request.delivery_state = DeliveryState.SENT
    support_request.delivered_at = utcnow()
    support_request.last_error = None
    support_request.locked_until = None
    db.session.commit()
    log.info("deliver %s: sent as %s", support_request.reference, support_request.jira_key)


def _claim(request_id):
    """Take the request for this worker: queued and due, or sending with a lapsed lease."""
    now = utcnow()
    lease = now + timedelta(seconds=current_app.config["DELIVERY_LEASE_SECONDS"])
    due = now + timedelta(seconds=1)  # a scheduler may wake a job a moment early
    claimed = db.session.execute(
        update(SupportRequest)
        .where(SupportRequest.id == request_id, _due(due, now))
        .values(delivery_state=DeliveryState.SENDING, locked_until=lease,
                attempts=SupportRequest.attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed:
        polls.changed([request_id])
    db.session.commit()
    return claimed == 1


def _due(queued_before, now):
    """Requests a worker may take: queued (and due by `queued_before`), or sending under a
    lease that lapsed (its worker died)."""
    return or_(
        and_(SupportRequest.delivery_state == DeliveryState.QUEUED,
             or_(SupportRequest.next_attempt_at.is_(None), SupportRequest.next_attempt_at <= queued_before)),
        and_(SupportRequest.delivery_state == DeliveryState.SENDING, SupportRequest.locked_until < now),
    )


def _renew_lease(support_request):
    support_request.locked_until = utcnow() + timedelta(seconds=current_app.config["DELIVERY_LEASE_SECONDS"])
    db.session.commit()


def _release(support_request, delay):
    """Back to the queue; with a delay, a job is scheduled for then."""
    support_request.delivery_state = DeliveryState.QUEUED
    support_request.locked_until = None
    support_request.next_attempt_at = utcnow() + timedelta(seconds=delay) if delay is not None else None
    db.session.commit()
    if delay is not None:
        enqueue(deliver, support_request.id, delay=delay)


def _refused(support_request, exc, settings_version):
    """Jira refused the credentials: every call stops until an admin changes the settings;
    this request waits in the queue, saying why. If the admin saved new settings while the
    call was on its way, the request is tried again at once with them."""
    request_id = support_request.id
    paused = integration.pause(exc, settings_version)
    support_request = db.session.get(SupportRequest, request_id)
    if not paused:
        _release(support_request, 0)
        return
    support_request.last_error = integration.explain(exc)
    log.warning("deliver %s: Jira refused the credentials; delivery paused", support_request.reference)
    _release(support_request, None)


def _failed_attempt(support_request, exc):
    """Transient: retry with backoff for DELIVERY_GIVE_UP_HOURS. Permanent: failed, with why."""
    config = current_app.config
    support_request.last_error = integration.explain(exc)
    since = support_request.deliverable_since or support_request.created_at
    give_up = since + timedelta(hours=config["DELIVERY_GIVE_UP_HOURS"])
    if exc.transient and utcnow() < give_up:
        if utcnow() - since > timedelta(minutes=config["MAIL_JIRA_FAILING_MINUTES"]):
            # At most one such mail a day: the admins know, and Deliveries shows the rest.
            mail.note_admins(mail.FAILING, utcnow().date().isoformat(),
                             params={"minutes": config["MAIL_JIRA_FAILING_MINUTES"]})
        delay = backoff(support_request.attempts, getattr(exc, "retry_after", None))
        log.warning("deliver %s: %s; retrying in %.1f s", support_request.reference, exc.message(), delay)
        _release(support_request, delay)
        return
    log.warning("deliver %s: failed: %s", support_request.reference, exc.message())
    _give_up(support_request)


def _give_up(support_request):
    """Failed for good (`last_error` says why): the admins hear of it."""
    support_request.delivery_state = DeliveryState.FAILED
    support_request.locked_until = None
    since = support_request.deliverable_since or support_request.created_at
    mail.note_admins(mail.FAILED, since.isoformat(), support_request)
    db.session.commit()


def backoff(attempts, retry_after=None):
    """Exponential backoff with jitter, never sooner than Jira's Retry-After."""
    config = current_app.config
    ceiling = min(config["DELIVERY_RETRY_MAX_SECONDS"],
                  config["DELIVERY_RETRY_BASE_SECONDS"] * 2 ** max(0, attempts - 1))
    delay = ceiling / 2 + random.uniform(0, ceiling / 2)
    return max(delay, float(retry_after or 0))


def may_land_until(answered, in_flight=False):
    """Until when a create or upload that may have reached Jira can still land there: an
    answer (a 5xx) ends its work now; with none (a timeout, a hang-up) Jira may go on for
    about a read timeout after the client gave up. `in_flight`: said before the call, for a
    worker killed during it: the call may last a read timeout, and Jira go on for another."""
    timeout = current_app.config["JIRA_TIMEOUT"]
    read = 0 if answered else (timeout[1] if isinstance(timeout, tuple) else timeout)
    return utcnow() + timedelta(seconds=read * (2 if in_flight else 1))


def wait_for_search(landing):
    """RetryLater while a write that may land until `landing` could still be missing from
    what Jira shows (its search lags SEARCH_LAG_SECONDS behind): looked for again and again."""
    window = current_app.config["SEARCH_LAG_SECONDS"]
    waited = (utcnow() - landing).total_seconds()
    if waited < window:
        raise RetryLater(min(window - waited, max(0.5, window / 4)))


def _find_or_create_issue(jira, support_request):
    settings = integration.settings()
    found = None
    if support_request.create_started_at:
        # An earlier create may have reached Jira with its answer lost: find it first, again
        # and again until it could have landed and shown in search. Before the first create
        # nothing can exist, so a fresh request costs no search.
        found = jira.find_issue_by_reference(settings.project_key, support_request.reference,
                                             candidate=support_request.jira_candidate_id)
        if found is None:
            wait_for_search(support_request.create_started_at)
    if found is None:
        earlier = support_request.create_started_at  # an earlier create that may yet land
        support_request.create_started_at = may_land_until(answered=False, in_flight=True)
        db.session.commit()
        try:
            found = jira.create_issue(issue_fields(jira, settings, support_request))
        except JiraError as exc:
            if exc.status and 400 <= exc.status < 500:
                # Jira answered no (a 429, 408 or 400 included): this call created nothing,
                # but an earlier one may still land: keep what was known before it.
                support_request.create_started_at = earlier
            else:
                # No answer, or a 5xx: Jira may have created it, or may still be creating it.
                support_request.create_started_at = may_land_until(answered=exc.status is not None)
            db.session.commit()
            raise
        log.info("deliver %s: created %s", support_request.reference, found.key)
    else:
        log.info("deliver %s: found %s from an earlier attempt", support_request.reference, found.key)
    support_request.jira_issue_id, support_request.jira_key = found.id, found.key
    mail.note_for_reporter(support_request, mail.CREATED, found.id, {"key": found.key})
    db.session.commit()


def issue_fields(jira, settings, support_request):
    """The new issue's fields: summary, description with a portal footer, type, labels and
    the configured custom fields shaped by their Jira type."""
    reporter = support_request.reporter
    footer = [f"Portal reference: {support_request.reference}",
              f"Reporter: {reporter.display_name} <{reporter.email}>"]
    link = portal_link(support_request)
    if link:
        footer.append(f"In the portal: {link}")
    sent_with = description_part(support_request.context)
    description = "\n\n".join(part for part in (support_request.description.rstrip(), sent_with,
                                                  "\n".join(footer)) if part)
    labels = [support_request.label] + labels_on_every_issue()
    labels = list(dict.fromkeys(make_label(label)[0] for label in labels if label))
    labels.append(reference_label(support_request.reference))
    extra = {}
    endpoint = support_request.endpoint
    for field_id, value, url_value in (
        (settings.category_field_id, support_request.category and support_request.category.name, None),
        (settings.product_field_id, support_request.product and support_request.product.name, None),
        (settings.endpoint_field_id, endpoint and endpoint.label,
         endpoint and endpoint.path),
    ):
        if field_id and value:
            schema = (settings.field_schemas or {}).get(field_id) or {}
            if url_value and field_type(schema) == "url":
                value = url_value  # a URL field takes the path alone
            extra[field_id] = shape_field_value(schema, value, jira.deployment)
    for field_id, value in mapped_fields(settings, support_request.technical):
        extra[field_id] = shape_field_value((settings.field_schemas or {}).get(field_id) or {}, value, jira.deployment)
    return jira.new_issue_fields(settings.project_key, settings.issue_type_id or settings.issue_type,
                                 support_request.summary, description, labels, extra,
                                 table=("Technical details", detail_rows(support_request.technical)))


def portal_link(support_request):
    """The request's page in the portal, when the portal knows its own address."""
    base = current_app.config.get("PORTAL_BASE_URL")
    return f"{base}/requests/{support_request.id}" if base else None


def _upload_attachments(jira, support_request):
    for attachment in support_request.attachments:
        if attachment.source != "portal" or attachment.uploaded_at or attachment.not_sent_at:
            continue
        _renew_lease(support_request)
        if attachment.upload_started_at:
            if _adopt_earlier_upload(jira, support_request, attachment):
                continue
            # Jira may still be storing an upload that got no answer: wait, then look again.
            wait_for_search(attachment.upload_started_at)
        path = storage.path_of(attachment.stored_name)
        try:
            with open(path, "rb"):  # a file the portal can't read fails here, as the portal's fault
                pass
        except OSError as exc:
            attachment.send_problem = MISSING if isinstance(exc, FileNotFoundError) else UNREADABLE
            raise
        attachment.upload_started_at = may_land_until(answered=False, in_flight=True)
        db.session.commit()
        try:
            (uploaded, *_) = jira.upload_attachment(
                support_request.jira_issue_id, path,
                filename=attachment.original_name, mime_type=attachment.content_type)
        except JiraError as exc:
            # Answered no: nothing was stored. Otherwise it may land until then.
            attachment.upload_started_at = (None if exc.status and 400 <= exc.status < 500
                                            else may_land_until(answered=exc.status is not None))
            attachment.send_problem = _send_problem(exc)
            db.session.commit()
            raise
        attachment.jira_attachment_id = uploaded.id
        attachment.uploaded_at = utcnow()
        attachment.send_problem = None
        db.session.commit()


def _send_problem(exc):
    """Why Jira will never take this file, when its answer says so (too large; attachments
    turned off or not permitted; a file it refuses); None for anything a retry may cure."""
    if exc.status == 413:
        return TOO_LARGE
    if exc.status in (400, 403, 415, 422):
        return NOT_ACCEPTED
    return None


def _adopt_earlier_upload(jira, support_request, attachment):
    """Did an interrupted upload of this file reach Jira? Then adopt it instead of re-sending."""
    taken = {a.jira_attachment_id for a in support_request.attachments if a.jira_attachment_id}
    for jira_file in jira.files(support_request.jira_issue_id):
        if jira_file.id not in taken and attachment.is_upload_of(jira_file):
            attachment.jira_attachment_id = jira_file.id
            attachment.uploaded_at = utcnow()
            db.session.commit()
            return True
    return False


# The sweep ------------------------------------------------------------------------------

def sweep():
    """Re-enqueue requests a lost job left behind (a killed worker, a flushed Redis, an
    embedded portal restarted: its first sweep, at start, resumes every request queued before)."""
    if not integration.may_call_jira():
        return 0
    now = utcnow()
    stale = lost_before(current_app.config["DELIVERY_STALE_SECONDS"])
    ids = db.session.scalars(
        select(SupportRequest.id).where(_due(stale, now)).order_by(SupportRequest.id).limit(SWEEP_BATCH)
    ).all()
    if not ids:
        return 0
    # Not picked again until the job had time to run.
    db.session.execute(
        update(SupportRequest).where(SupportRequest.id.in_(ids), SupportRequest.delivery_state == DeliveryState.QUEUED)
        .values(next_attempt_at=now).execution_options(synchronize_session=False))
    polls.changed(ids)
    db.session.commit()
    log.info("sweep: re-enqueuing %d request(s)", len(ids))
    return enqueue_each(deliver, ids)
