"""Exactly once with real RQ workers on PostgreSQL: a worker SIGKILLed while it talks to the
SMTP server, a second worker, a replayed webhook and a reconcile still make one mail."""
import pytest
from sqlalchemy import select

from tests.support import track_issues
from tests.workers import Workers, wait_for, worker_app
from webapp import sync
from webapp.extensions import db
from webapp.models import MailOutbox, utcnow
from webapp.sync.state import write_cursor
from datetime import timedelta


@pytest.fixture
def app(app_factory, redis_url, tmp_path, smtp_server):
    with worker_app(app_factory, redis_url, tmp_path, "mail") as app:
        app.config.update(smtp_server.settings, MAIL_GATHER_SECONDS=0)
        yield app


def states():
    db.session.expire_all()
    return [row.state for row in db.session.scalars(select(MailOutbox))]


def test_a_worker_killed_while_sending_leaves_exactly_one_mail(app, jira_on, make_user, smtp_server, tmp_path):
    reporter = make_user(email="deniz@example.com", name="Deniz", language="tr")
    (issue,) = jira_on.add_issues(1, updated_hours_ago=0)
    track_issues(reporter, [issue])
    write_cursor(utcnow() - timedelta(seconds=5))
    db.session.commit()
    jira_on.add_comment(issue["key"], "We are looking into it.")
    sync.sync_changed()
    sync.refresh_issue(issue["id"])  # the webhook, and its replay
    sync.refresh_issue(issue["id"])
    assert states() == ["waiting"]
    smtp_server.release.clear()  # the server holds the first session at RCPT
    settings = {key: value for key, value in smtp_server.settings.items()}
    workers = Workers(app, tmp_path, MAIL_SEND_SECONDS=1, MAIL_LEASE_SECONDS=3, MAIL_GATHER_SECONDS=0,
                      SYNC_SECONDS=3600, RECONCILE_SECONDS=3600, **settings)
    try:
        workers.start()
        assert smtp_server.held.wait(30), workers.logs()
        assert states() == ["sending"]
        workers.kill()
        smtp_server.release.set()
        sync.reconcile()  # nothing new to write
        workers.start(2)
        assert wait_for(lambda: states() == ["sent"], timeout=60), workers.logs()
        assert wait_for(lambda: len(smtp_server.messages) >= 1, timeout=10)
        wait_for(lambda: len(smtp_server.messages) > 1, timeout=5)  # give a second mail the time to come
        assert len(smtp_server.to("deniz@example.com")) == 1
        assert "We are looking into it." in smtp_server.messages[0].get_body(("plain",)).get_content()
    finally:
        workers.stop()
