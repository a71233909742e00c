"""One-click unsubscribe (RFC 8058): the signed link of a mail works without logging in. GET
shows what the button stops (a link scanner's GET changes nothing); POST stops it, from
the page's button or from a mail client's List-Unsubscribe-Post. No CSRF token: the signed
token is the proof, and all it can do is stop mail."""
from contextlib import nullcontext

from flask import abort, render_template
from flask_babel import force_locale, gettext as _

from . import bp
from .unsubscribe import read_token, unsubscribe
from ..extensions import db
from ..models import User


def _user_and_kind(token):
    found = read_token(token)
    user = db.session.get(User, found[0]) if found else None
    if user is None:
        abort(404)
    return user, found[1]


def what_stops(kind):
    return {"comments": _("mail about new comments on your requests"),
            "updates": _("every mail about your requests"),
            "admin": _("mail about the Jira integration")}[kind]


@bp.get("/unsubscribe/<token>")
def unsubscribe_page(token):
    """Ask to confirm with one button."""
    user, kind = _user_and_kind(token)
    return _page(user, kind, done=False)


@bp.post("/unsubscribe/<token>")
def unsubscribe_now(token):
    """Stop that kind of mail for the token's user."""
    user, kind = _user_and_kind(token)
    unsubscribe(user, kind)
    db.session.commit()
    return _page(user, kind, done=True)


def _page(user, kind, done):
    """In the language of the mail the link came in."""
    with force_locale(user.language) if user.language else nullcontext():
        return render_template("mail/unsubscribe.html", what=what_stops(kind), done=done)
