"""Administration → Users (issue 16, item 4): search and paging, how each account signs in,
admins made and unmade (never the last one), deactivation that ends sessions at once, local
accounts and password resets by one-time links; every change audited."""
import hashlib
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.support import PASSWORD
from tests.test_sessions import copy_of, logged_in
from webapp.extensions import db
from webapp.models import AuditLog, SetPasswordToken, User, utcnow

LINK = re.compile(r'value="(http://localhost/auth/set-password/[^"]+)"')
NEW = "a brand new passphrase 7"


def last_audit():
    return db.session.scalars(select(AuditLog).order_by(AuditLog.id.desc())).first()


def account(email):
    return db.session.scalar(select(User).where(User.email == email))


def create(client, email="new@example.com", name="New Person", admin=False):
    data = {"email": email, "display_name": name, **({"admin": "y"} if admin else {})}
    return client.post("/admin/users", data=data)


def link_of(response):
    return LINK.search(response.get_data(as_text=True)).group(1).replace("http://localhost", "")


def test_the_list_shows_each_account_and_how_it_signs_in(client, admin, make_user):
    sso = make_user(email="sso@example.com")
    sso.oidc_issuer, sso.oidc_subject, sso.password_hash = "https://id.example.com", "s1", User.NO_PASSWORD
    handed = make_user(email="framed@example.com", name="Framed One")
    handed.password_hash = User.NO_PASSWORD
    db.session.commit()
    page = client.get("/admin/users").get_data(as_text=True)
    assert "Single sign-on" in page and "Hand-over (or no password yet)" in page and ">Password<" in page
    assert "Framed One" in page and "admin@example.com" in page
    assert [sso.sign_in, handed.sign_in, admin.sign_in] == ["sso", "handover", "password"]


def test_search_and_paging(client, admin, make_user):
    for n in range(30):
        make_user(email=f"person{n:02d}@example.com", name=f"Person {n:02d}")
    make_user(email="zeynep@example.com", name="Zeynep 100%_")
    first = client.get("/admin/users").get_data(as_text=True)
    assert "Page 1 of 2" in first and "person00@example.com" in first and "zeynep@example.com" not in first
    second = client.get("/admin/users?page=2").get_data(as_text=True)
    assert "zeynep@example.com" in second and "person00@example.com" not in second
    found = client.get("/admin/users?q=ZEYNEP").get_data(as_text=True)
    assert "zeynep@example.com" in found and "person01@example.com" not in found
    assert "zeynep@example.com" in client.get("/admin/users?q=100%25_").get_data(as_text=True)
    assert "person01" not in client.get("/admin/users?q=%25").get_data(as_text=True)  # % is a character
    assert "No account matches." in client.get("/admin/users?q=nobody").get_data(as_text=True)
    assert client.get("/admin/users?page=x&q=" + "x" * 5000).status_code == 200


def test_make_and_unmake_admin_is_audited(client, admin, make_user):
    user = make_user(email="deniz@example.com")
    assert client.post(f"/admin/users/{user.id}/role", data={"admin": "1"}).status_code == 303
    assert account("deniz@example.com").is_admin
    assert (last_audit().action, last_audit().details) == ("users.made_admin", {"user": "deniz@example.com"})
    client.post(f"/admin/users/{user.id}/role", data={"admin": "0"})
    assert not account("deniz@example.com").is_admin and last_audit().action == "users.admin_unmade"


def test_the_last_admin_is_never_demoted_nor_deactivated(client, admin):
    for url, data in ((f"/admin/users/{admin.id}/role", {"admin": "0"}),
                      (f"/admin/users/{admin.id}/active", {"active": "0"})):
        response = client.post(url, data=data, follow_redirects=True)
        assert "is the last admin" in response.get_data(as_text=True)
    user = account("admin@example.com")
    assert user.is_admin and user.active and logged_in(client)


def test_with_another_admin_one_may_step_down(client, admin, make_user):
    make_user(email="other@example.com", admin=True)
    client.post(f"/admin/users/{admin.id}/role", data={"admin": "0"})
    assert not account("admin@example.com").is_admin
    assert client.get("/admin/users").status_code == 403


def test_deactivation_ends_a_copied_session_at_once_and_no_way_back(app, client, admin, make_user):
    user = make_user(email="deniz@example.com")
    other = app.test_client()
    other.post("/auth/login", data={"email": user.email, "password": PASSWORD, "remember": "y"})
    session_copy, remember_copy = copy_of(other, app, "session"), copy_of(other, app, "remember_token")
    assert logged_in(session_copy) and logged_in(remember_copy)
    assert client.post(f"/admin/users/{user.id}/active", data={"active": "0"}).status_code == 303
    assert not logged_in(other) and not logged_in(session_copy) and not logged_in(remember_copy)
    assert (last_audit().action, last_audit().details) == ("users.deactivated", {"user": user.email})
    assert "not correct" in other.post("/auth/login", data={"email": user.email, "password": PASSWORD}).get_data(as_text=True)
    link = link_of(client.post(f"/admin/users/{user.id}/password-link"))
    assert other.get(link).status_code == 404  # nor a set-password link
    client.post(f"/admin/users/{user.id}/active", data={"active": "1"})
    assert last_audit().action == "users.reactivated"
    assert other.post("/auth/login", data={"email": user.email, "password": PASSWORD}).status_code == 303


def test_a_new_account_sets_its_password_with_the_link_once(app, client, admin):
    response = create(client)
    assert response.status_code == 200
    link = link_of(response)
    user = account("new@example.com")
    assert user.sign_in == "handover" and not user.is_admin and not user.has_password
    assert [e.action for e in db.session.scalars(select(AuditLog).order_by(AuditLog.id)).all()][-1] == "users.created"
    token = link.rsplit("/", 1)[1]
    stored = db.session.scalar(select(SetPasswordToken).where(SetPasswordToken.user_id == user.id))
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in stored.token_hash
    assert "the portal keeps no copy" in response.get_data(as_text=True)
    assert 'value="new@example.com"' not in response.get_data(as_text=True)  # the form is empty again
    assert token not in client.get("/admin/users").get_data(as_text=True)  # shown once

    newcomer = app.test_client()
    assert "For the account new@example.com" in newcomer.get(link).get_data(as_text=True)
    weak = newcomer.post(link, data={"new_password": "password123", "confirm": "password123"})
    assert "one of the most common" in weak.get_data(as_text=True)
    done = newcomer.post(link, data={"new_password": NEW, "confirm": NEW})
    assert done.status_code == 303 and logged_in(newcomer)
    assert last_audit().action == "users.password_set"
    assert account("new@example.com").sign_in == "password"
    again = app.test_client().post(link, data={"new_password": NEW + "x", "confirm": NEW + "x"})
    assert again.status_code == 404 and "cannot be used" in again.get_data(as_text=True)
    fresh = app.test_client()
    assert fresh.post("/auth/login", data={"email": "new@example.com", "password": NEW}).status_code == 303


def test_a_reset_voids_the_older_link_and_ends_sessions_when_used(app, client, admin, make_user):
    user = make_user(email="deniz@example.com")
    older = link_of(client.post(f"/admin/users/{user.id}/password-link"))
    newer = link_of(client.post(f"/admin/users/{user.id}/password-link"))
    assert last_audit().action == "users.password_link_created"
    visitor = app.test_client()
    assert visitor.get(older).status_code == 404
    sessions = app.test_client()
    sessions.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    assert visitor.post(newer, data={"new_password": NEW, "confirm": NEW}).status_code == 303
    assert not logged_in(sessions) and logged_in(visitor)


def test_an_expired_or_unknown_link_gets_a_clear_page(app, client, admin, make_user):
    user = make_user(email="deniz@example.com")
    link = link_of(client.post(f"/admin/users/{user.id}/password-link"))
    stored = db.session.scalar(select(SetPasswordToken).where(SetPasswordToken.user_id == user.id))
    stored.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    for url in (link, "/auth/set-password/nothing-like-a-token"):
        response = app.test_client().post(url, data={"new_password": NEW, "confirm": NEW})
        assert response.status_code == 404 and "Ask an administrator" in response.get_data(as_text=True)
    assert account("deniz@example.com").check_password(PASSWORD)


def test_the_link_lasts_what_the_operator_set(app_factory, make_user):
    app = app_factory(SET_PASSWORD_LINK_HOURS=2)
    with app.app_context():
        make_user(email="root@example.com", admin=True)
        client = app.test_client()
        client.post("/auth/login", data={"email": "root@example.com", "password": PASSWORD})
        create(client)
        stored = db.session.scalar(select(SetPasswordToken))
        assert timedelta(minutes=119) < stored.expires_at - utcnow() <= timedelta(hours=2)


@pytest.mark.parametrize("email, name, message", [
    ("", "Someone", "This field is required."),
    ("not an address", "Someone", "Enter an e-mail address"),
    ("ADMIN@example.com", "Someone", "exists already"),
    ("someone@example.com", "", "This field is required."),
])
def test_a_new_account_needs_a_new_address_and_a_name(client, admin, email, name, message):
    response = create(client, email=email, name=name)
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count()).select_from(User)) == 1


def test_an_admin_made_account_can_be_an_admin(client, admin):
    create(client, email="boss@example.com", admin=True)
    assert account("boss@example.com").is_admin
    assert (last_audit().action, last_audit().details) == ("users.created", {"user": "boss@example.com", "role": "admin"})


def test_a_single_sign_on_account_gets_no_password_link(client, admin, make_user):
    user = make_user(email="sso@example.com")
    user.oidc_issuer, user.oidc_subject = "https://id.example.com", "s1"
    db.session.commit()
    page = client.post(f"/admin/users/{user.id}/password-link", follow_redirects=True).get_data(as_text=True)
    assert "managed there" in page and "/auth/set-password/" not in page
    assert db.session.scalar(select(SetPasswordToken)) is None


def test_the_audit_log_names_the_changes(client, admin, make_user):
    create(client)
    assert "Account created" in client.get("/admin/audit").get_data(as_text=True)


def test_csrf_is_required(app_factory, make_user):
    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        make_user(email="root@example.com", admin=True)
        client = app.test_client()
        page = client.get("/auth/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        client.post("/auth/login", data={"email": "root@example.com", "password": PASSWORD, "csrf_token": token})
        assert create(client).status_code == 400 and account("new@example.com") is None


def test_the_audit_log_pages_with_the_shared_pager(client, admin):
    from webapp import audit
    for n in range(51):
        audit.record("users.created", user=f"u{n}@example.com", role="user")
    db.session.commit()
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "Page 1 of 2" in page and 'href="/admin/audit?page=2">Older' in page
    assert 'href="/admin/audit?page=1">Newer' in client.get("/admin/audit?page=2").get_data(as_text=True)
