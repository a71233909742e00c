"""Replies (issue 17, items 1 and 2): the requester answers on the detail page; a worker
posts it to Jira as exactly one public comment, its files attached and named, even when
Jira's answer is lost; the sync reads it back under the user's name, once. Runs on either
job runner (TEST_JOBS) and, where marked, on both deployments."""
import io
import re

import pytest
from sqlalchemy import select

from webapp import delivery, integration, sync
from webapp.extensions import db
from webapp.jira import adf_to_text
from webapp.models import Attachment, JiraComment, Label, Reply, SupportRequest
from webapp.replies import deliver_reply
from tests.jirasim.fixtures import both_deployments

LOG = b"2026-12-01 10:00 POST /token -> 500\n"


@pytest.fixture
def app(app_factory):
    # No test here waits on a timeout (a lost answer is a 500): a loaded machine's slow answer
    # must not look like Jira hanging.
    app = app_factory(DELIVERY_RETRY_BASE_SECONDS=0.05, DELIVERY_RETRY_MAX_SECONDS=0.2,
                      SEARCH_LAG_SECONDS=0.2, DELIVERY_STALE_SECONDS=0, JIRA_TIMEOUT=(5, 5))
    with app.app_context():
        yield app


@pytest.fixture
def user(make_user, auth):
    user = make_user(email="deniz@example.com", name="Deniz Yılmaz")
    auth.login(user.email)
    return user


def sent_request(user, drain):
    """A request delivered to Jira, as the user filed it."""
    db.session.add(Label(name="Bug"))
    request = SupportRequest(reporter_id=user.id, label="Bug", summary="Token endpoint answers 500",
                             description="Since 09:00.")
    delivery.accept(request)
    drain()
    db.session.expire_all()
    return db.session.get(SupportRequest, request.id)


def reply_key(client, request_id):
    page = client.get(f"/requests/{request_id}").get_data(as_text=True)
    return re.search(r'id="reply-box".*?name="submission_key"[^>]*value="([^"]+)"', page, re.S).group(1)


def send_reply(client, request_id, body="The application ID is 4711.", files=(), key=None):
    data = {"body": body, "submission_key": key or reply_key(client, request_id),
            "attachments": [(io.BytesIO(content), name) for name, content in files]}
    return client.post(f"/requests/{request_id}/reply", data=data, content_type="multipart/form-data")


def replies_of(request_id):
    db.session.expire_all()
    return db.session.scalars(select(Reply).where(Reply.request_id == request_id)).all()


def jira_comments(jira_sim, request):
    issue = jira_sim.state.issues[request.jira_issue_id]
    return issue["comments"]


def comment_text(jira_sim, comment):
    return adf_to_text(comment["body"]) if isinstance(comment["body"], dict) else comment["body"]


@both_deployments
def test_a_reply_with_a_file_becomes_one_public_comment_naming_it(configure_jira, user, client, drain, jira_sim):
    configure_jira()
    request = sent_request(user, drain)
    response = send_reply(client, request.id, files=[("trace.log", LOG)])
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/requests/{request.id}#reply-box")
    page = client.get(f"/requests/{request.id}").get_data(as_text=True)
    assert "The application ID is 4711." in page and "Sending…" in page  # at once, as the user's own
    drain()
    (reply,) = replies_of(request.id)
    assert reply.delivery_state == "sent" and reply.jira_comment_id
    (comment,) = jira_comments(jira_sim, request)
    assert comment["id"] == reply.jira_comment_id and comment["jsdPublic"] and not comment["visibility"]
    text = comment_text(jira_sim, comment)
    assert text.startswith("Deniz Yılmaz, via the support portal:")
    assert "The application ID is 4711." in text
    issue = jira_sim.state.issues[request.jira_issue_id]
    (file_id,) = issue["attachments"]
    assert jira_sim.state.attachments[file_id]["filename"] == "trace.log"
    assert jira_sim.state.attachments[file_id]["data"] == LOG
    properties = {p["key"]: p["value"] for p in comment["properties"]}
    if jira_sim.deployment == "cloud":
        assert "Attached: trace.log" in text
        assert properties["portal.reply"] == {"reply": reply.reference}
    else:
        assert "Attached: [^trace.log]" in text  # wiki's link to the issue's file
        assert text.rstrip().endswith(f"Portal reply {reply.reference}")
        assert "portal.reply" not in properties  # the v2 call sends the body alone
    assert "Sent" in client.get(f"/requests/{request.id}").get_data(as_text=True)


@both_deployments
def test_a_reply_whose_answer_was_lost_is_adopted_not_posted_again(configure_jira, user, client, drain, jira_sim):
    configure_jira()
    request = sent_request(user, drain)
    jira_sim.fault("lost_reply", path="/comment", method="POST", times=1)
    send_reply(client, request.id, files=[("trace.log", LOG)])
    drain()
    (reply,) = replies_of(request.id)
    assert reply.delivery_state == "sent" and reply.attempts >= 2
    (comment,) = jira_comments(jira_sim, request)  # Jira stored it; the retry found it
    assert reply.jira_comment_id == comment["id"]
    assert len(jira_sim.state.issues[request.jira_issue_id]["attachments"]) == 1
    assert jira_sim.calls[f"POST {jira_sim.api}/issue/{{issueIdOrKey}}/comment"] == 1


@both_deployments
def test_the_sync_shows_the_reply_once_under_the_users_name_then_the_teams_answer(
        configure_jira, user, client, drain, jira_sim):
    configure_jira()
    request = sent_request(user, drain)
    send_reply(client, request.id)
    drain()
    sync.sync_changed()
    db.session.expire_all()
    seen_update = db.session.get(SupportRequest, request.id).updated_at
    jira_sim.add_comment(request.jira_key, "Thanks, we found it.")
    sync.sync_changed()
    db.session.expire_all()
    rows = db.session.scalars(select(JiraComment).where(JiraComment.request_id == request.id)).all()
    assert [(r.public, r.author_name) for r in rows] == [(False, ""), (True, "Mia Agent")]
    assert db.session.get(SupportRequest, request.id).updated_at > seen_update  # the team's comment is news
    page = client.get(f"/requests/{request.id}").get_data(as_text=True)
    assert page.count("The application ID is 4711.") == 1
    assert "Portal Bot" not in page and "via the support portal" not in page
    assert page.index("The application ID is 4711.") < page.index("Thanks, we found it.")
    assert page.index("Deniz Yılmaz</strong>") < page.index("Mia Agent")


@both_deployments
def test_the_sync_adopts_a_reply_whose_post_answer_was_lost(configure_jira, user, client, drain, jira_sim, app):
    """The comment landed, the worker never learned its id, and the sync reads it first: by
    its marker (Data Center's body; Cloud's property only once the worker looks) it is the
    reply's, never a comment of the integration account's in the thread."""
    configure_jira()
    request = sent_request(user, drain)
    jira_sim.fault("lost_reply", path="/comment", method="POST", times=1)
    integration.settings().enabled = True
    reply = Reply(request_id=request.id, author_id=user.id, body="ID 4711")
    db.session.add(reply)
    db.session.commit()
    reply.delivery_state = "queued"
    db.session.commit()
    deliver_reply(reply.id)  # posts; the answer is lost
    assert replies_of(request.id)[0].jira_comment_id is None
    sync.sync_changed()
    (reply,) = replies_of(request.id)
    if jira_sim.deployment == "datacenter":
        assert reply.jira_comment_id == jira_comments(jira_sim, request)[0]["id"]
    drain()
    (reply,) = replies_of(request.id)
    assert reply.delivery_state == "sent" and len(jira_comments(jira_sim, request)) == 1
    sync.reconcile()
    drain()
    db.session.expire_all()
    assert not db.session.scalars(select(JiraComment).where(JiraComment.public)).all()


def test_passive_mode_keeps_replies_in_the_portal_until_the_request_is_sent(configure_jira, user, client,
                                                                           drain, jira_sim):
    configure_jira(enabled=False)
    db.session.add(Label(name="Bug"))
    request = SupportRequest(reporter_id=user.id, label="Bug", summary="Held", description="d")
    delivery.accept(request)
    assert request.delivery_state == "local"
    send_reply(client, request.id, files=[("trace.log", LOG)])
    (reply,) = replies_of(request.id)
    assert reply.delivery_state == "local"
    delivery.sweep()
    drain()
    assert jira_sim.calls[f"POST {jira_sim.api}/issue"] == 0
    page = client.get(f"/requests/{request.id}").get_data(as_text=True)
    assert "it goes to the support team with your request" in page
    configure_jira(enabled=True)
    delivery.requeue([request.id])  # the admin sends it
    drain()
    (reply,) = replies_of(request.id)
    db.session.expire_all()
    request = db.session.get(SupportRequest, request.id)
    assert request.delivery_state == "sent" and reply.delivery_state == "sent"
    (comment,) = jira_comments(jira_sim, request)
    assert "ID is 4711" in comment_text(jira_sim, comment)
    issue = jira_sim.state.issues[request.jira_issue_id]
    assert [jira_sim.state.attachments[a]["filename"] for a in issue["attachments"]] == ["trace.log"]


def test_a_reply_written_before_the_issue_exists_goes_after_it(configure_jira, user, client, drain, jira_sim):
    configure_jira()
    jira_sim.fault("error", path="/rest/api/3/issue", method="POST", status=503, times=2)
    db.session.add(Label(name="Bug"))
    request = SupportRequest(reporter_id=user.id, label="Bug", summary="Slow", description="d")
    db.session.add(request)
    db.session.commit()
    request.delivery_state = "failed"  # not delivered yet
    db.session.commit()
    send_reply(client, request.id)
    assert replies_of(request.id)[0].delivery_state == "local"
    delivery.requeue([request.id])
    drain()
    (reply,) = replies_of(request.id)
    assert reply.delivery_state == "sent"
    db.session.expire_all()
    assert len(jira_comments(jira_sim, db.session.get(SupportRequest, request.id))) == 1


def test_a_reply_jira_refuses_fails_with_a_reason(configure_jira, user, client, drain, jira_sim, shown):
    configure_jira()
    request = sent_request(user, drain)
    del jira_sim.state.issues[request.jira_issue_id]  # gone from Jira: 404, no retry cures it
    send_reply(client, request.id)
    drain()
    (reply,) = replies_of(request.id)
    assert reply.delivery_state == "failed" and reply.attempts == 1
    assert "404" in shown(reply.last_error)
    page = client.get(f"/requests/{request.id}").get_data(as_text=True)
    assert "the portal keeps your reply" in page


def test_transient_failures_are_retried_until_sent(configure_jira, user, client, drain, jira_sim):
    configure_jira()
    request = sent_request(user, drain)
    jira_sim.fault("error", path="/comment", method="POST", status=503, times=2)
    send_reply(client, request.id)
    drain()
    (reply,) = replies_of(request.id)
    assert reply.delivery_state == "sent" and reply.attempts >= 3  # two refused, then sent (a wait for search lag counts too)
    assert len(jira_comments(jira_sim, request)) == 1


def test_the_sweep_resumes_a_reply_whose_job_was_lost(configure_jira, user, drain, jira_sim):
    configure_jira()
    request = sent_request(user, drain)
    db.session.add(Reply(request_id=request.id, author_id=user.id, body="Lost job", delivery_state="queued"))
    db.session.commit()
    assert delivery.sweep() == 1
    drain()
    assert replies_of(request.id)[0].delivery_state == "sent"


def test_an_empty_reply_is_refused_with_a_message_and_keeps_the_files(configure_jira, user, client, drain):
    configure_jira()
    request = sent_request(user, drain)
    response = send_reply(client, request.id, body="  ", files=[("trace.log", LOG)])
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "This field is required." in page and "trace.log" in page and 'name="kept"' in page
    assert replies_of(request.id) == []


def test_the_same_form_sent_twice_makes_one_reply(configure_jira, user, client, drain):
    configure_jira()
    request = sent_request(user, drain)
    key = reply_key(client, request.id)
    send_reply(client, request.id, key=key)
    send_reply(client, request.id, key=key)
    assert len(replies_of(request.id)) == 1


def test_no_one_replies_to_someone_elses_request(make_user, auth, client, drain, configure_jira):
    configure_jira()
    owner = make_user(email="owner@example.com")
    request = SupportRequest(reporter_id=owner.id, label="Bug", summary="Mine", description="d")
    db.session.add(request)
    db.session.commit()
    for email, admin in (("other@example.com", False), ("boss@example.com", True)):
        make_user(email=email, admin=admin)
        auth.login(email)
        data = {"body": "Hijack", "submission_key": "k" * 10}
        assert client.post(f"/requests/{request.id}/reply", data=data).status_code == 404
        auth.logout()
    assert replies_of(request.id) == []
    auth.login("boss@example.com")  # the admin sees the request, without a Reply box
    page = client.get(f"/requests/{request.id}").get_data(as_text=True)
    assert 'id="reply-box"' not in page


def test_the_admin_sees_why_a_reply_gave_up_and_retries_it(configure_jira, make_user, auth, client, drain,
                                                          jira_sim):
    configure_jira()
    owner = make_user(email="deniz@example.com", name="Deniz Yılmaz")
    request = sent_request(owner, drain)
    jira_sim.fault("error", path="/comment", method="POST", status=400, times=1)
    reply = Reply(request_id=request.id, author_id=owner.id, body="ID 4711")
    from webapp.replies import accept_reply
    accept_reply(reply)
    drain()
    assert replies_of(request.id)[0].delivery_state == "failed"
    make_user(email="boss@example.com", admin=True)
    auth.login("boss@example.com")
    page = client.get("/admin/deliveries").get_data(as_text=True)
    assert "Replies not delivered" in page and "Deniz Yılmaz" in page and "(400)" in page
    assert client.post("/admin/deliveries/replies/retry").status_code == 303
    drain()
    (reply,) = replies_of(request.id)
    assert reply.delivery_state == "sent" and len(jira_comments(jira_sim, request)) == 1
    assert "Replies not delivered" not in client.get("/admin/deliveries").get_data(as_text=True)


def test_a_reply_written_while_passive_on_a_request_in_jira_goes_once_active(
        configure_jira, user, client, drain, jira_sim, admin_client):
    configure_jira()
    request = sent_request(user, drain)
    configure_jira(enabled=False)
    send_reply(client, request.id)
    assert replies_of(request.id)[0].delivery_state == "local"
    admin_client.post("/admin/jira/status", data={"enabled": "1"}, headers={"HX-Request": "true"})
    assert replies_of(request.id)[0].delivery_state == "queued"
    delivery.sweep()
    drain()
    assert replies_of(request.id)[0].delivery_state == "sent"
    assert len(jira_comments(jira_sim, request)) == 1
