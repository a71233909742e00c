""""Mark as resolved" and "Reopen" on the detail page: the requester's own request only, as
offered (`webapp.transitions.offered`); a worker applies the Jira transition
(`transitions.apply_action`)."""
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from . import bp
from .forms import DESCRIPTION_MAX, StatusActionForm
from .replies import own_request
from .. import transitions
from ..extensions import db
from ..models import StatusAction, SupportRequest

ACTION_KEY_MAX = StatusAction.submission_key.type.length
NOT_NOW = {
    transitions.RESOLVE: _l("This request can't be marked as resolved now."),
    transitions.REOPEN: _l("This request can't be reopened now."),
}


def new_action_form(kind):
    """The blank form of the action offered (None: nothing offered)."""
    if kind is None:
        return None
    form = StatusActionForm(formdata=None)
    form.submission_key.data = SupportRequest.new_submission_key()
    form.kind = kind
    return form


def action_box(support_request):
    """What the action box shows: the action on its way to Jira (the requester's), else the
    form of the one offered."""
    pending = transitions.pending(support_request) if support_request.reporter_id == current_user.id else None
    return {"pending_action": pending,
            "action_form": None if pending else new_action_form(transitions.offered(support_request, current_user))}


@bp.get("/<int:request_id>/status-actions")
def status_actions(request_id):
    """The action box alone, for its poll while an action is on its way to Jira."""
    support_request = own_request(request_id)
    return render_template("support/_status_actions.html", support_request=support_request,
                           description_max=DESCRIPTION_MAX, **action_box(support_request))


@bp.post("/<int:request_id>/resolve")
def resolve(request_id):
    """Mark one's own request as resolved (an optional note goes to the team)."""
    return _act(request_id, transitions.RESOLVE)


@bp.post("/<int:request_id>/reopen")
def reopen(request_id):
    """Reopen one's own resolved request, within the admin's window."""
    return _act(request_id, transitions.REOPEN)


def _act(request_id, kind):
    support_request = own_request(request_id)
    form = StatusActionForm()
    key = form.submission_key.data or None
    if len(key or "") > ACTION_KEY_MAX:
        abort(400)  # no form of ours carries one this long
    back = redirect(url_for("support.detail", request_id=request_id, _anchor="status-actions"), code=303)
    if key and db.session.scalar(select(StatusAction.id).where(StatusAction.submission_key == key,
                                                                StatusAction.author_id == current_user.id)):
        return back  # the same form again: a double click, a resend
    if not form.validate():
        flash(" ".join(str(e) for e in form.note.errors) or str(NOT_NOW[kind]), "error")
        return back
    if transitions.offered(support_request, current_user) != kind:
        flash(str(NOT_NOW[kind]), "error")
        return back
    action = StatusAction(request_id=support_request.id, author_id=current_user.id, kind=kind,
                          note=form.note.data or "", submission_key=key)
    try:
        transitions.accept_action(action)
    except IntegrityError:  # the same form, sent twice at once: the first one won
        db.session.rollback()
    return back
