"""Administration → Outbox: the mail the portal sent, is about to send, or could not send
(with the server's reason), and Retry for the failed. Says so when no SMTP server is set."""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import func, select

from . import bp
from .. import mail
from ..extensions import db
from ..paging import paginate
from ..mail import sending
from ..models import MailOutbox, as_id

TABS = {MailOutbox.FAILED: _l("Failed"), MailOutbox.WAITING: _l("Waiting"), MailOutbox.SENDING: _l("Sending"),
        MailOutbox.SENT: _l("Sent"), MailOutbox.SKIPPED: _l("Not sent (preferences)")}
EVENT_NAMES = {
    mail.RECEIVED: _l("Request received"), mail.CREATED: _l("Request in Jira"), mail.STATUS: _l("Status changed"),
    mail.COMMENT: _l("New comment"), mail.WAITING: _l("Waiting for you"), mail.RESOLVED: _l("Resolved"),
    mail.FAILED: _l("Request not forwarded"), mail.PAUSED: _l("Jira paused"), mail.FAILING: _l("Jira failing"),
    mail.SET_PASSWORD: _l("Set-password link"), mail.RESET_PASSWORD: _l("Reset-password link"),
}


@bp.get("/outbox")
def outbox():
    """One state's mail, newest first."""
    state = request.args.get("state", MailOutbox.FAILED)
    if state not in TABS:
        state = MailOutbox.FAILED
    counts = dict(db.session.execute(select(MailOutbox.state, func.count()).group_by(MailOutbox.state)).all())
    page = paginate(select(MailOutbox).where(MailOutbox.state == state)
                    .order_by(MailOutbox.created_at.desc(), MailOutbox.id.desc()), per_page=100)
    return render_template("admin/outbox.html", state=state, tabs=TABS, counts=counts, page=page,
                           event_names=EVENT_NAMES, mail_on=mail.enabled())


@bp.post("/outbox/retry")
def retry_mail():
    """Send failed mail again: those chosen, or all."""
    if request.form.get("all") == "1":
        ids = db.session.scalars(select(MailOutbox.id).where(MailOutbox.state == MailOutbox.FAILED)).all()
    else:
        ids = [as_id(i) for i in request.form.getlist("ids") if as_id(i) is not None]
    if ids:
        sending.retry(ids)
        flash(_("The mail will be sent again."), "success")
    return redirect(url_for("admin.outbox", state=MailOutbox.FAILED), code=303)
