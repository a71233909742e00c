"""Resolve and reopen: the requester's "Mark as resolved" and "Reopen", and the move back to
the support team a reply makes, each applied to the Jira issue as the workflow transition the
admin mapped by name (Administration → Jira: `resolve_transition`, `reopen_transition`,
`reply_transition`; blank switches it off).

An action is a StatusAction row on the outbox replies use (`webapp.outbox`: claim, lease,
backoff, give-up, the sweep, the admin's Retry). The worker reads the issue's status first:
already where the action leads (a retry after a lost answer, or the team got there first),
it is done without a second transition. Otherwise it reads the transitions the issue may
take now and applies the mapped one. When Jira has none by that name (a condition hides it,
the issue moved on) or refuses it (a required screen, a validator), the requester reads "The
support team will close it" (or reopen it) and their note goes as a reply, so the team hears
of it; a note also goes as a reply when the transition worked.

The actions are offered only while the integration is active and the request has its issue
(`offered`): nothing waits in the portal.
"""
import logging
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from . import integration, outbox, statuses, sync
from .extensions import db
from .jira import JiraInvalidError
from .models import DeliveryState, Reply, StatusAction, StatusChange, SupportRequest, column_text, utcnow
from .queue import enqueue
from .replies import accept_reply

log = logging.getLogger(__name__)

RESOLVE, REOPEN, BACK = StatusAction.RESOLVE, StatusAction.REOPEN, StatusAction.BACK
SETTING = {RESOLVE: "resolve_transition", REOPEN: "reopen_transition", BACK: "reply_transition"}
# What the support team reads when the requester wrote no note (the team's language: English).
STANDARD_NOTE = {
    RESOLVE: "I marked this request as resolved in the support portal, but Jira did not let the "
             "portal close it. Please close it.",
    REOPEN: "I reopened this request in the support portal, but Jira did not let the portal "
            "reopen it. Please reopen it.",
}


def mapped_name(settings, kind):
    """The transition's name the admin mapped to `kind`, or None: switched off."""
    return (getattr(settings, SETTING[kind]) or "").strip() or None


def closed_since(support_request):
    """When the request last became resolved, as far as the portal saw it."""
    changed = db.session.scalar(
        select(StatusChange.changed_at).where(StatusChange.request_id == support_request.id,
                                              StatusChange.kind == "status", StatusChange.to_category == "done")
        .order_by(StatusChange.changed_at.desc()).limit(1))
    return changed or support_request.jira_updated_at or support_request.updated_at


def pending(support_request):
    """The requester's action still on its way to Jira, if any."""
    return db.session.scalar(select(StatusAction).where(
        StatusAction.request_id == support_request.id, StatusAction.kind != BACK,
        StatusAction.delivery_state.in_(DeliveryState.MOVING)).limit(1))


def offered(support_request, user):
    """RESOLVE, REOPEN or None: what the detail page offers `user` on this request. Only the
    requester, only while the integration is active and the request is in Jira, one action
    at a time; "Reopen" for the admin's number of days after the request was resolved."""
    settings = integration.settings()
    if (support_request.reporter_id != user.id or not settings.enabled or not support_request.jira_issue_id
            or support_request.jira_status_category == statuses.DELETED or pending(support_request)):
        return None
    if support_request.jira_status_category != "done":
        return RESOLVE if mapped_name(settings, RESOLVE) else None
    window = timedelta(days=settings.reopen_days or 0)
    if mapped_name(settings, REOPEN) and utcnow() - closed_since(support_request) <= window:
        return REOPEN
    return None


def accept_action(action):
    """Store a new action and wake a worker."""
    action.delivery_state = DeliveryState.QUEUED
    action.next_attempt_at = action.deliverable_since = utcnow()
    db.session.add(action)
    db.session.commit()
    enqueue(apply_action, action.id)
    return action


def after_reply(reply):
    """A reply to a request waiting for its customer moves the issue back to the team, when
    the admin mapped a transition for that (and the reply goes to Jira now)."""
    support_request = reply.request
    if (reply.delivery_state != DeliveryState.QUEUED or not mapped_name(integration.settings(), BACK)
            or not statuses.is_waiting_for_customer(support_request)):
        return None
    return accept_action(StatusAction(request_id=support_request.id, author_id=reply.author_id, kind=BACK))


def apply_action(action_id):
    """Apply one status action to its issue, once."""
    action = outbox.run(apply_action, StatusAction, action_id, _apply)
    if action is not None:
        log.info("apply_action %s: %s on %s: %s", action.reference, action.kind, action.request.jira_key,
                 action.outcome)


def retry_actions(action_ids):
    """The admin's Retry of actions that gave up."""
    return outbox.requeue(StatusAction, action_ids, apply_action)


def _apply(jira, action):
    if action.outcome:  # done before the worker was lost: nothing more to do
        return
    support_request = action.request
    issue_id = support_request.jira_issue_id
    issue = jira.issue(issue_id, fields=("status", "updated"))
    there = _already_there(action, issue.status)
    if there:
        _finish(action, there, issue)
        return
    name = mapped_name(integration.settings(), action.kind)
    found = [t for t in jira.transitions(issue_id) if name and t.name.casefold() == name.casefold()]
    if not found:
        log.info("apply_action %s: no transition %r from %s", action.reference, name,
                 issue.status and issue.status.name)
        _refused(jira, action, issue_id)
        return
    transition = found[0]
    action.transition_id = column_text(transition.id, 32)
    action.target_status_id = column_text(transition.to.id, 32)
    outbox.renew_lease(action)
    try:
        jira.transition(issue_id, transition.id)
    except JiraInvalidError as exc:  # a 400: a required screen, a validator; nothing changed
        log.info("apply_action %s: Jira refused transition %s: %s", action.reference, transition.id, exc.message())
        _refused(jira, action, issue_id)
        return
    _finish(action, StatusAction.MOVED, jira.issue(issue_id, fields=("status", "updated")))


def _refused(jira, action, issue_id):
    """No transition, or Jira said no: unless the issue got there meanwhile (an earlier
    attempt's post that Jira finished late), it is left to the team."""
    issue = jira.issue(issue_id, fields=("status", "updated"))
    there = _already_there(action, issue.status)
    if there is None:
        action.target_status_id = None
    _finish(action, there or StatusAction.REFUSED, issue)


def _already_there(action, status):
    """MOVED when the issue is where this action's transition leads (an earlier attempt's
    answer was lost), ALREADY when it got where the action wants by other means, else None."""
    if status is None:
        return None
    if action.target_status_id and status.id == action.target_status_id:
        return StatusAction.MOVED
    if action.kind == RESOLVE and status.category == "done":
        return StatusAction.ALREADY
    if action.kind == REOPEN and status.category not in (None, "done"):
        return StatusAction.ALREADY
    if action.kind == BACK:
        row = statuses.mapping_of(status.id, status.name)
        if status.category == "done" or not (row is not None and row.waiting_for_customer):
            return StatusAction.ALREADY
    return None


def _finish(action, outcome, issue=None):
    """The outcome, the request's status at once (as the sync would record it: it then
    finds nothing new), and the note as a reply: the requester's, or on a refusal the
    standard line. One commit."""
    shown = issue is not None and issue.status is not None
    if shown:
        _show_status(action.request, issue)
    action.outcome = outcome
    note = action.note or (STANDARD_NOTE.get(action.kind) if outcome == StatusAction.REFUSED else None)
    if note:
        action.reply = Reply(request_id=action.request_id, author_id=action.author_id, body=note)
        accept_reply(action.reply)  # commits the action's outcome with it
    else:
        db.session.commit()
    if shown:
        # The request now carries the issue's `updated` (so an older search snapshot is not
        # applied): whatever else changed since the last sync (a comment, a file) is read now.
        enqueue(sync.refresh_issue, action.request.jira_issue_id)


def _show_status(support_request, issue):
    status = issue.status
    name, status_id = column_text(status.name, 100), column_text(status.id, 32)
    category = column_text(status.category, 32)
    if name and (name != support_request.jira_status or status_id != support_request.jira_status_id):
        db.session.add(StatusChange(
            request_id=support_request.id, kind="status", from_status=support_request.jira_status,
            from_status_id=support_request.jira_status_id, from_category=support_request.jira_status_category,
            to_status=name, to_status_id=status_id, to_category=category, changed_at=issue.updated or utcnow()))
        support_request.jira_status, support_request.jira_status_id = name, status_id
        support_request.jira_status_category = category or support_request.jira_status_category
    if issue.updated and (support_request.jira_updated_at is None or issue.updated > support_request.jira_updated_at):
        support_request.jira_updated_at = issue.updated


def samples():
    """For Save and Test: {kind: (issue id, key)} of the latest request the portal follows
    from whose status each action starts (open, resolved, waiting for its customer)."""
    found = {}
    in_jira = select(SupportRequest).where(SupportRequest.jira_issue_id.is_not(None)).order_by(
        SupportRequest.updated_at.desc()).limit(1)
    for kind, condition in ((RESOLVE, statuses.is_open()), (REOPEN, SupportRequest.jira_status_category == "done"),
                            (BACK, statuses.waiting_for_customer())):
        row = db.session.scalar(in_jira.where(condition))
        if row is not None:
            found[kind] = (row.jira_issue_id, row.jira_key or row.jira_issue_id)
    return found


def mapping(settings):
    """{kind: the mapped transition's name or None}, for Save and Test."""
    return {kind: mapped_name(settings, kind) for kind in (RESOLVE, REOPEN, BACK)}


def action_state(action):
    """What the requester reads on their action in the thread: (css class, words)."""
    if action.delivery_state == DeliveryState.FAILED:
        return "failed", _("Not delivered yet: the portal keeps it and the administrator has been told.")
    if action.delivery_state != DeliveryState.SENT:
        return "sending", _("Sending…")
    if action.outcome == StatusAction.REFUSED:
        return "refused", (_("The support team will close it.") if action.kind == RESOLVE
                           else _("The support team will reopen it."))
    return "sent", _("Resolved") if action.kind == RESOLVE else _("Reopened")


def action_title(action):
    return _("You marked this request as resolved") if action.kind == RESOLVE else _("You reopened this request")
