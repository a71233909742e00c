"""Jira's changes back into the portal: status, comment and attachment sync, reconcile,
webhook refresh.

- `sync_changed` (every SYNC_SECONDS): one JQL search for the project's issues updated since
  the cursor, plus an overlap. Its cost grows with the issues that changed, not with the
  issues tracked: 1 call per page of 100 changed issues, at most SYNC_PAGES_PER_JOB pages a
  job; a continuation reads the rest.
- `reconcile` (every RECONCILE_SECONDS, and the first sync): every tracked issue, by `id in
  (...)` batches of 100, in parts of RECONCILE_BATCHES_PER_JOB batches, each a job
  (`reconcile_part`) that enqueues the next; notices issues deleted or moved to another project.
- `refresh_issue` (enqueued by the webhook): one issue, right now.
- after each: a `jira_files.fetch_jira_file` job for each of the support team's files not
  stored yet, so pages serve them from storage.

Each is a job: it takes ids or plain values and runs in an app context. All hold one lease
(`state.take_lease`), so overlapping runs never write the same rows twice. The cursor never
moves past an issue not applied yet (docs/sync.md).
"""
import logging
import math

from flask import current_app
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from .. import integration
from ..extensions import db
from ..jira import JiraAccessLostError, JiraError, JiraInvalidError, JiraNotFoundError, jql_quote
from ..models import SupportRequest, utcnow
from ..queue import enqueue, lost_before
from .apply import DELETED, apply_issue, apply_missing, is_older, is_unchanged, mark_synced, note_duplicates
from .runs import BUSY_RETRY_SECONDS, LEASE_SECONDS, Summary, enqueue_continuation, under_lease  # noqa: F401
from .state import end_reconcile_run, read_cursor, reconcile_run, refresh_started, save_reconcile_run, write_cursor

log = logging.getLogger(__name__)

# Comments and attachment details inline: no extra call per issue. Jira bumps `updated` when
# a file is attached or deleted, so `is_unchanged` still tells when nothing is new.
FIELDS = ("status", "updated", "comment", "attachment", "labels")
BATCH = 100  # issues per search page and per `id in (...)` query
RECHECK_BATCH = 50  # issues shown as removed, asked for again by each reconcile
LOST_PART_SECONDS = LEASE_SECONDS  # a reconcile run not moved on for this long lost its part's job


def sync_changed(pages=0, chain=True):
    """The incremental sync, reading at most `pages` pages (SYNC_PAGES_PER_JOB when 0).
    Returns a Summary, or None when it did not run. `chain`: enqueue the continuation (else
    the caller runs it: `run_inline`)."""
    jira = _jira_if_allowed()
    if jira is None:
        return None
    if read_cursor() is None:  # never synced: nothing to be incremental from
        return reconcile(chain)
    pages = pages or current_app.config["SYNC_PAGES_PER_JOB"]
    return enqueue_continuation(under_lease(_sync_changed, jira, pages), chain)


def reconcile(chain=True):
    """The full reconcile: starts a run, or resumes one whose part failed or was lost, and
    checks its first part. Returns that part's Summary, or None when it did not run (a run is
    in flight, or Jira failed)."""
    jira = _jira_if_allowed()
    if jira is None:
        return None
    return enqueue_continuation(under_lease(_reconcile_start, jira), chain)


def reconcile_part(started, after, chain=True):
    """The next part of the reconcile run that started at `started` (UTC ISO): the tracked
    issues after id `after`. A copy of a part already checked does nothing."""
    jira = _jira_if_allowed()
    if jira is None:
        return None  # the gate closed: a later reconcile resumes the run
    again = lambda delay: enqueue(reconcile_part, started, after, delay=delay)  # noqa: E731
    return enqueue_continuation(under_lease(_reconcile_next, jira, started, after, again=again), chain)


def refresh_issue(issue_id):
    """Re-read one issue and its comments (a webhook said it changed)."""
    issue_id = str(issue_id)
    refresh_started(issue_id)
    if not _requests_for([issue_id]):
        return None  # not an issue of ours
    jira = _jira_if_allowed()
    if jira is None:
        return None
    # While a sync or reconcile runs, or Jira asks to wait, come back then rather than wait
    # for the next sync.
    return under_lease(_refresh_issue, jira, issue_id,
                       again=lambda delay: enqueue(refresh_issue, issue_id, delay=delay))


# The runs, each under the lease ------------------------------------------------------------

def _sync_changed(jira, lease, pages):
    started = utcnow()
    cursor = read_cursor()
    overlap = current_app.config["SYNC_OVERLAP_MINUTES"]
    # Relative minutes, not a date: JQL reads absolute dates in the Jira account's time zone.
    minutes = max(1, math.ceil((started - cursor).total_seconds() / 60)) + overlap
    project = jql_quote(integration.settings().project_key)
    jql = f"project = {project} AND updated >= -{minutes}m ORDER BY updated ASC"
    summary = Summary()
    found = jira.search(jql, fields=FIELDS, page_size=BATCH, max_pages=pages)
    last = None
    for page in _pages_of(found):
        _apply_page(jira, page, summary, lease)
        last = page[-1]
    if not found.truncated:
        write_cursor(started)
    elif last is not None and last.updated is not None and last.updated > cursor:
        # The pages not read hold issues updated at or after the last one applied (ORDER BY
        # updated ASC): the next window starts there, less the overlap.
        write_cursor(last.updated)
        summary.continuation = (sync_changed, pages)
    else:
        # Every page read lies in the overlap of the window (a bulk change in Jira): the
        # next run would read the same ones, so it reads twice as many.
        summary.continuation = (sync_changed, pages * 2)
    db.session.commit()
    return summary


def _reconcile_start(jira, lease):
    run = reconcile_run()
    if run is not None and not run.stalled(lost_before(LOST_PART_SECONDS)):
        log.info("sync: a reconcile is in flight (checked up to issue %s)", run.after or "-")
        return None
    if run is None:
        run = save_reconcile_run(utcnow().isoformat())
    return _reconcile_part(jira, lease, run)


def _reconcile_next(jira, lease, started, after):
    run = reconcile_run()
    if run is None or (run.started, run.after) != (started, after):
        return Summary(full=True)  # that part was checked already (a job enqueued twice)
    return _reconcile_part(jira, lease, run)


def _reconcile_part(jira, lease, run):
    """Check the next RECONCILE_BATCHES_PER_JOB batches of the run, recording each. The last
    part also asks again for issues shown as removed, then moves the cursor."""
    summary = Summary(full=True)
    size = current_app.config["RECONCILE_BATCHES_PER_JOB"] * BATCH
    ids = _tracked_after(run.after, limit=size + 1)
    try:
        for start in range(0, min(len(ids), size), BATCH):
            batch = ids[start:min(start + BATCH, size)]
            _reconcile_batch(jira, lease, batch, summary, run.started_at)
            run = save_reconcile_run(run.started, batch[-1])
        if len(ids) > size:
            summary.continuation = (reconcile_part, run.started, run.after)
            return summary
        for issue_id in _removed_to_recheck():  # they come back if Jira shows them again
            _refresh_issue(jira, lease, issue_id, summary, confirm_before=run.started_at)
    except JiraError:
        db.session.rollback()  # what the failed batch had half applied stays out
        save_reconcile_run(run.started, run.after, failed=True)  # the next reconcile resumes here
        raise
    end_reconcile_run(run)
    return summary


def _reconcile_batch(jira, lease, batch, summary, started):
    found = _search_ids(jira, batch)
    # Forced: a comment restricted or deleted in Jira need not bump the issue's `updated`.
    _apply_page(jira, found, summary, lease, force=True)
    missing = sorted(set(batch) - {issue.id for issue in found})
    if len(missing) == len(batch) > 1 and not _any_readable(jira, missing):
        # Not one of them: the account has lost access, not the issues their existence.
        raise JiraAccessLostError(context={"count": len(batch)})
    for issue_id in missing:
        # Search is eventually consistent: ask for the issue itself before calling it gone.
        _refresh_issue(jira, lease, issue_id, summary, confirm_before=started)


def _refresh_issue(jira, lease, issue_id, summary=None, confirm_before=None):
    summary = summary if summary is not None else Summary()
    try:
        issue = jira.issue(issue_id, fields=FIELDS)
    except JiraNotFoundError:
        for support_request in _requests_for([issue_id]):
            summary.checked += 1
            if apply_missing(support_request, confirm_before):
                summary.note(support_request, "removed from Jira")
        db.session.commit()
        return summary
    _apply_page(jira, [issue], summary, lease, force=True)
    return summary


def _search_ids(jira, batch):
    """The batch's issues, wherever they live now. Jira refuses the whole query (400) when
    an id in it no longer exists: then none is returned, and each is asked for by itself."""
    if not all(issue_id.isdigit() for issue_id in batch):
        return []
    try:
        return list(jira.search(f"id in ({', '.join(batch)})", fields=FIELDS, page_size=BATCH))
    except JiraInvalidError:
        return []


def _apply_page(jira, issues, summary, lease, force=False):
    """Apply a page of issues to the requests tracking them; note a second issue carrying a
    request's reference; commit; renew the lease."""
    note_duplicates(issues)
    by_issue = {}
    for support_request in _requests_for([issue.id for issue in issues]):
        by_issue.setdefault(support_request.jira_issue_id, []).append(support_request)
    for issue in issues:
        tracking = by_issue.get(issue.id, [])
        summary.checked += len(tracking)
        # Search may answer with the issue as it was before a change the portal already
        # showed (a stale read): that never moves a request backwards.
        current = [r for r in tracking if not is_older(r, issue)]
        if not current or (not force and all(is_unchanged(r, issue) for r in current)):
            for support_request in tracking:
                mark_synced(support_request)
            continue
        comments = issue.comments if issue.comments_complete else list(jira.comments(issue.id))
        for support_request in current:
            if apply_issue(support_request, issue, comments):
                summary.note(support_request, support_request.jira_status or "")
    db.session.commit()
    if lease is not None:
        lease.renew()


# Helpers ------------------------------------------------------------------------------------

def _pages_of(issues):
    """The issues in lists of BATCH, as the search pages them."""
    page = []
    for issue in issues:
        page.append(issue)
        if len(page) == BATCH:
            yield page
            page = []
    if page:
        yield page


def _tracked_after(issue_id, limit):
    """The next `limit` ids of tracked issues after `issue_id`, in order. Issues already found
    removed are left out (asked for one by one instead): Jira refuses a whole `id in (...)`
    batch for one id that no longer exists."""
    return db.session.scalars(
        select(SupportRequest.jira_issue_id).where(
            SupportRequest.jira_issue_id > issue_id,
            or_(SupportRequest.jira_status_category.is_(None),
                SupportRequest.jira_status_category != DELETED))
        .distinct().order_by(SupportRequest.jira_issue_id).limit(limit)
    ).all()


def _any_readable(jira, issue_ids):
    """Whether Jira shows any of these issues when asked one by one."""
    for issue_id in issue_ids:
        try:
            jira.issue(issue_id, fields=("updated",))
            return True
        except JiraNotFoundError:
            continue
    return False


def _removed_to_recheck():
    """A few of the issues shown as removed, least recently checked first."""
    return db.session.scalars(
        select(SupportRequest.jira_issue_id).where(
            SupportRequest.jira_issue_id.isnot(None), SupportRequest.jira_status_category == DELETED)
        .group_by(SupportRequest.jira_issue_id)
        .order_by(func.min(SupportRequest.last_synced_at)).limit(RECHECK_BATCH)).all()


def _requests_for(issue_ids):
    if not issue_ids:
        return []
    return db.session.scalars(
        select(SupportRequest).where(SupportRequest.jira_issue_id.in_(issue_ids))
        .options(selectinload(SupportRequest.comments), selectinload(SupportRequest.attachments))
    ).all()


def _jira_if_allowed():
    """A JiraClient when the sync may call Jira now (integration.connect), and something is
    tracked; else None, and no HTTP call at all."""
    tracked = db.session.scalar(
        select(SupportRequest.id).where(SupportRequest.jira_issue_id.isnot(None)).limit(1))
    return integration.connect() if tracked is not None else None
