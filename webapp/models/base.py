"""The column types and helpers every model uses."""
from datetime import datetime, timezone


from ..extensions import db


MAX_ID = 2**31 - 1  # the largest value of an integer id column on every database


def utcnow():
    return datetime.now(timezone.utc)


def column_text(value, length):
    """Text from outside (Jira) as a string column holds it: no NUL, which PostgreSQL refuses,
    and no longer than the column. None stays None."""
    return None if value is None else str(value).replace("\x00", "")[:length]


def as_id(value):
    """An id typed by someone: a plain decimal number a row could have, else None (never a
    number the database would fail on, nor "²", which Python calls a digit)."""
    text = str(value) if value is not None else ""
    if not (text.isascii() and text.isdigit()) or len(text) > 10 or int(text) > MAX_ID:
        return None
    return int(text)


class UTCDateTime(db.TypeDecorator):
    """Timezone-aware UTC datetimes on every database (SQLite drops the zone)."""

    impl = db.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(timezone.utc)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value
