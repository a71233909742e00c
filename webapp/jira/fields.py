"""Shape portal values for Jira fields, and keep labels valid.

Custom fields take different JSON shapes depending on their type, which Jira reports in the
create metadata as ``schema.custom`` (``com.atlassian.jira.plugin.system.customfieldtypes:<x>``).
"""
import re

from .adf import text_to_adf, text_to_wiki

MAX_LABEL_LENGTH = 255
REFERENCE_PREFIX = "portal-ref-"

STRING_TYPES = ("textfield", "url")
OPTION_TYPES = ("select", "radiobuttons")
MULTI_OPTION_TYPES = ("multiselect", "multicheckboxes")


def field_type(schema):
    """The short custom type of a field schema ('select', 'textarea', ...), or ''."""
    custom = (schema or {}).get("custom") or ""
    return custom.rsplit(":", 1)[-1]


def shape_field_value(schema, value, deployment="cloud"):
    """Return ``value`` in the JSON shape Jira expects for a field with this ``schema``.

    ``value`` is a string, or a list of strings for multi-valued fields. Unknown types get a
    plain string, which is what most simple custom fields accept.
    """
    kind = field_type(schema)
    values = value if isinstance(value, (list, tuple)) else [value]
    values = [str(v) for v in values if v is not None and str(v) != ""]
    first = values[0] if values else ""
    if kind in OPTION_TYPES:
        return {"value": first}
    if kind in MULTI_OPTION_TYPES:
        return [{"value": v} for v in values]
    if kind == "labels":
        return [make_label(v)[0] for v in values]
    if kind == "float" and re.fullmatch(r"-?\d+(\.\d+)?", first):  # a number field takes a JSON number
        return float(first) if "." in first else int(first)
    if kind == "textarea":
        text = "\n".join(values)
        return text_to_adf(text) if deployment == "cloud" else text_to_wiki(text)
    return ", ".join(values)


def make_label(label):
    """Return ``(valid_label, changed)``: whitespace runs become '-', at most 255 chars.

    Jira rejects labels containing spaces; the admin UI shows the change instead of hiding it.
    """
    original = str(label)
    valid = re.sub(r"\s+", "-", original.strip())[:MAX_LABEL_LENGTH]
    return valid, valid != original


def reference_label(reference):
    """The label that marks the Jira issue created for portal request ``reference``.

    A retried delivery searches for this label before creating, so one request never
    becomes two issues.
    """
    return make_label(REFERENCE_PREFIX + str(reference))[0]
