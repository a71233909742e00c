"""Issue 18's bullets the other mail tests left open, each through the real SMTP server:
Administration without SMTP_HOST, the SMTP password on no page and in no log, TLS that the
server does not offer, the digest after a long pause, preferences and mute that really stop
mail, the admin's reset link and its expiry, the Outbox's tabs, and a signed webhook plus a
sync making one mail."""
import json
import os
import re
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from sqlalchemy import update

from tests.jirasim import sign
from tests.support import PASSWORD
from tests.mail.test_mail import app, outbox, reporter, text_of, track  # noqa: F401,F811 (fixtures)
from webapp import crypto, integration, sync
from webapp.extensions import db
from webapp.mail import sending
from webapp.models import JiraSettings, SetPasswordToken, SupportRequest, User, utcnow
from webapp.sync.state import write_cursor

NO_MAIL = "No mail is sent: SMTP_HOST is not set."


def test_administration_says_no_mail_is_sent_without_smtp_host(app_factory, make_user):
    quiet = app_factory()
    with quiet.app_context():
        admin = make_user(email="root@example.com", admin=True)
        client = quiet.test_client()
        client.post("/auth/login", data={"email": admin.email, "password": PASSWORD})
        assert NO_MAIL in client.get("/admin/").get_data(as_text=True)
        assert NO_MAIL in client.get("/admin/outbox").get_data(as_text=True)


def test_administration_names_the_smtp_server_when_mail_is_on(client, admin):
    overview = client.get("/admin/").get_data(as_text=True)
    assert "Mail is sent through 127.0.0.1." in overview and NO_MAIL not in overview
    assert NO_MAIL not in client.get("/admin/outbox").get_data(as_text=True)


def test_the_smtp_password_is_on_no_page_and_in_no_log(app, client, admin, jira_on, track, make_user, smtp_server,
                                                       caplog, drain):
    refused = make_user(email="refused@example.com")
    request, issue = track()
    jira_on.add_comment(issue.key, "Hello")
    other = SupportRequest(reporter_id=refused.id, label="Bug", summary="s", description="d")
    db.session.add(other)
    db.session.commit()
    sync.sync_changed()
    with caplog.at_level("DEBUG"):
        client.post("/admin/users", data={"email": "refused-too@example.com", "display_name": "No Box"})
        drain()  # its link's mail, sent by the job the page enqueued
        sending.send_due()
        pages = [client.get(path).get_data(as_text=True) for path in
                 ("/admin/", "/admin/outbox", "/admin/outbox?state=sent", "/admin/outbox?state=failed",
                  "/admin/jira", "/admin/users", "/auth/password", f"/requests/{request.id}")]
    assert len(smtp_server.messages) == 1 and any("550" in page for page in pages)  # one sent, one refused
    for text in pages + [caplog.text, smtp_server.messages[0].as_string()]:
        assert "smtp-secret-pw" not in text
    assert all("smtp-secret-pw" not in (row.last_error or "") for row in outbox())


PORTS = """
import importlib, json, os
import webapp.config as config
found = []
for security, port in (("starttls", ""), ("ssl", ""), ("none", ""), ("ssl", "2525")):
    os.environ["SMTP_SECURITY"], os.environ["SMTP_PORT"] = security, port
    found.append(importlib.reload(config).Config.SMTP_PORT)
print(json.dumps(found))
"""


def test_the_smtp_port_follows_the_security_unless_set():
    environment = {key: value for key, value in os.environ.items() if not key.startswith("SMTP_")}
    out = subprocess.run([sys.executable, "-c", PORTS], env=environment, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == [587, 465, 25, 2525]


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_the_server_does_not_speak_sends_nothing_in_clear(app, jira_on, track, smtp_server, security):
    """The test server speaks plain SMTP: asked for TLS, the portal sends neither the
    password nor the mail without it, and tries again later."""
    app.config.update(SMTP_SECURITY=security, SMTP_TIMEOUT=3)
    request, issue = track()
    jira_on.add_comment(issue.key, "Hello")
    sync.sync_changed()
    sending.send_due()
    (row,) = outbox()
    assert row.state == "waiting" and row.attempts == 1 and row.last_error
    assert smtp_server.messages == [] and smtp_server.envelopes == []


def test_the_first_sync_after_a_long_pause_sends_one_digest_per_person(configure_jira, jira_sim, track, make_user,
                                                                      smtp_server):
    other = make_user(email="ayse@example.com", name="Ayşe", language="en")
    configure_jira()
    mine = [track(f"Mine {n}") for n in range(6)]
    theirs = [track(f"Theirs {n}") for n in range(3)]
    for request, _ in theirs:
        request.reporter_id = other.id
    db.session.commit()
    integration.pause(RuntimeError("token revoked"))  # hours of pause: nothing is read
    write_cursor(utcnow() - timedelta(hours=5))
    db.session.commit()
    for _, issue in mine + theirs:
        jira_sim.add_comment(issue.key, f"About {issue.key}")
        jira_sim.set_status(issue.key, "In Progress")
    assert sync.sync_changed() is None
    configure_jira()  # the admin fixed the token: the pause is lifted
    sync.sync_changed()
    sending.send_due()
    sending.send_due()
    (mail_to_me,) = smtp_server.to("deniz@example.com")
    (mail_to_them,) = smtp_server.to("ayse@example.com")
    assert "6" in mail_to_me["Subject"] and "3" in mail_to_them["Subject"]
    assert all(request.reference in text_of(mail_to_me) for request, _ in mine)
    assert all(request.reference in text_of(mail_to_them) for request, _ in theirs)
    assert not any(request.reference in text_of(mail_to_me) for request, _ in theirs)
    assert len(outbox(state="sent")) == 2 * 9  # a comment and a status each, in two mails


def test_none_and_mute_stop_the_mail_they_say(jira_on, track, reporter, smtp_server):
    muted, muted_issue = track("Muted")
    heard, heard_issue = track("Heard")
    muted.mail_muted = True
    db.session.commit()
    for issue in (muted_issue, heard_issue):
        jira_on.add_comment(issue.key, "A comment")
        jira_on.set_status(issue.key, "In Progress")
    sync.sync_changed()
    sending.send_due()
    (message,) = smtp_server.messages
    assert heard.reference in text_of(message) and muted.reference not in text_of(message)
    assert {row.last_error for row in outbox(state="skipped")} == {"request muted"}
    db.session.get(User, reporter.id).mail_preference = "none"
    db.session.commit()
    jira_on.add_comment(heard_issue.key, "Another")
    jira_on.set_status(heard_issue.key, "Done")
    sync.sync_changed()
    sending.send_due()
    assert len(smtp_server.messages) == 1
    assert {row.event for row in outbox(last_error="turned off in the user's preferences")} == {"comment", "resolved"}


def test_an_admins_reset_link_is_mailed_says_when_it_expires_and_expires(app, client, admin, make_user, smtp_server,
                                                                         drain):
    user = make_user(email="deniz@example.com", language="tr")
    page = client.post(f"/admin/users/{user.id}/password-link")
    assert page.status_code == 200
    drain()
    (message,) = smtp_server.to("deniz@example.com")
    text = text_of(message)
    assert "Parolanızı sıfırlayın" in message["Subject"] or "sıfırla" in message["Subject"].lower()
    assert f"{app.config['SET_PASSWORD_LINK_HOURS']} saat" in text
    link = re.search(r"https?://\S+/auth/set-password/\S+", text).group(0)
    path = "/auth/set-password/" + link.rsplit("/", 1)[1]
    assert client.get(path).status_code == 200
    db.session.execute(update(SetPasswordToken).values(expires_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    client.post("/auth/logout")
    assert client.get(path).status_code == 404
    new = "another long passphrase"
    assert client.post(path, data={"new_password": new, "confirm": new}).status_code == 404
    assert client.post("/auth/login", data={"email": user.email, "password": PASSWORD}).status_code == 303


def test_the_outbox_lists_sent_waiting_and_failed_mail(app, client, admin, jira_on, track, make_user, smtp_server):
    request, issue = track()
    jira_on.add_comment(issue.key, "Sent one")
    sync.sync_changed()
    sending.send_due()
    refused = make_user(email="refused@example.com")
    request.reporter_id = refused.id
    db.session.commit()
    jira_on.add_comment(issue.key, "Refused one")
    sync.sync_changed()
    sending.send_due()
    app.config["MAIL_GATHER_SECONDS"] = 600
    jira_on.set_status(issue.key, "In Progress")
    sync.sync_changed()
    assert [row.state for row in outbox()] == ["sent", "failed", "waiting"]
    for state, shows in (("sent", "deniz@example.com"), ("failed", "No such mailbox"), ("waiting", "refused@example.com")):
        page = client.get(f"/admin/outbox?state={state}").get_data(as_text=True)
        assert shows in page and request.display_key in page, state
    assert 'name="ids"' in client.get("/admin/outbox?state=failed").get_data(as_text=True)  # Retry


def test_a_signed_webhook_its_replay_and_the_sync_make_one_mail(app, client, jira_on, track, smtp_server, drain):
    secret = "webhook-secret-for-tests"
    JiraSettings.get().webhook_secret_encrypted = crypto.encrypt(secret)
    db.session.commit()
    request, issue = track()
    comment = jira_on.add_comment(issue.key, "Seen by the webhook first")
    body = json.dumps({"timestamp": int(time.time() * 1000), "webhookEvent": "comment_created",
                       "issue": {"id": issue.id, "key": issue.key, "fields": {}},
                       "comment": {"id": str(comment)}}).encode()
    headers = {"Content-Type": "application/json", "X-Hub-Signature": sign(secret, body),
               "X-Atlassian-Webhook-Identifier": "delivery-1"}
    for _ in range(2):  # Jira's delivery, and its replay
        assert client.post("/hooks/jira", data=body, headers=headers).status_code == 204
    drain()
    assert [row.event for row in outbox()] == ["comment"]  # the webhook's refresh wrote it
    sync.sync_changed()
    sync.reconcile()
    sending.send_due()
    sending.send_due()
    (message,) = smtp_server.to("deniz@example.com")
    assert "Seen by the webhook first" in text_of(message)
    assert [row.event for row in outbox()] == ["comment"]


def test_docs_email_says_what_is_sent_when_and_how_to_set_spf_and_dkim():
    from pathlib import Path
    doc = Path(__file__).resolve().parents[2].joinpath("docs", "email.md").read_text()
    table = doc.split("## What is sent when", 1)[1].split("\n## ", 1)[0]
    for mail in ("received", "in Jira", "status changed", "waiting for you", "resolved", "new comment",
                 "a request failed to reach Jira", "Jira paused", "Jira failing", "set-password / reset link"):
        assert f"| {mail}" in table, mail
    spf_dkim = doc.split("## The sender's domain: SPF and DKIM", 1)[1]
    assert "v=spf1" in spf_dkim and "_domainkey" in spf_dkim
