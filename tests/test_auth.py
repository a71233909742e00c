import pytest

from tests.support import PASSWORD
from webapp.auth.routes import safe_next
from webapp.extensions import db
from webapp.models import LoginFailure


def test_login_page_renders(client):
    response = client.get("/auth/login")
    assert response.status_code == 200
    assert b'name="email"' in response.data and b'name="password"' in response.data


def test_anonymous_visitors_are_sent_to_login(client):
    for path in ("/", "/requests/", "/admin/"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 302
        target = response.headers["Location"]
        assert "/auth/login" in target or target == "/requests/"


def test_login_then_logout(client, auth, make_user):
    user = make_user(email="Ayse@Example.com", name="Ayşe")
    response = auth.login("  ayse@example.COM ")
    assert response.status_code == 303 and response.headers["Location"] == "/requests/"
    page = client.get("/requests/")
    assert page.status_code == 200 and "Ayşe".encode() in page.data
    assert db.session.get(type(user), user.id).last_login_at is not None
    response = auth.logout()
    assert response.status_code == 303
    assert client.get("/requests/").status_code == 302


def test_login_returns_to_the_page_asked_for(client, auth, make_user):
    make_user(email="a@example.com")
    response = auth.login("a@example.com", query_string={"next": "/requests/?q=x"})
    assert response.headers["Location"] == "/requests/?q=x"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example",
                                    "javascript:alert(1)", "requests"])
def test_next_never_leaves_the_site(target):
    assert safe_next(target) is None


def test_wrong_password_says_so_and_keeps_the_email(client, auth, make_user):
    make_user(email="a@example.com")
    response = auth.login("a@example.com", "wrong password")
    assert response.status_code == 200
    assert b"The e-mail or password is not correct." in response.data
    assert b'value="a@example.com"' in response.data


def test_required_fields_are_marked(client):
    response = client.post("/auth/login", data={})
    assert response.data.count(b"This field is required.") == 2
    assert b'aria-invalid="true"' in response.data


def test_repeated_failures_are_throttled_even_with_the_right_password(client, auth, make_user, app):
    make_user(email="a@example.com")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        auth.login("a@example.com", "guess")
    response = auth.login("a@example.com")
    assert response.status_code == 429
    assert b"Too many failed attempts. Try again in 15 minutes." in response.data
    assert client.get("/requests/").status_code == 302  # not logged in


def test_throttling_also_covers_unknown_accounts(auth, app):
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        auth.login("nobody@example.com", "guess")
    assert auth.login("nobody@example.com", "guess").status_code == 429


def test_one_address_cannot_spray_many_accounts(auth, app, make_user):
    make_user(email="target@example.com")
    limit = app.config["LOGIN_MAX_FAILURES"] * 4
    for i in range(limit):
        auth.login(f"guess{i}@example.com", "guess")
    assert auth.login("target@example.com").status_code == 429


def test_success_clears_earlier_failures(auth, make_user, app):
    make_user(email="a@example.com")
    auth.login("a@example.com", "typo")
    auth.login("a@example.com")
    assert LoginFailure.query.filter_by(email="a@example.com").count() == 0


def test_disabled_accounts_cannot_log_in(auth, make_user):
    user = make_user(email="gone@example.com")
    user.active = False
    db.session.commit()
    assert b"not correct" in auth.login("gone@example.com").data


def test_users_get_403_on_admin_pages(client, auth, make_user):
    make_user(email="u@example.com")
    auth.login("u@example.com")
    response = client.get("/admin/")
    assert response.status_code == 403
    assert b"This page is for administrators only." in response.data


def test_admins_see_the_admin_area(client, auth, make_user):
    make_user(email="boss@example.com", admin=True)
    auth.login("boss@example.com")
    page = client.get("/admin/")
    assert page.status_code == 200
    assert b"Passive" in page.data and b"boss@example.com" in page.data


def test_navigation_shows_admin_only_to_admins(client, auth, make_user):
    make_user(email="u@example.com")
    auth.login("u@example.com")
    page = client.get("/requests/").data
    assert b'href="/requests/"' in page and b'href="/admin/"' not in page


def test_csrf_is_required_for_posts(app_factory, make_user):
    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        response = app.test_client().post("/auth/login", data={"email": "a@example.com", "password": "x"})
    assert response.status_code == 400
    assert b"Reload the page and send it again." in response.data


def test_htmx_requests_carry_the_csrf_token(client):
    page = client.get("/auth/login").data.decode()
    assert 'hx-headers=\'{"X-CSRFToken": "' in page


def test_turkish_from_the_browser(client):
    page = client.get("/auth/login", headers={"Accept-Language": "tr-TR,tr;q=0.9,en;q=0.5"})
    assert 'lang="tr"' in page.data.decode()
    assert "Giriş yap" in page.data.decode()


def test_language_switch_is_remembered_on_the_account(client, auth, make_user):
    user = make_user(email="u@example.com")
    auth.login("u@example.com")
    response = client.post("/language", data={"language": "tr", "next": "/requests/"})
    assert response.status_code == 303 and response.headers["Location"] == "/requests/"
    assert db.session.get(type(user), user.id).language == "tr"
    assert "Destek Talepleri" in client.get("/requests/", headers={"Accept-Language": "en"}).data.decode()


def test_language_switch_for_visitors_uses_the_session(client):
    client.post("/language", data={"language": "tr", "next": "https://evil.example/"})
    page = client.get("/auth/login", headers={"Accept-Language": "en"}).data.decode()
    assert 'lang="tr"' in page


def test_failures_from_one_address_do_not_lock_the_account_for_its_owner(app_factory, make_user):
    """Issue 13, item 10: five anonymous failures locked anyone's account for 15 minutes.
    The source is locked, not the account."""
    app = app_factory()
    with app.app_context():
        make_user(email="victim@example.com")
        attacker, owner = app.test_client(), app.test_client()
        for _ in range(app.config["LOGIN_MAX_FAILURES"]):
            attacker.post("/auth/login", data={"email": "victim@example.com", "password": "guess"},
                          environ_base={"REMOTE_ADDR": "203.0.113.5"})
        assert attacker.post("/auth/login", data={"email": "victim@example.com", "password": "guess"},
                             environ_base={"REMOTE_ADDR": "203.0.113.5"}).status_code == 429
        response = owner.post("/auth/login", data={"email": "victim@example.com", "password": PASSWORD},
                              environ_base={"REMOTE_ADDR": "198.51.100.7"})
        assert response.status_code == 303


def test_passwords_are_stored_with_scrypt_outside_the_suite(app_factory):
    # The suite's cheap hash (TestConfig) must not be what a deployment gets.
    from webapp.config import Config
    app = app_factory(PASSWORD_HASH_METHOD=Config.PASSWORD_HASH_METHOD)
    with app.app_context():
        from webapp.cli import create_user
        user = create_user("strong@example.com", PASSWORD, None, False)
        assert user.password_hash.startswith("scrypt:32768:8:1$")
        assert user.check_password(PASSWORD) and not user.check_password(PASSWORD + "x")
