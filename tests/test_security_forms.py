"""Security suite, category 1 (docs/security.md): hostile values through every form and
endpoint. Whatever arrives, the answer is a clear refusal or a correctly stored record; never
a 500 (`no_server_errors`), never half a record."""
import hashlib
import io
import json
import re
from datetime import datetime, timedelta
from urllib.parse import quote, urlsplit

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.hostile import attack, hostile_form, hostile_text
from webapp import crypto, storage, transitions
from webapp.extensions import db
from webapp.models import (ApiEndpoint, ApiProduct, Attachment, Category, JiraSettings, JiraStatus, Label,
                           LoginFailure, Reply, SetPasswordToken, StatusAction, SupportRequest, User, utcnow)

pytestmark = pytest.mark.usefixtures("no_server_errors")

HOOK_SECRET = "hostile-webhook-secret"


def first(value):
    """What a form field repeated several times means: its first value."""
    return value[0] if isinstance(value, list) else value


def answered(response, *statuses):
    """The status is one of `statuses`, or a clear 400: for a NUL character (which no
    database column can hold), or for a form's one-time key longer than any we hand out."""
    if response.status_code == 400:
        page = response.get_data(as_text=True)
        assert "contains a NUL character" in page or "What was sent can" in page
        return True
    return response.status_code in statuses


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def world(app, make_user):
    """A catalog, a user with a request and a file, the ids the routes take."""
    label = Label(name="Bug", position=1)
    category = Category(name="Billing", position=1)
    product = ApiProduct(name="Payments API", position=1)
    product.endpoints = [ApiEndpoint(method="POST", path="/payments", position=1)]
    status = JiraStatus(jira_id="10001", name="Waiting for customer", category="indeterminate",
                        name_en="Waiting for you", name_tr="Sizi bekliyor", waiting_for_customer=True)
    db.session.add_all([label, category, product, status])
    owner = make_user(email="owner@example.com")
    item = SupportRequest(reporter_id=owner.id, label="Bug", summary="s", description="d",
                          delivery_state="sent", jira_issue_id="10001", jira_key="SUP-1")
    db.session.add(item)
    db.session.commit()
    stored, size, digest = storage.store_stream(io.BytesIO(b"log line\n"))
    file = Attachment(request_id=item.id, original_name="a.log", content_type="text/plain", size=size,
                      sha256=digest, stored_name=stored)
    row = JiraSettings.get()
    row.webhook_secret_encrypted = crypto.encrypt(HOOK_SECRET)
    db.session.add(file)
    # A set-password link that works, so hostile values reach its form too.
    db.session.add(SetPasswordToken(user_id=owner.id, token_hash=hashlib.sha256(b"a-valid-token").hexdigest(),
                                    expires_at=utcnow() + timedelta(days=1)))
    db.session.commit()
    return dict(request_id=item.id, attachment_id=file.id, item_id=category.id, label_id=label.id,
                product_id=product.id, endpoint_id=product.endpoints[0].id, owner=owner,
                user_id=owner.id, token="a-valid-token", status_id=status.id)


@attack(100)
@given(data=st.data())
@example(data=None)  # the plain, valid form first
def test_the_resolve_form_stores_exactly_or_refuses(client, world, auth, tried, monkeypatch, data):
    tried("1 forms")
    monkeypatch.setattr(transitions, "enqueue", lambda *args, **kwargs: None)  # no worker: the row is the test
    settings = JiraSettings.get()
    settings.enabled, settings.resolve_transition = True, "Resolve"
    db.session.commit()
    auth.login(world["owner"].email)
    if data is None:
        form = {"note": " Works now. "}
    else:
        form = data.draw(hostile_form("note", "submission_key"))
        form.update(data.draw(st.fixed_dictionaries({}, optional={"note": hostile_text})))
    before = count(StatusAction)
    response = client.post(f"/requests/{world['request_id']}/resolve", data=form)
    assert answered(response, 303), form
    if count(StatusAction) > before:
        assert count(StatusAction) == before + 1
        action = db.session.scalar(select(StatusAction).order_by(StatusAction.id.desc()))
        assert action.note == (first(form.get("note")) or "").strip() and len(action.note) <= 32000
        assert (action.kind, action.author_id, action.request_id) == ("resolve", world["owner"].id, world["request_id"])
        page = client.get(f"/requests/{world['request_id']}").get_data(as_text=True)
        if "<" in action.note:
            assert action.note not in page  # shown escaped, never as markup
        db.session.delete(action)  # offered again for the next example
        db.session.commit()
    auth.logout()


@pytest.fixture
def user(make_user, auth):
    user = make_user(email="fuzz@example.com")
    auth.login(user.email)
    return user


TECHNICAL = ("environment", "application_id", "correlation_id", "http_status", "occurred_at")


def new_request_form():
    return hostile_form("label", "summary", "description", "category", "product", "endpoint",
                        "submission_key", "kept", "remove", "context", "time_zone", "leave_out_context",
                        *TECHNICAL)


REQUEST_FORM_FIXES = st.fixed_dictionaries({}, optional={
    "label": st.just("Bug"), "summary": hostile_text, "description": hostile_text,
    # The technical details, often valid: the admin's environments, the product's, numbers.
    "environment": st.sampled_from(["Production", " Sandbox ", "Live", "Nowhere", ""]),
    "application_id": st.one_of(hostile_text, st.just("a" * 200)), "correlation_id": hostile_text,
    "http_status": st.sampled_from(["502", " 404 ", "٣٤٥", "99", "600", "5e2", ""]),
    "occurred_at": st.sampled_from(["2026-12-01T09:58", "2026-02-30T10:00", "2026-12-01 09:58", ""])})


def expected_technical(form, item, world):
    """The details a stored request must hold: each asked field as given (stripped), in the
    shape the form keeps it; the environment one offered with the request's product."""
    expected = {}
    for key in ("environment", "application_id", "correlation_id"):
        value = (first(form.get(key)) or "").strip()
        if value:
            expected[key] = value
    if (first(form.get("http_status")) or "").strip():
        expected["http_status"] = str(int(first(form["http_status"])))
    occurred = (first(form.get("occurred_at")) or "").strip()
    if occurred:  # blank is not given, as for the fields above
        expected["occurred_at"] = datetime.strptime(occurred, "%Y-%m-%dT%H:%M")
    offered = {world["product_id"]: {"Live"}, None: {"Production", "Sandbox", "Live"}}
    if "environment" in expected:
        assert expected["environment"] in offered[item.product_id], (form, item.product_id)
    return expected


@attack(150)
@given(data=st.data())
@example(data=None)  # the plain, valid form first: the test's own check of itself
def test_the_new_request_form_stores_exactly_or_refuses(client, world, user, tried, data):
    tried("1 forms")
    ask_every_detail(world)
    if data is None:
        form = {"label": "Bug", "summary": " s ", "description": "d"}
    else:
        form = data.draw(new_request_form())
        form.update(data.draw(REQUEST_FORM_FIXES))  # often valid enough to be stored
    before = (count(SupportRequest), count(Attachment))
    response = client.post("/requests/new", data=form)
    assert answered(response, 200, 303), form
    if response.status_code == 303:
        item = db.session.scalar(select(SupportRequest).order_by(SupportRequest.id.desc()))
        if count(SupportRequest) == before[0]:  # an earlier request's submission key
            assert form.get("submission_key")
            return
        assert count(SupportRequest) == before[0] + 1
        assert response.headers["Location"].endswith(f"/requests/{item.id}")
        assert (item.label, item.summary, item.description) == (
            "Bug", first(form["summary"]).strip(), first(form["description"]).strip())
        assert item.reporter_id == user.id and 0 < len(item.summary) <= 255
        check_technical(form, item, world)
        page = client.get(f"/requests/{item.id}").get_data(as_text=True)
        if "<" in item.summary:
            assert item.summary not in page  # shown escaped, never as markup
    else:
        assert (count(SupportRequest), count(Attachment)) == before, "half stored"


def ask_every_detail(world):
    settings = JiraSettings.get()  # every technical detail asked; environments of both kinds
    settings.technical_fields, settings.environments, settings.environments_from = (
        list(TECHNICAL), "Production\nSandbox", "catalog")
    db.session.get(ApiProduct, world["product_id"]).catalog_environments = ["Live"]
    db.session.commit()


def check_technical(form, item, world):
    expected, technical = expected_technical(form, item, world), item.technical or {}
    occurred = expected.pop("occurred_at", None)
    assert {k: v for k, v in technical.items() if k != "occurred_at"} == expected, form
    if occurred:  # the moment as typed, then the browser's time zone (capped)
        assert technical["occurred_at"].startswith(f"{occurred:%Y-%m-%d %H:%M} (")
        assert len(technical["occurred_at"]) <= 120
    else:
        assert "occurred_at" not in technical
    assert all(len(value) <= 200 for value in technical.values())


@attack(150)
@given(data=st.data())
@example(data=None)
def test_the_technical_details_store_exactly_or_refuse(client, world, user, tried, data):
    """The request form otherwise valid: only the details (and the product they follow) vary."""
    tried("1 forms")
    ask_every_detail(world)
    form = {"label": "Bug", "summary": "s", "description": "d"}
    if data is None:
        form.update(environment="Live", product=str(world["product_id"]), http_status="502",
                    occurred_at="2026-12-01T09:58", application_id=" app-42 ", correlation_id="c" * 200)
    else:
        form.update(data.draw(hostile_form(*TECHNICAL, "time_zone")))
        form.update(data.draw(REQUEST_FORM_FIXES))
        form.update(data.draw(st.fixed_dictionaries({}, optional={
            "product": st.sampled_from([str(world["product_id"]), "", "0"]), "time_zone": hostile_text})))
        form.update(label="Bug", summary="s", description="d")
    before = count(SupportRequest)
    response = client.post("/requests/new", data=form)
    assert answered(response, 200, 303), form
    if response.status_code == 303:
        assert count(SupportRequest) == before + 1
        check_technical(form, db.session.scalar(select(SupportRequest).order_by(SupportRequest.id.desc())), world)
    else:
        assert count(SupportRequest) == before, "half stored"


@attack(100)
@given(data=st.data())
@example(data=None)  # the plain, valid form first
def test_the_reply_form_stores_exactly_or_refuses(client, world, auth, tried, data):
    tried("1 forms")
    auth.login(world["owner"].email)
    if data is None:
        form = {"body": " The ID is 4711. "}
    else:
        form = data.draw(hostile_form("body", "submission_key", "kept", "remove"))
        form.update(data.draw(st.fixed_dictionaries({}, optional={"body": hostile_text})))
    before = (count(Reply), count(Attachment))
    response = client.post(f"/requests/{world['request_id']}/reply", data=form)
    assert answered(response, 303, 422), form
    if response.status_code == 303 and count(Reply) > before[0]:
        assert count(Reply) == before[0] + 1
        reply = db.session.scalar(select(Reply).order_by(Reply.id.desc()))
        assert reply.body == first(form["body"]).strip() and reply.author_id == world["owner"].id
        assert reply.request_id == world["request_id"] and 0 < len(reply.body) <= 32000
        page = client.get(f"/requests/{world['request_id']}").get_data(as_text=True)
        if "<" in reply.body:
            assert reply.body not in page  # shown escaped, never as markup
    elif response.status_code == 303:
        assert form.get("submission_key")  # an earlier reply's key: that one, not a new one
    else:
        assert (count(Reply), count(Attachment)) == before, "half stored"
    auth.logout()


@attack(120)
@given(form=hostile_form("email", "password", "remember"), next_url=hostile_text)
def test_the_login_form_refuses_hostile_values(client, world, tried, form, next_url):
    tried("1 forms")
    response = client.post("/auth/login", query_string={"next": next_url}, data=form)
    assert answered(response, 200, 429)  # no hostile value is anyone's password
    assert client.get("/requests/").status_code == 302
    assert all(len(row) <= 254 for row in db.session.scalars(select(LoginFailure.email)))


@attack(60)
@given(form=hostile_form("language", "next"))
def test_the_language_switch_never_leaves_the_site(client, tried, form):
    tried("1 forms")
    response = client.post("/language", data=form)
    assert answered(response, 303)
    location = urlsplit(response.headers.get("Location", "/"))
    assert location.netloc in ("", "localhost") and not location.path.startswith("//")


@pytest.fixture
def sso_client(app_factory, oidc_provider):
    """A visitor of a portal that signs people in at the test OpenID provider."""
    app = app_factory(**oidc_provider.portal_settings())
    with app.app_context():
        yield app.test_client()


@attack(60)
@given(query=hostile_form("next", "code", "state", "error", "error_description", "iss"))
def test_the_sso_routes_take_hostile_query_strings(sso_client, oidc_provider, tried, query):
    tried("1 forms")
    started = sso_client.get("/auth/oidc/login", query_string=query)
    assert answered(started, 302)
    if started.status_code == 302:  # to the provider, and nowhere else
        assert started.headers["Location"].startswith(oidc_provider.issuer + "/")
    assert answered(sso_client.get("/auth/oidc/callback", query_string=query), 403)
    assert sso_client.get("/requests/").status_code == 302
    assert count(User) == 0


@attack(120)
@given(query=hostile_form("q", "key", "show", "status", "label", "category", "after", "product", "endpoint",
                          "back"))
def test_searches_and_query_strings_are_harmless(client, world, user, tried, query):
    tried("1 forms")
    for url in ("/requests/", "/requests/endpoints", f"/requests/{world['request_id']}"):
        response = client.get(url, query_string=query)
        assert answered(response, 200, 404), url
    page = client.get("/requests/", query_string=query).get_data(as_text=True)
    assert ">SUP-1<" not in page  # the owner's request, never in another user's search


@attack(120)
@given(form=hostile_form("deployment", "base_url", "description", "username", "api_token",
                         "clear_token", "project_key", "issue_type", "category_field_id",
                         "product_field_id", "endpoint_field_id", "technical_fields", "environments",
                         "environments_from"))
def test_the_jira_settings_store_only_valid_values(client, admin, world, tried, form):
    tried("1 forms")
    form["action"] = "save"  # "test" would call the URL: the URL-safety tests do that
    response = client.post("/admin/jira", data=form)
    assert answered(response, 200, 303)
    row = JiraSettings.get()
    if response.status_code == 303:
        assert re.fullmatch(r"https://[^/@\s]+(/\S*)?", row.base_url), row.base_url
        assert re.fullmatch(r"[A-Z][A-Z0-9_]*", row.project_key)
        assert row.deployment in ("cloud", "datacenter")
        assert row.environments_from in ("admin", "catalog") and len(row.environments) <= 5000
        assert set(row.technical_fields) <= set(TECHNICAL)


# Every other route, from the URL map: the admin's lists, the webhook, the metrics ------------

NAMES = ("name", "method", "path", "direction", "enabled", "published", "applies_to_all", "ids",
         "all", "state", "page", "product", "action", "language", "next", "spec", "name_en", "name_tr",
         "waiting", "show", "endpoint", "status", "url", "base_url", "api_token", "clear_token", "projects",
         "file", "context", "time_zone", "leave_out_context", "note", "resolve_transition",
         "reopen_transition", "reopen_days", "reply_transition", "environments_from")


def post_routes(app):
    return sorted((r for r in app.url_map.iter_rules() if "POST" in r.methods
                  and r.endpoint not in ("auth.login", "auth.logout", "hooks.jira_webhook",
                                         "support.new_request", "admin.jira_settings", "main.set_language")),
                  key=lambda r: r.rule)


def get_routes(app):
    return sorted((r for r in app.url_map.iter_rules() if "GET" in r.methods and r.endpoint != "static"),
                  key=lambda r: r.rule)


def fill(rule, ids, hostile):
    """The rule's path with its arguments: a real id, or a hostile value."""
    def value(match):
        name = match.group(1)
        return quote(str(hostile if hostile is not None else ids[name]), safe="")
    return re.sub(r"<(?:\w+:)?(\w+)>", value, rule.rule)


url_argument = st.one_of(st.none(), st.sampled_from(["0", "99999999999999999999", "2147483648",
                                                      "9223372036854775808", "-1", "²", "1.5"]),
                         hostile_text.filter(lambda t: "/" not in t))


@attack(250)
@given(data=st.data())
def test_every_admin_form_refuses_hostile_values(client, admin, world, tried, app, data):
    tried("1 forms")
    rule = data.draw(st.sampled_from(post_routes(app)))
    form = data.draw(hostile_form(*NAMES))
    if data.draw(st.booleans()):
        form["spec"] = (io.BytesIO(data.draw(hostile_spec)), data.draw(hostile_text) or "x")
    url = fill(rule, world, data.draw(url_argument))
    response = client.post(url, data=form, headers=data.draw(htmx_headers))
    assert answered(response, 200, 303, 404), (url, response.status_code)
    assert db.session.scalars(select(User.role)).all().count("admin") == 1


@attack(150)
@given(data=st.data())
def test_every_page_takes_hostile_query_strings_and_arguments(client, admin, world, tried, app, data):
    tried("1 forms")
    rule = data.draw(st.sampled_from(get_routes(app)))
    url = fill(rule, world, data.draw(url_argument))
    response = client.get(url, query_string=data.draw(hostile_form(*NAMES, "q", "after", "back")),
                          headers=data.draw(htmx_headers))
    assert answered(response, 200, 302, 303, 404), (url, response.status_code)


htmx_headers = st.fixed_dictionaries({}, optional={
    "HX-Request": st.just("true"), "HX-Target": hostile_text.filter(str.isprintable),
    "HX-Trigger": st.sampled_from(["request-filters", "x"]),
    "X-Portal-Embed": st.sampled_from(["1", "0", "é"]),
})

hostile_spec = st.one_of(
    st.binary(max_size=2000),
    st.sampled_from([
        b"[" * 100_000 + b"]" * 100_000,  # deeper than Python's recursion limit
        b"a: " + b"[" * 50_000,
        b"- &a [" + b"*a," * 1000 + b"]",
        b'{"paths": {"/x": {"get": {}}}, "basePath": "' + b"\\u0000" * 10 + b'"}',
        b'{"paths": []}', b'{"paths": {"/a": "get"}}', b"paths:\n  /a:\n    get: {}\n",
        b'{"openapi": "3.0.0", "servers": [{"url": 5}], "paths": {"5": {"GET": 1}}}',
        "paths: {'/ü\u202e': {get: {}}}".encode(),
    ]),
    st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=10),
                 lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                 max_leaves=30).map(lambda doc: json.dumps({"paths": doc}).encode()),
)
