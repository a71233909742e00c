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
# Where a product's environment choices come from (JiraSettings / ApiProduct.environments_from).
ENVIRONMENT_SOURCES = {"admin": N_("The admin's list"), "catalog": N_("The catalog's (OpenAPI servers, Apinizer)")}
# The JiraSettings column naming the optional custom field each detail also goes to.
FIELD_ID_COLUMNS = {"environment": "environment_field_id", "application_id": "application_field_id",
                    "correlation_id": "correlation_field_id", "http_status": "http_status_field_id",
                    "occurred_at": "occurred_field_id"}


def asked(settings):
    """The keys of the fields the admin switched on, in FIELDS order."""
    chosen = set(settings.technical_fields or ())
    return [key for key in FIELDS if key in chosen]


def environments(settings):
    """The admin's list of environments, one a line."""
    names = [line.strip()[:100] for line in (settings.environments or "").splitlines()]  # the field's cap
    return list(dict.fromkeys(name for name in names if name))[:ENVIRONMENTS_MAX]


def uses_catalog(settings, product):
    """Whether the product's environments are its catalog's: as the product says, else as
    Jira Config says."""
    return (product.environments_from or settings.environments_from) == "catalog"


def product_environments(settings, product):
    """The environments offered with this product: its catalog's (OpenAPI servers, Apinizer's
    environments) when it uses them and the catalog names some, else the admin's list."""
    if product is not None and uses_catalog(settings, product) and product.catalog_environments:
        return list(product.catalog_environments)[:ENVIRONMENTS_MAX]
    return environments(settings)


def environment_choices(settings, product, offered):
    """The Environment field's choices: a chosen product's; with none chosen, the admin's list
    and, under each offered product with a catalog list of its own, that one (so a plain
    select works without JavaScript: {None: names, product name: names}). Empty: free text."""
    if product is not None:
        return product_environments(settings, product)
    groups = {None: environments(settings)}
    for other in offered:
        if uses_catalog(settings, other) and other.catalog_environments:
            groups[other.name] = list(other.catalog_environments)[:ENVIRONMENTS_MAX]
    return groups[None] if len(groups) == 1 else groups


def allowed_environments(choices):
    """Every name the choices offer (a list or groups)."""
    if isinstance(choices, dict):
        return {name for names in choices.values() for name in names}
    return set(choices)


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
