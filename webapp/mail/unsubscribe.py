"""Signed one-click unsubscribe links: they work without logging in, and carry only who and
which kind of mail ("comments", "updates", "admin")."""
from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from . import ALL, NONE, STATUS_ONLY

KINDS = ("comments", "updates", "admin")


def _serializer():
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="mail-unsubscribe")


def unsubscribe_url(user, kind):
    """The link that stops `kind` mail for `user`; None without PORTAL_BASE_URL."""
    base = current_app.config.get("PORTAL_BASE_URL")
    if not base:
        return None
    return f"{base}/mail/unsubscribe/{_serializer().dumps({'u': user.id, 'k': kind})}"


def read_token(token):
    """(user id, kind) of a genuine token, else None."""
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("k") not in KINDS or not isinstance(data.get("u"), int):
        return None
    return data["u"], data["k"]


def unsubscribe(user, kind):
    """Stop `kind` mail for `user`."""
    if kind == "admin":
        user.admin_mail = False
    elif kind == "comments":
        if user.mail_preference == ALL:
            user.mail_preference = STATUS_ONLY
    else:
        user.mail_preference = NONE
