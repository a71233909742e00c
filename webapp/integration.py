"""The Jira integration as the portal uses it: the settings settings, whether it may be active,
whether Jira may be called now, the one way to build a Jira client (sharing the holds Jira's
rate limits put), the pause after Jira refused the credentials, and the explanation of an
error that people read.

Read from the database every time, so a change made by an admin governs the very next
request and job in every process."""
import logging

from flask import current_app
from sqlalchemy import select, update
from flask_babel import lazy_gettext as _l

from . import audit, crypto, mail, messages
from .extensions import db
from .jira import JiraAccessLostError, JiraAuthError, JiraClient, LocalHolds, Pace, RedisHolds
from .models import DOWNLOAD_REFUSED, ApinizerSettings, Attachment, DeliveryState, JiraSettings, Reply, SupportRequest, utcnow

log = logging.getLogger(__name__)

FIELD_NAMES = {
    "enabled": _l("Jira Integration Status"),
    "deployment": _l("Deployment"),
    "base_url": _l("Jira URL"),
    "description": _l("Description"),
    "username": _l("Username"),
    "api_token": _l("API Token"),
    "project_key": _l("Project Key"),
    "issue_type": _l("Issue Type"),
    "category_field_id": _l("Category Custom Field ID"),
    "product_field_id": _l("API Product Custom Field ID"),
    "endpoint_field_id": _l("API Product Endpoint Custom Field ID"),
    "show_all_jira_files": _l("Show every file on the issue"),
}
SETTINGS_FIELDS = ("deployment", "base_url", "description", "username", "project_key",
                   "issue_type", "category_field_id", "product_field_id", "endpoint_field_id",
                   "show_all_jira_files", "technical_fields", "environments", "environments_from", "environment_field_id",
                   "application_field_id", "correlation_field_id", "http_status_field_id", "occurred_field_id",
                   "resolve_transition", "reopen_transition", "reopen_days", "reply_transition")


def init_app(app):
    """The holds every Jira client of this app shares (webapp/jira/pace.py): in Redis when
    jobs run on RQ workers, so that a 429 one worker meets holds back all of them; else in
    this process."""
    if not app.config["JIRA_RATE_LIMIT_HOLDS"]:
        return
    queue = app.extensions["queue"]
    holds = RedisHolds(queue.redis, app.config["RQ_QUEUE"]) if queue.mode == "rq" else LocalHolds()
    app.extensions["jira_pace"] = Pace(holds, max_sleep=app.config["JIRA_HOLD_SLEEP_SECONDS"])


def settings():
    return JiraSettings.get()


def has_token(settings):
    return bool(settings.api_token_encrypted)


def missing_for_activation(settings):
    """Names of the settings that must be filled before the integration may be active."""
    missing = [name for name in ("base_url", "project_key", "issue_type") if not getattr(settings, name)]
    if settings.deployment == "cloud" and not settings.username:
        missing.insert(1, "username")
    if not has_token(settings):
        missing.append("api_token")
    return [FIELD_NAMES[name] for name in missing]


# The token was typed for this site and account: when one of these changes, it is not sent on.
TOKEN_BOUND_TO = ("base_url", "deployment", "username")


def save(settings, values, token=None, clear_token=False):
    """Apply the form's values; returns the names of the fields that changed.
    The token is written only when a new one is given, and never into the audit log. A
    stored token is dropped when the site or account it was typed for changes and no new
    one is given (it would go to the new host): that is recorded in the audit log."""
    changed = [name for name in SETTINGS_FIELDS if getattr(settings, name) != values[name]]
    for name in changed:
        setattr(settings, name, values[name])
    moved = [name for name in TOKEN_BOUND_TO if name in changed]
    if token:
        settings.api_token_encrypted = crypto.encrypt(token)
        settings.api_token_last4 = token[-4:]
        changed.append("api_token")
    elif (clear_token or moved) and has_token(settings):
        settings.api_token_encrypted = settings.api_token_last4 = None
        changed.append("api_token")
        settings.enabled = False  # cannot stay active without credentials
        if moved and not clear_token:
            audit.record("jira.settings.token_dropped", because=sorted(moved))
    if changed:
        settings.version += 1
        if settings.paused_reason:
            _restart_give_up_clocks()
        settings.paused_reason = None  # new settings deserve a new try
        # Files Jira refused to hand over are fetched again with them.
        db.session.execute(update(Attachment).where(Attachment.fetch_problem == DOWNLOAD_REFUSED)
                           .values(fetch_problem=None).execution_options(synchronize_session=False))
        audit.record("jira.settings.saved", fields=changed)
    return changed


def set_enabled(settings, enabled):
    """Flip the Active/Passive switch; returns the missing settings that refuse it."""
    if enabled:
        missing = missing_for_activation(settings)
        if missing:
            return missing
    if settings.enabled != enabled:
        settings.enabled = enabled
        if enabled:
            _restart_give_up_clocks()
            _queue_kept_replies()
        settings.version += 1
        audit.record("jira.settings.enabled" if enabled else "jira.settings.disabled")
    return []


def _restart_give_up_clocks():
    """Jira may be called again (activated, the pause lifted): whatever waited for it gets
    a whole DELIVERY_GIVE_UP_HOURS from now."""
    db.session.execute(
        update(SupportRequest).where(SupportRequest.delivery_state.in_(DeliveryState.MOVING))
        .values(deliverable_since=utcnow()).execution_options(synchronize_session=False))


def _queue_kept_replies():
    """Replies written while passive, on requests already in Jira, go now (the sweep wakes
    them); those whose request is still portal-only go with it when it is sent."""
    in_jira = select(SupportRequest.id).where(SupportRequest.jira_issue_id.is_not(None))
    db.session.execute(
        update(Reply).where(Reply.delivery_state == DeliveryState.LOCAL, Reply.request_id.in_(in_jira))
        .values(delivery_state=DeliveryState.QUEUED, next_attempt_at=utcnow(), deliverable_since=utcnow())
        .execution_options(synchronize_session=False))


class NoClient(Exception):
    """No Jira client can be built from the settings (the token can't be decrypted with
    ENCRYPTION_KEYS, or the settings are not usable). `cause` is the original exception."""

    def __init__(self, cause):
        super().__init__(str(cause))
        self.cause = cause


def may_call_jira(settings=None):
    """The gate every Jira call of a job passes: active, and not paused after a refusal."""
    settings = settings or JiraSettings.get()
    return bool(settings.enabled and not settings.paused_reason)


def client(settings, timeout=None):
    """A JiraClient for these settings, whatever the switch says (Save and Test works while
    passive). The token is decrypted only here. Raises NoClient when none can be built."""
    try:
        token = crypto.decrypt(settings.api_token_encrypted) if settings.api_token_encrypted else ""
        return JiraClient(settings.base_url, settings.username, token, deployment=settings.deployment,
                          timeout=timeout or current_app.config["JIRA_TIMEOUT"],
                          on_call=current_app.extensions.get("jira_call_observer"),
                          pace=current_app.extensions.get("jira_pace"),
                          allowed_hosts=current_app.config.get("JIRA_ALLOWED_HOSTS") or (),
                          settings_version=settings.version)
    except (crypto.SecretUnreadable, ValueError) as exc:
        raise NoClient(exc) from None


def connect():
    """A JiraClient when jobs may call Jira now, else None (passive, paused, or no client can
    be built: that pauses, as a refusal does, so the admin sees why)."""
    settings = JiraSettings.get()
    if not may_call_jira(settings):
        return None
    try:
        return client(settings)
    except NoClient as exc:
        pause(exc.cause)
        return None


def refused(exc):
    """Jira refused the credentials, or there are none we can read: no retry can help."""
    return isinstance(exc, (JiraAuthError, JiraAccessLostError, NoClient))


def pause(exc, settings_version=None):
    """Stop every Jira call until an admin changes the settings; the reason is `exc`'s
    explanation. Commits (whatever the caller had pending is rolled back first).

    `settings_version`: that of the settings the refused call was made with. When the admin
    has saved others since (a new token while the call was on its way), the refusal was not
    theirs: nothing is paused, and False is returned."""
    db.session.rollback()
    # Locked (on PostgreSQL): of two workers refused at once, the second waits, then finds
    # the pause made and its mail written.
    settings = db.session.get(JiraSettings, 1, with_for_update=True) or JiraSettings.get()
    if settings_version is not None and settings.version != settings_version:
        log.info("Jira refused a call made with settings saved over since; not paused")
        db.session.rollback()
        return False
    already_paused = settings.paused_reason is not None
    settings.paused_reason = explain(exc)
    if not already_paused:
        mail.note_admins(mail.PAUSED, settings.version, params={"reason": settings.paused_reason})
    db.session.commit()
    log.warning("Jira calls paused: %s", type(exc).__name__)
    return True


def explain(exc):
    """An error's explanation for people (the admin and the user), as stored with a request
    or the pause: a message id and its parameters, shown in each reader's language."""
    return messages.from_error(exc.cause if isinstance(exc, NoClient) else exc)


def rotate_token_encryption():
    """Re-encrypt stored secrets with the newest key in ENCRYPTION_KEYS."""
    rotated = 0
    for settings, column in ((JiraSettings.get(), "api_token_encrypted"), (JiraSettings.get(), "webhook_secret_encrypted"),
                             (ApinizerSettings.get(), "api_token_encrypted")):
        value = getattr(settings, column)
        if value:
            setattr(settings, column, crypto.rotate(value))
            rotated += 1
    if rotated:
        audit.record("encryption.rotated", secrets=rotated)
    db.session.commit()
    return rotated
