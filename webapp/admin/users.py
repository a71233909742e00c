"""Administration → Users: find accounts, make or unmake admins, deactivate, create local
accounts and reset passwords with one-time links. Never the last admin out."""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select

from . import bp
from .forms import NewUserForm
from .. import audit
from ..auth.accounts import is_last_admin
from ..auth.forgot import mail_link
from .. import mail
from ..mail import sending
from ..extensions import db
from ..paging import paginate
from ..models import User

PER_PAGE = 25


def _users_page(form=None, link=None, status=200):
    """The Users page: the search's page of accounts, the new-account form and, once, a link."""
    query = (request.values.get("q") or "").strip()[:254]
    statement = select(User).order_by(User.email)
    if query:
        pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = statement.where(or_(User.email.ilike(pattern, escape="\\"),
                                        User.display_name.ilike(pattern, escape="\\")))
    page = paginate(statement, per_page=PER_PAGE)
    return render_template("admin/users.html", page=page, query=query, form=form or NewUserForm(formdata=None),
                           link=link), status


def _back():
    return redirect(url_for("admin.users", q=request.form.get("q") or None), code=303)


@bp.get("/users")
def users():
    """Accounts, searched by e-mail or name, a page at a time."""
    return _users_page()


@bp.post("/users")
def create_user():
    """Create a local account and show the link its owner sets a password with."""
    form = NewUserForm()
    if not form.validate_on_submit():
        return _users_page(form=form)
    user = User(email=form.email.data, display_name=form.display_name.data,
                role="admin" if form.admin.data else "user", password_hash=User.NO_PASSWORD)
    db.session.add(user)
    db.session.flush()
    audit.record("users.created", user=user.email, role=user.role)
    link = mail_link(user, mail.SET_PASSWORD)
    db.session.commit()
    sending.soon()
    return _users_page(link=(user, link))


@bp.post("/users/<int:user_id>/password-link")
def password_link(user_id):
    """A new one-time link to set the account's password (older links stop working)."""
    user = db.get_or_404(User, user_id)
    if user.sign_in == "sso":
        flash(_("%(name)s signs in with single sign-on: the password is managed there.",
                name=user.display_name), "error")
        return _back()
    link = mail_link(user, mail.RESET_PASSWORD if user.has_password else mail.SET_PASSWORD)
    audit.record("users.password_link_created", user=user.email)
    db.session.commit()
    sending.soon()
    return _users_page(link=(user, link))


def _switch(user_id, key, current, apply, actions, said):
    """Turn an account's admin role or its activity on or off (the form's `key` is "1" or
    "0"), never taking the last admin out; audited as `actions[on]`, told as `said[on]`."""
    user = db.get_or_404(User, user_id)
    on = request.form.get(key) == "1"
    if on == current(user):
        return _back()
    if not on and is_last_admin(user):
        flash(_("%(name)s is the last admin: make someone else an admin first.", name=user.display_name), "error")
        return _back()
    apply(user, on)
    audit.record(actions[on], user=user.email)
    db.session.commit()
    flash(said[on](user.display_name), "success")
    return _back() if current_user.is_active and current_user.is_admin else redirect(url_for("main.index"), code=303)


def _set_role(user, admin):
    user.role = "admin" if admin else "user"


@bp.post("/users/<int:user_id>/role")
def change_role(user_id):
    """Make the account an admin, or a user again."""
    return _switch(user_id, "admin", lambda user: user.is_admin, _set_role,
                   {True: "users.made_admin", False: "users.admin_unmade"},
                   {True: lambda name: _("%(name)s is an admin now.", name=name),
                    False: lambda name: _("%(name)s is no longer an admin.", name=name)})


@bp.post("/users/<int:user_id>/active")
def change_active(user_id):
    """Deactivate the account (its sessions end at once, everywhere: User.set_active) or reactivate it."""
    return _switch(user_id, "active", lambda user: user.active, User.set_active,
                   {True: "users.reactivated", False: "users.deactivated"},
                   {True: lambda name: _("%(name)s can log in again.", name=name),
                    False: lambda name: _("%(name)s is deactivated and logged out everywhere.", name=name)})
