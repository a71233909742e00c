"""Security suite, category 5 (docs/security.md): after a full run (settings saved and tested,
requests filed and delivered, comments synced, a webhook, failures with a wrong token), the
Jira token appears in clear in no response body or header, log line, exception or database
column (nor in Redis, on the RQ runner)."""
import base64
import io
import logging
import re
import secrets

import pytest
from flask import got_request_exception, request_finished
from sqlalchemy import select

from tests.jirasim import PORTAL_EMAIL, sign
from webapp import sync
from webapp.extensions import db
from webapp.models import JiraSettings, Label, SupportRequest

pytestmark = pytest.mark.usefixtures("no_server_errors")


def forms_of(token):
    """The token as it could leak: in clear, in a Basic header, URL-quoted."""
    basic = base64.b64encode(f"{PORTAL_EMAIL}:{token}".encode()).decode()
    return [token, basic, basic.rstrip("=")]


def watched(app, caplog):
    """Every response (headers and body) and exception of `app` from now on, and every log
    line at DEBUG (in caplog)."""
    seen = []
    request_finished.connect(lambda sender, response, **kw: seen.append(
        str(response.headers) + response.get_data(as_text=True)), app, weak=False)
    got_request_exception.connect(lambda sender, exception, **kw: seen.append(repr(exception)), app, weak=False)
    caplog.set_level(logging.DEBUG)
    return seen


def shown_nowhere(leaks, seen, caplog, tried):
    """No leak in the responses and exceptions seen, the log lines, nor any database row;
    the number of rows read."""
    tried("5 secrets", len(seen))
    for number, page in enumerate(seen):
        assert not any(leak in page for leak in leaks), f"response {number} shows the secret"
    tried("5 secrets", len(caplog.records))
    for record in caplog.records:
        line = record.getMessage() + (caplog.text if record.exc_info else "")
        assert not any(leak in line for leak in leaks), f"log line shows the secret: {line[:200]}"
    rows = 0
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            for values in conn.execute(select(table)):
                rows += 1
                dump = " ".join(str(value) for value in values)
                assert not any(leak in dump for leak in leaks), f"table {table.name} holds the secret"
    tried("5 secrets", rows)
    return rows


def test_the_jira_token_appears_nowhere_after_a_full_run(app, client, admin, make_user, auth, jira_sim,
                                                         drain, caplog, tried):
    token = "tok-" + secrets.token_hex(16)
    jira_sim.state.accounts[PORTAL_EMAIL]["token"] = token
    seen = watched(app, caplog)

    # The admin: settings with the token, Save and Test, active, a webhook secret, every page.
    settings = {"deployment": "cloud", "base_url": jira_sim.url, "username": PORTAL_EMAIL, "api_token": token,
                "project_key": "SUP", "issue_type": "Task", "category_field_id": "customfield_10050",
                "action": "test"}
    app.config["JIRA_ALLOW_HTTP"] = True
    client.post("/admin/jira", data=settings)
    client.post("/admin/jira/status", data={"enabled": "1"})
    client.post("/admin/jira/webhook-secret")
    client.post("/admin/jira/labels", data={"name": "Bug"})
    assert JiraSettings.get().enabled
    db.session.add(Label(name="Question"))
    db.session.commit()

    # A user files two requests, one with a file; the worker delivers them.
    auth.logout()
    auth.login(make_user(email="user@example.com").email)
    for summary in ("Token endpoint answers 500", "Second"):
        client.post("/requests/new", data={"label": "Bug", "summary": summary, "description": "d",
                                           "attachments": [(io.BytesIO(b"a log\n"), "trace.log")]},
                    content_type="multipart/form-data")
    drain()
    items = db.session.scalars(select(SupportRequest)).all()
    assert [i.delivery_state for i in items] == ["sent", "sent"]

    # Jira answers: a comment and a status; the sync and a signed webhook bring them back.
    jira_sim.add_comment(items[0].jira_key, "We are on it")
    jira_sim.set_status(items[0].jira_key, "Done")
    sync.reconcile()
    from webapp import crypto
    secret = crypto.decrypt(JiraSettings.get().webhook_secret_encrypted)
    body = ('{"webhookEvent": "jira:issue_updated", "issue": {"id": "%s"}}' % items[0].jira_issue_id).encode()
    client.post("/hooks/jira", data=body, headers={"X-Hub-Signature": sign(secret, body)})
    drain()
    for item in items:
        for path in ("", "/comments", "/delivery"):
            client.get(f"/requests/{item.id}{path}")
    client.get("/requests/")

    # Failures: Jira refuses the token (delivery pauses), Jira down, Jira answering HTML.
    jira_sim.state.accounts[PORTAL_EMAIL]["token"] = "rotated-" + token
    client.post("/requests/new", data={"label": "Bug", "summary": "After rotation", "description": "d"})
    drain()
    jira_sim.state.accounts[PORTAL_EMAIL]["token"] = token
    row = JiraSettings.get()
    row.paused_reason = None
    db.session.commit()
    jira_sim.fault("html_page", times=2)
    sync.reconcile()
    jira_sim.go_down()
    sync.reconcile()
    jira_sim.come_up()

    # The admin looks at everything again.
    auth.logout()
    auth.login(admin.email)
    for path in ("/admin/", "/admin/jira", "/admin/audit", "/admin/deliveries", "/admin/deliveries?state=queued",
                 "/admin/categories", "/admin/products", "/metrics", "/requests/"):
        client.get(path)
    client.post("/admin/jira", data={**settings, "api_token": "", "action": "save"})

    leaks = forms_of(token)
    assert shown_nowhere(leaks, seen, caplog, tried) >= 15
    assert JiraSettings.get().api_token_encrypted and JiraSettings.get().api_token_last4 == token[-4:]
    queue = app.extensions["queue"]
    if queue.mode == "rq":  # jobs carry ids only
        for key in queue.redis.scan_iter(match="*"):
            kind = queue.redis.type(key)
            value = (queue.redis.get(key) if kind == b"string" else
                     b" ".join(v for pair in queue.redis.hgetall(key).items() for v in pair) if kind == b"hash" else b"")
            assert not any(leak.encode() in value for leak in leaks), key


def test_exceptions_and_reprs_of_the_client_never_show_the_token(jira_sim, tried, shown):
    from webapp.jira import JiraClient, JiraError
    token = "tok-" + secrets.token_hex(16)
    jira = JiraClient(jira_sim.url, PORTAL_EMAIL, token, timeout=(1, 1))
    texts = [repr(jira), repr(jira._auth), str(vars(jira).get("_auth"))]
    for fault in ("error", "html_page", "malformed_json", "drop", "rate_limit"):
        jira_sim.fault(fault, times=1, status=503)
        with pytest.raises(JiraError) as caught:
            jira.myself()
        error = caught.value
        texts += [str(error), repr(error), error.message(), shown(error.as_message(), "tr"), repr(error.__dict__)]
    with pytest.raises(JiraError) as caught:  # wrong token: Jira's 401
        jira.myself()
    texts += [str(caught.value), repr(caught.value.__dict__)]
    tried("5 secrets", len(texts))
    assert not any(leak in t for t in texts for leak in forms_of(token))
    assert re.search(r"<JiraClient cloud http://127\.0\.0\.1:\d+ as 'portal@example.com'>", repr(jira))


@pytest.mark.parametrize("moved", [
    {"base_url": "localhost"}, {"username": "other@example.com"}, {"deployment": "datacenter"}])
def test_the_stored_token_never_follows_a_changed_site_or_account(app, client, admin, jira_sim, tried, moved):
    """Issue 13, item 3: any admin session could save another URL with the token field left
    empty, run Save and Test and read the token at the new host."""
    tried("5 secrets")
    token = "tok-" + secrets.token_hex(16)
    jira_sim.state.accounts[PORTAL_EMAIL]["token"] = token
    app.config["JIRA_ALLOW_HTTP"] = True
    form = {"deployment": "cloud", "base_url": jira_sim.url, "username": PORTAL_EMAIL, "api_token": token,
            "project_key": "SUP", "issue_type": "Task", "action": "save"}
    client.post("/admin/jira", data=form)
    other = {"base_url": jira_sim.url.replace("127.0.0.1", "localhost")} if "base_url" in moved else moved
    jira_sim.credentials_seen.clear()
    client.post("/admin/jira", data={**form, "api_token": "", **other, "action": "test"})
    assert jira_sim.credentials_seen  # Save and Test did call the (new) site
    assert not any(part in header for _, header in jira_sim.credentials_seen for part in forms_of(token))
    assert JiraSettings.get().api_token_encrypted is None


def test_the_oidc_client_secret_appears_nowhere(app_factory, oidc_provider, make_user, caplog, tried):
    """Sign-ins that work and fail (a wrong secret at the provider, a forged code), an admin
    looking at every page: the client secret is in no page, log line or row."""
    from tests.oidc.flow import at_provider, local, sign_in
    secret = oidc_provider.portal_settings()["OIDC_CLIENT_SECRET"]
    app = app_factory(**oidc_provider.portal_settings(OIDC_ADMIN_GROUPS=["portal-admins"]))
    seen = watched(app, caplog)
    client = app.test_client()
    with app.app_context():
        make_user(email="other-admin@example.com", admin=True)
        assert sign_in(client, "boss").status_code == 303
        for path in ("/admin/", "/admin/audit", "/admin/jira", "/requests/", "/auth/login"):
            client.get(path)
        client.post("/auth/logout")
        started = client.get("/auth/oidc/login")
        forged = local(at_provider(started.headers["Location"], "newcomer")).replace("code=", "code=forged")
        assert client.get(forged).status_code == 403  # the provider refuses the code
        wrong = app_factory(**oidc_provider.portal_settings(OIDC_CLIENT_SECRET="not-" + secret))
        seen += watched(wrong, caplog)
        assert sign_in(wrong.test_client(), "newcomer").status_code == 403
    basic = base64.b64encode(f"portal:{secret}".encode()).decode()
    assert shown_nowhere([secret, basic], seen, caplog, tried) >= 3
