"""Change your own password (issue 16, item 5): the one password rule, the current password
checked and throttled, every other session and remember-me cookie ended, this one kept."""
import re

import pytest

from tests.support import PASSWORD
from tests.test_sessions import copy_of, logged_in
from webapp.extensions import db
from webapp.models import AuditLog, User

NEW = "a brand new passphrase 7"


def change(client, current=PASSWORD, new=NEW, confirm=None):
    return client.post("/auth/password", data={"current_password": current, "new_password": new,
                                               "confirm": new if confirm is None else confirm})


@pytest.fixture
def user(make_user, auth):
    user = make_user(email="deniz@example.com")
    auth.login(user.email, data_extra={"remember": "y"})
    return user


def test_the_password_changes_and_only_the_new_one_logs_in(app, client, auth, user):
    response = change(client)
    assert response.status_code == 303 and response.headers["Location"] == "/auth/password"
    assert "Every other device is logged out" in client.get("/auth/password").get_data(as_text=True)
    assert logged_in(client)  # this browser goes on
    other = app.test_client()
    assert "not correct" in other.post("/auth/login", data={"email": user.email, "password": PASSWORD}).get_data(as_text=True)
    assert other.post("/auth/login", data={"email": user.email, "password": NEW}).status_code == 303
    entry = db.session.query(AuditLog).order_by(AuditLog.id.desc()).first()
    assert entry.action == "users.password_changed" and entry.details == {"user": user.email}


def test_other_sessions_and_remember_me_cookies_end(app, client, user):
    session_copy = copy_of(client, app, "session")
    remember_copy = copy_of(client, app, "remember_token")
    assert logged_in(session_copy) and logged_in(remember_copy)
    change(client)
    assert not logged_in(session_copy)
    assert not logged_in(remember_copy)
    assert logged_in(client)
    assert logged_in(copy_of(client, app, "remember_token"))  # this browser is remembered anew


def test_a_wrong_current_password_is_refused_and_throttled(app, client, user):
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        page = change(client, current="not my password").get_data(as_text=True)
        assert "This is not your current password." in page
    response = change(client)  # even the right one, now
    assert response.status_code == 429 and "Too many failed attempts" in response.get_data(as_text=True)
    assert db.session.get(User, user.id).check_password(PASSWORD)


@pytest.mark.parametrize("new, message", [
    ("short1", "at least 10 characters"),
    ("password123", "one of the most common"),
    ("deniz@example.com", "not your e-mail address"),
])
def test_a_weak_password_is_refused_with_the_reason(client, user, new, message):
    response = change(client, new=new)
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert db.session.get(User, user.id).check_password(PASSWORD)


def test_the_two_new_passwords_must_match(client, user):
    page = change(client, confirm=NEW + "x").get_data(as_text=True)
    assert "The two passwords are not the same." in page
    assert db.session.get(User, user.id).check_password(PASSWORD)


def test_the_refusal_is_in_turkish_for_a_turkish_user(client, auth, make_user):
    make_user(email="tr@example.com", language="tr")
    auth.login("tr@example.com")
    page = change(client, new="short1").get_data(as_text=True)
    assert "at least" not in page and 'lang="tr"' in page


def test_csrf_is_required(app_factory, make_user):
    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        make_user(email="c@example.com")
        client = app.test_client()
        page = client.get("/auth/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        client.post("/auth/login", data={"email": "c@example.com", "password": PASSWORD, "csrf_token": token})
        assert logged_in(client)
        assert change(client).status_code == 400
        assert db.session.scalar(db.select(User).where(User.email == "c@example.com")).check_password(PASSWORD)


def test_an_account_without_a_portal_password_is_told_where_it_is(client, auth, user):
    user.password_hash = User.NO_PASSWORD
    db.session.commit()
    page = client.get("/auth/password").get_data(as_text=True)
    assert "managed there" in page and "current_password" not in page
    assert "managed there" in change(client).get_data(as_text=True)
    assert db.session.get(User, user.id).password_hash == User.NO_PASSWORD


def test_the_header_links_to_it_and_anonymous_visitors_log_in_first(client, user, app):
    assert 'href="/auth/password"' in client.get("/requests/").get_data(as_text=True)
    assert app.test_client().get("/auth/password").headers["Location"].startswith("/auth/login")
