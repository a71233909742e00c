"""The support team's files: fetched from Jira on their first download, then served from storage.

The sync stores only a Jira file's details (`apply.apply_attachments`); the bytes come on the
first download, so files nobody opens cost nothing. The caller (the download route) checks who
may see the request; here only the file is fetched.
"""
import logging
import tempfile

import requests
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from .. import integration, storage
from ..crypto import SecretUnreadable
from ..extensions import db
from ..jira import JiraError, JiraNotFoundError
from ..models import Attachment

log = logging.getLogger(__name__)

IN_MEMORY_BYTES = 1024 * 1024  # a smaller download stays in memory until it is stored

CONNECTION_OFF = _l("The support team's file can't be fetched right now: the Jira connection is off.")
REMOVED = _l("This file was removed from Jira.")
NO_ANSWER = _l("Jira did not answer; try again in a minute.")
TOO_LARGE = _l("This file is too large to download through the portal.")


class JiraFileUnavailable(Exception):
    """A Jira file that cannot be fetched now; `message` is for the user (translated)."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


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


def fetch_jira_file(attachment):
    """The path of the attachment's file, downloading a Jira file into storage the first time.

    Portal files, and Jira files already fetched, are returned without calling Jira. A download
    commits the session. Raises JiraFileUnavailable when a Jira file cannot be fetched now."""
    if attachment.source != "jira" or _is_stored(attachment):
        return storage.path_of(attachment.stored_name)
    max_bytes = current_app.config["JIRA_FILE_MAX_MB"] * 1024 * 1024
    if attachment.size > max_bytes:
        raise JiraFileUnavailable(TOO_LARGE)
    jira = _jira_client()
    row_id, attachment_id, old_name = attachment.id, attachment.jira_attachment_id, attachment.stored_name
    db.session.commit()  # no transaction held open through a download that may take minutes
    stored_name, size, sha256 = _download(jira, attachment_id, max_bytes)
    # Another download of the same file may have finished first: only one copy is kept.
    kept = db.session.execute(
        update(Attachment)
        .where(Attachment.id == row_id, _stored_name_is(old_name))
        .values(stored_name=stored_name, sha256=sha256, size=size)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    db.session.commit()
    if kept:
        return storage.path_of(stored_name)
    storage.remove(stored_name)
    theirs = db.session.scalar(select(Attachment.stored_name).where(Attachment.id == row_id))
    if theirs is None:  # the sync deleted the row meanwhile: the file is gone from Jira
        raise JiraFileUnavailable(REMOVED)
    return storage.path_of(theirs)


def _is_stored(attachment):
    return bool(attachment.stored_name) and storage.path_of(attachment.stored_name).is_file()


def _stored_name_is(name):
    return Attachment.stored_name.is_(None) if name is None else Attachment.stored_name == name


def _jira_client():
    row = integration.settings()
    if not row.enabled or row.paused_reason:
        raise JiraFileUnavailable(CONNECTION_OFF)
    try:
        return integration.client(row, timeout=current_app.config["JIRA_TIMEOUT"])
    except (SecretUnreadable, ValueError) as exc:
        log.warning("attachment download: cannot build a Jira client: %s", exc)
        raise JiraFileUnavailable(CONNECTION_OFF) from None


def _download(jira, attachment_id, max_bytes):
    """Download Jira attachment `attachment_id` into storage; (stored_name, size, sha256)."""
    with tempfile.SpooledTemporaryFile(max_size=IN_MEMORY_BYTES, dir=storage.attachments_dir()) as spool:
        try:
            jira.download_attachment(attachment_id, _LimitedWriter(spool, max_bytes))
        except _TooLarge:
            raise JiraFileUnavailable(TOO_LARGE) from None
        except JiraNotFoundError:
            raise JiraFileUnavailable(REMOVED) from None
        # A connection lost mid-file comes from `requests` itself. Neither holds the credentials.
        except (JiraError, requests.RequestException) as exc:
            log.warning("attachment download: Jira attachment %s: %s", attachment_id, exc)
            raise JiraFileUnavailable(NO_ANSWER) from None
        spool.seek(0)
        return storage.store_stream(spool)  # already held to max_bytes while downloading
