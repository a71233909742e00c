"""The audit log of settings changes: who changed what, never secret values."""
from flask_login import current_user

from .extensions import db
from .models import AuditLog


def record(action, **details):
    """Add an audit entry to the session (committed with the change it describes)."""
    actor_id = current_user.id if current_user and current_user.is_authenticated else None
    db.session.add(AuditLog(actor_id=actor_id, action=action, details=details))
