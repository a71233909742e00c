"""Requests by delivery state, with the reason, Retry and Send to Jira."""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from . import bp
from .. import audit, delivery, integration, replies, transitions
from ..extensions import db
from ..paging import paginate
from ..models import Attachment, DeliveryState, DuplicateIssue, Reply, StatusAction, SupportRequest, as_id


@bp.get("/deliveries")
def deliveries():
    """Requests not (yet) in Jira, one state at a time."""
    state = request.args.get("state", DeliveryState.FAILED)
    if state not in DeliveryState.NOT_SENT:
        state = DeliveryState.FAILED
    counts = SupportRequest.counts_by_state()
    page = paginate(
        select(SupportRequest).where(SupportRequest.delivery_state == state)
        .order_by(SupportRequest.created_at.desc(), SupportRequest.id.desc()), per_page=100)
    duplicates = db.session.scalars(select(DuplicateIssue).order_by(DuplicateIssue.seen_at.desc()).limit(100)).all()
    failed_replies = db.session.scalars(select(Reply).where(Reply.delivery_state == DeliveryState.FAILED)
                                        .order_by(Reply.created_at.desc()).limit(100)).all()
    failed_actions = db.session.scalars(select(StatusAction).where(StatusAction.delivery_state == DeliveryState.FAILED)
                                        .order_by(StatusAction.created_at.desc()).limit(100)).all()
    return render_template("admin/deliveries.html", state=state, states=DeliveryState.NOT_SENT, counts=counts,
                           duplicates=duplicates, failed_replies=failed_replies, failed_actions=failed_actions,
                           page=page, settings=integration.settings())


@bp.post("/deliveries/send")
def send_deliveries():
    """Retry failed requests, or send portal-only ones to Jira: those chosen, or all."""
    everything = request.form.get("all")
    if everything in DeliveryState.SENDABLE:
        ids = db.session.scalars(select(SupportRequest.id).where(SupportRequest.delivery_state == everything)).all()
    else:
        ids = [as_id(i) for i in request.form.getlist("ids") if as_id(i) is not None]
    back = url_for("admin.deliveries", state=request.form.get("state", DeliveryState.FAILED))
    settings = integration.settings()
    if not settings.enabled:
        flash(_("The integration is passive: activate it on the Jira Config screen first."), "error")
        return redirect(back, code=303)
    if not ids:
        flash(_("Choose at least one request."), "error")
        return redirect(back, code=303)
    count = delivery.requeue(ids)
    audit.record("deliveries.sent", count=count)
    db.session.commit()
    flash(_("%(count)d request(s) queued for Jira.", count=count), "success")
    return redirect(back, code=303)


@bp.post("/deliveries/files/<int:attachment_id>/leave-out")
def send_without_file(attachment_id):
    """Send a failed request on without the file Jira would not take (or the portal lost)."""
    attachment = db.get_or_404(Attachment, attachment_id)
    back = url_for("admin.deliveries", state=DeliveryState.FAILED)
    if not integration.settings().enabled:
        flash(_("The integration is passive: activate it on the Jira Config screen first."), "error")
        return redirect(back, code=303)
    name, key = attachment.original_name, attachment.request.display_key
    if not attachment.may_be_left_out():
        flash(_("%(file)s can no longer be left out of %(key)s: its request is not failed because of it.",
                file=name, key=key), "error")
        return redirect(back, code=303)
    audit.record("deliveries.file_left_out", request=key, file=name)
    delivery.leave_out(attachment)  # commits the audit entry with it
    flash(_("%(key)s is queued for Jira without %(file)s.", key=key, file=name), "success")
    return redirect(back, code=303)


@bp.post("/deliveries/replies/retry")
def retry_replies():
    """Retry the replies that gave up (after the cause is fixed)."""
    return _retry(Reply, replies.retry_replies, "deliveries.replies_retried",
                  lambda count: _("%(count)d reply(ies) queued for Jira.", count=count))


@bp.post("/deliveries/actions/retry")
def retry_actions():
    """Retry the status actions (resolve, reopen, a reply's move back) that gave up."""
    return _retry(StatusAction, transitions.retry_actions, "deliveries.actions_retried",
                  lambda count: _("%(count)d status change(s) queued for Jira.", count=count))


def _retry(model, retry, action, said):
    """Queue every failed row of `model` again with `retry`, while the integration is active."""
    back = url_for("admin.deliveries")
    if not integration.settings().enabled:
        flash(_("The integration is passive: activate it on the Jira Config screen first."), "error")
        return redirect(back, code=303)
    ids = db.session.scalars(select(model.id).where(model.delivery_state == DeliveryState.FAILED)).all()
    count = retry(ids)
    audit.record(action, count=count)
    db.session.commit()
    flash(said(count), "success")
    return redirect(back, code=303)
