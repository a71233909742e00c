"""The portal account of a person the OpenID provider vouches for: found by issuer and
subject, else linked by verified e-mail, else created. How a sign-in from elsewhere (single
sign-on, the framing site's hand-over) reads a language and lets groups decide the admin
role: `language_of`, `follow_groups`; and the one rule on the last admin, `is_last_admin`."""
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from .. import audit
from ..extensions import db
from ..models import User


class Refused(Exception):
    """No sign-in: `reason` goes to the audit log, `message` to the person."""

    def __init__(self, reason, message):
        super().__init__(reason)
        self.reason, self.message = reason, message


UNVERIFIED = _l("Your provider has not confirmed your e-mail address, so the portal cannot "
                "give you an account. Confirm it with your provider and sign in again.")
DISABLED = _l("This account is disabled. Ask an administrator of the portal.")
TAKEN = _l("The account with your e-mail address is already linked to another sign-in.")


def account_for(issuer, claims):
    """The active account for these (already verified) ID token claims; raises Refused."""
    config = current_app.config
    user = db.session.scalar(select(User).where(User.oidc_issuer == issuer,
                                                User.oidc_subject == claims["sub"]))
    if user is None:
        user = _linked_or_created(issuer, claims, config)
    if not user.active:
        raise Refused("disabled", DISABLED)
    if config["OIDC_ADMIN_GROUPS"]:
        follow_groups(user, claims.get(config["OIDC_GROUPS_CLAIM"]), config["OIDC_ADMIN_GROUPS"], "sso")
    return user


def _linked_or_created(issuer, claims, config):
    email = User.normalize_email(claims.get(config["OIDC_EMAIL_CLAIM"]))[:254]
    # Some providers send the flag as a string.
    if not email or claims.get(config["OIDC_EMAIL_VERIFIED_CLAIM"]) not in (True, "true"):
        raise Refused("unverified_email", UNVERIFIED)
    user = db.session.scalar(select(User).where(User.email == email))
    if user is not None and user.oidc_subject is not None:
        raise Refused("email_linked_elsewhere", TAKEN)
    if user is None:
        name = str(claims.get(config["OIDC_NAME_CLAIM"]) or email.split("@")[0]).strip()[:120]
        user = User(email=email, display_name=name, password_hash=User.NO_PASSWORD,
                    language=language_of(claims.get(config["OIDC_LANGUAGE_CLAIM"])))
        db.session.add(user)
        db.session.flush()
        audit.record("auth.sso.account_created", user_id=user.id, email=email)
    else:
        audit.record("auth.sso.account_linked", user_id=user.id, email=email)
    user.oidc_issuer, user.oidc_subject = issuer, claims["sub"]
    return user


def language_of(tag):
    """The portal language of a claim like "tr-TR", or None (follow the browser)."""
    primary = str(tag or "").replace("_", "-").split("-")[0].lower()
    return primary if primary in current_app.config["LANGUAGES"] else None


def follow_groups(user, groups, admin_groups, by):
    """Make `user` an admin when one of `groups` is in `admin_groups`, else not; never the
    last active admin out of the role. Each change audited, with `by` ("sso", "handover")."""
    groups = groups if isinstance(groups, (list, tuple)) else [groups] if isinstance(groups, str) else []
    should_be_admin = any(group in admin_groups for group in groups)
    if should_be_admin == user.is_admin:
        return
    if not should_be_admin and is_last_admin(user):
        audit.record("users.last_admin_kept", user_id=user.id, email=user.email, by=by)
        return  # nobody would be left to administer the portal
    user.role = "admin" if should_be_admin else "user"
    audit.record("users.admin_granted" if should_be_admin else "users.admin_removed",
                 user_id=user.id, email=user.email, by=by)


def is_last_admin(user):
    """Whether no other active admin would be left to administer the portal without `user`:
    the role, or the account, must then stay."""
    return user.is_admin and db.session.scalar(select(func.count()).select_from(User).where(
        User.role == "admin", User.active.is_(True), User.id != user.id)) == 0
