"""Single sign-on against a real OpenID provider (tests/oidc/provider.mjs): accounts appear at
the first sign-in, link to local ones by verified e-mail, follow the admin groups; every
tampered or refused answer is a clear page and an audit entry, never a log-in."""
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from sqlalchemy import select

from tests.oidc.fixtures import ADMIN_GROUP, TEST_CLIENT_CALLBACK, free_port
from tests.oidc.flow import at_provider, audited, local, logged_in, refused_without_log_in, sign_in, users
from tests.support import PASSWORD
from webapp.extensions import db
from webapp.models import User

pytestmark = pytest.mark.usefixtures("no_server_errors")


@pytest.fixture
def sso_app(app_factory, oidc_provider):
    def make(**changes):
        app = app_factory(**oidc_provider.portal_settings(**changes))
        return app, app.test_client()
    return make


@pytest.fixture
def portal(sso_app):
    app, client = sso_app()
    with app.app_context():
        yield client


def test_first_sign_in_creates_the_account_from_the_claims(portal, oidc_provider):
    response = sign_in(portal, "newcomer")
    assert response.status_code == 303 and response.headers["Location"] == "/requests/"
    assert logged_in(portal)
    [user] = users()
    assert (user.email, user.display_name, user.language, user.role) == (
        "newcomer@example.com", "Nur Newcomer", "tr", "user")
    assert (user.oidc_issuer, user.oidc_subject) == (oidc_provider.issuer, "newcomer")
    assert not user.check_password(User.NO_PASSWORD) and not user.check_password("")
    assert audited("auth.sso.account_created") == [{"user_id": user.id, "email": "newcomer@example.com"}]


def test_later_sign_ins_find_the_account_by_subject(portal, oidc_provider):
    sign_in(portal, "newcomer")
    portal.post("/auth/logout")
    oidc_provider.accounts["newcomer"]["email"] = "renamed@example.com"
    oidc_provider.save()
    assert sign_in(portal, "newcomer").status_code == 303 and logged_in(portal)
    assert [u.email for u in users()] == ["newcomer@example.com"]


def test_an_sso_account_cannot_log_in_with_a_password(portal, auth):
    sign_in(portal, "newcomer")
    portal.post("/auth/logout")
    for password in (User.NO_PASSWORD, "", PASSWORD):
        portal.post("/auth/login", data={"email": "newcomer@example.com", "password": password})
        assert not logged_in(portal)


def test_an_existing_local_account_is_linked_not_duplicated(portal, make_user, oidc_provider):
    local_user = make_user(email="Newcomer@Example.com", name="Local Name")
    assert sign_in(portal, "newcomer").status_code == 303 and logged_in(portal)
    [user] = users()
    assert user.id == local_user.id and user.display_name == "Local Name"
    assert (user.oidc_issuer, user.oidc_subject) == (oidc_provider.issuer, "newcomer")
    assert user.check_password(PASSWORD)  # the password still works where local log-in is on
    assert audited("auth.sso.account_linked") == [{"user_id": user.id, "email": "newcomer@example.com"}]


def test_an_unverified_email_links_and_creates_nothing(portal, make_user):
    make_user(email="unverified@example.com")
    portal.environ_base["HTTP_ACCEPT_LANGUAGE"] = "tr"
    response = sign_in(portal, "unverified")
    assert response.status_code == 403
    assert "e-posta adresinizi doğrulamadı" in response.get_data(as_text=True)
    assert not logged_in(portal)
    [user] = users()
    assert user.oidc_subject is None
    assert audited("auth.sso.refused") == [{"reason": "unverified_email"}]


def test_a_disabled_account_cannot_sign_in(portal):
    sign_in(portal, "newcomer")
    portal.post("/auth/logout")
    users()[0].set_active(False)
    db.session.commit()
    response = sign_in(portal, "newcomer")
    assert response.status_code == 403 and "hesap devre dışı" in response.get_data(as_text=True)  # in her language
    assert not logged_in(portal)
    assert audited("auth.sso.refused") == [{"reason": "disabled"}]


def test_the_admin_role_follows_the_groups(sso_app, oidc_provider, make_user):
    app, client = sso_app(OIDC_ADMIN_GROUPS=[ADMIN_GROUP])
    with app.app_context():
        make_user(email="other-admin@example.com", admin=True)
        sign_in(client, "boss")
        boss = db.session.scalar(select(User).where(User.email == "boss@example.com"))
        assert boss.is_admin and client.get("/admin/").status_code == 200
        assert audited("users.admin_granted") == [{"user_id": boss.id, "email": boss.email, "by": "sso"}]
        audit_page = client.get("/admin/audit").get_data(as_text=True)
        for shown in ("Admin role granted (the groups of a single sign-on or hand-over)", "Account created at its first single sign-on",
                      "boss@example.com"):
            assert shown in audit_page

        client.post("/auth/logout")
        oidc_provider.accounts["boss"]["groups"] = ["staff"]
        oidc_provider.save()
        sign_in(client, "boss")
        db.session.refresh(boss)
        assert not boss.is_admin and client.get("/admin/").status_code == 403
        assert audited("users.admin_removed") == [{"user_id": boss.id, "email": boss.email, "by": "sso"}]


def test_the_last_admin_keeps_the_role(sso_app, oidc_provider):
    app, client = sso_app(OIDC_ADMIN_GROUPS=[ADMIN_GROUP])
    with app.app_context():
        sign_in(client, "boss")
        client.post("/auth/logout")
        oidc_provider.accounts["boss"]["groups"] = []
        oidc_provider.save()
        sign_in(client, "boss")
        [boss] = users()
        assert boss.is_admin
        assert audited("users.admin_removed") == []
        assert audited("users.last_admin_kept") == [{"user_id": boss.id, "email": boss.email, "by": "sso"}]


def test_without_admin_groups_roles_are_left_alone(portal, make_user):
    make_user(email="boss@example.com", admin=False)
    make_user(email="newcomer@example.com", admin=True)
    sign_in(portal, "boss")
    portal.post("/auth/logout")
    sign_in(portal, "newcomer")
    assert [u.role for u in users()] == ["user", "admin"]


def _started(client):
    started = client.get("/auth/oidc/login")
    return at_provider(started.headers["Location"], "newcomer")



def test_a_tampered_state_is_refused(portal):
    callback = urlsplit(_started(portal))
    query = dict(parse_qsl(callback.query), state="forged-state")
    response = portal.get(f"{callback.path}?{urlencode(query)}")
    refused_without_log_in(portal, response, "unverified:MismatchingStateError")


def test_a_tampered_nonce_is_refused(portal):
    callback = _started(portal)
    with portal.session_transaction() as session:
        [key] = [k for k in session if k.startswith("_state_oidc_")]
        stored = session[key]
        session[key] = {**stored, "data": {**stored["data"], "nonce": "another-nonce"}}
    refused_without_log_in(portal, portal.get(local(callback)), "unverified:InvalidClaimError")


def test_a_replayed_answer_is_refused(portal):
    callback = _started(portal)
    with portal.session_transaction() as session:
        saved = dict(session)
    assert portal.get(local(callback)).status_code == 303
    portal.post("/auth/logout")
    with portal.session_transaction() as session:
        session.update(saved)  # the same state and nonce again: the code is spent
    assert portal.get(local(callback)).status_code == 403
    assert not logged_in(portal)


def test_refusal_at_the_provider_is_a_clear_page(portal, oidc_provider):
    started = portal.get("/auth/oidc/login")
    import requests
    browser = requests.Session()
    interaction = browser.get(started.headers["Location"], timeout=10).url
    aborted = browser.get(interaction + "/abort", allow_redirects=False, timeout=10)
    while not aborted.headers["Location"].startswith("http://localhost/"):
        aborted = browser.get(aborted.headers["Location"], allow_redirects=False, timeout=10)
    response = portal.get(local(aborted.headers["Location"]))
    assert response.status_code == 403
    assert "cancelled or refused at your provider" in response.get_data(as_text=True)
    assert audited("auth.sso.refused") == [{"reason": "provider:access_denied"}]


def test_an_unreachable_provider_is_a_clear_page(app_factory, oidc_provider):
    app = app_factory(**oidc_provider.portal_settings(OIDC_ISSUER=f"http://127.0.0.1:{free_port()}"))
    client = app.test_client()
    response = client.get("/auth/oidc/login", headers={"Accept-Language": "tr"})
    assert response.status_code == 503
    assert "ulaşılamıyor" in response.get_data(as_text=True)


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example",
                                    "http:/evil.example", "/requests/\r\nSet-Cookie: x=1"])
def test_next_never_leaves_the_portal(portal, target):
    response = sign_in(portal, "newcomer", next_path=target)
    assert response.headers["Location"] == "/requests/"


def test_next_returns_to_the_page_asked_for(portal):
    assert sign_in(portal, "newcomer", next_path="/requests/new").headers["Location"] == "/requests/new"


def test_sign_in_starts_a_new_session(portal):
    with portal.session_transaction() as session:
        session["planted"] = "by someone before the log-in"
        session["csrf_token"] = "a token someone else knows"
    sign_in(portal, "newcomer")
    with portal.session_transaction() as session:
        assert "planted" not in session and session.get("csrf_token") != "a token someone else knows"
        assert "_user_id" in session and not any(k.startswith("_state_") for k in session)


def test_the_login_page_offers_the_provider(portal):
    page = portal.get("/auth/login?next=/requests/new").get_data(as_text=True)
    assert "Sign in with Test ID" in page and "/auth/oidc/login?next=/requests/new" in page
    assert 'name="password"' in page


def test_without_local_login_the_password_form_is_hidden_and_refused(sso_app, make_user):
    app, client = sso_app(LOCAL_LOGIN=False)
    with app.app_context():
        user = make_user(email="local@example.com")
        page = client.get("/auth/login").get_data(as_text=True)
        assert "Sign in with Test ID" in page and 'name="password"' not in page
        response = client.post("/auth/login", data={"email": user.email, "password": PASSWORD})
        assert response.status_code == 405 and not logged_in(client)
        assert sign_in(client, "newcomer").status_code == 303 and logged_in(client)


def test_without_sso_settings_nothing_changes(client, auth, make_user):
    page = client.get("/auth/login").get_data(as_text=True)
    assert "Sign in with" not in page and 'name="password"' in page
    assert client.get("/auth/oidc/login").status_code == 404
    assert client.get("/auth/oidc/callback?code=x&state=y").status_code == 404
    auth.login(make_user().email)
    assert logged_in(client)


def test_starting_again_keeps_one_attempt_in_the_session(portal):
    for _ in range(20):
        portal.get("/auth/oidc/login", query_string={"next": "/requests/" + "x" * 3000})
    with portal.session_transaction() as session:
        assert len([key for key in session if key.startswith("_state_oidc_")]) == 1
        assert session["sso_next"] is None  # too long to keep
    assert sign_in(portal, "newcomer").headers["Location"] == "/requests/"


def test_another_claim_may_say_the_email_is_verified(sso_app):
    app, client = sso_app()
    with app.app_context():
        assert sign_in(client, "entra").status_code == 403  # no email_verified: refused
    app, client = sso_app(OIDC_EMAIL_VERIFIED_CLAIM="xms_edov")
    with app.app_context():
        assert sign_in(client, "entra").status_code == 303 and logged_in(client)
        assert [u.email for u in users()] == ["entra@example.com"]


def test_a_token_from_another_issuer_than_configured_is_refused(app_factory, oidc_provider):
    # The same provider under another name: its discovery and tokens name 127.0.0.1.
    app = app_factory(**oidc_provider.portal_settings(
        OIDC_ISSUER=oidc_provider.issuer.replace("127.0.0.1", "localhost")))
    client = app.test_client()
    with app.app_context():
        refused_without_log_in(client, sign_in(client, "newcomer"), "unverified:InvalidClaimError")


def test_local_login_cannot_be_turned_off_without_single_sign_on(app_factory, make_user):
    app = app_factory(LOCAL_LOGIN=False)
    client = app.test_client()
    with app.app_context():
        user = make_user()
        assert 'name="password"' in client.get("/auth/login").get_data(as_text=True)
        client.post("/auth/login", data={"email": user.email, "password": PASSWORD})
        assert logged_in(client)


def test_a_provider_gone_before_the_callback_is_a_clear_page(app_factory, start_oidc_provider):
    provider = start_oidc_provider(TEST_CLIENT_CALLBACK)
    app = app_factory(**provider.portal_settings())
    client = app.test_client()
    with app.app_context():
        started = client.get("/auth/oidc/login")
        callback = at_provider(started.headers["Location"], "newcomer")
        provider.stop()  # the code can no longer be exchanged
        response = client.get(local(callback))
        assert response.status_code == 503 and "cannot be reached" in response.get_data(as_text=True)
        assert not logged_in(client) and users() == []
