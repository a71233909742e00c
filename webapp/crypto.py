"""Encryption at rest for secrets such as the Jira API token (Fernet, key rotation)."""
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app


class SecretUnreadable(Exception):
    """The stored secret was encrypted with a key this deployment no longer has."""


def _fernet():
    keys = current_app.config["ENCRYPTION_KEYS"]
    return MultiFernet([Fernet(key) for key in keys])


def encrypt(plain):
    return _fernet().encrypt(plain.encode("utf-8")).decode("ascii")


def decrypt(token):
    try:
        return _fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken:
        raise SecretUnreadable(
            "The stored secret cannot be decrypted with the configured ENCRYPTION_KEYS."
        ) from None


def rotate(token):
    """The same secret, encrypted with the newest key."""
    try:
        return _fernet().rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken:
        raise SecretUnreadable(
            "The stored secret cannot be decrypted with the configured ENCRYPTION_KEYS."
        ) from None
