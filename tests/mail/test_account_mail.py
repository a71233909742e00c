"""Account mail (set-password and reset links, "Forgot your password?"), preferences, mute,
and Administration → Outbox, through the real SMTP server."""
import re

import pytest
from sqlalchemy import select

from tests.support import PASSWORD
from webapp.extensions import db
from webapp.mail import sending
from webapp.models import MailOutbox, SupportRequest, User

NEW_PASSWORD = "a much better passphrase"


@pytest.fixture
def app(app_factory, smtp_server):
    app = app_factory(MAIL_GATHER_SECONDS=0, **smtp_server.settings)
    with app.app_context():
        yield app


def link_in(message):
    text = message.get_body(("plain",)).get_content()
    return re.search(r"(https?://\S+/auth/set-password/\S+)", text).group(1)


def test_a_reset_mail_lets_the_user_back_in(client, make_user, smtp_server, drain, auth):
    user = make_user(email="deniz@example.com", language="tr")
    page = client.get("/auth/login").get_data(as_text=True)
    assert "Forgot your password?" in page or "Parolanızı mı unuttunuz?" in page
    answer = client.post("/auth/forgot", data={"email": "Deniz@Example.com"})
    assert answer.status_code == 200
    drain()
    (message,) = smtp_server.to("deniz@example.com")
    assert message["Content-Language"] == "tr" and "List-Unsubscribe" not in message
    link = link_in(message)
    assert "72 saat" in message.get_body(("plain",)).get_content()
    assert db.session.scalar(select(MailOutbox.secret_encrypted)) is None  # sent: no copy kept
    path = link.split("localhost", 1)[1]
    assert client.get(path).status_code == 200
    done = client.post(path, data={"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 303
    assert client.get("/requests/").status_code == 200  # logged in
    auth.logout()
    assert auth.login(user.email, NEW_PASSWORD).status_code == 303
    assert client.get(path).status_code == 404  # single use


def test_forgot_answers_the_same_for_an_unknown_address_and_is_throttled(app, client, make_user, smtp_server, drain):
    make_user(email="known@example.com")
    known = client.post("/auth/forgot", data={"email": "known@example.com"}).get_data(as_text=True)
    unknown = client.post("/auth/forgot", data={"email": "nobody@example.com"}).get_data(as_text=True)
    strip = lambda page: re.sub(r'value="[^"]*"', "", page)  # noqa: E731
    assert strip(known) == strip(unknown)
    drain()
    assert len(smtp_server.messages) == 1
    for _ in range(app.config["LOGIN_MAX_FAILURES"] - 1):
        client.post("/auth/forgot", data={"email": "known@example.com"})
    assert client.post("/auth/forgot", data={"email": "known@example.com"}).status_code == 429
    drain()
    assert len(smtp_server.messages) == app.config["LOGIN_MAX_FAILURES"]


def test_without_smtp_the_log_in_page_offers_no_reset(app_factory):
    app = app_factory()
    with app.app_context():
        client = app.test_client()
        assert "/auth/forgot" not in client.get("/auth/login").get_data(as_text=True)
        assert client.get("/auth/forgot").status_code == 404


def test_an_admins_new_account_gets_its_set_password_link_by_mail(client, admin, smtp_server, drain):
    page = client.post("/admin/users", data={"email": "new@example.com", "display_name": "New Person"})
    assert page.status_code == 200 and "e-mailed" in page.get_data(as_text=True)
    drain()
    (message,) = smtp_server.to("new@example.com")
    shown = re.search(r'value="(http[^"]+/auth/set-password/[^"]+)"', page.get_data(as_text=True)).group(1)
    assert link_in(message) == shown


def test_preferences_and_mute(client, make_user, auth):
    user = make_user(email="u@example.com")
    auth.login(user.email)
    page = client.get("/auth/password").get_data(as_text=True)
    assert 'name="mail_preference"' in page
    assert client.post("/auth/mail-preferences", data={"mail_preference": "status"}).status_code == 303
    assert client.post("/auth/mail-preferences", data={"mail_preference": "spam"}).status_code == 200
    db.session.expire_all()
    assert db.session.get(User, user.id).mail_preference == "status"
    request = SupportRequest(reporter_id=user.id, label="Bug", summary="s", description="d")
    db.session.add(request)
    db.session.commit()
    assert "Mute this request" in client.get(f"/requests/{request.id}").get_data(as_text=True)
    assert client.post(f"/requests/{request.id}/mute", data={"muted": "1"}).status_code == 303
    db.session.expire_all()
    assert db.session.get(SupportRequest, request.id).mail_muted


def test_the_outbox_lists_failed_mail_with_its_reason_and_retries_it(client, admin, make_user, smtp_server, drain):
    client.post("/admin/users", data={"email": "refused@example.com", "display_name": "Refused"})
    drain()
    page = client.get("/admin/outbox").get_data(as_text=True)
    assert "550" in page and "No such mailbox" in page and "refused@example.com" in page
    row = db.session.scalar(select(MailOutbox))
    assert row.state == "failed" and row.secret_encrypted  # the link is kept for a Retry
    assert client.post("/admin/outbox/retry", data={"ids": [str(row.id)]}).status_code == 303
    # Sent again, refused again. Drained: a send left running past the test would find the
    # server gone, schedule itself, and take the next test's mail to this test's server.
    drain()
    retried = db.session.get(MailOutbox, row.id)
    assert retried.state == "failed" and retried.attempts == 1 and "550" in retried.last_error
