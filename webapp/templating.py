"""Template helpers shared by every page."""
from flask_babel import get_locale
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


def init_app(app):
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.globals["delivery_state_name"] = delivery_state_name
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["shown_status"] = shown_status
