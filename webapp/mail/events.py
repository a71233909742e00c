"""Which changes of a request its reporter hears of: called by the sync (webapp/sync/apply.py)
with what the user saw before a change and after it. The status's name is the one the
requester is shown (`shown_status`, the one function of the status display, handed in by
the sync, which this module may not import)."""
from dataclasses import dataclass

from flask_babel import force_locale

from . import COMMENT, RESOLVED, STATUS, WAITING, note_for_reporter
from ..statuses import is_waiting_for_customer

DONE = "done"  # Jira's status category of a resolved issue


def is_team_comment(comment):
    """Hook for issue 17's replies: a comment the portal wrote for its user is not news to
    them. Until replies exist, every public comment is the support team's."""
    return True


@dataclass(frozen=True)
class Seen:
    """What the requester saw of a request's status."""
    status: str
    resolved: bool
    waiting: bool

    @classmethod
    def of(cls, support_request, shown_status):
        with force_locale("en"):  # compared, not shown: one language before and after
            name = shown_status(support_request)
            name = None if name is None else str(name)
        return cls(name, support_request.jira_status_category == DONE, is_waiting_for_customer(support_request))


def note_status(support_request, before, after, when):
    """After the sync applied a change (`before`, `after`: the Seen of before and after it;
    `when`: Jira's `updated` of the change), put the mail it calls for in the outbox:
    resolved, waiting for you, or the status's new name. The first status is no news."""
    if before.status is None or after == before:
        return
    about = f"{after.status}@{when.isoformat() if when else ''}"
    if after.resolved and not before.resolved:
        note_for_reporter(support_request, RESOLVED, about, {"status": after.status})
    elif after.waiting and not before.waiting:
        note_for_reporter(support_request, WAITING, about, {"status": after.status})
    elif after.status != before.status:
        note_for_reporter(support_request, STATUS, about, {"status": after.status})


def note_comment(support_request, comment):
    """A public comment the requester has not heard of (new, or public at last)."""
    if is_team_comment(comment):
        note_for_reporter(support_request, COMMENT, comment.id, {"comment": comment.id})
