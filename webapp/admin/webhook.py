"""The webhook card of the Jira Config screen: generate or replace the signing secret."""
import secrets

from flask import g, render_template

from . import bp
from .forms import JiraSettingsForm
from .jira_settings import _page
from .. import audit, crypto, integration
from ..extensions import db
from ..htmx import is_fragment_request


@bp.post("/jira/webhook-secret")
def generate_webhook_secret():
    """A new random secret, shown in this one answer only; Jira signs webhooks with it."""
    settings = integration.settings()
    secret = secrets.token_urlsafe(32)
    replaced = bool(settings.webhook_secret_encrypted)
    settings.webhook_secret_encrypted = crypto.encrypt(secret)
    audit.record("jira.webhook_secret.replaced" if replaced else "jira.webhook_secret.generated")
    db.session.commit()
    g.new_webhook_secret = secret  # read by admin/_webhook.html, never stored in plain text
    if is_fragment_request():
        return render_template("admin/_webhook.html", settings=settings)
    return _page(JiraSettingsForm(obj=settings, token_set=integration.has_token(settings)), settings)
