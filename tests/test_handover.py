"""The hand-over log-in (webapp/auth/handover.py): the framing site's back end signs a JWT for
its user, the browser posts it to /auth/handover, and the frame opens logged in."""
import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from datetime import timedelta

import jwt
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.hostile import attack, hostile_form, hostile_text
from tests.support import PASSWORD
from webapp.cli import create_user
from webapp.extensions import db
from webapp.models import AuditLog, UsedHandoverToken, User, utcnow

SECRET = "a-handover-secret-of-the-intranet-0123456789"
ISSUER = "https://intranet.example.com"
AUDIENCE = "https://support.example.com"
SETTINGS = {"HANDOVER_SECRET": SECRET, "HANDOVER_ISSUER": ISSUER, "PORTAL_BASE_URL": AUDIENCE}


def claims(**changes):
    now = int(time.time())
    values = {"iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 60, "jti": uuid.uuid4().hex,
              "email": "Deniz@Example.com", "name": "Deniz Yılmaz", "locale": "tr"}
    values.update(changes)
    return {key: value for key, value in values.items() if value is not None}


def signed(key=SECRET, algorithm="HS256", headers=None, **changes):
    return jwt.encode(claims(**changes), key, algorithm=algorithm, headers=headers)


@pytest.fixture
def app(app_factory):
    """The portal with the hand-over on, HS256."""
    app = app_factory(**SETTINGS)
    with app.app_context():
        yield app


@pytest.fixture
def portal(app_factory):
    """make(**settings): a portal with other hand-over settings (in its app context), and its client."""
    contexts = []

    def make(**settings):
        app = app_factory(**{**SETTINGS, **settings})
        contexts.append(app.app_context())
        contexts[-1].push()
        return app, app.test_client()

    yield make
    for context in reversed(contexts):
        context.pop()


def hand_over(client, token, **data):
    return client.post("/auth/handover", data={"token": token, **data})


def refusals():
    return [entry.details["reason"] for entry in db.session.scalars(
        select(AuditLog).where(AuditLog.action == "auth.handover_refused").order_by(AuditLog.id))]


def accounts():
    return db.session.scalar(select(func.count()).select_from(User))


def refused(response, reason, text):
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "Log-in from the other site refused" in page and text in page
    assert refusals()[-1] == reason
    return page


def test_a_signed_token_logs_the_user_in_and_creates_the_account(client):
    response = hand_over(client, signed())
    assert response.status_code == 303 and response.headers["Location"] == "/requests/"
    user = db.session.scalar(select(User).where(User.email == "deniz@example.com"))
    assert (user.display_name, user.language, user.role) == ("Deniz Yılmaz", "tr", "user")
    assert not user.check_password(PASSWORD) and not user.check_password("") and not user.check_password("!handover")
    page = client.get("/requests/").get_data(as_text=True)
    assert "Deniz Yılmaz" in page and "Destek" in page  # logged in, in Turkish
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "users.created_by_handover"))
    assert entry.details == {"user": "deniz@example.com"}


def test_the_second_arrival_logs_into_the_same_account(client, make_user, app):
    existing = make_user(email="deniz@example.com", name="Deniz")
    assert hand_over(client, signed()).status_code == 303
    assert hand_over(app.test_client(), signed(name="Someone Else")).status_code == 303
    assert accounts() == 1
    assert db.session.get(User, existing.id).display_name == "Deniz"
    assert "Deniz" in client.get("/requests/").get_data(as_text=True)


def test_a_deactivated_account_is_refused(client, make_user):
    user = make_user(email="deniz@example.com")
    user.set_active(False)
    db.session.commit()
    refused(hand_over(client, signed()), "deactivated", "This account is deactivated.")
    assert client.get("/requests/").status_code == 302


def test_the_groups_make_an_admin_and_take_it_back_each_change_audited(portal):
    _, client = portal(HANDOVER_ADMIN_GROUPS=["portal-admins"])
    create_user("root@example.com", "a long enough password", "Root", True)  # the last admin is never demoted
    assert hand_over(client, signed(groups=["staff", "portal-admins"])).status_code == 303
    deniz = db.session.scalar(select(User).where(User.email == "deniz@example.com"))
    assert deniz.role == "admin"
    assert client.get("/admin/").status_code == 200
    assert hand_over(client, signed(groups=["staff"])).status_code == 303
    db.session.expire_all()
    assert db.session.get(User, deniz.id).role == "user"
    assert hand_over(client, signed(groups=["staff"])).status_code == 303
    changes = [(entry.action, entry.details) for entry in db.session.scalars(
        select(AuditLog).where(AuditLog.action.like("users.admin_%")).order_by(AuditLog.id))]
    who = {"user_id": deniz.id, "email": "deniz@example.com", "by": "handover"}
    assert changes == [("users.admin_granted", who), ("users.admin_removed", who)]


def test_without_admin_groups_the_groups_change_no_role(client):
    assert hand_over(client, signed(groups=["portal-admins"])).status_code == 303
    assert db.session.scalar(select(User)).role == "user"


def test_the_session_id_is_new_and_the_language_and_layout_kept(portal):
    app, client = portal(EMBED_ORIGINS=["https://intranet.example.com"])
    client.post("/language", data={"language": "tr"})
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    assert hand_over(client, signed(locale=None)).status_code == 303
    with client.session_transaction() as session:
        assert "planted" not in session and session["embed"] is True and session["language"] == "tr"
        assert session["_user_id"].startswith(str(db.session.scalar(select(User)).id) + ":")


@pytest.mark.parametrize("target,location", [
    ("/requests/new?embed=1", "/requests/new?embed=1"),
    ("https://evil.example.com/", "/requests/"), ("//evil.example.com", "/requests/"),
    ("/\\evil.example.com", "/requests/"), ("javascript:alert(1)", "/requests/"),
    ("/requests/\r\nSet-Cookie: x=1", "/requests/"),
])
def test_next_is_a_path_in_the_portal_only(client, target, location):
    response = hand_over(client, signed(), next=target)
    assert response.status_code == 303 and response.headers["Location"] == location


def test_expired_tokens_are_refused(client):
    now = int(time.time())
    refused(hand_over(client, signed(iat=now - 100, exp=now - 30)), "expired", "The token has expired.")
    assert accounts() == 0


def test_a_token_valid_longer_than_120_seconds_is_refused(client):
    now = int(time.time())
    refused(hand_over(client, signed(iat=now, exp=now + 121)), "lifetime", "at most 120 seconds")
    assert hand_over(client, signed(iat=now, exp=now + 120)).status_code == 303


@pytest.mark.parametrize("claim", ["iat", "exp", "jti", "iss", "aud"])
def test_a_token_without_a_required_claim_is_refused(client, claim):
    refused(hand_over(client, signed(**{claim: None})), "missing_claim", "lacks a required claim")
    assert accounts() == 0


def test_a_token_issued_in_the_future_is_refused(client):
    now = int(time.time())
    refused(hand_over(client, signed(iat=now + 100, exp=now + 160)), "not_yet_valid", "in the future")


def test_a_token_is_used_once(client, app):
    token = signed()
    assert hand_over(client, token).status_code == 303
    refused(hand_over(app.test_client(), token), "replayed", "used already")


def test_of_two_replays_at_the_same_moment_one_passes(portal):
    app, _ = portal()
    token, answers, start = signed(), [], threading.Barrier(2)

    def send():
        client = app.test_client()
        start.wait()
        answers.append(hand_over(client, token).status_code)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [303, 403]
    assert db.session.scalar(select(func.count()).select_from(UsedHandoverToken)) == 1


def test_used_tokens_are_forgotten_once_expired(client):
    db.session.add(UsedHandoverToken(jti="old", expires_at=utcnow() - timedelta(minutes=5)))
    db.session.commit()
    token = signed()
    assert hand_over(client, token).status_code == 303
    assert [row.jti for row in db.session.scalars(select(UsedHandoverToken))] == [jwt.decode(
        token, options={"verify_signature": False})["jti"]]


def test_a_token_for_another_audience_is_refused(client):
    refused(hand_over(client, signed(aud="https://other.example.com")), "audience", "another audience")


def test_the_audience_can_be_set_apart_from_the_base_url(portal):
    _, client = portal(HANDOVER_AUDIENCE="support-portal")
    refused(hand_over(client, signed()), "audience", "another audience")
    assert hand_over(client, signed(aud="support-portal")).status_code == 303


def test_a_token_from_another_issuer_is_refused(client):
    refused(hand_over(client, signed(iss="https://evil.example.com")), "issuer", "another issuer")


def _b64(value):
    return base64.urlsafe_b64encode(value).rstrip(b"=").decode()


def by_hand(header, payload, hmac_key=None):
    """A token built without PyJWT, which refuses to build the hostile ones: HS256-signed with
    `hmac_key`, else with no signature."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    mac = hmac.new(hmac_key, signing_input.encode(), hashlib.sha256).digest() if hmac_key else b""
    return f"{signing_input}.{_b64(mac)}"


def test_alg_none_is_refused(client):
    refused(hand_over(client, by_hand({"alg": "none", "typ": "JWT"}, claims())), "algorithm", "algorithm")
    assert accounts() == 0


def test_a_tampered_payload_or_signature_is_refused(client):
    header, payload, signature = signed().split(".")
    other = signed(email="boss@example.com").split(".")[1]
    refused(hand_over(client, f"{header}.{other}.{signature}"), "signature", "signature does not match")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    refused(hand_over(client, f"{header}.{payload}.{flipped}"), "signature", "signature does not match")
    refused(hand_over(client, signed(key="another-secret-of-the-same-length-0123456789")), "signature", "")
    assert accounts() == 0


@pytest.mark.parametrize("token", ["", "not-a-token", "a.b.c", "e30.e30.e30"])
def test_garbage_is_refused(client, token):
    response = hand_over(client, token)
    assert response.status_code == 403 and accounts() == 0


def test_a_token_in_the_query_string_is_refused_even_with_one_in_the_body(client):
    token = signed()
    response = client.post(f"/auth/handover?token={token}", data={"token": signed()})
    refused(response, "in_url", "in the address")
    assert accounts() == 0
    assert client.post(f"/auth/handover?token={token}").status_code == 403


def test_get_is_not_allowed(client):
    assert client.get("/auth/handover?token=" + signed()).status_code == 405
    assert accounts() == 0


def test_without_any_handover_setting_the_route_is_off(app_factory):
    client = app_factory().test_client()
    assert client.post("/auth/handover", data={"token": signed()}).status_code == 404


@pytest.mark.parametrize("settings,message", [
    ({"HANDOVER_ISSUER": None}, "HANDOVER_ISSUER"),
    ({"PORTAL_BASE_URL": ""}, "HANDOVER_AUDIENCE"),
    ({"HANDOVER_SECRET": "short"}, "at least 32"),
    ({"HANDOVER_JWKS_URL": "file:///etc/passwd"}, "http(s)"),
    ({"HANDOVER_PUBLIC_KEY": "not a key"}, "."),
])
def test_a_misconfigured_handover_stops_start_up(app_factory, settings, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        app_factory(**{**SETTINGS, **settings})


def test_the_refusal_is_in_the_users_language(client):
    response = client.post("/auth/handover", data={"token": "x"}, headers={"Accept-Language": "tr"})
    assert response.status_code == 403
    assert "Diğer siteden oturum açma reddedildi" in response.get_data(as_text=True)


def test_neither_the_token_nor_the_secret_is_shown_stored_or_logged(client, caplog):
    caplog.set_level("DEBUG")
    pages = []
    for token in (signed(aud="https://other.example.com"), signed()):
        pages.append(hand_over(client, token).get_data(as_text=True))
        pages.append(client.get("/requests/").get_data(as_text=True))
        stored = json.dumps([entry.details for entry in db.session.scalars(select(AuditLog))])
        for secret in (token, token.split(".")[2], SECRET):
            assert secret not in stored and secret not in caplog.text
            assert all(secret not in page for page in pages)
    assert "hand-over refused: audience" in caplog.text


# CSRF: exempt, this route alone (the signed token is its proof); hostile values.

def test_the_handover_alone_is_exempt_from_csrf(portal):
    app, client = portal(WTF_CSRF_ENABLED=True)
    assert hand_over(client, signed()).status_code == 303
    csrf = app.extensions["csrf"]
    assert csrf._exempt_views == {"webapp.auth.routes.handover"}
    # Besides: Jira's signed webhooks, and the signed one-click unsubscribe of RFC 8058.
    assert {bp.name for bp in csrf._exempt_blueprints} == {"hooks", "mail"}
    assert app.test_client().post("/language", data={"language": "tr"}).status_code == 400


json_value = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                                    hostile_text),
                          lambda inner: st.lists(inner, max_size=3) | st.dictionaries(hostile_text, inner, max_size=3),
                          max_leaves=6)
crafted = st.builds(by_hand, st.fixed_dictionaries({"alg": st.sampled_from(["HS256", "none", "RS256", "ES256", "HS512"])},
                                                     optional={"kid": json_value, "typ": json_value}),
                    st.dictionaries(st.sampled_from(["iss", "aud", "iat", "exp", "jti", "email", "name", "groups"]),
                                    json_value))
# Validly signed, with any claim replaced by any JSON value.
signed_hostile = st.builds(lambda changes: by_hand({"alg": "HS256"}, claims(**changes), SECRET.encode()),
                           st.fixed_dictionaries({}, optional={name: json_value for name in (
                               "email", "name", "locale", "groups", "jti", "aud", "iss", "iat", "exp")}))


@pytest.mark.usefixtures("no_server_errors")
@attack(150)
@given(data=st.data())
def test_hostile_tokens_are_refused_without_an_error_or_an_account(client, tried, data):
    tried("1 forms")
    token = data.draw(st.one_of(hostile_text, crafted))
    form = data.draw(hostile_form("next"))
    response = client.post("/auth/handover", data={"token": token, **form})
    assert response.status_code in (400, 403), response.status_code
    assert accounts() == 0


@pytest.mark.usefixtures("no_server_errors")
@attack(100)
@given(data=st.data())
def test_hostile_claims_in_a_signed_token_never_fail_the_portal(app, tried, data):
    tried("1 forms")
    response = hand_over(app.test_client(), data.draw(signed_hostile), next=data.draw(hostile_text))
    assert response.status_code in (303, 400, 403), response.status_code
    if response.status_code == 303:
        assert response.headers["Location"].startswith("/") and not response.headers["Location"].startswith("//")
        assert all("@" in user.email and user.display_name for user in db.session.scalars(select(User)))


def test_admins_read_hand_overs_in_the_audit_log(client, make_user, app):
    hand_over(client, signed(aud="https://other.example.com"))
    hand_over(client, signed())
    make_user(email="root@example.com", admin=True)
    admin = app.test_client()
    admin.post("/auth/login", data={"email": "root@example.com", "password": PASSWORD})
    page = admin.get("/admin/audit").get_data(as_text=True)
    assert "Hand-over from the framing site refused" in page and "audience" in page
    assert "Account created by a hand-over from the framing site" in page and "deniz@example.com" in page
