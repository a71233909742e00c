"""The request list's query: filters, newest update first, keyset pagination.

Keyset ("after this row") rather than OFFSET, so page 400 costs what page 1 costs and a row
updated while someone pages does not shift the rest under them. The order (updated_at, id) is
served by the indexes on (reporter_id, updated_at) and (updated_at); the substring searches by
the trigram indexes on PostgreSQL.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import SupportRequest, as_id


@dataclass
class Page:
    items: list
    next_after: str | None  # the cursor of the next page, None on the last one


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
    if filters.get("key"):
        pattern = like_pattern(filters["key"])
        query = query.where(or_(SupportRequest.jira_key.ilike(pattern, escape="\\"),
                                SupportRequest.reference.ilike(pattern, escape="\\")))
    if filters.get("q"):
        query = query.where(SupportRequest.summary.ilike(like_pattern(filters["q"]), escape="\\"))
    if filters.get("status"):
        query = query.where(SupportRequest.jira_status == filters["status"])
    if filters.get("label"):
        query = query.where(SupportRequest.label == filters["label"])
    if as_id(filters.get("category")) is not None:
        query = query.where(SupportRequest.category_id == as_id(filters["category"]))
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
