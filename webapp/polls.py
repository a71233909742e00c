"""Conditional polls: a polling fragment answers 304 Not Modified when nothing it shows changed.

Every open list and detail page polls. Each poll carries the ETag of the fragment it holds
(static/portal.js sends it as If-None-Match); when it still matches, the route answers 304
from change counters alone, without a template or the page's queries, and htmx leaves the
fragment as it is (base.html: `responseHandling` 304 → no swap).

The counters, all bumped in the transaction of the change itself, so a change by any
process (a worker's sync or delivery, a webhook, another web worker) shows at the next poll:
- `SupportRequest.poll_version`: anything its detail page shows (the request, its files,
  comments and status history) — the detail page's polls;
- `User.requests_version`: any of the user's requests — their list;
- `app_state` ALL: any request — an admin's list;
- `app_state` EPOCH: what every page shows beside the requests (the catalog's names, the
  Jira settings, people's names) — every ETag.

The one way to say "this changed" is `changed(request_ids)`. ORM changes to the tables
above are found at each flush, so only Core UPDATE statements call it themselves. The
counters are written at commit, in one order (requests, users, ALL), so two transactions
never wait on each other's counters.
"""
import hashlib
import os
from functools import wraps

from flask import current_app, make_response, request
from flask_babel import get_locale, get_timezone
from flask_login import current_user
from sqlalchemy import Integer, Text, cast, event, inspect, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .embedding import is_embedded
from .extensions import db
from .htmx import is_fragment_request
from .models import (ApiEndpoint, ApiProduct, AppState, Attachment, Category, JiraComment, JiraSettings,
                     StatusAction, StatusChange, SupportRequest, User)

ALL = "polls:all"      # bumped with any request's change: the admins' list
EPOCH = "polls:epoch"  # bumped with any change every page may show
PENDING = "polls_changed"  # in Session.info: the request ids changed in this transaction
EVERYTHING = "polls_everything"  # in Session.info: EPOCH is due
SHOWN_EVERYWHERE = (Category, ApiProduct, ApiEndpoint, JiraSettings)
USER_SHOWN = ("display_name",)  # a User column every admin's list shows


def changed(request_ids):
    """These requests changed (a Core UPDATE the flush does not see): their counters, their
    reporters' and the admins' are bumped when the transaction commits."""
    db.session.info.setdefault(PENDING, set()).update(int(i) for i in request_ids)


def files_changed(attachment_ids):
    """These attachments changed (a Core UPDATE): their requests did."""
    if attachment_ids:
        changed(db.session.scalars(select(Attachment.request_id).where(Attachment.id.in_(list(attachment_ids)))))


@event.listens_for(Session, "after_flush")
def _note_flushed(session, _context):
    ids, everything = session.info.setdefault(PENDING, set()), False
    for row in list(session.new) + list(session.dirty) + list(session.deleted):
        if row in session.dirty and not session.is_modified(row, include_collections=False):
            continue
        if isinstance(row, SupportRequest):
            ids.add(row.id)
        elif isinstance(row, (Attachment, JiraComment, StatusAction, StatusChange)) and row.request_id:
            ids.add(row.request_id)
        elif isinstance(row, SHOWN_EVERYWHERE):
            everything = True
        elif isinstance(row, User) and row in session.dirty:
            everything = everything or any(_changed(row, name) for name in USER_SHOWN)
    if everything:
        session.info[EVERYTHING] = True


def _changed(row, name):
    return inspect(row).attrs[name].history.has_changes()


@event.listens_for(Session, "before_commit")
def _bump_counters(session):
    session.flush()  # what the commit's own flush would find
    ids = sorted(i for i in session.info.pop(PENDING, ()) if i)
    everything = session.info.pop(EVERYTHING, False)
    if ids:
        session.execute(update(SupportRequest).where(SupportRequest.id.in_(ids))
                        .values(poll_version=SupportRequest.poll_version + 1,
                                updated_at=SupportRequest.updated_at)  # not a change of its own
                        .execution_options(synchronize_session=False))
        reporters = select(SupportRequest.reporter_id).where(SupportRequest.id.in_(ids))
        session.execute(update(User).where(User.id.in_(reporters))
                        .values(requests_version=User.requests_version + 1)
                        .execution_options(synchronize_session=False))
        _bump(session, ALL)
    if everything:
        _bump(session, EPOCH)


@event.listens_for(Session, "after_rollback")
def _forget(session):
    session.info.pop(PENDING, None)
    session.info.pop(EVERYTHING, None)


def _bump(session, key):
    bumped = update(AppState).where(AppState.key == key).values(
        value=cast(cast(AppState.value, Integer) + 1, Text)).execution_options(synchronize_session=False)
    if session.execute(bumped).rowcount:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(dialect.insert(AppState).values(key=key, value="0").on_conflict_do_nothing())
    session.execute(bumped)


# Answering a poll --------------------------------------------------------------------------

def _shared_versions():
    values = dict(db.session.execute(select(AppState.key, AppState.value)
                                     .where(AppState.key.in_((ALL, EPOCH)))).all())
    return values.get(ALL, "0"), values.get(EPOCH, "0")


def list_version(user):
    """What the user's list poll depends on: their requests (everyone's for an admin)."""
    every_request, epoch = _shared_versions()
    return (every_request if user.is_admin else user.requests_version), epoch


def request_version(support_request):
    """What a detail page's polls of this request depend on."""
    return support_request.poll_version, _shared_versions()[1]


def etag_of(version):
    """The ETag of this fragment for this reader: the counters, and everything else the
    rendering depends on (the URL, the account and its role, language, time zone, layout
    and the deployed templates)."""
    parts = (version, request.full_path, current_user.get_id(), current_user.is_admin,
             str(get_locale()), str(get_timezone()), is_embedded(),
             current_app.extensions["polls_build"])
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


def conditional(version_of):
    """A poll route answering 304 when its fragment would be the one the browser has.
    `version_of(**view_args)` reads the counters; it runs before the view, so a change
    committed while the view renders makes the next poll render again."""
    def decorate(view):
        @wraps(view)
        def poll(**kwargs):
            if not (current_app.config["CONDITIONAL_POLLS"] and is_fragment_request()):
                return view(**kwargs)
            etag = etag_of(version_of(**kwargs))
            if request.if_none_match.contains_weak(etag):
                response = current_app.response_class(status=304)
            else:
                response = make_response(view(**kwargs))
            # Weak: the same fragment, compressed or not (Flask-Compress leaves weak ones alone).
            response.set_etag(etag, weak=True)
            return response
        return poll
    return decorate


def _build_of(app):
    """A digest of the deployed templates: a new release never answers 304 to the old."""
    digest = hashlib.sha256()
    for folder, _dirs, files in sorted(os.walk(app.template_folder)):
        for name in sorted(files):
            with open(os.path.join(folder, name), "rb") as file:
                digest.update(name.encode() + file.read())
    return digest.hexdigest()[:12]


def init_app(app):
    app.extensions["polls_build"] = _build_of(app)
