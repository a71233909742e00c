"""Unit-level edge cases with ``responses``: odd bodies, redirects, Retry-After, URLs.

Every request the client sends here is also checked against the official spec.
"""
import io
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone

import pytest
import requests
import responses

from tests.jirasim import validate_prepared
from webapp.jira import (
    JiraAuthError,
    JiraClient,
    JiraError,
    JiraInvalidError,
    JiraRateLimitedError,
    JiraTransientError,
    normalize_base_url,
    parse_retry_after,
)
from webapp.jira.errors import error_from_response

BASE = "https://acme.atlassian.net"
TOKEN = "ATATT3xFfGF0-secret"


@pytest.fixture
def jira_mock():
    with responses.RequestsMock() as mock:
        yield mock
        for call in mock.calls:
            if call.request.url.startswith(BASE + "/rest/"):
                assert validate_prepared(call.request) == []


@pytest.fixture
def cloud():
    return JiraClient(BASE + "/", "bot@acme.example", TOKEN)


def test_401_plain_text_body(jira_mock, cloud):
    jira_mock.get(BASE + "/rest/api/3/myself", status=401, body="Unauthorized",
                  content_type="text/plain")
    with pytest.raises(JiraAuthError) as caught:
        cloud.myself()
    assert caught.value.jira_text() == "Unauthorized"


def test_401_json_message_body():
    err = error_from_response(401, {}, '{"message":"Client must be authenticated to access this '
                                       'resource.","status-code":401}')
    assert isinstance(err, JiraAuthError)
    assert "Client must be authenticated" in err.message()


def test_html_error_page_is_summarised(jira_mock, cloud):
    page = "<html><body>" + "<p>Oops</p>" * 10_000 + "</body></html>"
    jira_mock.get(BASE + "/rest/api/3/serverInfo", status=502, body=page, content_type="text/html")
    with pytest.raises(JiraTransientError) as caught:
        cloud.server_info()
    assert "(HTML error page)" in caught.value.message()
    assert "<p>" not in caught.value.message()


def test_long_messages_are_truncated():
    err = error_from_response(400, {}, '{"errorMessages":["' + "x" * 5000 + '"],"errors":{}}')
    assert isinstance(err, JiraInvalidError) and len(err.message()) < 600


def test_success_with_a_non_json_body(jira_mock, cloud):
    jira_mock.get(BASE + "/rest/api/3/myself", status=200, body="<html>login</html>",
                  content_type="text/html")
    with pytest.raises(JiraError) as caught:
        cloud.myself()
    assert "not JSON" in caught.value.message()


def test_429_with_http_date_retry_after(jira_mock, cloud):
    later = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
    jira_mock.get(BASE + "/rest/api/3/myself", status=429, headers={"Retry-After": later},
                  json={"errorMessages": ["Rate limit exceeded."], "errors": {}})
    with pytest.raises(JiraRateLimitedError) as caught:
        cloud.myself()
    assert 25 <= caught.value.retry_after <= 30


def test_without_retry_after_a_429_waits_until_x_ratelimit_reset():
    """Jira Cloud's X-RateLimit-Reset is an ISO 8601 minute, `yyyy-MM-ddTHH:mmZ`."""
    reset = (datetime.now(timezone.utc) + timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%MZ")
    headers = {"X-RateLimit-Reset": reset, "RateLimit-Reason": "jira-quota-tenant-based"}
    err = error_from_response(429, headers, "")
    assert isinstance(err, JiraRateLimitedError) and 60 <= err.retry_after <= 120
    assert (err.reason, err.scope) == ("jira-quota-tenant-based", "*")  # a quota holds back every call
    assert error_from_response(429, {"X-RateLimit-Reset": "soon"}, "").retry_after is None


@pytest.mark.parametrize("value, expected", [
    ("5", 5.0), (" 0.5 ", 0.5), ("-3", 0.0), ("", None), (None, None), ("soon", None),
    ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
])
def test_parse_retry_after(value, expected):
    assert parse_retry_after(value) == expected


def test_download_redirect_to_another_host_sends_no_credentials(jira_mock, cloud):
    media = "https://api.media.atlassian.com/file/abc/binary?token=t"
    jira_mock.get(BASE + "/rest/api/3/attachment/content/10001", status=303,
                  headers={"Location": media})
    jira_mock.get(media, body=b"file-bytes")
    out = io.BytesIO()
    assert cloud.download_attachment("10001", out) == 10
    assert out.getvalue() == b"file-bytes"
    first, second = jira_mock.calls
    assert first.request.headers["Authorization"].startswith("Basic ")
    assert "Authorization" not in second.request.headers


def test_download_redirect_on_the_same_host_keeps_credentials(jira_mock, cloud):
    jira_mock.get(BASE + "/rest/api/3/attachment/content/10001", status=303,
                  headers={"Location": "/rest/api/3/attachment/content/10001?redirect=false"})
    jira_mock.get(BASE + "/rest/api/3/attachment/content/10001?redirect=false", body=b"ok")
    out = io.BytesIO()
    cloud.download_attachment("10001", out)
    assert jira_mock.calls[1].request.headers["Authorization"].startswith("Basic ")


def test_data_center_sends_bearer_to_v2(jira_mock):
    client = JiraClient("https://jira.corp.example/jira/", "", "pat-123", deployment="datacenter")
    jira_mock.get("https://jira.corp.example/jira/rest/api/2/myself", json={"name": "bot"})
    client.myself()
    assert jira_mock.calls[0].request.headers["Authorization"] == "Bearer pat-123"


def test_every_call_has_a_timeout(monkeypatch, cloud):
    seen = []
    monkeypatch.setattr(cloud.session, "request",
                        lambda *a, **kw: seen.append(kw.get("timeout")) or (_ for _ in ()).throw(
                            requests.ConnectTimeout("boom")))
    with pytest.raises(JiraTransientError):
        cloud.myself()
    assert seen == [(5, 30)]


@pytest.mark.parametrize("pasted, expected", [
    ("https://acme.atlassian.net/", "https://acme.atlassian.net"),
    ("acme.atlassian.net", "https://acme.atlassian.net"),
    (" https://acme.atlassian.net/browse/SUP-12 ", "https://acme.atlassian.net"),
    ("https://acme.atlassian.net/rest/api/3/issue?x=1", "https://acme.atlassian.net"),
    ("https://acme.atlassian.net/jira/software/projects/SUP/boards/1", "https://acme.atlassian.net"),
    ("https://user:pw@acme.atlassian.net//", "https://acme.atlassian.net"),
    ("https://jira.corp.example:8443/jira/secure/Dashboard.jspa", "https://jira.corp.example:8443/jira"),
    ("http://127.0.0.1:8089", "http://127.0.0.1:8089"),
])
def test_normalize_base_url(pasted, expected):
    assert normalize_base_url(pasted) == expected


@pytest.mark.parametrize("bad", ["", "ftp://x.example", "https://"])
def test_normalize_base_url_rejects(bad):
    with pytest.raises(ValueError):
        normalize_base_url(bad)


def test_client_rejects_unknown_deployment():
    with pytest.raises(ValueError):
        JiraClient(BASE, "a", "b", deployment="server")
