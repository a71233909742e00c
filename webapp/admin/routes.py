"""The admin area."""
from datetime import datetime

from flask import current_app, render_template
from sqlalchemy import func, select

from . import bp
from ..extensions import db
from ..jobs import last_heartbeat
from ..integration import FIELD_NAMES
from ..models import AuditLog, JiraSettings, SupportRequest, User


@bp.get("/")
def overview():
    """Integration state, job runner health, requests by delivery state, accounts."""
    settings = JiraSettings.get()
    db.session.commit()
    counts = dict(db.session.execute(
        select(SupportRequest.delivery_state, func.count()).group_by(SupportRequest.delivery_state)
    ).all())
    beat = last_heartbeat()
    if beat:
        beat["at"] = datetime.fromisoformat(beat["at"])
    users = db.session.scalars(select(User).order_by(User.role, User.email)).all()
    return render_template(
        "admin/overview.html",
        settings=settings,
        counts=counts,
        states=SupportRequest.STATES,
        heartbeat=beat,
        queue_mode=current_app.extensions["queue"].mode,
        users=users,
    )


@bp.get("/audit")
def audit_log():
    """Who changed which setting, newest first."""
    page = db.paginate(select(AuditLog).order_by(AuditLog.created_at.desc(), AuditLog.id.desc()),
                       per_page=50, error_out=False)
    return render_template("admin/audit.html", page=page, field_names=FIELD_NAMES)
