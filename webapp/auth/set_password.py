"""One-time links to set a password (an admin makes them: a new account, a reset). The link
carries a random token; the database keeps only its SHA-256, and a new link for an account
voids the older ones."""
import hashlib
import secrets
from datetime import timedelta

from flask import current_app, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import delete, select, update

from . import bp
from .forms import NewPasswordForm
from .routes import log_in
from .. import audit
from ..extensions import db
from ..models import SetPasswordToken, utcnow


def _digest(token):
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_link(user):
    """A new link for `user` (the absolute URL, to show once and never store), voiding older ones."""
    db.session.execute(delete(SetPasswordToken).where(SetPasswordToken.user_id == user.id))
    token = secrets.token_urlsafe(32)
    hours = current_app.config["SET_PASSWORD_LINK_HOURS"]
    db.session.add(SetPasswordToken(user_id=user.id, token_hash=_digest(token),
                                    expires_at=utcnow() + timedelta(hours=hours)))
    return url_for("auth.set_password", token=token, _external=True)


def _usable(token):
    """The token's row while it may still be used: unused, unexpired, of an active account."""
    row = db.session.scalar(select(SetPasswordToken).where(SetPasswordToken.token_hash == _digest(token)))
    if row is None or row.used_at is not None or row.expires_at <= utcnow() or not row.user.active:
        return None
    return row


@bp.route("/set-password/<token>", methods=["GET", "POST"])
def set_password(token):
    """Show and check the form of a set-password link, then log its account in."""
    row = _usable(token)
    if row is None:
        return render_template("errors/error.html", title=_("This link cannot be used"), message=_(
            "The link to set a password was used already, replaced by a newer one, or it has "
            "expired. Ask an administrator of the portal for a new one.")), 404
    user = row.user
    form = NewPasswordForm(email=user.email)
    if not form.validate_on_submit():
        return render_template("auth/set_password.html", form=form, user=user)
    # Only one of two simultaneous requests marks it used.
    used = db.session.execute(update(SetPasswordToken).where(
        SetPasswordToken.id == row.id, SetPasswordToken.used_at.is_(None)).values(used_at=utcnow()))
    if used.rowcount != 1:
        db.session.rollback()
        return set_password(token)
    user.set_password(form.new_password.data)
    audit.record("users.password_set", user=user.email)
    return log_in(user, False, None)
