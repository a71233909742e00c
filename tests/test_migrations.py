"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL, and
carry the rows along."""
import json
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select

from webapp import create_app
from webapp.config import TestConfig
from webapp.extensions import db
from webapp.messages import english
from webapp.models import JiraSettings, SupportRequest


def test_migrations_match_the_models(empty_database_url):
    app = create_app(TestConfig, {"SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        # SQLite cannot reflect the PostgreSQL-only trigram indexes; nothing else may differ.
        assert [d for d in diff if "trgm" not in str(d)] == []
        tables = set(inspect(db.engine).get_table_names())
        assert {"users", "jira_settings", "support_requests", "attachments", "jira_comments",
                "labels", "categories", "api_products", "api_endpoints", "audit_log", "replies",
                "status_actions"} <= tables
        if db.engine.dialect.name == "postgresql":
            indexes = {i["name"] for i in inspect(db.engine).get_indexes("support_requests")}
            assert "ix_support_requests_summary_trgm" in indexes
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()


def test_old_messages_keep_their_english_in_the_new_shape(empty_database_url):
    """Rows written as {"en": ..., "tr": ...} (paused_reason as that JSON in text) read as the
    stored message "%(text)s" with the English; a downgrade writes the old shape back."""
    app = create_app(TestConfig, {"SQLALCHEMY_DATABASE_URI": empty_database_url})
    now = datetime.now(timezone.utc)
    old = {"en": "Jira rejected the credentials (401).", "tr": "Jira kimlik bilgilerini reddetti (401)."}
    users = sa.table("users", *map(sa.column, ("id", "email", "display_name", "password_hash", "role",
                                                "active", "created_at")))
    requests = sa.table("support_requests", sa.column("last_error", sa.JSON), *map(sa.column, (
        "id", "reference", "reporter_id", "label", "summary", "description", "delivery_state", "attempts",
        "created_at", "updated_at")))
    settings = sa.table("jira_settings", sa.column("paused_reason", sa.Text), sa.column("field_schemas", sa.JSON),
                        *map(sa.column, ("id", "enabled", "deployment", "base_url", "description", "username",
                                         "project_key", "issue_type", "version", "updated_at")))
    with app.app_context():
        upgrade(revision="416312df702e")
        with db.engine.begin() as conn:
            conn.execute(users.insert().values(id=1, email="a@example.com", display_name="A", password_hash="x",
                                               role="admin", active=True, created_at=now))
            conn.execute(requests.insert(), [
                dict(id=n, reference=f"PR-{n}", reporter_id=1, label="Bug", summary="s", description="d",
                     delivery_state="queued", attempts=1, created_at=now, updated_at=now, last_error=error)
                for n, error in ((1, old), (2, None))])
            conn.execute(settings.insert().values(
                id=1, enabled=True, deployment="cloud", base_url="", description="", username="", project_key="",
                issue_type="", version=1, updated_at=now, field_schemas={},
                paused_reason=json.dumps(old, ensure_ascii=False)))
        upgrade()
        stored = {"id": "%(text)s", "params": {"text": old["en"]}}
        assert db.session.get(JiraSettings, 1).paused_reason == stored
        assert [r.last_error for r in db.session.scalars(select(SupportRequest).order_by(SupportRequest.id))] == \
            [stored, None]
        assert english(stored) == old["en"]
        db.session.remove()
        downgrade(revision="416312df702e")
        with db.engine.connect() as conn:
            assert json.loads(conn.scalar(select(settings.c.paused_reason))) == {"en": old["en"], "tr": old["en"]}
            assert conn.scalar(select(requests.c.last_error).where(requests.c.id == 1)) == \
                {"en": old["en"], "tr": old["en"]}
        downgrade(revision="base")
        db.engine.dispose()
