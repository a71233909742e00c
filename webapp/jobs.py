"""Background job functions. Each takes ids or nothing, never objects, and runs
in an app context, whether on an RQ worker or on the in-process thread."""
import json
import os

from .extensions import db
from .models import AppState, utcnow


def heartbeat():
    """Record that a job runner is alive; the admin overview shows its age."""
    from flask import current_app

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
