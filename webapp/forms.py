"""What the forms of every area share."""
from flask_babel import lazy_gettext as _l

# The seed's `entity.validation.required`, in the user's language.
REQUIRED = _l("This field is required.")


def strip(value):
    """A field filter: the text without surrounding spaces."""
    return value.strip() if isinstance(value, str) else value
