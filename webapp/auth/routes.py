"""Log in (with a password, or handed over by the framing site) and log out."""
import logging
from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from . import bp, throttle
from . import handover as handover_token
from .forms import LoginForm
from .. import audit
from ..embedding import embedding_enabled
from ..extensions import csrf, db, login_manager
from ..models import User, as_id, utcnow

log = logging.getLogger(__name__)

login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please log in to continue.")
login_manager.login_message_category = "info"

_dummy_hashes = {}


def _dummy_hash():
    """Checked against when the e-mail is unknown, so both paths take the same time: made
    once, with the method real passwords get."""
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method not in _dummy_hashes:
        _dummy_hashes[method] = generate_password_hash("not the password of anyone", method=method)
    return _dummy_hashes[method]


@login_manager.user_loader
def load_user(session_id):
    """The user of a session or remember-me cookie ("<id>:<session version>"), while that
    version is the account's: a log-out, a new password, a deactivation or an admin's "end
    sessions" bumps it. Anything else (a bare id from before versions) is nobody."""
    user_id, _, version = str(session_id).partition(":")
    if not (user_id.isascii() and user_id.isdigit() and version.isascii() and version.isdigit()):
        return None
    user = db.session.get(User, as_id(user_id)) if as_id(user_id) else None
    return user if user is not None and str(user.session_version) == version else None


KEPT_ACROSS_SESSIONS = ("language", "embed")  # the visitor's choices, not who they are


def fresh_session():
    """Start a new session (a new cookie, a new CSRF token), keeping only the visitor's
    language and embedded layout."""
    kept = {key: session[key] for key in KEPT_ACROSS_SESSIONS if key in session}
    session.clear()
    session.update(kept)


def local_login():
    """Whether the password form is offered: LOCAL_LOGIN, unless there is no single sign-on
    to log in with instead (nobody could log in at all)."""
    return current_app.config["LOCAL_LOGIN"] or not current_app.config["OIDC_ISSUER"]


def safe_next(target):
    """A local path to return to after log-in, or None (no open redirects)."""
    if not target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return None  # no header may be split, nor a path bent by control characters
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the log-in form and check it, throttling repeated failures."""
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm() if local_login() else None
    if form is None and request.method == "POST":
        abort(405)  # single sign-on only: no password is checked, whatever is sent
    if form is not None and form.validate_on_submit():
        # Lower-casing may lengthen it ("İ" is two characters): no stored address is longer.
        email = User.normalize_email(form.email.data)[:254]
        address = request.remote_addr or "unknown"
        locked = throttle.minutes_locked(email, address)
        if locked:
            form.password.errors.append(_(
                "Too many failed attempts. Try again in %(minutes)d minutes.", minutes=locked))
            return render_template("auth/login.html", form=form), 429
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            User(password_hash=_dummy_hash()).check_password(form.password.data)
        if user is None or not user.check_password(form.password.data) or not user.active:
            throttle.record_failure(email, address)
            form.password.errors.append(_("The e-mail or password is not correct."))
            return render_template("auth/login.html", form=form), 200
        throttle.clear_failures(email, address)
        return log_in(user, form.remember.data, safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


def log_in(user, remember, next_path):
    """Log the user in, in a new session, and send them on to `next_path` (a safe one) or
    their requests."""
    user.last_login_at = utcnow()
    db.session.commit()
    fresh_session()
    login_user(user, remember=remember)
    if user.language:  # the account's language outlasts the log-in (the log-out page is in it too)
        session["language"] = user.language
    return redirect(next_path or url_for("support.list_requests"), code=303)


@bp.post("/handover")
@csrf.exempt  # posted by another site's page: the signed token is the proof, not a CSRF token
def handover():
    """Log in the framing site's user from the token its back end signed (docs/embedding.md)."""
    verifier = handover_token.verifier()
    if verifier is None:
        abort(404)
    try:
        if "token" in request.args:  # a URL ends up in logs and histories: never take it from there
            raise handover_token.Refused("in_url")
        identity = verifier.verify(request.form.get("token", ""))
        user = handover_token.account_for(identity, verifier.admin_groups)
    except handover_token.Refused as refusal:
        db.session.rollback()
        audit.record("auth.handover_refused", reason=refusal.reason)
        db.session.commit()
        log.info("hand-over refused: %s", refusal.reason)
        return render_template("errors/error.html", title=_("Log-in from the other site refused"),
                               message=handover_token.REASONS[refusal.reason]), 403
    response = log_in(user, False, safe_next(request.form.get("next")))
    if embedding_enabled():  # the form targets a frame: keep its compact layout
        session["embed"] = True
    return response


@bp.post("/logout")
def logout():
    """Log out (a POST, so another site can't log a user out): this ends every session and
    remember-me cookie of the account, wherever they were copied to."""
    if current_user.is_authenticated:
        current_user.end_sessions()
        db.session.commit()
    fresh_session()
    logout_user()  # after: it asks for the remember-me cookie's removal in the new session
    flash(_("You have been logged out."), "info")
    response = redirect(url_for("auth.login"), code=303)
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response
