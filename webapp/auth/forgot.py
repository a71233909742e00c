""""Forgot your password?": a reset link by e-mail, for accounts that log in with a password
of the portal's. The answer is the same whether or not the address has an account, and each
address may ask only a few times (the log-in throttle, under a key of its own)."""
from flask import abort, current_app, render_template, request
from flask_babel import gettext as _
from sqlalchemy import select

from . import bp, throttle
from .forms import ForgotPasswordForm
from .routes import local_login
from .set_password import new_link
from .. import audit, mail
from ..extensions import db
from ..mail import sending
from ..models import User


def offered():
    """Whether the log-in page offers it: password log-in on, and mail to send the link."""
    return local_login() and mail.enabled()


def mail_link(user, event):
    """A new set-password link for `user`, e-mailed (in the caller's transaction) when mail is
    on; returns the link. The caller commits, then calls `sending.soon()`."""
    link = new_link(user)
    mail.note(user, event, link.rsplit("/", 1)[-1][:16], secret=link, gather=False,
              params={"hours": current_app.config["SET_PASSWORD_LINK_HOURS"]})
    return link


@bp.route("/forgot", methods=["GET", "POST"])
def forgot_password():
    """Ask for an address; mail it a reset link if it has a password account."""
    if not offered():
        abort(404)
    form = ForgotPasswordForm()
    if not form.validate_on_submit():
        return render_template("auth/forgot.html", form=form, sent=False)
    email = User.normalize_email(form.email.data)[:254]
    address = request.remote_addr or "unknown"
    locked = throttle.minutes_locked("reset:" + email, address)
    if locked:
        form.email.errors.append(_("Too many requests. Try again in %(minutes)d minutes.", minutes=locked))
        return render_template("auth/forgot.html", form=form, sent=False), 429
    throttle.record_failure("reset:" + email, address)  # every request counts, found or not
    user = db.session.scalar(select(User).where(User.email == email))
    if user is not None and user.active and user.sign_in == "password":
        mail_link(user, mail.RESET_PASSWORD)
        audit.record("users.password_reset_mailed", user=user.email)
        db.session.commit()
        sending.soon()
    return render_template("auth/forgot.html", form=None, sent=True)
