"""The support team's files: the worker fetches each from Jira into storage; pages serve only
stored files (the web process never calls Jira).

The sync stores a Jira file's details (`apply.apply_attachments`); after each sync run
`enqueue_missing` wakes a `fetch_jira_file` job for every file not stored yet. A job holds a
lease on its row while it downloads, so a slow download is not started twice; a download
that fails on the way is tried again after the next sync run. A file too large for the
portal, or gone from Jira, is marked so and not tried again.
"""
import logging
import tempfile
from datetime import timedelta

import requests
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, true, update

from .. import integration, polls, storage
from ..extensions import db
from ..jira import JiraDownloadRefusedError, JiraError, JiraNotFoundError
from ..models import DOWNLOAD_REFUSED, Attachment, utcnow
from ..queue import enqueue_each

log = logging.getLogger(__name__)

IN_MEMORY_BYTES = 1024 * 1024  # a smaller download stays in memory until it is stored
FETCH_LEASE_SECONDS = 600  # a fetch that died frees its file this soon
BATCH = 100  # files enqueued per sync run

TOO_LARGE, REMOVED = "too_large", "removed"  # Attachment.fetch_problem: never tried again
REFUSED = DOWNLOAD_REFUSED  # Jira answered with its log-in page: tried again once the settings are saved

# What a person sees in place of the download link, by the file's state.
BEING_FETCHED = _l("Being fetched from Jira…")
CONNECTION_OFF = _l("The support team's file can't be fetched right now: the Jira connection is off.")
LOST = _l("This file is missing from the portal's storage.")
PROBLEMS = {
    TOO_LARGE: _l("This file is too large to download through the portal."),
    REMOVED: _l("This file was removed from Jira."),
    REFUSED: _l("The support team's file can't be fetched right now: Jira refused the portal's download."),
}


class _TooLarge(Exception):
    pass


class _LimitedWriter:
    """Writes to `fileobj`, but stops the download once it passes `max_bytes`: the size
    Jira reported is only checked beforehand, and a lying or changed file must not fill
    the disk."""

    def __init__(self, fileobj, max_bytes):
        self.fileobj, self.max_bytes, self.written = fileobj, max_bytes, 0

    def write(self, block):
        self.written += len(block)
        if self.written > self.max_bytes:
            raise _TooLarge()
        return self.fileobj.write(block)


# What pages ask -------------------------------------------------------------------------------

def is_shown(attachment, settings=None):
    """Whether the requester sees this file: the portal's own, or a Jira file a public
    comment shows (or every Jira file, when the admin says so). Fail closed."""
    if attachment.source != "jira" or attachment.in_public_comment:
        return True
    return bool((settings or integration.settings()).show_all_jira_files)


def is_stored(attachment):
    """Whether the file's bytes are in storage (a portal file, or a fetched Jira file)."""
    return bool(attachment.stored_name) and storage.path_of(attachment.stored_name).is_file()


def why_not_stored(attachment):
    """Why a file can't be downloaded (yet), for the person asking (translated)."""
    if attachment.source != "jira":
        return LOST
    if attachment.fetch_problem in PROBLEMS:
        return PROBLEMS[attachment.fetch_problem]
    return BEING_FETCHED if integration.may_call_jira() else CONNECTION_OFF


# The jobs -------------------------------------------------------------------------------------

def enqueue_missing():
    """Wake a fetch for each Jira file not stored yet (and not being fetched). Returns how many."""
    now = utcnow()
    ids = db.session.scalars(
        select(Attachment.id).where(_fetchable(now)).order_by(Attachment.id).limit(BATCH)).all()
    return enqueue_each(fetch_jira_file, ids)


def fetch_jira_file(attachment_id):
    """Download Jira file `attachment_id` (an Attachment row's id) into storage."""
    if not _claim(attachment_id):
        return
    attachment = db.session.get(Attachment, attachment_id)
    max_bytes = current_app.config["JIRA_FILE_MAX_MB"] * 1024 * 1024
    if attachment.size > max_bytes:
        return _finish(attachment_id, problem=TOO_LARGE)
    jira = integration.connect()
    if jira is None:
        return _finish(attachment_id)  # fetched after a sync run once Jira may be called again
    old_name, jira_id, content_url = attachment.stored_name, attachment.jira_attachment_id, attachment.jira_content_url
    db.session.commit()  # no transaction held open through a download that may take minutes
    try:
        stored_name, size, sha256 = _download(jira, jira_id, content_url, max_bytes)
    except _TooLarge:
        return _finish(attachment_id, problem=TOO_LARGE)
    except JiraNotFoundError:
        return _finish(attachment_id, problem=REMOVED)
    except JiraDownloadRefusedError as exc:  # never "removed": the admin has something to fix
        log.warning("jira file: attachment %s: %s", jira_id, exc.message())
        return _finish(attachment_id, problem=REFUSED)
    # A connection lost mid-file comes from `requests` itself. Neither holds the credentials.
    except (JiraError, requests.RequestException) as exc:
        log.warning("jira file: attachment %s: %s", jira_id, exc)
        if integration.refused(exc):
            integration.pause(exc, jira.settings_version)
        return _finish(attachment_id)
    # The sync may have removed the row meanwhile (the file is gone from Jira): keep nothing.
    kept = db.session.execute(
        update(Attachment)
        .where(Attachment.id == attachment_id, _stored_name_is(old_name))
        .values(stored_name=stored_name, sha256=sha256, size=size, fetch_started_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    polls.files_changed([attachment_id])
    db.session.commit()
    if not kept:
        storage.remove(stored_name)
    else:
        log.info("jira file: attachment %s stored (%d bytes)", jira_id, size)


def _fetchable(now):
    """Jira files to fetch: shown to their requester (a hidden one is never fetched), not
    stored yet, not given up on, and not being fetched by a live job."""
    lapsed = now - timedelta(seconds=FETCH_LEASE_SECONDS)
    shown = true() if integration.settings().show_all_jira_files else Attachment.in_public_comment
    return (Attachment.source == "jira") & shown & Attachment.stored_name.is_(None) \
        & Attachment.fetch_problem.is_(None) \
        & or_(Attachment.fetch_started_at.is_(None), Attachment.fetch_started_at < lapsed)


def _claim(attachment_id):
    """Take the file for this job (one conditional UPDATE: two jobs never fetch it at once)."""
    now = utcnow()
    claimed = db.session.execute(
        update(Attachment).where(Attachment.id == attachment_id, _fetchable(now))
        .values(fetch_started_at=now).execution_options(synchronize_session=False)
    ).rowcount
    polls.files_changed([attachment_id] if claimed else [])
    db.session.commit()
    return claimed == 1


def _finish(attachment_id, problem=None):
    """End the job's lease; with a `problem`, the file is never tried again."""
    db.session.execute(
        update(Attachment).where(Attachment.id == attachment_id)
        .values(fetch_started_at=None, fetch_problem=problem).execution_options(synchronize_session=False))
    polls.files_changed([attachment_id])
    db.session.commit()
    if problem:
        log.info("jira file: attachment row %s not fetched: %s", attachment_id, problem)


def _stored_name_is(name):
    return Attachment.stored_name.is_(None) if name is None else Attachment.stored_name == name


def _download(jira, attachment_id, content_url, max_bytes):
    """Download Jira attachment `attachment_id` into storage; (stored_name, size, sha256)."""
    with tempfile.SpooledTemporaryFile(max_size=IN_MEMORY_BYTES, dir=storage.attachments_dir()) as spool:
        jira.download_attachment(attachment_id, _LimitedWriter(spool, max_bytes), content_url=content_url)
        spool.seek(0)
        return storage.store_stream(spool)  # already held to max_bytes while downloading


def refused_downloads():
    """How many of the support team's files Jira refused to hand over (for the admin)."""
    return db.session.scalar(select(func.count()).select_from(Attachment).where(Attachment.fetch_problem == REFUSED))

