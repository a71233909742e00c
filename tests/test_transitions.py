"""Resolve and reopen (issue 17 item 5, and item 4's optional move back): the requester's
"Mark as resolved" and "Reopen" become the Jira transitions the admin mapped by name,
exactly once; when Jira refuses, the requester is told the support team will do it and
their note goes as a reply. Runs on either job runner (TEST_JOBS) and, where marked, on
both deployments."""
import re
from datetime import timedelta

from sqlalchemy import select

from webapp import delivery, sync, transitions
from webapp.extensions import db
from webapp.jira import adf_to_text
from webapp.models import JiraStatus, Reply, StatusAction, StatusChange, SupportRequest, utcnow
from tests.jirasim.fixtures import both_deployments
from tests.test_replies import app, sent_request, user  # noqa: F401 (fixtures)

MAPPED = dict(resolve_transition="Resolve", reopen_transition="Reopen", reopen_days=14)


def page_of(client, request):
    return client.get(f"/requests/{request.id}").get_data(as_text=True)


def act(client, request, kind, note=""):
    page = page_of(client, request)
    match = re.search(r'id="status-actions".*?name="submission_key"[^>]*value="([^"]+)"', page, re.S)
    assert match, f"no {kind} form on the page"
    return client.post(f"/requests/{request.id}/{kind}", data={"note": note, "submission_key": match.group(1)})


def issue_status(jira_sim, request):
    return jira_sim.state.statuses[jira_sim.state.issues[request.jira_issue_id]["status"]]["name"]


def actions_of(request):
    db.session.expire_all()
    return db.session.scalars(select(StatusAction).where(StatusAction.request_id == request.id)).all()


def comment_texts(jira_sim, request):
    return [adf_to_text(c["body"]) if isinstance(c["body"], dict) else c["body"]
            for c in jira_sim.state.issues[request.jira_issue_id]["comments"]]


def transition_posts(jira_sim):
    return jira_sim.calls[f"POST {jira_sim.api}/issue/{{issueIdOrKey}}/transitions"]


@both_deployments
def test_mark_as_resolved_moves_the_issue_once_and_the_note_goes_as_a_reply(
        configure_jira, user, client, drain, jira_sim):
    configure_jira(**MAPPED)
    request = sent_request(user, drain)
    assert "Mark as resolved" in page_of(client, request)
    response = act(client, request, "resolve", note="Works now, thanks.")
    assert response.status_code == 303 and response.headers["Location"].endswith("#status-actions")
    page = page_of(client, request)
    assert "You marked this request as resolved" in page and "Sending…" in page
    assert "Mark as resolved</button>" not in page  # one action at a time
    drain()
    assert issue_status(jira_sim, request) == "Done"
    assert transition_posts(jira_sim) == 1
    (action,) = actions_of(request)
    assert action.delivery_state == "sent" and action.outcome == "moved" and action.transition_id == "31"
    request = db.session.get(SupportRequest, request.id)
    assert request.jira_status == "Done" and request.jira_status_category == "done"  # at once, not at the next sync
    (reply,) = db.session.scalars(select(Reply).where(Reply.request_id == request.id)).all()
    assert reply.body == "Works now, thanks." and reply.delivery_state == "sent"
    (text,) = comment_texts(jira_sim, request)
    assert "Deniz Yılmaz, via the support portal" in text and "Works now, thanks." in text
    # The sync finds the change already recorded: one status change in the history.
    sync.refresh_issue(request.jira_issue_id)
    changes = db.session.scalars(select(StatusChange).where(StatusChange.request_id == request.id)).all()
    assert [c.to_status for c in changes if c.to_category == "done"] == ["Done"]
    page = page_of(client, request)
    assert "Resolved" in page and "Reopen</button>" in page  # within the window: offered
    assert jira_sim.spec_violations == []


@both_deployments
def test_reopen_within_the_window_moves_it_back(configure_jira, user, client, drain, jira_sim):
    configure_jira(**MAPPED)
    request = sent_request(user, drain)
    jira_sim.set_status(request.jira_key, "Done")
    sync.refresh_issue(request.jira_issue_id)
    drain()
    act(client, request, "reopen")
    drain()
    assert issue_status(jira_sim, request) == "To Do"
    (action,) = actions_of(request)
    assert action.outcome == "moved" and action.reply_id is None  # no note: no reply
    assert "Reopened" in page_of(client, request)
    assert comment_texts(jira_sim, request) == []


def test_reopen_is_not_offered_after_the_window_nor_when_switched_off(configure_jira, user, client, drain, jira_sim):
    settings = configure_jira(**MAPPED)
    request = sent_request(user, drain)
    jira_sim.set_status(request.jira_key, "Done")
    sync.refresh_issue(request.jira_issue_id)
    drain()
    change = db.session.scalar(select(StatusChange).where(StatusChange.request_id == request.id,
                                                          StatusChange.to_category == "done"))
    change.changed_at = utcnow() - timedelta(days=15)
    db.session.commit()
    assert "Reopen</button>" not in page_of(client, request)
    response = client.post(f"/requests/{request.id}/reopen", data={"note": ""})
    assert response.status_code == 303
    assert "can&#39;t be reopened now" in page_of(client, request) and actions_of(request) == []
    change.changed_at = utcnow()
    settings.reopen_transition = ""
    db.session.commit()
    assert "Reopen</button>" not in page_of(client, request)
    settings.reopen_transition, settings.resolve_transition = "Reopen", None
    jira_sim.set_status(request.jira_key, "To Do")
    sync.refresh_issue(request.jira_issue_id)
    drain()
    assert "Mark as resolved</button>" not in page_of(client, request)
    client.post(f"/requests/{request.id}/resolve", data={"note": ""})
    assert actions_of(request) == []


@both_deployments
def test_a_transition_hidden_by_a_condition_leaves_it_to_the_team_and_the_note_goes(
        configure_jira, user, client, drain, jira_sim):
    configure_jira(**MAPPED)
    request = sent_request(user, drain)
    jira_sim.hide_transition("Resolve")
    act(client, request, "resolve", note="Found it: our proxy.")
    drain()
    assert issue_status(jira_sim, request) == "To Do" and transition_posts(jira_sim) == 0
    (action,) = actions_of(request)
    assert action.delivery_state == "sent" and action.outcome == "refused"
    assert "The support team will close it." in page_of(client, request)
    (text,) = comment_texts(jira_sim, request)
    assert "Found it: our proxy." in text


@both_deployments
def test_a_required_screen_refuses_and_a_standard_line_tells_the_team(configure_jira, user, client, drain, jira_sim):
    configure_jira(**MAPPED)
    request = sent_request(user, drain)
    jira_sim.require_field("Resolve", "resolution")
    act(client, request, "resolve")
    drain()
    assert issue_status(jira_sim, request) == "To Do" and transition_posts(jira_sim) == 1
    (action,) = actions_of(request)
    assert action.outcome == "refused"
    (text,) = comment_texts(jira_sim, request)
    assert "Please close it." in text
    page = page_of(client, request)
    assert "The support team will close it." in page
    assert "Mark as resolved</button>" in page  # nothing is pending: it may be asked again


@both_deployments
def test_a_lost_answer_is_not_transitioned_twice(configure_jira, user, client, drain, jira_sim):
    configure_jira(**MAPPED)
    request = sent_request(user, drain)
    jira_sim.fault("lost_reply", path="/transitions", method="POST", times=1)
    act(client, request, "resolve")
    drain()
    (action,) = actions_of(request)
    assert action.delivery_state == "sent" and action.outcome == "moved" and action.attempts >= 2
    assert transition_posts(jira_sim) == 1  # the retry read the status and found it done
    assert issue_status(jira_sim, request) == "Done"
    assert db.session.get(SupportRequest, request.id).jira_status == "Done"


def test_a_request_resolved_meanwhile_is_done_without_a_transition(configure_jira, user, client, drain, jira_sim):
    configure_jira(**MAPPED)
    request = sent_request(user, drain)
    page = page_of(client, request)
    jira_sim.set_status(request.jira_key, "Done")  # the team, between the page and the click
    key = re.search(r'id="status-actions".*?name="submission_key"[^>]*value="([^"]+)"', page, re.S).group(1)
    client.post(f"/requests/{request.id}/resolve", data={"note": "", "submission_key": key})
    drain()
    (action,) = actions_of(request)
    assert action.outcome == "already" and transition_posts(jira_sim) == 0


def test_a_failed_action_is_retried_by_the_admin(configure_jira, user, client, drain, jira_sim, make_user, auth):
    configure_jira(**MAPPED)
    request = sent_request(user, drain)
    jira_sim.fault("error", status=404, path="/transitions", method="GET")
    act(client, request, "resolve")
    drain()
    (action,) = actions_of(request)
    assert action.delivery_state == "failed" and action.last_error
    assert "administrator has been told" in page_of(client, request)
    jira_sim.clear_faults()
    admin = make_user(email="admin@example.com", admin=True)
    auth.logout()
    auth.login(admin.email)
    page = client.get("/admin/deliveries").get_data(as_text=True)
    assert action.reference in page
    assert client.post("/admin/deliveries/actions/retry").status_code == 303
    drain()
    (action,) = actions_of(request)
    assert action.delivery_state == "sent" and action.outcome == "moved"


def test_a_reply_while_the_team_waits_moves_the_issue_back(configure_jira, user, client, drain, jira_sim):
    configure_jira(**MAPPED, reply_transition="Respond")
    db.session.add(JiraStatus(jira_id="10001", name="Waiting for customer", category="indeterminate",
                              name_en="Waiting for you", name_tr="Yanıtınız bekleniyor", waiting_for_customer=True))
    db.session.commit()
    request = sent_request(user, drain)
    jira_sim.set_status(request.jira_key, "In Progress")
    jira_sim.set_status(request.jira_key, "Waiting for customer")
    sync.refresh_issue(request.jira_issue_id)
    drain()
    page = page_of(client, request)
    key = re.search(r'id="reply-box".*?name="submission_key"[^>]*value="([^"]+)"', page, re.S).group(1)
    client.post(f"/requests/{request.id}/reply", data={"body": "The ID is 4711.", "submission_key": key},
                content_type="multipart/form-data")
    drain()
    assert issue_status(jira_sim, request) == "In Progress"
    (action,) = actions_of(request)
    assert action.kind == "back" and action.outcome == "moved"
    assert len(comment_texts(jira_sim, request)) == 1  # the reply; the move adds none
    # Not waiting any more: the next reply moves nothing.
    page = page_of(client, request)
    key = re.search(r'id="reply-box".*?name="submission_key"[^>]*value="([^"]+)"', page, re.S).group(1)
    client.post(f"/requests/{request.id}/reply", data={"body": "And 4712.", "submission_key": key},
                content_type="multipart/form-data")
    drain()
    assert len(actions_of(request)) == 1


def test_not_offered_while_passive_or_before_the_request_is_in_jira(configure_jira, user, client, drain, jira_sim):
    settings = configure_jira(**MAPPED, enabled=False)
    request = SupportRequest(reporter_id=user.id, label="Bug", summary="Kept", description="...")
    delivery.accept(request)
    assert request.delivery_state == "local"
    assert "Mark as resolved</button>" not in page_of(client, request)
    client.post(f"/requests/{request.id}/resolve", data={"note": ""})
    assert actions_of(request) == []
    settings.enabled = True
    db.session.commit()
    assert "Mark as resolved</button>" not in page_of(client, request)  # no issue yet


def test_only_the_requester_may_resolve_or_reopen(configure_jira, user, client, drain, jira_sim, make_user, auth):
    configure_jira(**MAPPED)
    request = sent_request(user, drain)
    other = make_user(email="other@example.com")
    auth.logout()
    auth.login(other.email)
    for kind in ("resolve", "reopen"):
        assert client.post(f"/requests/{request.id}/{kind}", data={"note": "x"}).status_code == 404
    assert actions_of(request) == []


def test_bad_input_is_refused_without_a_500(configure_jira, user, client, drain, jira_sim):
    configure_jira(**MAPPED)
    request = sent_request(user, drain)
    assert client.post(f"/requests/{request.id}/resolve", data={"submission_key": "k" * 200}).status_code == 400
    response = client.post(f"/requests/{request.id}/resolve", data={"note": "x" * 100_000})
    assert response.status_code == 303 and actions_of(request) == []
    assert client.post("/requests/999999/resolve", data={}).status_code == 404
    response = client.post(f"/requests/{request.id}/resolve", data={"note": ["a", "b"]})
    assert response.status_code in (303, 400)


def test_the_sweep_resumes_an_action_a_lost_job_left(configure_jira, user, client, drain, jira_sim, app):
    configure_jira(**MAPPED)
    request = sent_request(user, drain)
    action = StatusAction(request_id=request.id, author_id=user.id, kind="resolve", note="",
                          delivery_state="queued", next_attempt_at=utcnow() - timedelta(minutes=5))
    db.session.add(action)
    db.session.commit()
    assert delivery.sweep() >= 1
    drain()
    (action,) = actions_of(request)
    assert action.outcome == "moved"
    assert transitions.offered(db.session.get(SupportRequest, request.id), user) == "reopen"


def test_the_requester_reads_it_in_turkish(configure_jira, user, client, drain, jira_sim):
    configure_jira(**MAPPED)
    request = sent_request(user, drain)
    turkish = {"Accept-Language": "tr"}
    page = client.get(f"/requests/{request.id}", headers=turkish).get_data(as_text=True)
    assert "Çözüldü olarak işaretle" in page and "Destek ekibine not (isteğe bağlı)" in page
    jira_sim.require_field("Resolve")
    act(client, request, "resolve")
    drain()
    page = client.get(f"/requests/{request.id}", headers=turkish).get_data(as_text=True)
    assert "Bu talebi çözüldü olarak işaretlediniz" in page and "Destek ekibi talebi kapatacak." in page


def test_a_team_comment_made_before_the_transition_is_not_taken_for_seen(configure_jira, user, client, drain, jira_sim):
    configure_jira(**MAPPED)
    request = sent_request(user, drain)
    sync.sync_changed()
    drain()
    jira_sim.add_comment(request.jira_key, "Is it fixed for you?")  # after the last sync
    act(client, request, "resolve")
    drain()
    assert db.session.get(SupportRequest, request.id).jira_status == "Done"
    sync.sync_changed()
    drain()
    assert "Is it fixed for you?" in page_of(client, request)


def test_a_lost_post_that_jira_finishes_late_is_not_reported_as_refused(configure_jira, user, client, drain, jira_sim):
    """The first post's answer is lost and Jira applies it only after the retry read the
    status: the retry's own post is refused as no longer valid, and the action still moved."""
    configure_jira(**MAPPED)
    request = sent_request(user, drain)
    page = page_of(client, request)
    key = re.search(r'id="status-actions".*?name="submission_key"[^>]*value="([^"]+)"', page, re.S).group(1)
    action = StatusAction(request_id=request.id, author_id=user.id, kind="resolve", note="",
                          transition_id="31", target_status_id="10002", submission_key=key)
    db.session.add(action)
    db.session.commit()
    original = jira_sim.state.find_issue  # Jira finishes the earlier post between the read and the list
    reads = []

    def late(id_or_key, account):
        issue = original(id_or_key, account)
        reads.append(1)
        if len(reads) == 2 and issue is not None:
            jira_sim.set_status(issue["key"], "Done")
        return issue
    jira_sim.state.find_issue = late
    try:
        transitions.accept_action(action)
        drain()
    finally:
        jira_sim.state.find_issue = original
    (action,) = actions_of(request)
    assert action.outcome == "moved" and transition_posts(jira_sim) == 0
    assert db.session.get(SupportRequest, request.id).jira_status == "Done"
