"""Sessions that really end (issue 13, items 1 and 2): log-out, a password change, a
deactivation and an admin's "log out everywhere" revoke every session and remember-me cookie
issued before, on every process (a per-user session version carried in the session). The
session, and with it the CSRF token, is new at log-in and log-out."""
import re
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

import pytest

from tests.support import PASSWORD
from webapp.extensions import db
from webapp.models import User

CSRF = re.compile(r'"X-CSRFToken": "([^"]+)"')


def copy_of(client, app, *names):
    """A second browser holding copies of these cookies of `client`."""
    thief = app.test_client()
    for name in names:
        cookie = client.get_cookie(name)
        assert cookie is not None, f"no {name} cookie"
        thief.set_cookie(name, cookie.value)
    return thief


def logged_in(client):
    return client.get("/requests/").status_code == 200


@pytest.fixture
def user(make_user):
    return make_user(email="deniz@example.com")


@pytest.mark.parametrize("ending", ["log-out", "password change", "deactivation", "everywhere"])
def test_a_copied_session_cookie_stops_working(client, auth, app, user, admin_client, ending, runner):
    auth.login(user.email)
    thief = copy_of(client, app, "session")
    assert logged_in(thief)  # a copy works like the original, as cookies do
    if ending == "log-out":
        auth.logout()
    elif ending == "password change":
        runner.invoke(args=["users", "password", user.email, "--password", "a new password 1"])
    elif ending == "deactivation":
        runner.invoke(args=["users", "disable", user.email])
    else:
        assert admin_client.post(f"/admin/users/{user.id}/end-sessions").status_code == 303
    assert not logged_in(thief)
    assert thief.get("/requests/").headers["Location"].startswith("/auth/login")


@pytest.mark.parametrize("ending", ["log-out", "password change", "everywhere"])
def test_a_copied_remember_me_cookie_stops_working(client, auth, app, user, admin_client, ending, runner):
    auth.login(user.email, data_extra={"remember": "y"})
    thief = copy_of(client, app, "remember_token")  # no session cookie: remember-me alone
    assert logged_in(thief)
    if ending == "log-out":
        auth.logout()
    elif ending == "password change":
        runner.invoke(args=["users", "password", user.email, "--password", "a new password 1"])
    else:
        admin_client.post(f"/admin/users/{user.id}/end-sessions")
    assert not logged_in(copy_of(client, app, "remember_token") if ending != "log-out" else thief)


def test_the_remember_me_cookie_is_lax_httponly_and_lasts_what_the_operator_set(app_factory, make_user):
    for days in (None, 7):
        app = app_factory(**({"REMEMBER_COOKIE_DURATION": timedelta(days=days)} if days else {}))
        with app.app_context():
            make_user(email=f"r{days}@example.com")
            client = app.test_client()
            response = client.post("/auth/login", data={"email": f"r{days}@example.com",
                                                        "password": PASSWORD, "remember": "y"})
            cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("remember_token="))
            assert "SameSite=Lax" in cookie and "HttpOnly" in cookie
            expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", cookie).group(1))
            lasts = (expires - datetime.now(timezone.utc)).days
            assert lasts in ((days or 30) - 1, days or 30)


def test_log_in_and_log_out_rotate_the_session_and_its_csrf_token(client, auth, user):
    before = CSRF.search(client.get("/auth/login").get_data(as_text=True)).group(1)
    auth.login(user.email)
    during = CSRF.search(client.get("/requests/").get_data(as_text=True)).group(1)
    auth.logout()
    after = CSRF.search(client.get("/auth/login").get_data(as_text=True)).group(1)
    assert len({before, during, after}) == 3


def test_the_language_outlasts_the_rotation(client, auth, make_user):
    make_user(email="tr@example.com", language="tr")
    auth.login("tr@example.com")
    auth.logout()
    assert 'lang="tr"' in client.get("/auth/login", headers={"Accept-Language": "en"}).get_data(as_text=True)


def test_ending_sessions_is_audited_and_only_for_admins(client, auth, user, admin_client, make_user):
    from webapp.models import AuditLog
    assert admin_client.post(f"/admin/users/{user.id}/end-sessions").status_code == 303
    entry = db.session.query(AuditLog).order_by(AuditLog.id.desc()).first()
    assert entry.action == "users.sessions_ended" and entry.details == {"user": user.email}
    assert "deniz@example.com" in admin_client.get("/admin/audit").get_data(as_text=True)
    make_user(email="plain@example.com")
    auth.login("plain@example.com")
    assert client.post(f"/admin/users/{user.id}/end-sessions").status_code == 403


def test_a_session_from_before_this_version_is_logged_out(client, app, user):
    """Sessions that hold a bare user id (before session versions) no longer log anyone in."""
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True
    assert not logged_in(client)
    assert db.session.get(User, user.id).session_version >= 1


def test_nothing_a_logged_in_person_saw_is_kept_by_a_cache(client, auth, user):
    """Issue 13, item 6: Back after log-out showed earlier pages, the webhook secret too."""
    auth.login(user.email)
    page = client.get("/requests/")
    assert page.headers["Cache-Control"] == "no-store"
    assert '"historyCacheSize": 0' in page.get_data(as_text=True)  # htmx keeps no snapshots
    response = client.post("/auth/logout")
    assert response.headers["Clear-Site-Data"] == '"cache", "storage"'
    anonymous = client.get("/auth/login")
    assert "no-store" not in anonymous.headers.get("Cache-Control", "")
    assert "historyCacheSize" not in anonymous.get_data(as_text=True)
