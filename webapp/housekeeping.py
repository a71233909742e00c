"""Housekeeping jobs: the job runner's heartbeat, and removing files no request owns.

The other jobs live with what they do: delivery (`webapp.delivery`), the sync and the support
team's files (`webapp.sync`); `webapp.periodic` lists those that run on a schedule. Every job
takes ids or nothing, never objects, and runs in an app context, on an RQ worker or on the
in-process thread."""
import json
import os
import time
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select

from . import storage
from .extensions import db
from .models import AppState, Attachment, KeptUpload, utcnow

CLEANUP_BATCH = 500


def heartbeat():
    """Record that a job runner is alive; the admin overview shows its age."""
    state = db.session.get(AppState, "heartbeat") or AppState(key="heartbeat")
    state.value = json.dumps({
        "at": utcnow().isoformat(),
        "pid": os.getpid(),
        "mode": current_app.extensions["queue"].mode,
    })
    db.session.add(state)
    db.session.commit()


def last_heartbeat():
    """The last heartbeat as a dict, or None when no job has run yet."""
    state = db.session.get(AppState, "heartbeat")
    return json.loads(state.value) if state and state.value else None


def remove_unclaimed_files():
    """Remove stored files no request owns, once they are UNCLAIMED_FILE_HOURS old: files
    kept for a form that failed validation and was never sent again. Returns how many."""
    cutoff = time.time() - current_app.config["UNCLAIMED_FILE_HOURS"] * 3600
    old = [path.name for path in storage.attachments_dir().iterdir()
           if path.is_file() and path.stat().st_mtime < cutoff]
    db.session.execute(delete(KeptUpload).where(  # their files go below, or went already
        KeptUpload.kept_at < utcnow() - timedelta(hours=current_app.config["UNCLAIMED_FILE_HOURS"])))
    db.session.commit()
    removed = 0
    for start in range(0, len(old), CLEANUP_BATCH):
        batch = old[start:start + CLEANUP_BATCH]
        owned = set(db.session.scalars(select(Attachment.stored_name).where(Attachment.stored_name.in_(batch))))
        for name in batch:
            if name not in owned:
                storage.remove(name)
                removed += 1
    return removed
