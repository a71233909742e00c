"""Command-line tasks: `flask users ...` and `flask demo`."""
import os
import secrets
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import force_locale
from sqlalchemy import func, select

from .auth.passwords import password_problem
from .extensions import db
from .models import DeliveryState, SupportRequest, User

users = AppGroup("users", help="Manage portal accounts.")


def create_user(email, password, name=None, admin=False):
    email = User.normalize_email(email)
    user = User(email=email, display_name=name or email.split("@")[0],
                role="admin" if admin else "user")
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


@users.command("create")
@click.argument("email")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--admin", is_flag=True, help="Give the account the admin role.")
@click.option("--name", help="Display name (default: the part of the e-mail before @).")
def create_user_command(email, password, admin, name):
    """Create an account."""
    if "@" not in email:
        raise click.BadParameter("must be an e-mail address", param_hint="EMAIL")
    _check_password(password, email)
    if db.session.scalar(select(User).where(User.email == User.normalize_email(email))):
        raise click.ClickException(f"An account for {email} already exists.")
    user = create_user(email, password, name, admin)
    click.echo(f"Created {user.role} {user.email} ({user.display_name}).")


def _check_password(password, email):
    problem = password_problem(password, email)
    if problem is not None:  # (a lazy text: its truth would need a locale)
        with force_locale("en"):  # the command line speaks English
            raise click.BadParameter(str(problem), param_hint="--password")


@users.command("list")
def list_users_command():
    """List accounts."""
    for user in db.session.scalars(select(User).order_by(User.email)):
        state = "" if user.active else "  (disabled)"
        click.echo(f"{user.email:40} {user.role:6} {user.display_name}{state}")


@users.command("password")
@click.argument("email")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def set_password_command(email, password):
    """Set an account's password (its sessions end)."""
    user = _user(email)
    _check_password(password, user.email)
    user.set_password(password)
    db.session.commit()
    click.echo(f"Password changed for {user.email}; its sessions have ended.")


@users.command("disable")
@click.argument("email")
def disable_user_command(email):
    """Disable an account: it can no longer log in, and its sessions end at once."""
    _set_active(email, False)


@users.command("enable")
@click.argument("email")
def enable_user_command(email):
    """Enable a disabled account again."""
    _set_active(email, True)


def _set_active(email, active):
    user = _user(email)
    user.set_active(active)
    db.session.commit()
    click.echo(f"{'Enabled' if active else 'Disabled'} {user.email}"
               f"{'' if active else '; its sessions have ended'}.")


@users.command("logout")
@click.argument("email")
def logout_user_command(email):
    """End every session and remember-me cookie of an account."""
    user = _user(email)
    user.end_sessions()
    db.session.commit()
    click.echo(f"Every session of {user.email} has ended.")


def _user(email):
    user = db.session.scalar(select(User).where(User.email == User.normalize_email(email)))
    if user is None:
        raise click.ClickException(f"No account for {email}.")
    return user


@click.command("demo")
def demo_command():
    """Create a demo admin and user on first run, and print how to log in."""
    credentials = Path(current_app.instance_path) / "demo-credentials.txt"
    if not db.session.scalar(select(func.count()).select_from(User)):
        accounts = [
            ("admin", os.environ.get("DEMO_ADMIN_EMAIL", "admin@example.com"),
             os.environ.get("DEMO_ADMIN_PASSWORD") or secrets.token_urlsafe(9), True),
            ("user", os.environ.get("DEMO_USER_EMAIL", "user@example.com"),
             os.environ.get("DEMO_USER_PASSWORD") or secrets.token_urlsafe(9), False),
        ]
        lines = []
        for role, email, password, admin in accounts:
            create_user(email, password, name=f"Demo {role.title()}", admin=admin)
            lines.append(f"  {role:6} {email:28} password: {password}")
        credentials.touch(mode=0o600)
        credentials.write_text("\n".join(lines) + "\n")
        add_demo_catalog()
    if credentials.exists():
        click.echo("Log in with one of the demo accounts:")
        click.echo(credentials.read_text().rstrip())
        click.echo(f"(kept in {credentials}; change with `flask users password EMAIL`)")
    else:
        click.echo("Log in with an account you created (`flask users list`).")


def add_demo_catalog():
    """A few labels, categories and an API product, so the demo's form can be used at once
    (only into an empty catalog; the admin edits them like any others)."""
    from .models import ApiEndpoint, ApiProduct, Category, Label
    if db.session.scalar(select(func.count()).select_from(Label)):
        return
    db.session.add_all([Label(name=name, position=i) for i, name in enumerate(("Bug", "Question", "Feature-Request"))])
    db.session.add_all([Category(name=name, position=i)
                        for i, name in enumerate(("Authentication", "Billing", "Rate limits"))])
    payments = ApiProduct(name="Payments API", position=0)
    payments.endpoints = [ApiEndpoint(method="POST", path="/v2/payments", position=0),
                          ApiEndpoint(method="GET", path="/v2/payments/{id}", position=1)]
    db.session.add(payments)
    db.session.commit()


deliveries = AppGroup("deliveries", help="Requests on their way to Jira.")


@deliveries.command("list")
@click.option("--state", type=click.Choice(DeliveryState.ALL),
              help="Only requests in this delivery state (default: all but sent).")
def list_deliveries_command(state):
    """List requests by delivery state, with the reason of the last failure."""
    from .messages import english
    query = select(SupportRequest).order_by(SupportRequest.id)
    query = query.where(SupportRequest.delivery_state == state) if state else \
        query.where(SupportRequest.delivery_state != DeliveryState.SENT)
    for support_request in db.session.scalars(query):
        reason = english(support_request.last_error)
        click.echo(f"{support_request.id:>6} {support_request.display_key:14} {support_request.delivery_state:8} "
                   f"attempts={support_request.attempts:<3} {support_request.summary[:40]}  {reason}".rstrip())


@deliveries.command("send")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all-failed", is_flag=True, help="Retry every failed request.")
@click.option("--all-local", is_flag=True, help="Send every portal-only request to Jira.")
def send_deliveries_command(ids, all_failed, all_local):
    """Retry failed requests or send portal-only ones to Jira."""
    from . import delivery, integration
    if not integration.settings().enabled:
        raise click.ClickException("The integration is passive; activate it first.")
    states = [name for name, flag in ((DeliveryState.FAILED, all_failed), (DeliveryState.LOCAL, all_local)) if flag]
    chosen = set(ids) | set(db.session.scalars(
        select(SupportRequest.id).where(SupportRequest.delivery_state.in_(states))))
    if not chosen:
        raise click.ClickException("Name request ids, or use --all-failed / --all-local.")
    count = delivery.requeue(sorted(chosen))
    click.echo(f"Queued {count} request(s) for Jira.")


keys = AppGroup("keys", help="Manage the encryption of stored secrets.")


@keys.command("rotate")
def rotate_keys_command():
    """Re-encrypt stored secrets with the first key of ENCRYPTION_KEYS.

    To rotate: put a new key in front of ENCRYPTION_KEYS everywhere, run this, then drop
    the old key."""
    from .crypto import SecretUnreadable
    from .integration import rotate_token_encryption
    try:
        count = rotate_token_encryption()
    except SecretUnreadable as exc:
        raise click.ClickException(str(exc))
    click.echo(f"Re-encrypted {count} stored secret(s) with the newest key.")


def init_app(app):
    from .sync.cli import jira
    app.cli.add_command(jira)
    app.cli.add_command(users)
    app.cli.add_command(keys)
    app.cli.add_command(deliveries)
    app.cli.add_command(demo_command)
