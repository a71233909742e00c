"""Delivery: a stored request becomes exactly one Jira issue, with each attachment once.

The database is the source of truth; the queue only carries wake-ups. `deliver` claims a
request with a lease (one atomic UPDATE), so two workers never send the same request. Before
creating an issue it looks for one an interrupted attempt may have made (every issue carries
the request's reference label), and before re-uploading a file whose upload may have reached
Jira it looks at the issue's attachments. `sweep` re-enqueues whatever a lost job, a killed
worker or a flushed Redis left behind.
"""
import logging

from flask import current_app
from sqlalchemy import and_, select, update

from . import integration, mail, outbox, polls
from .choices import labels_on_every_issue
from .extensions import db
from .jira import JiraError, field_type, make_label, reference_label, shape_field_value
from .models import DeliveryState, Reply, StatusAction, SupportRequest, utcnow
from .outbox import (MISSING_FILE, UNREADABLE_FILE, RetryLater, backoff, landing_after,  # noqa: F401
                     may_land_until, wait_for_search)
from .replies import deliver_reply
from .transitions import apply_action
from .uploads import NOT_SENT, upload_files  # noqa: F401 (NOT_SENT: the pages' words)
from .queue import enqueue, enqueue_each, lost_before
from .sent_with import description_part
from .technical import detail_rows, mapped_fields

log = logging.getLogger(__name__)
SWEEP_BATCH = 500

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
    return outbox.requeue(SupportRequest, request_ids, deliver)


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
    """Send one request to Jira: find or create its issue, then upload its files; then
    the replies that waited for it go."""
    support_request = outbox.run(deliver, SupportRequest, request_id, _send_request)
    if support_request is not None:
        log.info("deliver %s: sent as %s", support_request.reference, support_request.jira_key)
        send_waiting_replies(support_request)


def _send_request(jira, support_request):
    if not support_request.jira_issue_id:
        _find_or_create_issue(jira, support_request)
    upload_files(jira, support_request, [a for a in support_request.attachments if a.reply_id is None],
                 support_request)


def send_waiting_replies(support_request):
    """The request has its issue: its replies kept in the portal go now (those written in
    passive mode, or before the issue existed)."""
    if not integration.may_call_jira():
        return 0
    db.session.execute(update(Reply).where(
        Reply.request_id == support_request.id, Reply.delivery_state == DeliveryState.LOCAL)
        .values(delivery_state=DeliveryState.QUEUED, next_attempt_at=utcnow(), deliverable_since=utcnow(),
                last_error=None).execution_options(synchronize_session=False))
    db.session.commit()
    ids = db.session.scalars(select(Reply.id).where(
        Reply.request_id == support_request.id, Reply.delivery_state == DeliveryState.QUEUED)).all()
    return enqueue_each(deliver_reply, ids)


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
            # Jira answered no (a 429, 408 or 400 included): this call created nothing, but
            # an earlier one may still land: keep what was known before it. No answer, or a
            # 5xx: Jira may have created it, or may still be creating it.
            landing = landing_after(exc)
            support_request.create_started_at = earlier if landing is None else landing
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


# The sweep ------------------------------------------------------------------------------

def sweep():
    """Re-enqueue requests, replies and status actions a lost job left behind (a killed worker, a flushed
    Redis, an embedded portal restarted: its first sweep, at start, resumes every one
    queued before)."""
    if not integration.may_call_jira():
        return 0
    return (_sweep(SupportRequest, deliver) + _sweep(Reply, deliver_reply)
            + _sweep(StatusAction, apply_action))


def _sweep(model, job):
    now = utcnow()
    stale = lost_before(current_app.config["DELIVERY_STALE_SECONDS"])
    ids = db.session.scalars(
        select(model.id).where(outbox.due(model, stale, now)).order_by(model.id).limit(SWEEP_BATCH)
    ).all()
    if not ids:
        return 0
    # Not picked again until the job had time to run.
    db.session.execute(
        update(model).where(model.id.in_(ids), model.delivery_state == DeliveryState.QUEUED)
        .values(next_attempt_at=now).execution_options(synchronize_session=False))
    polls.changed(ids if model is SupportRequest else
                  db.session.scalars(select(model.request_id).where(model.id.in_(ids))).all())
    db.session.commit()
    log.info("sweep: re-enqueuing %d %s(s)", len(ids), model.__tablename__)
    return enqueue_each(job, ids)
