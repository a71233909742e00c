"""How a sync run goes: under the lease, with a Summary of what it did, and a continuation
where it stopped (the rest of a search, the next part of a reconcile), so each job stays
well within RQ's job timeout."""
import logging
from dataclasses import dataclass, field

from flask import current_app

from .. import integration, outage
from ..extensions import db
from ..jira import JiraError, JiraRateLimitedError
from ..queue import enqueue
from . import jira_files
from .state import take_lease

log = logging.getLogger(__name__)

LEASE_SECONDS = 300  # SYNC_LEASE_SECONDS' default: renewed after every page; a killed run frees the sync this soon
BUSY_RETRY_SECONDS = 2  # a run that must come back (the lease taken, no Retry-After) does so this soon


@dataclass
class Summary:
    """What a run did, for the CLI and the logs."""

    checked: int = 0  # issues Jira returned (or confirmed gone) that the portal tracks
    changed: list = field(default_factory=list)  # "PR-… SUP-1: In Progress" lines
    full: bool = False
    # (job, *args) that carries on where this run stopped: the next part of the reconcile,
    # or the pages the sync did not read. Enqueued once the lease is released.
    continuation: tuple = ()

    def note(self, request, what):
        self.changed.append(f"{request.reference} {request.jira_key or '-'}: {what}")

    def add(self, later):
        """Count in the run that continued this one."""
        self.checked += later.checked
        self.changed += later.changed
        self.continuation = later.continuation


def under_lease(run, jira, *args, again=None):
    """Run `run(jira, lease, *args)` holding the sync lease. None when it failed, when it
    found nothing to do, or when another run holds the lease or Jira's rate limit does (then
    `again(seconds)` is called: come back then)."""
    lease = take_lease(current_app.config["SYNC_LEASE_SECONDS"])
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
            db.session.rollback()  # what the run left half done is not kept
            outage.call_failed(exc)
        return None
    finally:
        lease.release()
    if summary is not None:
        outage.call_worked()
        db.session.commit()
        log.info("sync: %s checked %d, changed %d%s", run.__name__.lstrip("_"), summary.checked,
                 len(summary.changed), "; continues" if summary.continuation else "")
        jira_files.enqueue_missing()  # the support team's files this run found, or still lacks
    return summary


def enqueue_continuation(summary, chain):
    """With `chain`, enqueue the run's continuation (the lease is free again by now)."""
    if chain and summary is not None and summary.continuation:
        enqueue(*summary.continuation)
    return summary


def run_inline(summary):
    """Run the continuations of a job started with chain=False here, one after another (the
    CLI waits for the whole run). The Summary of them all; None when one did not run."""
    while summary is not None and summary.continuation:
        job, *args = summary.continuation
        later = job(*args, chain=False)
        if later is None:
            return None
        summary.add(later)
    return summary
