"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from webapp import create_app
from webapp.config import TestConfig
from webapp.extensions import db


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
                "labels", "categories", "api_products", "api_endpoints", "audit_log"} <= tables
        if db.engine.dialect.name == "postgresql":
            indexes = {i["name"] for i in inspect(db.engine).get_indexes("support_requests")}
            assert "ix_support_requests_summary_trgm" in indexes
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()
