"""The admin's settings rows: Jira, Apinizer, the names of Jira's statuses, and small shared state."""
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from .base import UTCDateTime, utcnow


class JiraSettings(db.Model):
    """The single row behind the admin's Jira Config screen."""

    __tablename__ = "jira_settings"
    id = db.Column(db.Integer, primary_key=True)
    enabled = db.Column(db.Boolean, nullable=False, default=False)  # Active / Passive
    deployment = db.Column(db.String(16), nullable=False, default="cloud")  # cloud | datacenter
    base_url = db.Column(db.String(500), nullable=False, default="")
    description = db.Column(db.Text, nullable=False, default="")  # admin note, never sent
    username = db.Column(db.String(254), nullable=False, default="")
    api_token_encrypted = db.Column(db.Text)  # Fernet token, see webapp.crypto
    api_token_last4 = db.Column(db.String(4))
    project_key = db.Column(db.String(32), nullable=False, default="")
    issue_type = db.Column(db.String(100), nullable=False, default="")
    issue_type_id = db.Column(db.String(32))  # resolved by "Save and Test"
    category_field_id = db.Column(db.String(40))
    product_field_id = db.Column(db.String(40))
    endpoint_field_id = db.Column(db.String(40))
    field_schemas = db.Column(db.JSON, nullable=False, default=dict)  # as Jira reported them
    webhook_secret_encrypted = db.Column(db.Text)
    # Show the requester every file on the issue, not only those a public comment shows.
    show_all_jira_files = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())
    # The "Technical details" the form asks for (webapp/technical.py), and the environments offered.
    technical_fields = db.Column(db.JSON, nullable=False, default=list, server_default="[]")
    environments = db.Column(db.Text, nullable=False, default="", server_default="")
    # Where the Environment field's choices come from unless a product says otherwise:
    # "admin" (the list above) or "catalog" (the product's OpenAPI servers or Apinizer's).
    environments_from = db.Column(db.String(10), nullable=False, default="admin", server_default="admin")
    environment_field_id = db.Column(db.String(40))  # optional custom fields for the details
    application_field_id = db.Column(db.String(40))
    correlation_field_id = db.Column(db.String(40))
    http_status_field_id = db.Column(db.String(40))
    occurred_field_id = db.Column(db.String(40))
    # Resolve and reopen (webapp/transitions.py): the workflow transitions, by Jira's name, that
    # "Mark as resolved", "Reopen" and a reply to a request waiting for its customer apply;
    # blank switches each off. "Reopen" is offered for `reopen_days` after a request closed.
    resolve_transition = db.Column(db.String(100))
    reopen_transition = db.Column(db.String(100))
    reopen_days = db.Column(db.Integer, nullable=False, default=14, server_default="14")
    reply_transition = db.Column(db.String(100))
    # Set after a 401, as a stored message (webapp/messages.py): no calls until settings change.
    paused_reason = db.Column(db.JSON(none_as_null=True))
    version = db.Column(db.Integer, nullable=False, default=1)  # bumped on every change
    # Who changed what, and when: the audit log.

    @classmethod
    def get(cls):
        """The settings row, created empty (passive) on first use."""
        settings = db.session.get(cls, 1)
        if settings is None:
            settings = cls(id=1)
            db.session.add(settings)
            db.session.flush()
        return settings


class ApinizerSettings(db.Model):
    """The single row of the optional Apinizer API Manager connector (webapp/catalog/apinizer.py):
    where its Management API is, the token (encrypted like Jira's), the projects followed, and
    the last reading, which waits in `found` for the admin to apply."""

    __tablename__ = "apinizer_settings"
    id = db.Column(db.Integer, primary_key=True)
    base_url = db.Column(db.String(500), nullable=False, default="")
    api_token_encrypted = db.Column(db.Text)  # Fernet token, see webapp.crypto
    api_token_last4 = db.Column(db.String(4))
    projects = db.Column(db.JSON, nullable=False, default=list)  # the project names followed
    known_projects = db.Column(db.JSON(none_as_null=True))  # those the last reading could see
    reading = db.Column(db.Boolean, nullable=False, default=False)
    found = db.Column(db.JSON(none_as_null=True))  # [{"project", "proxy", "endpoints": [[m, p, s]]}]
    error = db.Column(db.JSON(none_as_null=True))  # a stored message (webapp/messages.py)
    read_at = db.Column(UTCDateTime)
    # "Read projects": the worker lists the projects the token can see into known_projects,
    # for the admin to pick from (webapp/catalog/apinizer.py read_projects).
    projects_reading = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())
    projects_error = db.Column(db.JSON(none_as_null=True))  # a stored message
    projects_read_at = db.Column(UTCDateTime)

    @classmethod
    def get(cls):
        settings = db.session.get(cls, 1)
        if settings is None:
            settings = cls(id=1, projects=[])
            db.session.add(settings)
            db.session.flush()
        return settings


class JiraStatus(db.Model):
    """A status of the project's workflows as Jira last listed it, with the names customers
    see and whether it means the request waits for its customer (Administration → Statuses;
    webapp.statuses reads them)."""

    __tablename__ = "jira_statuses"
    id = db.Column(db.Integer, primary_key=True)
    jira_id = db.Column(db.String(32), nullable=False, unique=True)
    name = db.Column(db.String(100), nullable=False)  # Jira's own, shown to admins only
    category = db.Column(db.String(32))  # new | indeterminate | done
    name_en = db.Column(db.String(100), nullable=False)
    name_tr = db.Column(db.String(100), nullable=False)
    waiting_for_customer = db.Column(db.Boolean, nullable=False, default=False)
    in_jira = db.Column(db.Boolean, nullable=False, default=True)  # False: gone from Jira's list
    read_at = db.Column(UTCDateTime, nullable=False, default=utcnow)


class AppState(db.Model):
    """Small named values shared by every process: heartbeats, sync cursors."""

    __tablename__ = "app_state"
    key = db.Column(db.String(64), primary_key=True)
    value = db.Column(db.Text, nullable=False, default="")  # each value carries its own time

    @classmethod
    def ensure(cls, key):
        """Make the row `key` (value "") unless it exists, so a conditional UPDATE can take
        it; commits. Two processes racing to make it: one does, the other finds it."""
        if db.session.get(cls, key) is not None:
            return
        try:
            db.session.add(cls(key=key, value=""))
            db.session.commit()
        except IntegrityError:  # another process made it first
            db.session.rollback()
