"""Jira's changes back into the portal: status, comment and attachment sync, reconcile,
webhook refresh.

- `sync_changed` (every SYNC_SECONDS): one JQL search for the project's issues updated since
  the last sync started, plus an overlap. Its cost grows with the issues that changed, not
  with the issues tracked: 1 call per page of 100 changed issues.
- `reconcile` (every RECONCILE_SECONDS, and the first sync): every tracked issue, by `id in
  (...)` batches of 100; notices issues deleted or moved to another project.
- `refresh_issue` (enqueued by the webhook): one issue, right now.
- after each: a `jira_files.fetch_jira_file` job for each of the support team's files not
  stored yet, so pages serve them from storage.

Each is a job: it takes ids or nothing and runs in an app context. All three hold one lease
(`state.take_lease`), so overlapping runs never write the same rows twice.
"""
import logging
import math
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from .. import integration
from ..extensions import db
from ..jira import (JiraAccessLostError, JiraError, JiraInvalidError, JiraNotFoundError, JiraRateLimitedError,
                    jql_quote)
from ..models import SupportRequest, utcnow
from ..queue import enqueue
from . import jira_files
from .apply import DELETED, apply_issue, apply_missing, is_older, is_unchanged, mark_synced, note_duplicates
from .state import read_cursor, refresh_started, take_lease, write_cursor

log = logging.getLogger(__name__)

# Comments and attachment details inline: no extra call per issue. Jira bumps `updated` when
# a file is attached or deleted, so `is_unchanged` still tells when nothing is new.
FIELDS = ("status", "updated", "comment", "attachment", "labels")
BATCH = 100  # issues per search page and per `id in (...)` query
LEASE_SECONDS = 300  # renewed after every page; a killed run frees the sync this soon
BUSY_RETRY_SECONDS = 2  # a webhook refresh waits this long while another run holds the lease
RECHECK_BATCH = 50  # issues shown as removed, asked for again by each reconcile


@dataclass
class Summary:
    """What a run did, for the CLI and the logs."""

    checked: int = 0  # issues Jira returned (or confirmed gone) that the portal tracks
    changed: list = field(default_factory=list)  # "PR-… SUP-1: In Progress" lines
    full: bool = False

    def note(self, request, what):
        self.changed.append(f"{request.reference} {request.jira_key or '-'}: {what}")


def sync_changed():
    """The incremental sync. Returns a Summary, or None when it did not run."""
    jira = _jira_if_allowed()
    if jira is None:
        return None
    if read_cursor() is None:  # never synced: nothing to be incremental from
        return reconcile()
    return _locked(_sync_changed, jira)


def reconcile():
    """The full reconcile. Returns a Summary, or None when it did not run."""
    jira = _jira_if_allowed()
    if jira is None:
        return None
    return _locked(_reconcile, jira)


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
    return _locked(_refresh_issue, jira, issue_id,
                   again=lambda delay: enqueue(refresh_issue, issue_id, delay=delay))


# The runs, each under the lease ------------------------------------------------------------

def _sync_changed(jira, lease):
    started = utcnow()
    cursor = read_cursor()
    overlap = current_app.config["SYNC_OVERLAP_MINUTES"]
    # Relative minutes, not a date: JQL reads absolute dates in the Jira account's time zone.
    minutes = max(1, math.ceil((started - cursor).total_seconds() / 60)) + overlap
    project = jql_quote(integration.settings().project_key)
    jql = f"project = {project} AND updated >= -{minutes}m ORDER BY updated ASC"
    summary = Summary()
    page = []
    for issue in jira.search(jql, fields=FIELDS, page_size=BATCH):
        page.append(issue)
        if len(page) == BATCH:
            _apply_page(jira, page, summary, lease)
            page = []
    _apply_page(jira, page, summary, lease)
    write_cursor(started)
    db.session.commit()
    return summary


def _reconcile(jira, lease):
    started = utcnow()
    summary = Summary(full=True)
    # Issues already found removed are asked for one by one (below): Jira refuses a whole
    # `id in (...)` batch for one id that no longer exists.
    ids = db.session.scalars(
        select(SupportRequest.jira_issue_id).where(
            SupportRequest.jira_issue_id.isnot(None),
            or_(SupportRequest.jira_status_category.is_(None),
                SupportRequest.jira_status_category != DELETED))
        .distinct().order_by(SupportRequest.jira_issue_id)
    ).all()
    for start in range(0, len(ids), BATCH):
        batch = ids[start:start + BATCH]
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
    for issue_id in _removed_to_recheck():  # they come back if Jira shows them again
        _refresh_issue(jira, lease, issue_id, summary, confirm_before=started)
    write_cursor(started)  # everything tracked is fresh as of the start
    db.session.commit()
    return summary


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


def _locked(run, jira, *args, again=None):
    """Run `run(jira, lease, *args)` holding the sync lease. None when it failed, or when
    another run holds the lease or Jira's rate limit does (then `again(seconds)` is called)."""
    lease = take_lease(LEASE_SECONDS)
    if lease is None:
        log.info("sync: another run holds the lease; skipped %s", run.__name__)
        if again is not None:
            again(BUSY_RETRY_SECONDS)
        return None
    try:
        summary = run(jira, lease, *args)
    except JiraRateLimitedError as exc:
        # Jira asked to wait: the hold it put (jira/pace.py) keeps every run from calling
        # until then; the cursor stays, so the first run after it covers this one's window.
        wait = exc.retry_after if exc.retry_after is not None else BUSY_RETRY_SECONDS
        log.info("sync: %s ended: Jira's rate limit asks to wait %.0f s", run.__name__.lstrip("_"), wait)
        if again is not None:
            again(wait)
        return None
    except JiraError as exc:  # the cursor stays: the next run's window covers this one's
        if integration.refused(exc):
            integration.pause(exc, jira.settings_version)
        else:
            log.warning("sync: %s failed: %s", run.__name__.lstrip("_"), exc)
        return None
    finally:
        lease.release()
    log.info("sync: %s checked %d, changed %d", run.__name__.lstrip("_"),
             summary.checked, len(summary.changed))
    jira_files.enqueue_missing()  # the support team's files this run found, or still lacks
    return summary

