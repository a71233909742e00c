"""POST /hooks/jira: Jira's admin webhooks, a "this issue changed" signal.

The request is verified and answered at once: the work (reading the issue over REST) is a
job, so Jira gets its 204 in milliseconds and never waits on Jira. Payloads are only hints
(order is not guaranteed, duplicates happen); the job re-reads the issue, and the periodic
sync stays the source of truth.

A delivery already handled (its X-Atlassian-Webhook-Identifier, which Jira keeps on retries)
or sent more than a day ago refreshes nothing: a captured webhook can't be replayed to make
the portal call Jira. A burst of events for one issue is one refresh (`state.claim_refresh`).
"""
import ipaddress
import logging
from datetime import timedelta

from flask import current_app, request, url_for
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from . import bp
from .. import crypto, delivery, integration, sync
from ..extensions import db
from ..jira import NotJson, read_event, verify_signature
from ..models import SeenWebhook, SupportRequest, utcnow
from ..queue import enqueue
from ..sync.state import claim_refresh

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # Jira's issue payloads are a few KB; anything near this is not Jira
REMEMBERED = timedelta(hours=24)  # deliveries remembered this long; older ones are refused
IDENTIFIER_MAX = 128


def _text(message, status):
    return message + "\n", status, {"Content-Type": "text/plain; charset=utf-8"}


@bp.post("/jira")
def jira_webhook():
    if (request.content_length or 0) > MAX_BODY:
        return _text("Payload too large.", 413)
    body = request.stream.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        return _text("Payload too large.", 413)
    secret = webhook_secret()
    if not request.headers.get("X-Hub-Signature") and unsigned_allowed(request.remote_addr):
        pass  # a Jira that cannot sign, on the operator's list: it can only ask for a re-read
    elif not secret:
        return _text("No webhook secret is set in the portal.", 401)
    elif not verify_signature(secret, body, request.headers.get("X-Hub-Signature")):
        log.warning("webhook: missing or wrong signature from %s", request.remote_addr)
        return _text("Invalid signature.", 401)
    try:
        event = read_event(body)
    except NotJson:
        return _text("The body is not JSON.", 400)
    identifier = request.headers.get("X-Atlassian-Webhook-Identifier", "")[:IDENTIFIER_MAX]
    if (event.sent_at and utcnow() - event.sent_at > REMEMBERED) or _seen(identifier):
        log.info("webhook: a replayed or stale delivery; nothing to do")
        return "", 204  # answered as usual: a replay learns nothing
    if event.issue_id and _is_tracked(event.issue_id):
        if claim_refresh(event.issue_id):
            enqueue(sync.refresh_issue, event.issue_id)
            log.info("webhook: issue %s changed; refresh enqueued", event.issue_id)
    elif event.issue_id and event.references:  # perhaps a create whose answer was lost
        delivery.note_candidate(event.issue_id, event.references)
    _remember(identifier)
    return "", 204


def _seen(identifier):
    return bool(identifier) and db.session.get(SeenWebhook, identifier) is not None


def _remember(identifier):
    """Note a handled delivery (after its refresh is enqueued: a failure before that lets
    Jira's retry through), and forget those older than REMEMBERED."""
    if not identifier:
        return
    db.session.execute(delete(SeenWebhook).where(SeenWebhook.seen_at < utcnow() - REMEMBERED))
    db.session.add(SeenWebhook(identifier=identifier))
    try:
        db.session.commit()
    except IntegrityError:  # the same delivery, handled at the same moment by another process
        db.session.rollback()


def webhook_secret():
    """The secret Jira signs with, or None when none is set (or it cannot be read)."""
    settings = integration.settings()
    if not settings.webhook_secret_encrypted:
        return None
    try:
        return crypto.decrypt(settings.webhook_secret_encrypted)
    except crypto.SecretUnreadable:
        log.warning("webhook: the stored secret cannot be decrypted with ENCRYPTION_KEYS")
        return None


def unsigned_allowed(address):
    """Whether an unsigned webhook from `address` is taken (JIRA_WEBHOOK_UNSIGNED_FROM)."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    for network in current_app.config["JIRA_WEBHOOK_UNSIGNED_FROM"]:
        try:
            if ip in ipaddress.ip_network(network, strict=False):
                return True
        except ValueError:
            log.warning("webhook: JIRA_WEBHOOK_UNSIGNED_FROM has %r, which is no address or network", network)
    return False


def _is_tracked(issue_id):
    return db.session.scalar(
        select(SupportRequest.id).where(SupportRequest.jira_issue_id == issue_id).limit(1)
    ) is not None


def webhook_url():
    """Where Jira must send its webhooks, as the admin screen shows it."""
    base = current_app.config.get("PORTAL_BASE_URL")
    if base:
        return base + url_for("hooks.jira_webhook")
    return url_for("hooks.jira_webhook", _external=True)
