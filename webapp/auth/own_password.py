"""Change your own password (local accounts): every other session ends, this one goes on."""
from flask import current_app, flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from . import bp, throttle
from .forms import ChangePasswordForm
from .preferences import own_page
from .routes import log_in
from .. import audit
from ..extensions import db


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Show and check the change-password form; wrong current passwords are throttled like log-ins."""
    user = current_user._get_current_object()
    if not user.has_password:  # single sign-on or the framing site: nothing to change here
        return render_template("auth/password.html", **own_page())
    form = ChangePasswordForm(email=user.email)
    if not form.validate_on_submit():
        return render_template("auth/password.html", **own_page(form))
    address = request.remote_addr or "unknown"
    locked = throttle.minutes_locked(user.email, address)
    if locked:
        form.current_password.errors.append(_(
            "Too many failed attempts. Try again in %(minutes)d minutes.", minutes=locked))
        return render_template("auth/password.html", **own_page(form)), 429
    if not user.check_password(form.current_password.data):
        throttle.record_failure(user.email, address)
        form.current_password.errors.append(_("This is not your current password."))
        return render_template("auth/password.html", **own_page(form))
    throttle.clear_failures(user.email, address)
    user.set_password(form.new_password.data)  # ends every session and remember-me cookie
    audit.record("users.password_changed", user=user.email)
    # This browser goes on in a new session; it keeps being remembered if it was.
    remembered = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies
    response = log_in(user, remembered, url_for("auth.change_password"))
    flash(_("Your password is changed. Every other device is logged out."), "success")
    return response
