"""The optional "Technical details" group of the new-request form: the fields the admin
switches on (Jira Config), the environments offered, and the rows the details reach Jira as
(a table in the description: webapp.jira.adf.rows_to_adf_table / rows_to_wiki_table)."""
from .jira.texts import N_

# Each field's key (as stored on a request and in JiraSettings.technical_fields) and its name,
# an English message id translated where it is shown; in this order everywhere.
FIELDS = {"environment": N_("Environment"), "application_id": N_("Application / client ID"),
          "correlation_id": N_("Request or correlation ID"), "http_status": N_("HTTP status"),
          "occurred_at": N_("When it happened")}
ENVIRONMENTS_MAX = 50
# The JiraSettings column naming the optional custom field each detail also goes to.
FIELD_ID_COLUMNS = {"environment": "environment_field_id", "application_id": "application_field_id",
                    "correlation_id": "correlation_field_id", "http_status": "http_status_field_id",
                    "occurred_at": "occurred_field_id"}


def asked(settings):
    """The keys of the fields the admin switched on, in FIELDS order."""
    chosen = set(settings.technical_fields or ())
    return [key for key in FIELDS if key in chosen]


def environments(settings):
    """The admin's list of environments, one a line, offered as the field's suggestions."""
    names = [line.strip() for line in (settings.environments or "").splitlines()]
    return list(dict.fromkeys(name for name in names if name))[:ENVIRONMENTS_MAX]


def mapped_fields(settings, technical):
    """(custom field id, value) for each detail given whose field the admin mapped."""
    technical = technical or {}
    return [(getattr(settings, FIELD_ID_COLUMNS[key]), technical[key]) for key in FIELDS
            if technical.get(key) and getattr(settings, FIELD_ID_COLUMNS[key])]


def field_ids(settings):
    """The mapped custom fields, for Save and Test's checks."""
    return [getattr(settings, column) for column in FIELD_ID_COLUMNS.values() if getattr(settings, column)]


def detail_rows(technical):
    """(English name, value) rows of a request's technical details, in FIELDS order."""
    technical = technical or {}
    return [(name, technical[key]) for key, name in FIELDS.items() if technical.get(key)]
