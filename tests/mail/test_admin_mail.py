"""The admins' mail about the Jira integration, driven through the simulator's faults and read
from the real SMTP server: a request that failed to reach Jira, Jira calls failing for more
than MAIL_JIRA_FAILING_MINUTES, the 401 pause. One mail per event to each admin, in the
admin's language, with the reason and a link, exactly once."""
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from tests.support import track_issues
from webapp import delivery, outage, sync
from webapp.extensions import db
from webapp.mail import sending
from webapp.models import AppState, MailOutbox, SupportRequest, utcnow
from webapp.sync.state import write_cursor

BASE = "https://portal.example.com"


@pytest.fixture
def app(app_factory, smtp_server):
    app = app_factory(MAIL_GATHER_SECONDS=0, DELIVERY_RETRY_BASE_SECONDS=0.05, DELIVERY_RETRY_MAX_SECONDS=0.2,
                      SEARCH_LAG_SECONDS=0.2, DELIVERY_STALE_SECONDS=0, JIRA_TIMEOUT=(1, 1),
                      **smtp_server.settings)
    with app.app_context():
        yield app


@pytest.fixture
def admins(make_user):
    """Two admins, one reading English, one Turkish."""
    return (make_user(email="ada@example.com", admin=True, name="Ada Admin", language="en"),
            make_user(email="mert@example.com", admin=True, name="Mert Yönetici", language="tr"))


@pytest.fixture
def reporter(make_user):
    return make_user(email="deniz@example.com", name="Deniz")


def text_of(message):
    return message.get_body(("plain",)).get_content()


def html_of(message):
    return message.get_body(("html",)).get_content()


def admin_mail(smtp_server, admins):
    """{admin's address: [messages]} for each admin."""
    return {admin.email: smtp_server.to(admin.email) for admin in admins}


def reload(request):
    db.session.expire_all()
    return db.session.get(SupportRequest, request.id)


def new_request(reporter):
    return delivery.accept(SupportRequest(reporter_id=reporter.id, label="Bug", summary="Token endpoint answers 500",
                                          description="Since 09:00."))


def run_queued_attempt(app, request):
    """The delivery's first attempt, whichever job runner (its delayed retry is not run)."""
    if app.extensions["queue"].mode == "in-process":
        app.extensions["queue"].join()
    else:
        delivery.deliver(request.id)


def test_a_request_that_failed_to_reach_jira_is_mailed_once_to_each_admin(
        app, jira_on, admins, reporter, smtp_server, drain, shown):
    # Two transient 503s (retried, no mail), then Jira refuses the issue for good.
    jira_on.fault("error", path="/rest/api/3/issue", method="POST", status=503, times=2)
    jira_on.fault("error", path="/rest/api/3/issue", method="POST", status=400)
    request = new_request(reporter)
    drain()
    failed = reload(request)
    assert failed.delivery_state == "failed" and failed.attempts > 2
    sending.send_due()
    delivery.sweep()  # a second sweep, a second send: nothing new
    drain()
    sending.send_due()
    got = admin_mail(smtp_server, admins)
    assert [len(messages) for messages in got.values()] == [1, 1]
    for admin in admins:
        (message,) = got[admin.email]
        text, html = text_of(message), html_of(message)
        assert message["Content-Language"] == admin.language
        assert request.reference in text
        assert shown(failed.last_error, admin.language) in text  # the reason, in the admin's language
        assert f"{BASE}/admin/deliveries?state=failed" in text
        assert f'href="{BASE}/admin/deliveries?state=failed"' in html
        assert "smtp-secret-pw" not in message.as_string()
    assert "could not be sent to Jira" in text_of(got["ada@example.com"][0])
    assert "Jira'ya gönderilemedi" in text_of(got["mert@example.com"][0])
    assert "Jira entegrasyonu" in got["mert@example.com"][0]["Subject"]
    # The reporter hears the request was received, never of the admins' trouble.
    assert all("could not be sent" not in text_of(m) for m in smtp_server.to(reporter.email))
    # The admin's Retry opens a new attempt: failing again is news again, once.
    delivery.requeue([request.id])
    drain()
    sending.send_due()
    assert [len(messages) for messages in admin_mail(smtp_server, admins).values()] == [2, 2]


def synced_issue(jira_on, reporter):
    """A request tracking a simulator issue, and the sync's cursor as if it ran a moment ago."""
    (issue,) = jira_on.add_issues(1, updated_hours_ago=0)
    track_issues(reporter, [issue])
    write_cursor(utcnow() - timedelta(seconds=5))
    db.session.commit()


def outage_began(minutes_ago):
    """As if the outage under way had begun `minutes_ago` minutes ago."""
    db.session.execute(update(AppState).where(AppState.key == outage.SINCE)
                       .values(value=(utcnow() - timedelta(minutes=minutes_ago)).isoformat()))
    db.session.commit()


def failing_mail(smtp_server, admins):
    return [len([m for m in messages if "failing" in text_of(m) or "başarısız" in text_of(m)])
            for messages in admin_mail(smtp_server, admins).values()]


def test_jira_failing_for_longer_is_mailed_once_per_outage(app, jira_on, admins, reporter, smtp_server, shown):
    app.config.update(MAIL_JIRA_FAILING_MINUTES=30, DELIVERY_RETRY_BASE_SECONDS=60, DELIVERY_RETRY_MAX_SECONDS=120,
                      SEARCH_LAG_SECONDS=0)
    synced_issue(jira_on, reporter)
    jira_on.fault("error", status=503)  # every call
    sync.sync_changed()
    assert outage.failing_since() is not None
    outage_began(minutes_ago=29)
    sync.sync_changed()
    sending.send_due()
    assert failing_mail(smtp_server, admins) == [0, 0]  # not yet: 30 minutes have not passed
    outage_began(minutes_ago=31)
    request = new_request(reporter)  # a delivery's failing attempt tells, as a sync's would
    run_queued_attempt(app, request)
    assert reload(request).delivery_state == "queued"
    sending.send_due()
    assert failing_mail(smtp_server, admins) == [1, 1]
    for admin in admins:
        (message,) = [m for m in smtp_server.to(admin.email) if "30" in text_of(m)]
        assert message["Content-Language"] == admin.language
        assert f"{BASE}/admin/deliveries?state=queued" in text_of(message)
    assert "more than 30 minutes" in text_of(smtp_server.to("ada@example.com")[0])
    assert "30 dakikadan uzun" in text_of(smtp_server.to("mert@example.com")[0])
    for _ in range(3):  # every minute while Jira stays down: no more
        sync.sync_changed()
    sending.send_due()
    assert failing_mail(smtp_server, admins) == [1, 1]
    # Jira recovers: the delivery gets through and ends the outage.
    jira_on.clear_faults()
    db.session.execute(update(SupportRequest).values(next_attempt_at=utcnow()))
    db.session.commit()
    delivery.deliver(request.id)
    assert reload(request).delivery_state == "sent" and outage.failing_since() is None
    # ...and fails again: a new outage, news again once it lasted as long.
    jira_on.fault("error", status=503)
    sync.sync_changed()
    sending.send_due()
    assert failing_mail(smtp_server, admins) == [1, 1]
    outage_began(minutes_ago=31)
    sync.sync_changed()
    sync.sync_changed()
    sending.send_due()
    assert failing_mail(smtp_server, admins) == [2, 2]
    assert len(db.session.scalars(select(MailOutbox).where(MailOutbox.event == "failing")).all()) == 4


def test_a_sync_that_works_ends_the_outage_and_a_rate_limit_starts_none(app, jira_on, admins, reporter, smtp_server,
                                                                        drain):
    synced_issue(jira_on, reporter)
    jira_on.fault("error", status=502, times=1)
    sync.sync_changed()
    assert outage.failing_since() is not None
    sync.sync_changed()
    assert outage.failing_since() is None
    # Jira answering 429 is Jira asking to wait, not Jira failing: for the sync and a delivery.
    jira_on.fault("rate_limit", retry_after=0, times=2)
    sync.sync_changed()
    request = new_request(reporter)
    run_queued_attempt(app, request)
    assert reload(request).attempts == 1 and reload(request).delivery_state == "queued"
    assert outage.failing_since() is None
    drain()
    assert reload(request).delivery_state == "sent"
    sending.send_due()
    assert failing_mail(smtp_server, admins) == [0, 0]


def test_the_401_pause_is_mailed_once_to_each_admin_with_its_reason(app, configure_jira, jira_sim, admins, reporter,
                                                                    smtp_server, shown):
    from webapp import integration
    settings = configure_jira(token="a-token-jira-does-not-know")
    synced_issue(jira_sim, reporter)
    sync.sync_changed()  # Jira answers 401: every call stops
    settings = integration.settings()
    assert settings.paused_reason
    request = new_request(reporter)
    run_queued_attempt(app, request)  # paused: no call, no second pause
    sync.sync_changed()
    delivery.sweep()
    sending.send_due()
    sending.send_due()
    got = admin_mail(smtp_server, admins)
    assert [len(messages) for messages in got.values()] == [1, 1]
    for admin in admins:
        (message,) = got[admin.email]
        text = text_of(message)
        assert message["Content-Language"] == admin.language
        assert shown(settings.paused_reason, admin.language) in text and "401" in text
        assert f"{BASE}/admin/jira" in text and f'href="{BASE}/admin/jira"' in html_of(message)
        assert "a-token-jira-does-not-know" not in message.as_string()
    assert "Jira calls are paused" in text_of(got["ada@example.com"][0])
    assert "Jira çağrıları duraklatıldı" in text_of(got["mert@example.com"][0])
    # The admin saves another token, and Jira refuses that one too: a new pause, news again.
    values = {name: getattr(settings, name) for name in integration.SETTINGS_FIELDS}
    integration.save(settings, values, token="another-unknown-token")
    db.session.commit()
    sync.sync_changed()
    sending.send_due()
    assert [len(messages) for messages in admin_mail(smtp_server, admins).values()] == [2, 2]


def test_a_row_from_before_the_reason_still_tells_it_and_a_broken_row_stops_no_ones_mail(
        app, jira_on, admins, reporter, smtp_server, drain, shown):
    jira_on.fault("error", path="/rest/api/3/issue", method="POST", status=400)
    request = new_request(reporter)
    drain()
    # As the earlier code wrote it (no reason), and a row no message can be made of.
    db.session.execute(update(MailOutbox).where(MailOutbox.event == "failed").values(params={}))
    db.session.add(MailOutbox(key="broken", user_id=reporter.id, request_id=request.id, event="bogus", params={}))
    db.session.commit()
    sending.send_due()  # raises nothing
    reason = reload(request).last_error
    for admin in admins:
        (message,) = smtp_server.to(admin.email)
        assert shown(reason, admin.language) in text_of(message)
    (broken,) = db.session.scalars(select(MailOutbox).where(MailOutbox.key == "broken")).all()
    assert broken.state == "failed" and broken.last_error == "could not be composed: KeyError"
