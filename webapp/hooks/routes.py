"""POST /hooks/jira: Jira's admin webhooks, a "this issue changed" signal.

The request is verified and answered at once: the work (reading the issue over REST) is a
job, so Jira gets its 204 in milliseconds and never waits on Jira. Payloads are only hints
(order is not guaranteed, duplicates happen); the job re-reads the issue, and the periodic
sync stays the source of truth.
"""
import logging

from flask import current_app, request, url_for
from sqlalchemy import select

from . import bp
from .. import crypto, integration, sync
from ..extensions import db
from ..jira import NotJson, changed_issue_id, verify_signature
from ..models import SupportRequest
from ..queue import enqueue

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # Jira's issue payloads are a few KB; anything near this is not Jira


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
    if not secret:
        return _text("No webhook secret is set in the portal.", 401)
    if not verify_signature(secret, body, request.headers.get("X-Hub-Signature")):
        log.warning("webhook: missing or wrong signature from %s", request.remote_addr)
        return _text("Invalid signature.", 401)
    try:
        issue_id = changed_issue_id(body)
    except NotJson:
        return _text("The body is not JSON.", 400)
    if issue_id and _is_tracked(issue_id):
        enqueue(sync.refresh_issue, issue_id)
        log.info("webhook: issue %s changed; refresh enqueued", issue_id)
    return "", 204


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
