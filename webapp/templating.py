"""Template helpers shared by every page."""
from flask_babel import format_decimal, get_locale
from flask_babel import lazy_gettext as _l

from .sync.apply import shown_status

DELIVERY_STATE_NAMES = {
    "local": _l("Portal only"),
    "queued": _l("Queued"),
    "sending": _l("Sending"),
    "sent": _l("Sent to Jira"),
    "failed": _l("Not forwarded"),
}


def delivery_state_name(state):
    return DELIVERY_STATE_NAMES.get(state, state)


def filesize(size):
    """A file size as static/portal.js writes it, 1024-based, the number in the user's
    language: 10.4 kB in English, 10,4 kB in Turkish."""
    size = int(size or 0)
    if size < 1024:
        return f"{format_decimal(size)} B"
    for unit in ("kB", "MB", "GB"):
        size /= 1024
        if size < 1024 or unit == "GB":
            return f"{format_decimal(size, format='#,##0.0')} {unit}"


def init_app(app):
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.filters["filesizeformat"] = filesize  # Jinja's own knows no locale
    app.jinja_env.filters["number"] = format_decimal
    app.jinja_env.globals["delivery_state_name"] = delivery_state_name
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["shown_status"] = shown_status
