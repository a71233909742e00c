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
    return _readable(_fernet().decrypt, token).decode("utf-8")


def rotate(token):
    """The same secret, encrypted with the newest key."""
    return _readable(_fernet().rotate, token).decode("ascii")


def _readable(operation, token):
    try:
        return operation(token.encode("ascii"))
    except InvalidToken:
        raise SecretUnreadable(
            "The stored secret cannot be decrypted with the configured ENCRYPTION_KEYS."
        ) from None
