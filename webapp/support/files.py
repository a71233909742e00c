"""Checks on uploaded files: allowed types judged by content as well as name, safe names,
size limits. Files are stored at once under random names; a signed token lets a form that
failed validation keep them without uploading them again."""
import logging
import os

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer

from sqlalchemy import delete, select

from .. import storage
from ..extensions import db
from ..models import KeptUpload

log = logging.getLogger(__name__)

SIGNATURES = {  # extension -> the first bytes its content must start with
    "png": [b"\x89PNG\r\n\x1a\n"], "jpg": [b"\xff\xd8\xff"], "jpeg": [b"\xff\xd8\xff"],
    "gif": [b"GIF87a", b"GIF89a"], "webp": [b"RIFF"], "pdf": [b"%PDF-"], "zip": [b"PK\x03\x04", b"PK\x05\x06"],
}
TEXT_TYPES = {"txt": "text/plain", "log": "text/plain", "json": "application/json", "xml": "application/xml",
              "csv": "text/csv", "har": "application/json", "yaml": "application/yaml", "yml": "application/yaml"}
BINARY_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif",
                "webp": "image/webp", "pdf": "application/pdf", "zip": "application/zip"}


def extension(name):
    return os.path.splitext(name)[1].lower().lstrip(".")


def content_problem(name, head):
    """Why a file with this name and first bytes is refused, or None; and its content type."""
    ext = extension(name)
    if ext not in current_app.config["ATTACHMENT_EXTENSIONS"]:
        allowed = ", ".join(current_app.config["ATTACHMENT_EXTENSIONS"])
        return _("“%(name)s”: this type of file is not accepted. Allowed: %(allowed)s.", name=name, allowed=allowed), None
    if ext in SIGNATURES:
        if not any(head.startswith(sig) for sig in SIGNATURES[ext]):
            return _("“%(name)s” is not really a .%(ext)s file.", name=name, ext=ext), None
        return None, BINARY_TYPES[ext]
    if b"\x00" in head:
        return _("“%(name)s” is not really a .%(ext)s file.", name=name, ext=ext), None
    return None, TEXT_TYPES.get(ext, "text/plain")


def served_type(name, path):
    """The type a stored file is downloaded as: the one its name and first bytes prove from
    the upload allow-list, never what a browser or Jira said; anything else is opaque bytes."""
    with open(path, "rb") as file:
        head = file.read(512)
    problem, content_type = content_problem(name, head)
    return content_type if head and not problem else "application/octet-stream"


def store_upload(upload):
    """Check and store one uploaded file; return (kept file dict, None) or (None, error)."""
    name = storage.clean_filename(upload.filename)
    head = upload.stream.read(512)
    upload.stream.seek(0)
    problem, content_type = content_problem(name, head)
    if problem:
        return None, problem
    if not head:
        return None, _("“%(name)s” is empty.", name=name)
    limit = current_app.config["ATTACHMENT_MAX_MB"] * 1024 * 1024
    try:
        stored, size, digest = storage.store_stream(upload.stream, max_bytes=limit)
    except storage.TooLarge:
        return None, _("“%(name)s” is larger than %(mb)d MB.", name=name, mb=current_app.config["ATTACHMENT_MAX_MB"])
    except OSError as exc:  # a full disk, a quota, a failing volume: say so, keep nothing
        log.error("attachment %r not stored: %s", name, exc)
        return None, _("“%(name)s” could not be saved: the portal's storage is full or failing. "
                       "Please try again later.", name=name)
    return {"stored_name": stored, "name": name, "type": content_type, "size": size, "sha256": digest}, None


def keep_for(user_id, files):
    """Remember `files` (kept file dicts) as kept by this user's unsent form, then hold the
    user to KEPT_FILES_MAX_MB: the oldest kept files go first. Returns the files still kept."""
    names = [file["stored_name"] for file in files]
    known = set(db.session.scalars(select(KeptUpload.stored_name).where(KeptUpload.stored_name.in_(names))))
    db.session.add_all(KeptUpload(stored_name=file["stored_name"], user_id=user_id, size=file["size"])
                       for file in files if file["stored_name"] not in known)
    db.session.flush()
    room = current_app.config["KEPT_FILES_MAX_MB"] * 1024 * 1024
    newest_first = db.session.scalars(select(KeptUpload).where(KeptUpload.user_id == user_id)
                                      .order_by(KeptUpload.kept_at.desc(), KeptUpload.stored_name)).all()
    dropped = set()
    for row in newest_first:
        room -= row.size
        if room < 0:
            storage.remove(row.stored_name)
            db.session.delete(row)
            dropped.add(row.stored_name)
    db.session.commit()
    return [file for file in files if file["stored_name"] not in dropped]


def claimed(stored_names):
    """These kept files now belong to a request: no longer counted against anyone."""
    if stored_names:
        db.session.execute(delete(KeptUpload).where(KeptUpload.stored_name.in_(stored_names)))


def _signer():
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="kept-upload")


def keep_token(kept, user_id):
    """A token the form carries so a file survives a failed validation, bound to its user."""
    return _signer().dumps({**kept, "user": user_id})


def from_token(token, user_id):
    try:
        kept = _signer().loads(token)
    except BadSignature:
        return None
    if kept.pop("user", None) != user_id or not storage.path_of(kept["stored_name"]).exists():
        return None
    return kept
