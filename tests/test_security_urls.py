"""Security suite, category 6 (docs/security.md): the Jira URL. Non-http(s) schemes and
credentials in the URL are refused; JIRA_ALLOWED_HOSTS, when set, is the only place the portal
calls (and follows Jira's redirects to), checked where the URL is accepted and before any call."""
import io
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.hostile import attack, hostile_text
from tests.jirasim import PORTAL_EMAIL, PORTAL_TOKEN
from webapp import delivery, sync
from webapp.admin.jira_settings import run_checks
from webapp.extensions import db
from webapp.jira import JiraClient
from webapp.jira.errors import JiraHostNotAllowedError
from webapp.jira.urls import host_allowed
from webapp.models import JiraSettings, SupportRequest

pytestmark = pytest.mark.usefixtures("no_server_errors")

ALLOWED = ["*.atlassian.net", "jira.intranet.example:8443"]
SCHEMES = ["https", "http", "javascript", "file", "ftp", "gopher", "dict", "ldap", "data", "jar", "HTTPS", ""]
HOSTS = ["acme.atlassian.net", "atlassian.net", "acme.atlassian.net.evil.com", "evil.com", "127.0.0.1",
         "169.254.169.254", "[::1]", "localhost", "jira.intranet.example", "jira.intranet.example:8443",
         "acme.atlassian.net:443", "xn--80ak6aa92e.com", "аtlassian.net", "acme.atlassian.net.", "0x7f000001"]
TRICKS = ["", "user:pass@", "acme.atlassian.net@", "user@", ":@", "a%40b:c@"]
SUFFIXES = ["", "/", "/jira", "/browse/SUP-1", "#@evil.com", "?next=//evil.com", "\\@evil.com",
            "/%2e%2e/", "@evil.com", ":99999", " /x"]

url = st.one_of(
    st.builds(lambda scheme, trick, host, suffix: (f"{scheme}://" if scheme else "") + trick + host + suffix,
              st.sampled_from(SCHEMES), st.sampled_from(TRICKS), st.sampled_from(HOSTS), st.sampled_from(SUFFIXES)),
    hostile_text,
)


def settings_form(base_url):
    return {"deployment": "cloud", "base_url": base_url, "username": "portal@example.com",
            "api_token": "tok-123", "project_key": "SUP", "issue_type": "Task", "action": "save"}


@attack(200)
@given(base_url=url)
def test_only_http_urls_without_credentials_on_allowed_hosts_are_saved(client, admin, app, tried, base_url):
    tried("6 Jira URL")
    app.config.update(JIRA_ALLOWED_HOSTS=ALLOWED, JIRA_ALLOW_HTTP=False)
    before = JiraSettings.get().base_url
    db.session.commit()  # the row exists; the test holds no write lock while the request runs
    response = client.post("/admin/jira", data=settings_form(base_url))
    assert response.status_code in (200, 303, 400)
    saved = JiraSettings.get().base_url
    if response.status_code != 303:
        assert saved == before
        return
    parts = urlsplit(saved)
    assert parts.scheme == "https" and "@" not in parts.netloc and not parts.query and not parts.fragment
    assert host_allowed(saved, ALLOWED), saved
    assert "@" not in urlsplit(base_url).netloc, base_url  # never saved with credentials (an @ after # is none)


@pytest.mark.parametrize("base_url, message", [
    ("https://evil.example.com", "The operator allows only these Jira hosts: *.atlassian.net"),
    ("https://acme.atlassian.net.evil.com", "allows only these Jira hosts"),
    ("https://acme.atlassian.net@evil.com", "Leave the user name and token out of the URL"),
    ("https://me:tok@acme.atlassian.net", "Leave the user name and token out of the URL"),
    ("https://:@acme.atlassian.net", "Leave the user name and token out of the URL"),  # found by hypothesis
    ("javascript:alert(1)", "Enter the address of your Jira site"),
    ("file:///etc/passwd", "Enter the address of your Jira site"),
    ("http://acme.atlassian.net", "Use https://."),
])
def test_refused_urls_say_why(client, admin, app, tried, base_url, message):
    tried("6 Jira URL")
    app.config["JIRA_ALLOWED_HOSTS"] = ["*.atlassian.net"]
    page = client.post("/admin/jira", data=settings_form(base_url)).get_data(as_text=True)
    assert message in page
    assert client.post("/admin/jira", data=settings_form("https://acme.atlassian.net/")).status_code == 303


@pytest.mark.parametrize("url, allowed, expected", [
    ("https://acme.atlassian.net", ["*.atlassian.net"], True),
    ("https://a.b.atlassian.net", ["*.atlassian.net"], True),
    ("https://atlassian.net", ["*.atlassian.net"], False),
    ("https://acme.atlassian.net.evil.com", ["*.atlassian.net"], False),
    ("https://evilatlassian.net", ["*.atlassian.net"], False),
    ("https://ACME.Atlassian.NET.", ["acme.atlassian.net"], True),
    ("https://jira.intranet:8443/jira", ["jira.intranet:8443"], True),
    ("https://jira.intranet/jira", ["jira.intranet:8443"], False),
    ("https://jira.intranet:8443/jira", ["jira.intranet"], True),
    ("http://[::1]:8080", ["[::1]:8080"], True),
    ("ftp://acme.atlassian.net", ["*.atlassian.net"], False),
    ("https://x.example", ["*"], False),
    ("https://x.example", [], True),
])
def test_the_allow_list_matches_hosts_exactly(tried, url, allowed, expected):
    tried("6 Jira URL")
    assert host_allowed(url, allowed) is expected


@pytest.fixture
def pinned_elsewhere(app, configure_jira, jira_sim, make_user):
    """Settings saved before the operator pinned JIRA_ALLOWED_HOSTS to another host."""
    configure_jira()
    app.config["JIRA_ALLOWED_HOSTS"] = ["jira.example.com"]
    reporter = make_user(email="reporter@example.com")
    item = SupportRequest(reporter_id=reporter.id, label="Bug", summary="s", description="d",
                          delivery_state="queued")
    tracked = SupportRequest(reporter_id=reporter.id, label="Bug", summary="t", description="d",
                             delivery_state="sent", jira_issue_id="10001", jira_key="SUP-1")
    db.session.add_all([item, tracked])
    db.session.commit()
    return item


def test_no_call_leaves_for_a_host_off_the_list(app, jira_sim, pinned_elsewhere, tried, shown):
    tried("6 Jira URL", 3)
    delivery.deliver(pinned_elsewhere.id)
    db.session.expire_all()
    item = db.session.get(SupportRequest, pinned_elsewhere.id)
    assert item.delivery_state == "failed" and "JIRA_ALLOWED_HOSTS" in shown(item.last_error)
    assert "JIRA_ALLOWED_HOSTS" in shown(item.last_error, "tr")
    assert sync.reconcile() is None
    with app.test_request_context():
        report = run_checks(JiraSettings.get())
    assert not report.ok and "JIRA_ALLOWED_HOSTS" in shown(report.steps[0].message)
    assert sum(jira_sim.calls.values()) == 0


def test_a_redirect_off_the_list_is_not_followed(jira_sim, jira_client, tried):
    tried("6 Jira URL", 2)
    key = jira_client.create_issue(jira_client.new_issue_fields("SUP", "10002", "s")).key
    attachment_id = jira_sim.attach(key, "agent.log", b"from the agent")
    own_host = f"127.0.0.1:{jira_sim.port}"  # the media host is "localhost": another name
    pinned = JiraClient(jira_sim.url, PORTAL_EMAIL, PORTAL_TOKEN, timeout=(2, 2), allowed_hosts=[own_host])
    with pytest.raises(JiraHostNotAllowedError):
        pinned.download_attachment(attachment_id, io.BytesIO())
    assert jira_sim.media_requests == []
    both = JiraClient(jira_sim.url, PORTAL_EMAIL, PORTAL_TOKEN, timeout=(2, 2),
                      allowed_hosts=[own_host, f"localhost:{jira_sim.port}"])
    out = io.BytesIO()
    both.download_attachment(attachment_id, out)
    assert out.getvalue() == b"from the agent"
