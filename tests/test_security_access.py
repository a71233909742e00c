"""Security suite, category 4 (docs/security.md): access control, enumerated over every route
of the URL map, so a new route is covered the day it is added (and fails here until it is
classified below). Anonymous → log-in; user → 403 on admin routes; user B → 404 on user A's
requests, files and comments; every state-changing route refuses a missing or wrong CSRF
token; the webhook refuses bad signatures; log-in throttling holds."""
import hashlib
import hmac
import io
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.hostile import attack
from tests.support import PASSWORD
from webapp import crypto, storage
from webapp.extensions import db
from webapp.models import (ApiEndpoint, ApiProduct, Attachment, Category, JiraComment, JiraSettings,
                           JiraStatus, Label, StatusAction, SupportRequest, utcnow)

pytestmark = pytest.mark.usefixtures("no_server_errors")

# Who may reach each route. A route missing here fails test_every_route_is_classified.
PUBLIC = "public"        # anyone: log-in page, health checks, language switch, static files
ANYONE_POST = "anyone"   # log-out: harmless for anyone
USER = "user"            # any logged-in user
OWNER = "owner"          # the request's reporter (and admins); others get 404
REPLIER = "replier"      # the request's reporter alone (a reply is theirs); others, admins too, get 404
ACTOR = "actor"          # the same for resolve and reopen (and their box's poll): the reporter alone; others 404
ADMIN = "admin"          # admins; users get 403
SIGNED = "signed"        # Jira, by HMAC signature (no session, no CSRF)
TOKEN = "token"          # /metrics: a bearer token when METRICS_TOKEN is set
HANDOVER = "handover"    # the framing site, by a signed JWT (no session, no CSRF); 404 when off
MAIL_LINK = "mail link"  # a signed link from a mail (unsubscribe, RFC 8058: no session, no CSRF); 404 otherwise
ACCESS = {
    "static": PUBLIC, "main.index": PUBLIC,  # a redirect to the list, which asks for a log-in
    "main.set_language": PUBLIC, "main.healthz": PUBLIC,
    "main.readyz": PUBLIC, "auth.login": PUBLIC, "auth.logout": ANYONE_POST, "metrics": TOKEN,
    "auth.sso_login": PUBLIC, "auth.sso_callback": PUBLIC,  # single sign-on: 404 unless configured
    "support.list_requests": USER, "support.endpoint_options": USER, "support.new_request": USER,
    "support.upload_file": USER, "support.context_box": USER,
    "support.detail": OWNER, "support.comments": OWNER, "support.delivery_state": OWNER,
    "support.download": OWNER, "support.attachments": OWNER, "hooks.jira_webhook": SIGNED,
    "support.reply": REPLIER, "support.resolve": ACTOR, "support.reopen": ACTOR,
    "support.status_actions": ACTOR,
    "auth.handover": HANDOVER, "auth.change_password": USER,
    "auth.set_password": PUBLIC,  # a one-time link: without a valid token only a "cannot be used" page
    "mail.unsubscribe_page": MAIL_LINK, "mail.unsubscribe_now": MAIL_LINK,
    "auth.forgot_password": PUBLIC,  # the same answer for any address; 404 without SMTP_HOST
    "auth.mail_preferences": USER, "support.mute": OWNER,
}
ADMIN_BLUEPRINT = "admin."  # every admin.* route is ADMIN, by the blueprint's before_request


def access_of(endpoint):
    if endpoint.startswith(ADMIN_BLUEPRINT):
        return ADMIN
    return ACCESS.get(endpoint)


def rules(app, *kinds):
    return [(rule, method) for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}) if access_of(rule.endpoint) in kinds]


def url_for_rule(rule, ids):
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(ids[m.group(1)]), rule.rule)


@pytest.fixture
def world(app, make_user):
    """User A's request with a file and a public comment, and one of everything admins manage."""
    owner = make_user(email="a@example.com")
    item = SupportRequest(reporter_id=owner.id, label="Bug", summary="A's secret summary", description="d",
                          delivery_state="sent", jira_key="SUP-77")
    label, category, product = Label(name="Bug"), Category(name="Billing"), ApiProduct(name="Payments")
    product.endpoints = [ApiEndpoint(path="/pay")]
    status = JiraStatus(jira_id="10001", name="Waiting for customer", category="indeterminate",
                        name_en="Waiting for you", name_tr="Sizi bekliyor", waiting_for_customer=True)
    db.session.add_all([item, label, category, product, status])
    db.session.commit()
    stored, size, digest = storage.store_stream(io.BytesIO(b"A's file\n"))
    file = Attachment(request_id=item.id, original_name="a.log", content_type="text/plain", size=size,
                      sha256=digest, stored_name=stored)
    db.session.add_all([file, JiraComment(request_id=item.id, jira_comment_id="1", author_name="Agent",
                                          body_html="<p>A's comment</p>", created_at=utcnow())])
    db.session.commit()
    return dict(owner=owner, request_id=item.id, attachment_id=file.id, item_id=category.id,
                product_id=product.id, endpoint_id=product.endpoints[0].id, label_id=label.id,
                filename="portal.css", user_id=owner.id, token="not-a-token", status_id=status.id)


def test_every_route_is_classified(app, tried):
    unclassified = sorted(rule.endpoint for rule in app.url_map.iter_rules() if access_of(rule.endpoint) is None)
    tried("4 access control", len(list(app.url_map.iter_rules())))
    assert unclassified == [], ("new routes: add each to ACCESS in tests/test_security_access.py "
                                "(and docs/security.md) with who may reach it")


def test_anonymous_visitors_are_sent_to_log_in(client, world, app, tried):
    for rule, method in rules(app, USER, OWNER, REPLIER, ACTOR, ADMIN):
        tried("4 access control")
        response = client.open(url_for_rule(rule, world), method=method)
        assert response.status_code == 302, (method, rule.rule, response.status_code)
        assert "/auth/login" in response.headers["Location"], rule.rule


def test_users_get_403_on_every_admin_route(client, world, app, auth, make_user, tried):
    user = make_user(email="b@example.com")
    auth.login(user.email)
    for rule, method in rules(app, ADMIN):
        tried("4 access control")
        response = client.open(url_for_rule(rule, world), method=method, data={"name": "x"})
        assert response.status_code == 403, (method, rule.rule, response.status_code)
    assert db.session.scalar(db.select(db.func.count()).select_from(Category)) == 1  # nothing changed


def test_another_user_gets_404_on_a_requests_pages_files_and_comments(client, world, app, auth, make_user, tried):
    auth.login(make_user(email="b@example.com").email)
    owned = rules(app, OWNER, REPLIER, ACTOR)
    assert len(owned) >= 4
    for rule, method in owned:
        tried("4 access control")
        response = client.open(url_for_rule(rule, world), method=method)
        assert response.status_code == 404, (method, rule.rule, response.status_code)
        assert "A&#39;s" not in response.get_data(as_text=True) and b"A's file" not in response.data
    for query in ("?q=secret", "?key=SUP-77", "?key=PR-", "?status=&label=Bug"):
        tried("4 access control")
        assert ">SUP-77<" not in client.get("/requests/" + query).get_data(as_text=True)


def test_the_owner_and_admins_do_reach_them(client, world, app, auth, make_user):
    reached = {"GET": 200, "POST": 303}  # a page; a change, then back to the page
    auth.login(world["owner"].email)
    for rule, method in rules(app, OWNER):
        assert client.open(url_for_rule(rule, world), method=method).status_code == reached[method], rule.rule
    auth.logout()
    auth.login(make_user(email="boss@example.com", admin=True).email)
    for rule, method in rules(app, OWNER):
        assert client.open(url_for_rule(rule, world), method=method).status_code == reached[method], rule.rule
    for rule, method in rules(app, REPLIER, ACTOR):  # an admin sees the request but does not act as its reporter
        assert client.open(url_for_rule(rule, world), method=method).status_code == 404, rule.rule


def test_the_reporter_reaches_the_reply_form_and_is_told_what_is_missing(client, world, app, auth):
    auth.login(world["owner"].email)
    replying = rules(app, REPLIER)
    assert replying
    for rule, method in replying:
        response = client.open(url_for_rule(rule, world), method=method)
        assert response.status_code == 422 and "This field is required." in response.get_data(as_text=True)


def test_the_reporter_is_told_when_resolve_or_reopen_is_not_offered(client, world, app, auth):
    """World's request is not in Jira and the integration passive: neither is offered."""
    auth.login(world["owner"].email)
    acting = [(rule, method) for rule, method in rules(app, ACTOR) if method == "POST"]
    assert len(acting) == 2
    for rule, method in acting:
        response = client.open(url_for_rule(rule, world), method=method)
        assert response.status_code == 303 and response.headers["Location"].endswith("#status-actions")
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert "can&#39;t be" in page, rule.rule
    assert db.session.scalar(db.select(db.func.count()).select_from(StatusAction)) == 0
    for rule, method in rules(app, ACTOR):
        if method == "GET":  # the box's poll: nothing on its way, nothing offered
            response = client.open(url_for_rule(rule, world), method=method)
            assert response.status_code == 200 and "<form" not in response.get_data(as_text=True)


@pytest.fixture
def csrf_app(app_factory):
    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        yield app


def csrf_token(client):
    page = client.get("/auth/login").get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


@pytest.mark.parametrize("token", [None, "", "not-a-token", "forged.token.value"])
def test_every_state_changing_route_refuses_a_missing_or_wrong_csrf_token(csrf_app, make_user, world, tried, token):
    client = csrf_app.test_client()
    make_user(email="boss@example.com", admin=True)
    good = csrf_token(client)
    assert client.post("/auth/login", data={"email": "boss@example.com", "password": PASSWORD,
                                            "csrf_token": good}).status_code == 303
    changing = [(rule, method) for rule in csrf_app.url_map.iter_rules()
                for method in rule.methods - {"GET", "HEAD", "OPTIONS"} if access_of(rule.endpoint) not in (SIGNED, HANDOVER, MAIL_LINK)]
    assert len(changing) >= 20
    for rule, method in changing:
        tried("4 access control")
        data = {"name": "x", "summary": "s", "description": "d", "label": "Bug", "enabled": "1"}
        headers = {}
        if token is not None:
            data["csrf_token"] = token
            headers["X-CSRFToken"] = token
        response = client.open(url_for_rule(rule, world), method=method, data=data, headers=headers)
        assert response.status_code == 400, (method, rule.rule, response.status_code)
        assert "Reload the page and send it again." in response.get_data(as_text=True)
    assert not JiraSettings.get().enabled and db.session.scalar(
        db.select(db.func.count()).select_from(SupportRequest)) == 1


def test_mail_links_refuse_a_forged_or_altered_token(app, client, world, tried):
    from webapp.mail.unsubscribe import unsubscribe_url
    app.config["PORTAL_BASE_URL"] = "https://portal.example.com"
    genuine = unsubscribe_url(world["owner"], "updates").rpartition("/")[2]
    payload, _, signature = genuine.partition(".")
    other = unsubscribe_url(type(world["owner"])(id=world["owner"].id + 1), "updates").rpartition("/")[2]
    for token in ("not-a-token", payload + ".", payload + "." + signature[::-1], other.partition(".")[0] + "." + signature,
                  genuine + "x"):
        for rule, method in rules(app, MAIL_LINK):
            tried("4 access control")
            response = client.open(url_for_rule(rule, {**world, "token": token}), method=method)
            assert response.status_code == 404, (method, rule.rule, token)
    db.session.expire_all()
    assert world["owner"].mail_preference == "all"


HOOK_SECRET = "access-webhook-secret"


def signed(body, secret=HOOK_SECRET, algorithm="sha256"):
    return f"{algorithm}=" + hmac.new(secret.encode(), body, getattr(hashlib, algorithm)).hexdigest()


def test_the_webhook_refuses_bad_signatures(client, world, tried, monkeypatch):
    monkeypatch.setattr("webapp.hooks.routes.enqueue", lambda *args, **kwargs: None)
    body = b'{"webhookEvent": "jira:issue_updated", "issue": {"id": "1"}}'
    assert client.post("/hooks/jira", data=body, headers={"X-Hub-Signature": signed(body)}).status_code == 401
    JiraSettings.get().webhook_secret_encrypted = crypto.encrypt(HOOK_SECRET)
    db.session.commit()
    bad = [None, "", "sha256=", signed(body, "wrong secret"), signed(body + b" "), signed(body, algorithm="sha1"),
           signed(body, algorithm="sha512"), signed(body).upper().replace("SHA256", "md5"), "sha256=" + "0" * 64,
           signed(body)[:-1], signed(body) + "0", "sha256=" + signed(body)[7:].replace("a", "b")]
    for header in bad:
        tried("4 access control")
        headers = {} if header is None else {"X-Hub-Signature": header}
        assert client.post("/hooks/jira", data=body, headers=headers).status_code == 401, header
    assert client.post("/hooks/jira", data=body, headers={"X-Hub-Signature": signed(body)}).status_code == 204


@attack(40)
@given(variant=st.sampled_from(["victim@example.com", "VICTIM@example.com", " victim@example.com ",
                                "Victim@Example.COM", "victim@EXAMPLE.com\t"]),
       forwarded=st.one_of(st.none(), st.ip_addresses().map(str)))
def test_log_in_throttling_holds_whatever_the_spelling_or_forwarded_address(app, client, make_user, tried,
                                                                             variant, forwarded):
    tried("4 access control")
    if not db.session.scalar(db.select(db.func.count()).select_from(db.text("users"))):
        make_user(email="victim@example.com")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        client.post("/auth/login", data={"email": "victim@example.com", "password": "guess"})
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    response = client.post("/auth/login", data={"email": variant, "password": PASSWORD}, headers=headers)
    assert response.status_code == 429
    assert client.get("/requests/").status_code == 302  # still not logged in


def test_one_address_spraying_many_accounts_is_throttled(app, client, make_user, tried):
    make_user(email="target@example.com")
    limit = app.config["LOGIN_MAX_FAILURES"] * 4
    for n in range(limit):
        tried("4 access control")
        client.post("/auth/login", data={"email": f"guess{n}@example.com", "password": "guess"},
                    headers={"X-Forwarded-For": f"10.0.0.{n}"})
    assert client.post("/auth/login", data={"email": "target@example.com", "password": PASSWORD}).status_code == 429


def test_metrics_need_the_token_when_one_is_set(app, client, tried):
    app.config["METRICS_TOKEN"] = "metrics-token"
    for header in (None, "", "Bearer", "Bearer wrong", "bearer metrics-token", "Basic metrics-token",
                   "Bearer metrics-token "):
        tried("4 access control")
        assert client.get("/metrics", headers={"Authorization": header} if header is not None else {}
                          ).status_code == 401, header
    assert client.get("/metrics", headers={"Authorization": "Bearer metrics-token"}).status_code == 200
