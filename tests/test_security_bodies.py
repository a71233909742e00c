"""Security suite, category 1 (docs/security.md), continued: bodies that are no form at all —
Jira's webhook with any body and signature, /metrics with any Authorization header, and raw
bodies posted to the request form. Never a 500, never a stored record."""
import hashlib
import hmac
import json

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.hostile import attack, hostile_text
from tests.test_security_forms import HOOK_SECRET, count, user, world  # noqa: F401 (fixtures)
from webapp.models import SupportRequest

pytestmark = pytest.mark.usefixtures("no_server_errors")


def sign(body):
    return "sha256=" + hmac.new(HOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()


json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | hostile_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(hostile_text, inner, max_size=4),
    max_leaves=20)
webhook_body = st.one_of(
    st.binary(max_size=500),
    json_value.map(lambda value: json.dumps(value).encode()),
    st.fixed_dictionaries({"webhookEvent": st.sampled_from(["jira:issue_updated", "comment_created", "x"])},
                          optional={"issue": json_value, "timestamp": json_value}).map(
        lambda value: json.dumps(value).encode()),
    st.sampled_from([b"[" * 200_000, b'{"webhookEvent": "jira:issue_updated", "issue": {"id": "1' + b"0" * 5000 + b'"}}']),
)
signature = st.one_of(st.none(), st.text(st.characters(max_codepoint=255, exclude_characters="\r\n"), max_size=80),
                      st.sampled_from(["sha256=", "sha1=abc", "sha256=é", "SHA256=" + "0" * 64]))


@attack(150)
@given(body=webhook_body, signed=st.booleans(), header=signature)
def test_the_webhook_takes_any_body_signed_or_not(client, world, tried, monkeypatch, body, signed, header):
    tried("1 forms")
    monkeypatch.setattr("webapp.hooks.routes.enqueue", lambda *args, **kwargs: None)
    headers = {"Content-Type": "application/json"}
    if signed or header is not None:
        headers["X-Hub-Signature"] = sign(body) if signed else header
    response = client.post("/hooks/jira", data=body, headers=headers)
    assert response.status_code in ((204, 400) if signed else (401,)), response.status_code


@attack(60)
@given(header=st.one_of(st.none(), st.text(st.characters(max_codepoint=255, exclude_characters="\r\n"),
                                            max_size=60)))
def test_metrics_take_any_authorization_header(client, app, tried, header):
    tried("1 forms")
    app.config["METRICS_TOKEN"] = "metrics-token"
    response = client.get("/metrics", headers={"Authorization": header} if header is not None else {})
    assert response.status_code == 401


@attack(60)
@given(body=st.binary(max_size=3000), kind=st.sampled_from([
    "application/x-www-form-urlencoded", "multipart/form-data; boundary=xyz",
    "multipart/form-data", "text/plain", "application/json"]))
@example(body=b"0", kind="application/json")  # JSON that is no object: once a 500 inside Flask-WTF
def test_raw_bodies_that_are_no_form_at_all(client, world, user, tried, body, kind):
    tried("1 forms")
    before = count(SupportRequest)
    response = client.post("/requests/new", data=body, headers={"Content-Type": kind})
    assert response.status_code in (200, 400, 413)
    assert count(SupportRequest) == before
