"""What makes a password acceptable: long enough, not one of the passwords people use most
(zxcvbn's list of 30,000, from real leaks), and not the account's own e-mail. The one rule
for every place a password is chosen: the change-password page, a set-password link, the CLI."""
from flask import current_app
from flask_babel import lazy_gettext as _l
from zxcvbn.frequency_lists import FREQUENCY_LISTS

COMMON = frozenset(FREQUENCY_LISTS["passwords"])
MAX_LENGTH = 256  # hashing a megabyte of "password" is work for nobody's benefit

TOO_COMMON = _l("This password is one of the most common ones; choose another.")
IS_EMAIL = _l("Choose a password that is not your e-mail address.")


def password_problem(password, email=""):
    """What is wrong with `password` for the account of `email` (a lazy message), or None.
    Test it with `is not None`: a lazy message's truth needs a locale."""
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    password = password or ""
    if len(password) < minimum:
        return _l("Choose a password of at least %(count)d characters.", count=minimum)
    if len(password) > MAX_LENGTH:
        return _l("Choose a password of at most %(count)d characters.", count=MAX_LENGTH)
    folded = password.strip().lower()
    if folded in COMMON or folded.rstrip("0123456789!.") in COMMON:
        return TOO_COMMON
    email = (email or "").strip().lower()
    if email and folded in (email, email.split("@")[0]):
        return IS_EMAIL
    return None
