"""stored messages: last_error and paused_reason hold a message id and its parameters

Both held the text in English and Turkish ({"en": ..., "tr": ...}; paused_reason as JSON in a
Text column). Both now hold {"id": msgid, "params": {...}, "jira": ...} in a JSON column, shown in
the reader's language (webapp/messages.py). An old row keeps its English text, as the parameter
of the message "%(text)s".

Revision ID: 182f91fec22f
Revises: b7c1f0e2a901
Create Date: 2026-12-01 11:17:00

"""
import json

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '182f91fec22f'
down_revision = 'b7c1f0e2a901'
branch_labels = None
depends_on = None

TEXT = "%(text)s"


def _requests():
    return sa.table("support_requests", sa.column("id", sa.Integer), sa.column("last_error", sa.JSON))


def _settings(reason_type):
    return sa.table("jira_settings", sa.column("id", sa.Integer), sa.column("paused_reason", reason_type))


def _rows(table, column):
    """(id, value) of each row with a value (a JSON column may hold JSON null)."""
    rows = op.get_bind().execute(sa.select(table.c.id, table.c[column]).where(table.c[column].isnot(None)))
    return [(row_id, value) for row_id, value in rows if value is not None]


def _update(table, column, values):
    for row_id, value in values.items():
        op.get_bind().execute(table.update().where(table.c.id == row_id).values({column: value}))


def _stored(old):
    """The new shape of an old {"en": ..., "tr": ...} (or of any other text)."""
    if isinstance(old, dict) and "id" in old:
        return old
    text = (old.get("en") or old.get("tr") or "") if isinstance(old, dict) else old
    return {"id": TEXT, "params": {"text": str(text)}}


def _old(stored):
    """The old shape of a stored message: its English in both languages."""
    try:
        text = stored["id"] % stored.get("params", {})
    except (KeyError, TypeError, ValueError):
        text = stored.get("id", "")
    if stored.get("jira"):
        text = f"{text} Jira said: {stored['jira']}"
    return {"en": text, "tr": text}


def _loaded(text):
    try:
        return json.loads(text)
    except ValueError:
        return text


def upgrade():
    requests = _requests()
    _update(requests, "last_error", {i: _stored(old) for i, old in _rows(requests, "last_error")})
    old_settings = _settings(sa.Text)
    reasons = {i: _stored(_loaded(old)) for i, old in _rows(old_settings, "paused_reason")}
    _update(old_settings, "paused_reason", dict.fromkeys(reasons))  # NULL while the type changes
    with op.batch_alter_table('jira_settings', schema=None) as batch_op:
        batch_op.alter_column('paused_reason', existing_type=sa.Text(), type_=sa.JSON(),
                              existing_nullable=True, postgresql_using='paused_reason::json')
    _update(_settings(sa.JSON(none_as_null=True)), "paused_reason", reasons)


def downgrade():
    new_settings = _settings(sa.JSON(none_as_null=True))
    reasons = {i: json.dumps(_old(new), ensure_ascii=False) for i, new in _rows(new_settings, "paused_reason")}
    _update(new_settings, "paused_reason", dict.fromkeys(reasons))
    with op.batch_alter_table('jira_settings', schema=None) as batch_op:
        batch_op.alter_column('paused_reason', existing_type=sa.JSON(), type_=sa.Text(),
                              existing_nullable=True, postgresql_using='paused_reason::text')
    _update(_settings(sa.Text), "paused_reason", reasons)
    requests = _requests()
    _update(requests, "last_error", {i: _old(new) for i, new in _rows(requests, "last_error")
                                     if isinstance(new, dict) and "id" in new})
