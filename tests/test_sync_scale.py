"""The sync at scale, against the simulator: the full reconcile split into parts (jobs) that
each check a bounded number of batches, and the incremental sync, whose cursor never moves
past an issue it did not read. CI-sized: a tiny part size exercises the split; bench/
reconcile_scale.py reconciles 100,000."""
import math
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.support import track_issues
from webapp import sync
from webapp.extensions import db
from webapp.jira import client as jira_client_module
from webapp.models import SupportRequest, utcnow
from webapp.sync.runs import run_inline
from webapp.sync.state import read_cursor, reconcile_run, write_cursor

SEARCH = "POST /rest/api/3/search/jql"
GET_ISSUE = "GET /rest/api/3/issue/{issueIdOrKey}"


@pytest.fixture
def app(app_factory):
    app = app_factory(SYNC_OVERLAP_MINUTES=2, JIRA_TIMEOUT=(2, 5), RECONCILE_BATCHES_PER_JOB=3,
                      SYNC_PAGES_PER_JOB=2)
    with app.app_context():
        yield app


@pytest.fixture
def tracked(jira_on, make_user):
    """tracked(count) → the simulator's issues, each tracked by a sent request."""
    reporter = make_user(email="reporter@example.com")

    def make(count):
        issues = jira_on.add_issues(count)
        track_issues(reporter, issues)
        return issues
    return make


def calls(sim):
    return sum(sim.calls.values())


def unchecked():
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(SupportRequest)
                             .where(SupportRequest.last_synced_at.is_(None)))


def parts_of(summary, sim):
    """Run the parts that follow `summary` one by one, as the queue would: the Jira calls of
    each, and the cursor after each."""
    seen = []
    while summary.continuation:
        job, *args = summary.continuation
        assert job is sync.reconcile_part and all(isinstance(a, str) for a in args)  # plain values
        sim.calls.clear()
        summary = job(*args, chain=False)
        seen.append((dict(sim.calls), read_cursor()))
    return seen


# The reconcile, in parts ----------------------------------------------------------------------

def test_the_reconcile_of_2000_requests_runs_in_parts_of_at_most_three_batches(jira_on, tracked):
    tracked(2000)  # 20 batches of 100: parts of 3, 3, 3, 3, 3, 3 and 2
    write_cursor(utcnow() - timedelta(hours=2))  # the last sync, long ago
    db.session.commit()
    cursor = read_cursor()
    jira_on.calls.clear()
    first = sync.reconcile(chain=False)
    assert jira_on.calls[SEARCH] == 3 and calls(jira_on) == 3 and first.checked == 300
    started = reconcile_run().started_at
    later = parts_of(first, jira_on)
    assert len(later) + 1 == math.ceil(20 / 3) == 7
    assert [c.get(SEARCH) for c, _ in later] == [3, 3, 3, 3, 3, 2]
    assert all(sum(c.values()) == c.get(SEARCH) for c, _ in later)  # nothing else: all found
    # The cursor stays until the last part is done, then moves to the run's start.
    assert [cur for _, cur in later[:-1]] == [cursor] * 5
    assert later[-1][1] == started > cursor
    assert unchecked() == 0 and reconcile_run() is None


def test_the_parts_run_as_jobs_on_the_queue(jira_on, tracked, drain):
    tracked(1000)
    jira_on.calls.clear()
    assert sync.reconcile().continuation  # the rest is enqueued: 4 parts in all
    drain()
    assert jira_on.calls[SEARCH] == 10 and unchecked() == 0
    assert read_cursor() is not None and reconcile_run() is None


def test_a_part_failing_midway_leaves_the_cursor_and_the_next_reconcile_resumes_there(jira_on, tracked):
    issues = sorted(tracked(1000), key=lambda issue: issue["id"])
    write_cursor(utcnow() - timedelta(hours=2))
    db.session.commit()
    cursor = read_cursor()
    jira_on.delete_issue(issues[450]["key"])  # batch 5 asks for it by itself ...
    first = sync.reconcile(chain=False)  # batches 1-3
    started = reconcile_run().started
    jira_on.calls.clear()
    jira_on.fault("error", path="/rest/api/3/issue/", method="GET", status=503, times=1)  # ... and fails
    job, *args = first.continuation
    assert job(*args, chain=False) is None  # batch 4 done, batch 5 failed
    assert jira_on.calls[SEARCH] == 2
    assert read_cursor() == cursor  # unmoved
    run = reconcile_run()
    assert (run.started, run.after) == (started, issues[399]["id"])
    jira_on.calls.clear()
    whole = run_inline(sync.reconcile(chain=False))  # at once: the failed part is resumed
    assert whole is not None and jira_on.calls[SEARCH] == 6  # batches 5 to 10, not 1 to 4 again
    assert jira_on.calls[GET_ISSUE] == 1
    assert read_cursor() == run.started_at and reconcile_run() is None
    assert unchecked() == 0


def test_one_reconcile_run_at_a_time_and_a_part_enqueued_twice_runs_once(jira_on, tracked, monkeypatch):
    tracked(700)
    first = sync.reconcile(chain=False)
    jira_on.calls.clear()
    assert sync.reconcile() is None  # its next part is on the queue: no second run
    assert sync.sync_changed() is None  # the first sync is that reconcile: nothing meanwhile
    assert calls(jira_on) == 0
    job, *args = first.continuation
    second = job(*args, chain=False)
    assert jira_on.calls[SEARCH] == 3
    assert job(*args, chain=False).continuation == ()  # the same part again: nothing
    assert jira_on.calls[SEARCH] == 3
    # A part whose job was lost (a killed worker): a later reconcile resumes the run.
    monkeypatch.setattr(sync, "LOST_PART_SECONDS", 0)
    jira_on.calls.clear()
    assert run_inline(sync.reconcile(chain=False)) is not None
    assert jira_on.calls[SEARCH] == 1 and unchecked() == 0
    assert second.continuation  # which its own job now finds done
    job, *args = second.continuation
    assert job(*args, chain=False).continuation == () and jira_on.calls[SEARCH] == 1


def test_a_restarted_embedded_portal_resumes_the_run_whose_next_part_died_with_the_old_one(
        app_factory, jira_on, tracked):
    tracked(700)
    sync.reconcile(chain=False)  # part 1 of 3; part 2 was on the queue of a process now gone
    restarted = app_factory(REDIS_URL=None, RECONCILE_BATCHES_PER_JOB=3)
    with restarted.app_context():
        jira_on.calls.clear()
        assert run_inline(sync.reconcile(chain=False)) is not None  # at once, not in 5 minutes
        assert jira_on.calls[SEARCH] == 4 and unchecked() == 0


def test_flask_jira_sync_full_runs_every_part_and_counts_them_all(app, jira_on, tracked):
    tracked(1000)
    result = app.test_cli_runner().invoke(args=["jira", "sync", "--full"])
    assert result.exit_code == 0, result.output
    assert "Full reconcile: 1000 tracked issue(s) checked" in result.output
    assert jira_on.calls[SEARCH] == 10 and read_cursor() is not None


# The incremental sync: a search cut short -----------------------------------------------------

@pytest.fixture
def changed(jira_on, tracked, monkeypatch):
    """changed(minutes_ago...) → issues changed that long ago, tracked, with the cursor 40
    minutes back; pages of 2 issues, so a job of 2 pages reads 4."""
    monkeypatch.setattr(sync, "BATCH", 2)

    def make(*minutes_ago):
        issues = tracked(len(minutes_ago))
        for issue, minutes in zip(issues, minutes_ago):
            jira_on.set_status(issue["key"], "Done")
            jira_on.set_updated(issue["key"], minutes_ago=minutes)
        write_cursor(utcnow() - timedelta(minutes=40))
        db.session.commit()
        return issues
    return make


def done():
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(SupportRequest)
                             .where(SupportRequest.jira_status == "Done"))


def test_a_search_cut_short_never_moves_the_cursor_past_issues_it_did_not_read(jira_on, changed, monkeypatch):
    monkeypatch.setattr(jira_client_module, "MAX_PAGES", 2)  # the client's own limit, too
    issues = changed(35, 30, 25, 20, 15, 10, 5)  # 4 pages of 2
    summary = sync.sync_changed(chain=False)
    assert jira_on.calls[SEARCH] == 2 and done() == 4
    fourth, fifth = (jira_on.state.issues[i["id"]]["updated"] for i in issues[3:5])
    # The 4th issue's `updated` as Jira renders it (milliseconds): the unread ones come after.
    assert read_cursor() <= fourth < fifth and fourth - read_cursor() < timedelta(milliseconds=1)
    assert summary.continuation == (sync.sync_changed, 2)
    run_inline(summary)
    assert done() == 7
    assert read_cursor() > utcnow() - timedelta(seconds=5)  # read to the end: the run's start


def test_a_bulk_change_larger_than_a_job_is_read_with_more_pages_rather_than_again(jira_on, changed):
    changed(1, 1, 1, 1, 1, 1)  # 3 pages within a minute: all in the next window's overlap
    jira_on.calls.clear()
    summary = run_inline(sync.sync_changed(chain=False))
    assert summary is not None and done() == 6
    # 2 pages (cursor to the 4th), 2 pages again (the same 4: no progress), then 4 pages (3 to the end)
    assert jira_on.calls[SEARCH] == 2 + 2 + 3


def test_the_client_tells_when_it_stopped_before_the_last_page(jira_on, tracked, jira_client):
    tracked(5)
    found = jira_client.search('project = "SUP"', page_size=2, max_pages=2)
    assert len(list(found)) == 4 and found.truncated
    found = jira_client.search('project = "SUP"', page_size=2, max_pages=3)
    assert len(list(found)) == 5 and not found.truncated
