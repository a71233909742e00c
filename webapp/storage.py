"""Attachment files on disk: random names under ATTACHMENTS_DIR, never under static/."""
import hashlib
import os
import secrets
import unicodedata
from pathlib import Path

from flask import current_app

CHUNK = 64 * 1024


class TooLarge(ValueError):
    """The stream was longer than allowed; nothing was kept."""


def attachments_dir():
    folder = current_app.config.get("ATTACHMENTS_DIR") or os.path.join(current_app.instance_path, "attachments")
    make_private_dir(folder)
    return Path(folder)


def make_private_dir(path):
    """Create `path` for this account alone (0700): people's files, the database, the keys.
    An existing folder is left as the operator made it."""
    if not os.path.isdir(path):
        os.makedirs(path, mode=0o700, exist_ok=True)
        os.chmod(path, 0o700)  # makedirs' mode is subject to the umask


def path_of(stored_name):
    return attachments_dir() / stored_name


def store_stream(stream, max_bytes=None):
    """Copy a stream to a new random file; return (stored_name, size, sha256).
    Raises TooLarge when it is larger than max_bytes, OSError when the disk fails (full,
    over quota); either way it keeps nothing."""
    stored_name = secrets.token_hex(16)
    target = path_of(stored_name)
    digest, size = hashlib.sha256(), 0
    try:
        with open(target, "xb", opener=_private) as out:
            while block := stream.read(CHUNK):
                size += len(block)
                if max_bytes is not None and size > max_bytes:
                    raise TooLarge(f"more than {max_bytes} bytes")
                digest.update(block)
                out.write(block)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return stored_name, size, digest.hexdigest()


def _private(path, flags):
    """Files are created for this account alone (0600), whatever the umask."""
    return os.open(path, flags, 0o600)


def remove(stored_name):
    path_of(stored_name).unlink(missing_ok=True)


def clean_filename(name):
    """A file name made safe to show and to offer as a download name: no folders, no
    control characters; Unicode letters kept (NFC, so "ş" from a Mac is one character)."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip(" .")
    return name[:255] or "file"
