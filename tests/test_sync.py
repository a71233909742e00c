"""Status and comment sync, the full reconcile and the one-issue refresh, against the simulator."""
import subprocess
import sys
import time
import uuid
from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from tests.support import track_issues, tracked
from tests.test_jobs import ROOT, wait_for, worker_env
from webapp import sync
from webapp.extensions import db
from webapp.jira import Comment, Issue
from webapp.models import AppState, JiraComment, JiraSettings, StatusChange, SupportRequest, utcnow
from webapp.periodic import LocalClaims, start_scheduler
from webapp.sync.apply import shown_status
from webapp.sync.state import CURSOR, read_cursor, take_lease, write_cursor
from tests.jirasim.fixtures import both_deployments


@pytest.fixture
def app(app_factory):
    app = app_factory(SYNC_OVERLAP_MINUTES=2, JIRA_TIMEOUT=(2, 5), JIRA_HOLD_SLEEP_SECONDS=0.5)
    with app.app_context():
        yield app


@pytest.fixture
def reporter(make_user):
    return make_user(email="reporter@example.com")


@pytest.fixture
def track(jira_client, reporter):
    """track(summary) → (request, issue): a Jira issue and the sent request tracking it."""
    return lambda summary="Cannot log in": tracked(jira_client, reporter, summary)


def calls(sim):
    return sum(sim.calls.values())


def fresh(request):
    db.session.expire_all()
    return db.session.get(SupportRequest, request.id)


def synced_once():
    """A cursor as if the last sync started a moment ago."""
    write_cursor(utcnow() - timedelta(seconds=5))
    db.session.commit()


# Status ---------------------------------------------------------------------------------------

@both_deployments
def test_a_status_change_appears_after_one_sync(jira_on, track):
    request, issue = track()
    synced_once()
    before = fresh(request).updated_at
    jira_on.set_status(issue.key, "In Progress")
    summary = sync.sync_changed()
    request = fresh(request)
    assert (request.jira_status, request.jira_status_category) == ("In Progress", "indeterminate")
    assert request.jira_updated_at and request.last_synced_at and request.updated_at > before
    change = db.session.scalar(select(StatusChange))
    assert (change.kind, change.from_status, change.to_status) == ("status", "To Do", "In Progress")
    assert summary.changed == [f"{request.reference} {issue.key}: In Progress"]


def test_an_unchanged_issue_keeps_updated_at_and_adds_no_history(jira_on, track):
    request, _ = track()
    synced_once()
    sync.sync_changed()  # applies "To Do" (as stored) and the updated time
    before = fresh(request).updated_at
    sync.sync_changed()
    request = fresh(request)
    assert request.updated_at == before and request.last_synced_at > before
    assert db.session.scalar(select(func.count()).select_from(StatusChange)) == 0


def test_the_first_sync_is_a_full_reconcile_and_sets_the_cursor(jira_on, track):
    request, issue = track()
    jira_on.set_status(issue.key, "Done")
    assert read_cursor() is None
    summary = sync.sync_changed()
    assert summary.full and read_cursor() is not None
    assert fresh(request).jira_status_category == "done"
    assert "POST /rest/api/3/search/jql" in jira_on.calls


def test_the_window_overlaps_the_last_sync_start(jira_on, track):
    """An issue updated just before the last sync started (search lag) is still caught;
    one updated long before is not even returned."""
    caught, caught_issue = track("caught")
    old, old_issue = track("old")
    write_cursor(utcnow() - timedelta(minutes=1))
    db.session.commit()
    jira_on.set_status(caught_issue.key, "In Progress")
    jira_on.set_updated(caught_issue.key, minutes_ago=2)
    jira_on.set_status(old_issue.key, "In Progress")
    jira_on.set_updated(old_issue.key, minutes_ago=30)
    started = utcnow()
    sync.sync_changed()
    assert fresh(caught).jira_status == "In Progress"
    assert fresh(old).jira_status == "To Do"
    assert read_cursor() >= started - timedelta(seconds=1)


# Costs ----------------------------------------------------------------------------------------

def test_ten_thousand_tracked_ten_changed_costs_one_call(jira_on, reporter):
    issues = jira_on.add_issues(10_000)
    track_issues(reporter, issues)
    synced_once()
    for issue in issues[::1000]:
        jira_on.set_status(issue["key"], "Done")
    jira_on.calls.clear()
    summary = sync.sync_changed()
    assert calls(jira_on) == 1 <= 2
    assert len(summary.changed) == 10
    done = db.session.scalar(select(func.count()).select_from(SupportRequest)
                             .where(SupportRequest.jira_status_category == "done"))
    assert done == 10


def test_a_cycle_costs_one_call_per_page_of_changed_issues(jira_on, track, monkeypatch):
    requests = [track(f"r{n}") for n in range(5)]
    synced_once()
    for _, issue in requests:
        jira_on.set_status(issue.key, "Done")
    jira_on.calls.clear()
    monkeypatch.setattr(sync, "BATCH", 2)
    sync.sync_changed()
    assert jira_on.calls["POST /rest/api/3/search/jql"] == 3  # ceil(5 / 2), nothing else
    assert calls(jira_on) == 3


def test_passive_paused_or_untracked_make_no_calls(configure_jira, jira_sim, track):
    configure_jira(enabled=False)
    track()
    jira_sim.calls.clear()
    assert sync.sync_changed() is None and sync.reconcile() is None
    row = JiraSettings.get()
    row.enabled, row.paused_reason = True, '{"en": "401"}'
    db.session.commit()
    assert sync.sync_changed() is None and sync.refresh_issue("10001") is None
    row.paused_reason = None
    db.session.execute(SupportRequest.__table__.update().values(jira_issue_id=None))
    db.session.commit()
    assert sync.sync_changed() is None
    assert calls(jira_sim) == 0


def test_a_401_pauses_the_sync(configure_jira, jira_sim, track):
    track()
    configure_jira(token="revoked-token")
    synced_once()
    assert sync.sync_changed() is None
    assert JiraSettings.get().paused_reason
    jira_sim.calls.clear()
    assert sync.sync_changed() is None and calls(jira_sim) == 0


def test_a_jira_outage_keeps_the_cursor_so_the_next_window_covers_it(jira_on, track):
    request, issue = track()
    synced_once()
    cursor = read_cursor()
    jira_on.set_status(issue.key, "Done")
    jira_on.go_down()
    assert sync.sync_changed() is None
    assert read_cursor() == cursor
    jira_on.come_up()
    sync.sync_changed()
    assert fresh(request).jira_status == "Done"


def test_overlapping_runs_do_not_both_sync(jira_on, track):
    track()
    synced_once()
    lease = take_lease(60)
    jira_on.calls.clear()
    assert sync.sync_changed() is None and sync.reconcile() is None
    assert calls(jira_on) == 0
    lease.release()
    assert sync.sync_changed() is not None
    assert db.session.get(AppState, "sync:lease").value == ""


# Comments -------------------------------------------------------------------------------------

@both_deployments
def test_only_public_comments_are_shown(jira_on, track):
    """Cloud marks internal notes with jsdPublic; Data Center only in a comment property,
    which the portal must ask for, and must not do without."""
    request, issue = track()
    synced_once()
    public_id = jira_on.add_comment(issue.key, "We are *on* it.\n\nhttps://status.example")
    jira_on.add_comment(issue.key, "internal note", internal=True)
    jira_on.add_comment(issue.key, "admins only", visibility={"type": "role", "value": "Administrators"})
    sync.sync_changed()
    comments = db.session.scalars(select(JiraComment).order_by(JiraComment.id)).all()
    assert len(comments) == 3
    shown = [c for c in comments if c.public]
    assert [c.jira_comment_id for c in shown] == [public_id]
    assert shown[0].author_name == "Mia Agent" and "We are" in shown[0].body_html
    assert 'href="https://status.example"' in shown[0].body_html
    hidden = [c for c in comments if not c.public]
    assert all(c.body_html == "" and c.author_name == "" for c in hidden)
    assert "internal note" not in str([c.body_html for c in comments])
    if jira_on.deployment == "datacenter":  # wiki markup, rendered by Jira, shows as meant
        assert "We are <strong>on</strong> it." in shown[0].body_html


@both_deployments
def test_comments_whose_visibility_jira_does_not_say_are_not_shown(jira_on, track):
    """Fail closed: a comment without jsdPublic and without its properties, or with an
    internal-note property of a shape the portal does not know, is not shown."""
    request, issue = track()
    synced_once()
    plain = jira_on.add_comment(issue.key, "plain")
    unknown = jira_on.add_comment(issue.key, "odd property")
    silent = jira_on.add_comment(issue.key, "says nothing")
    with jira_on.state.lock:
        for comment in jira_on.state.issues[issue.id]["comments"]:
            if comment["id"] == unknown:
                comment["properties"] = [{"key": "sd.public.comment", "value": "internal"}]
            if comment["id"] == silent:
                comment["jsdPublic"] = None  # a Cloud comment missing the flag
                comment["properties"] = None  # and no properties to read either
    sync.sync_changed()
    shown = {c.jira_comment_id for c in fresh(request).comments if c.public}
    # Cloud's jsdPublic decides there (the property is Data Center's way of saying it).
    assert shown == ({plain} if jira_on.deployment == "datacenter" else {plain, unknown})


def test_removed_or_restricted_comments_are_hidden(jira_on, track):
    request, issue = track()
    synced_once()
    first = jira_on.add_comment(issue.key, "first")
    second = jira_on.add_comment(issue.key, "second")
    sync.sync_changed()
    assert all(c.public for c in fresh(request).comments)
    before = fresh(request).updated_at
    with jira_on.state.lock:
        data = jira_on.state.issues[issue.id]
        data["comments"] = [c for c in data["comments"] if c["id"] != first]
        data["comments"][0]["visibility"] = {"type": "role", "value": "Administrators"}
        data["updated"] = utcnow()
    sync.sync_changed()
    request = fresh(request)
    assert {c.jira_comment_id: c.public for c in request.comments} == {first: False, second: False}
    assert all(c.body_html == "" for c in request.comments)
    assert request.updated_at > before


def test_long_comment_lists_are_read_in_full(app, reporter):
    """Search embeds only the first comments (20 on Cloud); then all of them are read."""
    request = SupportRequest(reporter_id=reporter.id, label="x", summary="s", description="d",
                             jira_issue_id="500", jira_key="SUP-500")
    db.session.add(request)
    db.session.commit()

    def comment(n):
        return {"id": str(n), "body": f"c{n}", "author": {"displayName": "Mia"},
                "created": "2026-11-01T10:00:00.000+0000", "updated": "2026-11-01T10:00:00.000+0000"}

    class Jira:
        fetched = []

        def comments(self, issue_id):
            self.fetched.append(issue_id)
            return [Comment.from_json(comment(n)) for n in range(25)]

    issue = Issue.from_json({"id": "500", "key": "SUP-500", "fields": {
        "status": {"name": "To Do", "statusCategory": {"key": "new"}},
        "updated": "2026-11-01T10:00:00.000+0000",
        "comment": {"comments": [comment(n) for n in range(20)], "total": 25}}})
    assert not issue.comments_complete
    sync._apply_page(Jira(), [issue], sync.Summary(), None)
    assert Jira.fetched == ["500"]
    assert len(fresh(request).comments) == 25


# The one-issue refresh (webhooks) -------------------------------------------------------------

def test_refresh_issue_reads_one_issue_and_its_comments(jira_on, track):
    request, issue = track()
    jira_on.set_status(issue.key, "In Progress")
    jira_on.add_comment(issue.key, "Looking")
    jira_on.calls.clear()
    sync.refresh_issue(issue.id)
    request = fresh(request)
    assert request.jira_status == "In Progress" and len(request.comments) == 1
    assert calls(jira_on) == 1  # GET issue with status, updated and comment
    jira_on.delete_issue(issue.key)
    sync.refresh_issue(issue.id)  # a webhook's refresh notes it; reconciles confirm it
    assert fresh(request).jira_status_category == "indeterminate" and fresh(request).missing_since
    sync.reconcile()
    assert fresh(request).jira_status_category == "deleted"


def test_refresh_of_an_issue_not_ours_calls_nothing(jira_on, track):
    track()
    jira_on.calls.clear()
    assert sync.refresh_issue("99999") is None
    assert calls(jira_on) == 0


def test_after_a_429_the_sync_calls_nothing_until_retry_after_passed(jira_on, track):
    """Issue 14, item 13: the run that met the 429 ends; the runs after it make no call
    until Jira's Retry-After passed, then the window covers what they missed."""
    request, issue = track()
    synced_once()
    cursor = read_cursor()
    jira_on.fault("rate_limit", path="/search/jql", retry_after=1, times=1)
    assert sync.sync_changed() is None
    jira_on.calls.clear()
    jira_on.set_status(issue.key, "Done")
    assert sync.sync_changed() is None and sync.reconcile() is None
    assert calls(jira_on) == 0 and read_cursor() == cursor
    time.sleep(1.1)
    assert sync.sync_changed() is not None
    assert fresh(request).jira_status == "Done" and read_cursor() > cursor


def test_a_refresh_jira_asked_to_wait_comes_back_after_retry_after(jira_on, track, monkeypatch):
    request, issue = track()
    later = []
    monkeypatch.setattr(sync, "enqueue", lambda func, *args, delay=0: later.append((func, args, delay)))
    jira_on.fault("rate_limit", path=f"/issue/{issue.id}", method="GET", retry_after=7, times=1)
    assert sync.refresh_issue(issue.id) is None
    assert later == [(sync.refresh_issue, (issue.id,), 7.0)]


def test_a_busy_refresh_comes_back_later(jira_on, track, monkeypatch):
    request, issue = track()
    later = []
    monkeypatch.setattr(sync, "enqueue", lambda func, *args, delay=0: later.append((func, args, delay)))
    lease = take_lease(60)
    assert sync.refresh_issue(issue.id) is None
    lease.release()
    assert later == [(sync.refresh_issue, (issue.id,), sync.BUSY_RETRY_SECONDS)]
    jira_on.go_down()  # a failure is not "busy": the periodic sync catches up instead
    assert sync.refresh_issue(issue.id) is None
    assert len(later) == 1


# By hand and on a worker ----------------------------------------------------------------------

def test_flask_jira_sync_prints_what_changed(app, jira_on, track):
    request, issue = track()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["jira", "sync", "--full"])
    assert result.exit_code == 0, result.output
    assert "Full reconcile: 1 tracked issue(s) checked" in result.output
    jira_on.set_status(issue.key, "Waiting for customer")
    result = runner.invoke(args=["jira", "sync"])
    assert result.exit_code == 0, result.output
    assert "Sync: 1 tracked issue(s) checked, 1 changed." in result.output
    assert f"{request.reference} {issue.key}: Waiting for customer" in result.output
    jira_on.delete_issue(issue.key)
    runner.invoke(args=["jira", "sync", "--full"])
    result = runner.invoke(args=["jira", "sync", "--full"])
    assert f"{request.reference} {issue.key}: removed from Jira" in result.output


def test_a_deleted_issue_is_shown_as_removed_in_every_language(app, track, jira_on):
    request, issue = track()
    jira_on.delete_issue(issue.key)
    sync.reconcile()
    sync.reconcile()
    for language, text in (("en", "Removed from Jira"), ("tr", "Jira'dan kaldırıldı")):
        with app.test_request_context(), force_locale(language):
            assert str(shown_status(fresh(request))) == text
    assert shown_status(fresh(request), "tr") == "Jira'dan kaldırıldı"  # a job names the language
    request.jira_status_category = "done"
    assert shown_status(request) == "Resolved"  # nobody mapped "To Do": its category's name
    assert shown_status(request, "tr") == "Çözüldü"


def test_flask_jira_sync_says_when_nothing_ran(app):
    result = app.test_cli_runner().invoke(args=["jira", "sync"])
    assert result.exit_code == 1 and "Nothing was synced" in result.output


def test_the_scheduler_brings_a_change_within_one_sync_interval(app_factory, jira_on, track):
    request, issue = track()
    app = app_factory(REDIS_URL=None, SYNC_SECONDS=1)
    stop = start_scheduler(app, app.extensions["queue"], LocalClaims(), tick=0.05)
    try:
        assert wait_for(lambda: read_cursor() is not None, timeout=5)  # the first, full run
        changed = time.monotonic()
        jira_on.set_status(issue.key, "Done")
        assert wait_for(lambda: fresh(request).jira_status == "Done", timeout=5)
        assert time.monotonic() - changed < 1 + 1  # the interval, plus the run itself
    finally:
        stop.set()


def test_the_sync_runs_on_an_rq_worker(app_factory, redis_url, configure_jira, jira_sim, reporter,
                                       jira_client):
    rq_app = app_factory(REDIS_URL=redis_url, RQ_QUEUE=f"test-{uuid.uuid4().hex[:10]}")
    with rq_app.app_context():
        configure_jira()
        issue = jira_client.create_issue(jira_client.new_issue_fields("SUP", "10002", "rq"))
        jira_sim.set_status(issue.key, "Done")
        request = SupportRequest(reporter_id=reporter.id, label="Bug", summary="rq",
                                 description="...", delivery_state="sent",
                                 jira_issue_id=issue.id, jira_key=issue.key)
        db.session.add(request)
        db.session.commit()
        queue = rq_app.extensions["queue"]
        queue.enqueue(sync.sync_changed)
        try:
            result = subprocess.run([sys.executable, "worker.py", "--burst"], cwd=ROOT,
                                    env=worker_env(rq_app), capture_output=True, text=True,
                                    timeout=60)
        finally:
            queue.queue.empty()
            for key in queue.redis.scan_iter(f"*{queue.queue.name}*"):
                queue.redis.delete(key)
        assert result.returncode == 0, result.stderr[-2000:]
        assert fresh(request).jira_status == "Done"
        assert db.session.get(AppState, CURSOR).value
