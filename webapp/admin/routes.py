"""The admin area."""
from datetime import datetime

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from . import bp
from .. import audit
from ..extensions import db
from ..paging import paginate
from ..housekeeping import last_heartbeat
from ..integration import FIELD_NAMES
from ..models import AuditLog, DeliveryState, JiraSettings, SupportRequest, User
from ..sync import jira_files


# The audit log in the user's language: what each action did, and its details' names.
AUDIT_ACTIONS = {
    "jira.settings.saved": _l("Jira settings saved"),
    "jira.settings.enabled": _l("Integration made active"),
    "jira.settings.disabled": _l("Integration made passive"),
    "jira.settings.tested": _l("Jira settings tested"),
    "jira.settings.token_dropped": _l("Stored token removed (another site or account)"),
    "jira.webhook_secret.generated": _l("Webhook secret generated"),
    "jira.webhook_secret.replaced": _l("Webhook secret replaced"),
    "encryption.rotated": _l("Secrets encrypted with the newest key"),
    "labels.added": _l("Label added"),
    "labels.removed": _l("Label removed"),
    "labels.changed": _l("Label changed"),
    "deliveries.sent": _l("Requests sent to Jira"),
    "deliveries.file_left_out": _l("Request sent on without a file"),
    "deliveries.replies_retried": _l("Replies retried"),
    "categories.added": _l("Category added"),
    "categories.renamed": _l("Category renamed"),
    "categories.removed": _l("Category removed"),
    "products.added": _l("API product added"),
    "products.renamed": _l("API product renamed"),
    "products.published": _l("API product published"),
    "products.unpublished": _l("API product unpublished"),
    "products.removed": _l("API product removed"),
    "products.environments_from": _l("API product's environments chosen"),
    "apinizer.projects_read_asked": _l("Asked to read the projects from Apinizer"),
    "endpoints.added": _l("Endpoint added"),
    "endpoints.removed": _l("Endpoint removed"),
    "endpoints.imported": _l("Endpoints imported"),
    "users.sessions_ended": _l("Logged out everywhere"),
    "users.password_changed": _l("Own password changed"),
    "users.created": _l("Account created"),
    "users.password_link_created": _l("Link to set a password made"),
    "users.password_reset_mailed": _l("Reset link e-mailed"),
    "users.password_set": _l("Password set with a one-time link"),
    "users.made_admin": _l("Made an admin"),
    "users.admin_unmade": _l("No longer an admin"),
    "users.deactivated": _l("Account deactivated"),
    "users.reactivated": _l("Account reactivated"),
    "users.created_by_handover": _l("Account created by a hand-over from the framing site"),
    "auth.handover_refused": _l("Hand-over from the framing site refused"),
    "auth.sso.account_created": _l("Account created at its first single sign-on"),
    "auth.sso.account_linked": _l("Account linked to single sign-on"),
    "users.admin_granted": _l("Admin role granted (the groups of a single sign-on or hand-over)"),
    "users.admin_removed": _l("Admin role removed (the groups of a single sign-on or hand-over)"),
    "users.last_admin_kept": _l("Admin role kept: the last admin"),
    "auth.sso.refused": _l("Single sign-on refused"),
    "statuses.read_asked": _l("Asked to read the statuses from Jira"),
    "statuses.changed": _l("Status names for customers changed"),
}
AUDIT_DETAILS = {
    "fields": _l("Fields"), "passed": _l("Passed"), "label": _l("Label"), "every_issue": _l("Every issue"),
    "count": _l("Requests"), "name": _l("Name"), "old": _l("Old name"), "new": _l("New name"),
    "product": _l("API Product"), "path": _l("Endpoint"), "added": _l("Added"), "file": _l("File"),
    "secrets": _l("Secrets"), "user": _l("Account"), "because": _l("Changed"),
    "request": _l("Request code"), "role": _l("Role"), "email": _l("E-mail"), "user_id": _l("Account id"),
    "reason": _l("Reason"), "status": _l("Jira status"), "name_en": _l("Name in English"),
    "name_tr": _l("Name in Turkish"), "waiting_for_customer": _l("Waiting for the customer"),
}


@bp.get("/")
def overview():
    """Integration state, job runner health, requests by delivery state, accounts."""
    settings = JiraSettings.get()
    db.session.commit()
    counts = SupportRequest.counts_by_state()
    beat = last_heartbeat()
    if beat:
        beat["at"] = datetime.fromisoformat(beat["at"])
    users = db.session.scalars(select(User).order_by(User.role, User.email)).all()
    return render_template(
        "admin/overview.html",
        settings=settings,
        counts=counts,
        states=DeliveryState.ALL,
        heartbeat=beat,
        queue_mode=current_app.extensions["queue"].mode,
        users=users,
        refused_downloads=jira_files.refused_downloads(),
    )


@bp.get("/audit")
def audit_log():
    """Who changed which setting, newest first."""
    page = paginate(select(AuditLog).order_by(AuditLog.created_at.desc(), AuditLog.id.desc()), per_page=50)
    return render_template("admin/audit.html", page=page, field_names=FIELD_NAMES,
                           actions=AUDIT_ACTIONS, detail_names=AUDIT_DETAILS)


@bp.post("/users/<int:user_id>/end-sessions")
def end_sessions(user_id):
    """Log an account out on every device: its sessions and remember-me cookies end."""
    user = db.get_or_404(User, user_id)
    user.end_sessions()
    audit.record("users.sessions_ended", user=user.email)
    db.session.commit()
    flash(_("%(name)s is logged out on every device.", name=user.display_name), "success")
    return redirect(url_for("admin.overview"), code=303)
