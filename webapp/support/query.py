"""The request list's query: filters, newest update first, keyset pagination.

Keyset ("after this row") rather than OFFSET, so page 400 costs what page 1 costs and a row
updated while someone pages does not shift the rest under them. The order (updated_at, id) is
served by the indexes on (reporter_id, updated_at) and (updated_at); the substring searches by
the trigram indexes on PostgreSQL. A key-shaped search (SUP-123, PR-7K3M9QXA, or the start of
one as it is typed) takes the plain indexes on jira_key and reference instead: every key
shares the trigrams of its prefix (`SUP`, `UP-`), so a trigram search for one grows with the
table.
"""
import re
import time
from collections import namedtuple
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import and_, false, or_, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import SupportRequest, as_id
from ..statuses import is_closed, is_open, waiting_for_customer
from ..sync.apply import shown_status

# The list's "Show" filter: which requests each choice keeps.
SHOWN = {"open": is_open, "waiting": waiting_for_customer, "closed": is_closed}
STATUS_CACHE_SECONDS = 60
# A status as requests store it; shown_status names it (a request's three columns).
StoredStatus = namedtuple("StoredStatus", "jira_status_id jira_status jira_status_category")


@dataclass
class Page:
    items: list
    next_after: str | None  # the cursor of the next page, None on the last one


# A Jira key or portal reference, whole or its beginning: project key, hyphen, number so far.
KEY_SHAPE = re.compile(r"[A-Z][A-Z0-9_]*-[A-Z0-9]*")


def key_search(text):
    """The requests whose Jira key or reference is `text` or starts with it (any case)."""
    prefix = text.upper()
    return or_(starts_with(SupportRequest.jira_key, prefix), starts_with(SupportRequest.reference, prefix))


def starts_with(column, prefix):
    """`column` starts with `prefix` (letters, digits, `-` and `_`), served by its B-tree index:
    on PostgreSQL a LIKE on the varchar_pattern_ops index, on SQLite a range in its binary order."""
    if db.session.get_bind().dialect.name == "postgresql":
        return column.like(prefix.replace("_", "\\_") + "%", escape="\\")
    return and_(column >= prefix, column < prefix[:-1] + chr(ord(prefix[-1]) + 1))


def like_pattern(text):
    """A LIKE pattern matching `text` anywhere, with the user's % and _ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
MICROSECOND = timedelta(microseconds=1)


def encode_cursor(item):
    return f"{(item.updated_at - EPOCH) // MICROSECOND}.{item.id}"


def decode_cursor(text):
    """(updated_at, id) from a cursor; None for anything malformed (then: the first page)."""
    try:
        micros, item_id = (int(part) for part in (text or "").split("."))
        when = EPOCH + micros * MICROSECOND
    except (ValueError, OverflowError, OSError):
        return None
    return (when, item_id) if as_id(item_id) is not None else None


def list_page(user, filters, after, page_size):
    """One page of the requests `user` may see, matching `filters` (see FILTERS in routes)."""
    query = select(SupportRequest).options(
        joinedload(SupportRequest.category), joinedload(SupportRequest.product),
        joinedload(SupportRequest.endpoint), joinedload(SupportRequest.reporter))
    if not user.is_admin:
        query = query.where(SupportRequest.reporter_id == user.id)
    if KEY_SHAPE.fullmatch(filters.get("key", "").upper()):
        query = query.where(key_search(filters["key"]))
    elif filters.get("key"):
        pattern = like_pattern(filters["key"])
        query = query.where(or_(SupportRequest.jira_key.ilike(pattern, escape="\\"),
                                SupportRequest.reference.ilike(pattern, escape="\\")))
    if filters.get("q"):
        query = query.where(SupportRequest.summary.ilike(like_pattern(filters["q"]), escape="\\"))
    if filters.get("show") in SHOWN:
        query = query.where(SHOWN[filters["show"]]())
        if filters["show"] == "waiting":  # "Waiting for me": an admin's own, not everyone's
            query = query.where(SupportRequest.reporter_id == user.id)
    if filters.get("status"):
        query = query.where(shown_as(filters["status"], stored_statuses(user)))
    if filters.get("label"):
        query = query.where(SupportRequest.label == filters["label"])
    for name, column in (("category", SupportRequest.category_id), ("product", SupportRequest.product_id),
                         ("endpoint", SupportRequest.endpoint_id)):
        if as_id(filters.get(name)) is not None:
            query = query.where(column == as_id(filters[name]))
    cursor = decode_cursor(after)
    if cursor:
        when, item_id = cursor
        query = query.where(or_(SupportRequest.updated_at < when,
                                and_(SupportRequest.updated_at == when, SupportRequest.id < item_id)))
    query = query.order_by(SupportRequest.updated_at.desc(), SupportRequest.id.desc()).limit(page_size + 1)
    items = db.session.scalars(query).unique().all()
    more = len(items) > page_size
    items = items[:page_size]
    return Page(items=items, next_after=encode_cursor(items[-1]) if more else None)


def stored_statuses(user):
    """The statuses (StoredStatus) of the user's requests; for admins those of every request,
    remembered for a minute (reading them scans the whole table)."""
    query = (select(SupportRequest.jira_status_id, SupportRequest.jira_status, SupportRequest.jira_status_category)
             .where(or_(SupportRequest.jira_status.is_not(None), SupportRequest.jira_status_category.is_not(None)))
             .distinct())
    if not user.is_admin:
        return [StoredStatus(*row) for row in db.session.execute(query.where(SupportRequest.reporter_id == user.id))]
    cache = current_app.extensions.setdefault("all_statuses", {"at": -STATUS_CACHE_SECONDS, "rows": []})
    if time.monotonic() - cache["at"] >= STATUS_CACHE_SECONDS:
        cache.update(at=time.monotonic(), rows=[StoredStatus(*row) for row in db.session.execute(query)])
    return cache["rows"]


def status_options(statuses):
    """The names to filter by, as the reader sees them (two Jira statuses may share one)."""
    return sorted({str(shown_status(status)) for status in statuses}, key=str.casefold)


def shown_as(name, statuses):
    """SQL: the request's status is one of `statuses` that the reader sees as `name`."""
    def stored_as(status):
        return and_(*(column.is_(None) if value is None else column == value for column, value in (
            (SupportRequest.jira_status_id, status.jira_status_id), (SupportRequest.jira_status, status.jira_status),
            (SupportRequest.jira_status_category, status.jira_status_category))))
    return or_(false(), *(stored_as(s) for s in statuses if str(shown_status(s)) == name))
