"""Whether Jira calls have been failing, and since when: the admins' "Jira failing" mail.

An outage starts with a Jira call that fails as a retry may cure (a 5xx, a timeout, no
answer; not a 429, which is Jira answering and asking to wait, nor a refusal, which pauses)
and ends with the next call that succeeds. The deliveries and the sync (every SYNC_SECONDS)
report both. Its start lives in `app_state`, so every worker and process sees the same
outage. The admins hear of an outage once: at the first failure more than
MAIL_JIRA_FAILING_MINUTES after it began; not again while Jira stays down, and again only
for the next outage, once a call succeeded in between (docs/email.md).
"""
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from . import mail
from .extensions import db
from .jira import JiraRateLimitedError
from .models import AppState, utcnow

SINCE = "jira:failing_since"  # when the outage began, UTC ISO; "" while calls succeed
TOLD = "jira:failing_told"    # the SINCE of the outage the admins were told of


def counts(exc):
    """Whether this failure is Jira failing (not a rate limit, not a refusal)."""
    return bool(getattr(exc, "transient", False)) and not isinstance(exc, JiraRateLimitedError)


def call_failed(exc):
    """A Jira call failed with `exc`: start the outage, or, once it lasted long enough, put
    the admins' mail in the outbox (one worker wins the conditional UPDATE). Commits."""
    if not counts(exc):
        return
    now = utcnow()
    AppState.ensure(SINCE)
    db.session.execute(update(AppState).where(AppState.key == SINCE, AppState.value == "")
                       .values(value=now.isoformat()).execution_options(synchronize_session=False))
    db.session.commit()
    since = failing_since()
    minutes = current_app.config["MAIL_JIRA_FAILING_MINUTES"]
    if since is None or now - since <= timedelta(minutes=minutes):
        return
    stamp = since.isoformat()
    AppState.ensure(TOLD)
    won = db.session.execute(update(AppState).where(AppState.key == TOLD, AppState.value != stamp)
                             .values(value=stamp).execution_options(synchronize_session=False)).rowcount
    if won:
        mail.note_admins(mail.FAILING, stamp, params={"minutes": minutes})
    db.session.commit()


def call_worked():
    """A Jira call succeeded: the outage, if any, is over. In the caller's transaction."""
    db.session.execute(update(AppState).where(AppState.key == SINCE, AppState.value != "")
                       .values(value="").execution_options(synchronize_session=False))


def failing_since():
    """When the current outage began, or None."""
    value = db.session.scalar(select(AppState.value).where(AppState.key == SINCE))
    return datetime.fromisoformat(value) if value else None

