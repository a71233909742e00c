"""Jira's admin webhooks at /hooks/jira, and the admin card that sets them up."""
import json
import time
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.jirasim import sign
from tests.jirasim.fixtures import both_deployments
from tests.test_jobs import wait_for
from webapp import crypto, delivery, sync
from webapp.extensions import db
from webapp.hooks import routes
from webapp.models import AuditLog, JiraSettings, SupportRequest, utcnow

SECRET = "webhook-secret-for-tests"


@pytest.fixture
def tracked(make_user):
    """A sent request tracking issue 10001."""
    user = make_user(email="reporter@example.com")
    request = SupportRequest(reporter_id=user.id, label="Bug", summary="s", description="d",
                             delivery_state="sent", jira_issue_id="10001", jira_key="SUP-1")
    db.session.add(request)
    db.session.commit()
    return request


def set_secret(secret=SECRET):
    JiraSettings.get().webhook_secret_encrypted = crypto.encrypt(secret) if secret else None
    db.session.commit()


@pytest.fixture
def enqueued(monkeypatch):
    jobs = []
    monkeypatch.setattr(routes, "enqueue", lambda func, *args, **options: jobs.append((func, args)))
    return jobs


def event(name="jira:issue_updated", issue_id="10001"):
    return json.dumps({"timestamp": int(time.time() * 1000), "webhookEvent": name,
                       "issue": {"id": issue_id, "key": "SUP-1", "fields": {}}}).encode()


def deliver(client, body, signature=None, secret=SECRET):
    headers = {"Content-Type": "application/json"}
    signature = signature if signature is not None else sign(secret, body)
    if signature:
        headers["X-Hub-Signature"] = signature
    return client.post("/hooks/jira", data=body, headers=headers)


# The endpoint ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["jira:issue_updated", "jira:issue_deleted", "comment_created",
                                  "comment_updated", "comment_deleted"])
def test_a_signed_event_enqueues_a_refresh_and_answers_at_once(client, tracked, enqueued, name):
    set_secret()
    started = time.monotonic()
    response = deliver(client, event(name))
    assert response.status_code == 204 and response.data == b""
    assert time.monotonic() - started < 0.5
    assert enqueued == [(sync.refresh_issue, ("10001",))]


@pytest.mark.parametrize("signature", ["", "sha256=" + "0" * 64, "sha1=abc", "sha256="])
def test_a_missing_or_wrong_signature_gets_401_and_changes_nothing(client, tracked, enqueued, signature):
    set_secret()
    body = event()
    response = deliver(client, body, signature=signature or "")
    assert response.status_code == 401
    assert response.mimetype == "text/plain" and b"signature" in response.data
    assert enqueued == []


def test_another_secret_or_a_tampered_body_gets_401(client, tracked, enqueued):
    set_secret()
    assert deliver(client, event(), secret="someone-else").status_code == 401
    original = event(issue_id="10001")
    tampered = original.replace(b"10001", b"10002")
    assert deliver(client, tampered, signature=sign(SECRET, original)).status_code == 401
    assert enqueued == []


def test_without_a_secret_every_webhook_is_refused(client, tracked, enqueued):
    set_secret(None)
    response = deliver(client, event(), secret="anything")
    assert response.status_code == 401 and b"No webhook secret" in response.data
    assert enqueued == []


def test_issues_and_events_that_are_not_ours_are_ignored(client, tracked, enqueued):
    set_secret()
    assert deliver(client, event(issue_id="77777")).status_code == 204
    assert deliver(client, event(name="jira:version_created")).status_code == 204
    assert deliver(client, b'{"webhookEvent": "jira:issue_updated"}').status_code == 204
    assert enqueued == []


def test_bodies_that_are_too_large_or_not_json(client, tracked, enqueued):
    set_secret()
    big = b'{"pad": "' + b"x" * (routes.MAX_BODY + 10) + b'"}'
    assert deliver(client, big).status_code == 413
    assert deliver(client, b"not json").status_code == 400
    assert enqueued == []


def test_the_hook_needs_no_csrf_token_and_no_login(app_factory, make_user, enqueued):
    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        set_secret()
        user = make_user(email="r@example.com")
        db.session.add(SupportRequest(reporter_id=user.id, label="Bug", summary="s", description="d",
                                      jira_issue_id="10001", jira_key="SUP-1"))
        db.session.commit()
        assert deliver(app.test_client(), event()).status_code == 204
    assert len(enqueued) == 1


# End to end: the simulator's signed webhooks, a real server, the job --------------------------

@pytest.fixture
def live_app_overrides():
    return {"REDIS_URL": None}  # jobs on the live server's own thread, whatever TEST_JOBS says


def tracked_in_jira(jira_client, make_user, summary):
    """An issue in Jira and the sent request tracking it; returns (issue, current()): the
    request as the database has it now."""
    issue = jira_client.create_issue(jira_client.new_issue_fields("SUP", "10002", summary))
    user = make_user(email="reporter@example.com")
    request = SupportRequest(reporter_id=user.id, label="Bug", summary=summary, description="d",
                             delivery_state="sent", jira_issue_id=issue.id, jira_key=issue.key,
                             jira_status="To Do", jira_status_category="new")
    db.session.add(request)
    db.session.commit()

    def current():
        db.session.expire_all()
        return db.session.get(SupportRequest, request.id)
    return issue, current


@both_deployments
def test_a_status_change_in_jira_reaches_the_portal_within_seconds(
        live_server, configure_jira, jira_sim, jira_client, make_user):
    live_app, url = live_server
    configure_jira()
    set_secret()
    issue, current = tracked_in_jira(jira_client, make_user, "Webhook")
    jira_sim.register_webhook(url + "/hooks/jira", SECRET)

    started = time.monotonic()
    jira_sim.set_status(issue.key, "In Progress")
    assert wait_for(lambda: current().jira_status == "In Progress", timeout=5)
    assert time.monotonic() - started < 5
    jira_sim.add_comment(issue.key, "We found it.")
    assert wait_for(lambda: len(current().comments) == 1, timeout=5)
    jira_sim.delete_issue(issue.key)  # noted at once; two reconciles make it "Removed from Jira"
    assert wait_for(lambda: current().missing_since is not None, timeout=5)
    assert current().jira_status_category != "deleted"
    jira_sim.flush_webhooks()
    assert {d["status"] for d in jira_sim.webhooks.deliveries} == {204}


@both_deployments
def test_a_create_jira_finished_late_is_found_through_its_webhook_past_search_lag(
        live_server, configure_jira, jira_sim, make_user):
    """Jira commits the create 2 s after the client gave up, and its search lags far behind
    (60 s: beyond the portal's window). Its issue_created webhook names the issue: the next
    search names it in reconcileIssues and finds it, so no second issue is created."""
    live_app, url = live_server
    live_app.config.update(JIRA_TIMEOUT=(1, 1), SEARCH_LAG_SECONDS=3, DELIVERY_RETRY_BASE_SECONDS=0.05)
    configure_jira()
    set_secret()
    jira_sim.register_webhook(url + "/hooks/jira", SECRET)
    jira_sim.search_lag = 60
    jira_sim.fault("late_commit", path=f"{jira_sim.api}/issue", method="POST", seconds=2, times=1)
    user = make_user(email="reporter@example.com")
    with live_app.app_context():
        request_id = delivery.accept(SupportRequest(reporter_id=user.id, label="Bug", summary="Late",
                                                    description="d")).id

    def current():
        db.session.expire_all()
        return db.session.get(SupportRequest, request_id)

    assert wait_for(lambda: current().delivery_state == "sent", timeout=20)
    time.sleep(1)
    issues = [i for i in jira_sim.state.issues.values() if i["project"] == "SUP"]
    assert len(issues) == 1 and current().jira_key == issues[0]["key"]
    assert current().jira_candidate_id == issues[0]["id"]
    assert jira_sim.calls[f"POST {jira_sim.api}/issue"] == 1


def test_a_webhook_names_a_candidate_only_for_a_create_in_doubt(client, make_user):
    set_secret()
    user = make_user(email="reporter@example.com")
    in_doubt = SupportRequest(reporter_id=user.id, label="Bug", summary="s", description="d",
                              reference="PR-DOUBT1", delivery_state="queued",
                              create_started_at=utcnow(), next_attempt_at=utcnow() + timedelta(hours=1))
    never_sent = SupportRequest(reporter_id=user.id, label="Bug", summary="s", description="d",
                                reference="PR-FRESH1", delivery_state="queued")
    db.session.add_all([in_doubt, never_sent])
    db.session.commit()
    body = json.dumps({"webhookEvent": "jira:issue_created", "issue": {
        "id": "20001", "key": "SUP-9", "fields": {"labels": ["bug", "portal-ref-PR-DOUBT1",
                                                            "portal-ref-PR-FRESH1"]}}}).encode()
    assert deliver(client, body).status_code == 204
    db.session.expire_all()
    assert db.session.get(SupportRequest, in_doubt.id).jira_candidate_id == "20001"
    looked_at = db.session.get(SupportRequest, in_doubt.id).next_attempt_at
    assert looked_at is None or looked_at <= utcnow()  # now (a job may have taken it already)
    assert db.session.get(SupportRequest, never_sent.id).jira_candidate_id is None


def test_unsigned_webhooks_are_taken_only_from_the_operators_list(app, client, tracked, enqueued):
    """Older Data Center versions cannot sign. Unsigned webhooks are refused, unless they come
    from an address on JIRA_WEBHOOK_UNSIGNED_FROM; a wrong signature is refused from anywhere."""
    set_secret(None)
    assert deliver(client, event(), signature="").status_code == 401
    app.config["JIRA_WEBHOOK_UNSIGNED_FROM"] = ["10.0.0.0/8", "not an address"]
    assert deliver(client, event(), signature="").status_code == 401  # the test client is 127.0.0.1
    app.config["JIRA_WEBHOOK_UNSIGNED_FROM"] = ["10.0.0.0/8", "127.0.0.1"]
    assert deliver(client, event(), signature="").status_code == 204
    assert [args for _, args in enqueued] == [("10001",)]
    assert deliver(client, event(), signature="sha256=" + "0" * 64).status_code == 401


@pytest.mark.parametrize("deployment", ["datacenter"], indirect=True)
def test_a_data_center_that_cannot_sign_reaches_the_portal_from_its_listed_address(
        live_server, configure_jira, jira_sim, jira_client, make_user):
    live_app, url = live_server
    live_app.config["JIRA_WEBHOOK_UNSIGNED_FROM"] = ["127.0.0.1"]
    configure_jira()
    issue, current = tracked_in_jira(jira_client, make_user, "Unsigned")
    jira_sim.register_webhook(url + "/hooks/jira", None)  # no secret: unsigned
    jira_sim.set_status(issue.key, "In Progress")

    assert wait_for(lambda: current().jira_status == "In Progress", timeout=5)
    jira_sim.flush_webhooks()
    assert {d["status"] for d in jira_sim.webhooks.deliveries} == {204}


# The admin card -------------------------------------------------------------------------------

def test_the_card_shows_the_url_events_filter_and_how_to_register(client, admin):
    JiraSettings.get().project_key = "SUP"
    db.session.commit()
    page = client.get("/admin/jira").data.decode()
    assert "http://localhost/hooks/jira" in page
    for text in ("jira:issue_updated", "comment_deleted", "project = SUP", "Generate secret",
                 "No secret yet", "System → WebHooks"):
        assert text in page, text


def test_the_card_tells_a_data_center_admin_what_to_do_without_signing(app, client, admin):
    JiraSettings.get().deployment = "datacenter"
    db.session.commit()
    page = client.get("/admin/jira").data.decode()
    assert "send unsigned webhooks, which the portal refuses" in page and "JIRA_WEBHOOK_UNSIGNED_FROM" in page
    app.config["JIRA_WEBHOOK_UNSIGNED_FROM"] = ["10.1.2.3"]
    assert "Unsigned webhooks are taken from: 10.1.2.3." in client.get("/admin/jira").data.decode()
    JiraSettings.get().deployment = "cloud"
    db.session.commit()
    assert "JIRA_WEBHOOK_UNSIGNED_FROM" not in client.get("/admin/jira").data.decode()


def test_portal_base_url_decides_the_registered_url(app_factory, make_user):
    app = app_factory(PORTAL_BASE_URL="https://support.example.com")
    with app.app_context():
        make_user(email="boss@example.com", admin=True)
        client = app.test_client()
        client.post("/auth/login", data={"email": "boss@example.com",
                                         "password": "correct horse battery"})
        assert "https://support.example.com/hooks/jira" in client.get("/admin/jira").data.decode()


def test_a_generated_secret_is_shown_once_and_stored_encrypted(client, admin):
    response = client.post("/admin/jira/webhook-secret", headers={"HX-Request": "true"})
    assert response.status_code == 200
    fragment = response.data.decode()
    assert fragment.startswith('<section id="webhook"')
    db.session.expire_all()
    stored = JiraSettings.get().webhook_secret_encrypted
    secret = crypto.decrypt(stored)
    assert len(secret) >= 40 and secret in fragment and secret not in stored
    assert "not shown again" in fragment
    page = client.get("/admin/jira").data.decode()
    assert secret not in page and "A secret is set." in page and "Replace secret" in page
    assert db.session.scalar(select(AuditLog.action)) == "jira.webhook_secret.generated"
    full = client.post("/admin/jira/webhook-secret").data.decode()  # without htmx: the page
    db.session.expire_all()
    replaced = crypto.decrypt(JiraSettings.get().webhook_secret_encrypted)
    assert replaced != secret and replaced in full and "Jira Integration Settings" in full


def test_only_admins_may_set_the_secret(client, auth, make_user):
    make_user(email="u@example.com")
    auth.login("u@example.com")
    assert client.post("/admin/jira/webhook-secret").status_code == 403
    db.session.expire_all()
    assert JiraSettings.get().webhook_secret_encrypted is None


def test_an_admin_generates_and_replaces_the_secret_in_a_browser(browser, live_server, make_user):
    from tests.browser import Page

    live_app, url = live_server
    make_user(email="admin@example.com", admin=True, name="Ada Admin")
    page = Page(browser, url)
    try:
        page.log_in("admin@example.com")
        page.goto("/admin/jira")
        p = page.page
        assert url + "/hooks/jira" in p.locator("#webhook").inner_text()
        p.click("#webhook button[type=submit]")
        p.wait_for_selector("#webhook-secret")
        first = p.locator("#webhook-secret").inner_text()
        page.shot("admin-jira-webhook-secret")
        p.on("dialog", lambda dialog: dialog.accept())  # "Replace the secret?"
        p.click("#webhook button[type=submit]")
        expect(p.locator("#webhook-secret")).not_to_have_text(first)
        second = p.locator("#webhook-secret").inner_text()
        db.session.expire_all()
        assert crypto.decrypt(JiraSettings.get().webhook_secret_encrypted) == second != first
        page.goto("/admin/jira")
        assert "A secret is set." in p.locator("#webhook").inner_text()
        assert second not in p.content()
        assert page.errors == []
    finally:
        page.close()


# Replays and bursts (issue 13, item 10) --------------------------------------------------------

def fresh_event(issue_id="10001", sent=None):
    return json.dumps({"timestamp": int((sent or time.time()) * 1000), "webhookEvent": "jira:issue_updated",
                       "issue": {"id": issue_id, "key": "SUP-1", "fields": {}}}).encode()


def deliver_as_jira(client, body, identifier):
    return client.post("/hooks/jira", data=body, headers={
        "Content-Type": "application/json", "X-Hub-Signature": sign(SECRET, body),
        "X-Atlassian-Webhook-Identifier": identifier})


def test_a_captured_webhook_replayed_is_answered_but_refreshes_nothing(client, tracked, enqueued, app):
    set_secret()
    body = fresh_event()
    for _ in range(5):
        assert deliver_as_jira(client, body, "6a2c3f4e-0001").status_code == 204
    assert enqueued == [(sync.refresh_issue, ("10001",))]


def test_a_signed_webhook_older_than_a_day_refreshes_nothing(client, tracked, enqueued):
    set_secret()
    old = fresh_event(sent=time.time() - 25 * 3600)
    assert deliver_as_jira(client, old, "6a2c3f4e-0002").status_code == 204
    assert enqueued == []


def test_a_burst_for_one_issue_is_one_refresh(client, tracked, enqueued, make_user):
    set_secret()
    for n in range(10):  # ten comments in a row: ten deliveries, each with its own identifier
        deliver_as_jira(client, fresh_event(), f"6a2c3f4e-1{n:03d}")
    assert enqueued == [(sync.refresh_issue, ("10001",))]
    sync.refresh_issue("10001")  # the refresh ran (no Jira here: it stops at the gate)
    deliver_as_jira(client, fresh_event(), "6a2c3f4e-2000")
    assert len(enqueued) == 2  # a change after the refresh started is refreshed again
