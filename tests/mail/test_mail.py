"""E-mail through a real SMTP server (tests/mail/server.py): what people get, in their
language, exactly once."""
import re
from collections import namedtuple
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.jirasim.control import AGENT
from tests.jirasim.fixtures import both_deployments
from tests.support import track_issues
from webapp import mail, statuses, sync
from webapp.extensions import db
from webapp.mail import sending
from webapp.models import MailOutbox, SupportRequest, utcnow
from webapp.sync.state import write_cursor


@pytest.fixture
def app(app_factory, smtp_server):
    app = app_factory(MAIL_GATHER_SECONDS=0, **smtp_server.settings)
    with app.app_context():
        yield app


@pytest.fixture
def reporter(make_user):
    return make_user(email="deniz@example.com", name="Deniz Yılmaz", language="tr")


IssueRef = namedtuple("IssueRef", "id key")


@pytest.fixture
def track(jira_on, reporter):
    """track(summary) → (request, issue): a simulator issue (made without an HTTP call) and
    the sent request tracking it; the sync's cursor as if it ran a moment ago."""
    def make(summary="Ödeme webhook'u çalışmıyor"):
        (issue,) = jira_on.add_issues(1, updated_hours_ago=0)
        issue["fields"]["summary"] = summary
        track_issues(reporter, [issue])
        request = db.session.scalar(select(SupportRequest).where(SupportRequest.jira_issue_id == issue["id"]))
        write_cursor(utcnow() - timedelta(seconds=5))
        db.session.commit()
        return request, IssueRef(issue["id"], issue["key"])
    return make


def outbox(**where):
    db.session.expire_all()
    statement = select(MailOutbox).order_by(MailOutbox.id)
    for name, value in where.items():
        statement = statement.where(getattr(MailOutbox, name) == value)
    return db.session.scalars(statement).all()


def text_of(message):
    return message.get_body(("plain",)).get_content()


def html_of(message):
    return message.get_body(("html",)).get_content()


@both_deployments
def test_a_public_comment_is_mailed_once_in_the_reporters_language(jira_on, track, smtp_server):
    request, issue = track()
    jira_on.add_comment(issue.key, f"Bunu *inceliyoruz*.\n\nMia Agent <{AGENT}>")
    jira_on.add_comment(issue.key, "internal note", internal=True)
    sync.sync_changed()
    sync.refresh_issue(issue.id)  # the webhook's refresh, twice: a replay
    sync.refresh_issue(issue.id)
    sync.reconcile()
    sending.send_due()
    sending.send_due()
    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert message["To"] == "Deniz Yılmaz <deniz@example.com>"
    assert message["From"] == "Support Portal <portal@example.com>"
    assert message["Reply-To"] == "support@example.com"
    assert message["Content-Language"] == "tr"
    assert request.reference in message["Subject"]
    text, html = text_of(message), html_of(message)
    assert "Merhaba Deniz Yılmaz" in text and "Destek ekibinden Mia Agent yazdı" in text
    assert "inceliyoruz" in text and "internal note" not in text
    assert f"https://portal.example.com/requests/{request.id}" in text and f'href="https://portal.example.com/requests/{request.id}"' in html
    raw = message.as_string()
    assert AGENT not in raw and "agent@" not in raw  # no agent's address, not even in the body
    assert "<strong>" not in html and "<em>" not in html  # no HTML from Jira
    assert "smtp-secret-pw" not in raw
    unsubscribe = re.fullmatch(r"<(https://portal\.example\.com/mail/unsubscribe/[\w.-]+)>", message["List-Unsubscribe"])
    assert unsubscribe and message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe.group(1) in text
    assert [row.state for row in outbox()] == ["sent"]


def test_without_smtp_host_nothing_is_written_nor_sent(app_factory, jira_sim, smtp_server, make_user):
    app = app_factory()
    with app.app_context():
        from tests.jirasim.portal import configure_portal
        configure_portal(jira_sim)
        user = make_user(email="quiet@example.com")
        request = SupportRequest(reporter_id=user.id, label="Bug", summary="s", description="d")
        from webapp import delivery
        delivery.accept(request)
        assert sending.send_due() == 0
        assert outbox() == [] and smtp_server.messages == []


def test_the_reporter_hears_the_request_was_received_and_created(jira_on, reporter, smtp_server, drain, app):
    from webapp import delivery
    request = delivery.accept(SupportRequest(reporter_id=reporter.id, label="Bug", summary="Login fails",
                                             description="Since Monday."))
    drain()
    sending.send_due()
    assert len(smtp_server.messages) == 1  # both within a minute: one mail
    text = text_of(smtp_server.messages[0])
    key = db.session.get(SupportRequest, request.id).jira_key
    assert request.reference in text and key in text
    assert "Talebinizi aldık" in text


def test_status_changes_and_resolution_are_mailed_by_their_shown_name(jira_on, track, smtp_server):
    request, issue = track()
    jira_on.set_status(issue.key, "In Progress")
    sync.sync_changed()
    sending.send_due()
    jira_on.set_status(issue.key, "Done")
    sync.sync_changed()
    sync.reconcile()
    sending.send_due()
    assert [row.event for row in outbox()] == ["status", "resolved"]
    first, second = smtp_server.messages
    # The Turkish reporter reads the status in Turkish, never Jira's "In Progress".
    assert "Durumu artık “İşlemde”" in text_of(first) and "In Progress" not in text_of(first)
    assert "çözüldü" in text_of(second)


def test_several_changes_within_the_gather_window_make_one_mail(app, jira_on, track, smtp_server):
    app.config["MAIL_GATHER_SECONDS"] = 60
    request, issue = track()
    jira_on.set_status(issue.key, "In Progress")
    jira_on.add_comment(issue.key, "One")
    sync.sync_changed()
    jira_on.add_comment(issue.key, "Two")
    sync.sync_changed()
    assert sending.send_due() == 0  # not yet: the minute gathers
    db.session.execute(MailOutbox.__table__.update().values(send_after=utcnow()))
    db.session.commit()
    sending.send_due()
    assert len(smtp_server.messages) == 1
    text = text_of(smtp_server.messages[0])
    assert "İşlemde" in text and "One" in text and "Two" in text


def test_the_first_sync_after_a_pause_sends_one_digest_per_person(jira_on, track, smtp_server):
    tracked = [track(f"Request {n}") for n in range(5)]
    for _, issue in tracked:
        jira_on.add_comment(issue.key, f"About {issue.key}")
    sync.reconcile()
    sending.send_due()
    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert "5" in message["Subject"]
    assert all(request.reference in text_of(message) for request, _ in tracked)


def test_a_permanent_refusal_is_recorded_with_its_reason(jira_on, make_user, smtp_server, track):
    user = make_user(email="refused@example.com")
    request, issue = track()
    request.reporter_id = user.id
    db.session.commit()
    jira_on.add_comment(issue.key, "Hello")
    sync.sync_changed()
    sending.send_due()
    (row,) = outbox()
    assert row.state == "failed" and "550" in row.last_error and "No such mailbox" in row.last_error
    assert smtp_server.messages == []


def test_a_server_that_is_down_is_tried_again_with_backoff(app, jira_on, track, smtp_server):
    app.config["SMTP_PORT"] = 1  # nothing listens there
    request, issue = track()
    jira_on.add_comment(issue.key, "Hello")
    sync.sync_changed()
    sending.send_due()
    (row,) = outbox()
    assert row.state == "waiting" and row.attempts == 1 and row.send_after > utcnow() and row.last_error
    app.config["SMTP_PORT"] = smtp_server.settings["SMTP_PORT"]
    db.session.execute(MailOutbox.__table__.update().values(send_after=utcnow()))
    db.session.commit()
    sending.send_due()
    assert outbox()[0].state == "sent" and len(smtp_server.messages) == 1


def test_the_unsubscribe_link_works_without_logging_in(app, jira_on, track, smtp_server, reporter):
    request, issue = track()
    jira_on.add_comment(issue.key, "First")
    sync.sync_changed()
    sending.send_due()
    url = re.search(r"<https://portal\.example\.com(/mail/unsubscribe/[\w.-]+)>",
                    smtp_server.messages[0]["List-Unsubscribe"]).group(1)
    client = app.test_client()
    page = client.get(url)
    assert page.status_code == 200 and "yorum" in page.data.decode()
    assert db.session.get(type(reporter), reporter.id).mail_preference == "all"  # a GET changes nothing
    answer = client.post(url, data={"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200
    db.session.expire_all()
    assert db.session.get(type(reporter), reporter.id).mail_preference == "status"
    jira_on.add_comment(issue.key, "Second")
    jira_on.set_status(issue.key, "In Progress")
    sync.sync_changed()
    sending.send_due()
    assert len(smtp_server.messages) == 2  # the status change, not the comment
    assert "Second" not in text_of(smtp_server.messages[1])
    assert [r.state for r in outbox(event="comment")] == ["sent", "skipped"]
    assert client.post(url[:-3] + "xyz").status_code == 404  # a forged token


def test_admins_hear_that_jira_paused_with_the_reason(configure_jira, jira_sim, track, make_user, smtp_server):
    admin = make_user(email="root@example.com", admin=True, name="Root")
    configure_jira()
    request, issue = track()
    from webapp import integration
    from webapp.jira import JiraAuthError
    integration.pause(JiraAuthError(401))
    sending.send_due()
    (message,) = smtp_server.to(admin.email)
    assert "401" in text_of(message) or "refused" in text_of(message).lower()


def test_a_status_change_the_requester_cannot_see_sends_nothing(jira_on, track, smtp_server):
    request, issue = track()
    jira_on.set_status(issue.key, "In Progress")
    sync.sync_changed()
    jira_on.set_status(issue.key, "Waiting for customer")  # the same shown name: "In progress"
    sync.sync_changed()
    sending.send_due()
    assert [row.event for row in outbox()] == ["status"]
    assert "“İşlemde”" in text_of(smtp_server.messages[0])


def test_waiting_for_you_comes_from_the_statuses_mark(jira_on, track, smtp_server):
    statuses.read_statuses()  # Administration → Statuses: "Waiting for customer" is marked
    request, issue = track()
    jira_on.set_status(issue.key, "Waiting for customer")
    sync.sync_changed()
    sending.send_due()
    assert [row.event for row in outbox()] == ["waiting"]
    assert "yanıtınızı bekliyor" in text_of(smtp_server.messages[0])


def test_a_refused_smtp_login_names_no_password_in_the_outbox_or_the_log(app, jira_on, track, smtp_server, caplog):
    app.config.update(SMTP_PASSWORD="wrong-secret-pw", SMTP_TIMEOUT=3)
    request, issue = track()
    jira_on.add_comment(issue.key, "Hello")
    sync.sync_changed()
    with caplog.at_level("DEBUG"):
        sending.send_due()
    (row,) = outbox()
    assert row.state in ("failed", "waiting") and row.last_error and row.sent_at is None
    assert "wrong-secret-pw" not in caplog.text + row.last_error
    assert "smtp-secret-pw" not in caplog.text
