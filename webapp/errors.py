"""Friendly error pages in the user's language; an htmx swap gets a short fragment."""
from flask import render_template
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError

from .extensions import db
from .htmx import is_fragment_request
from .inputs import UnstorableInput


def render_error(status, title, message):
    """The error page (or fragment) with this status, title and explanation."""
    template = "errors/_error.html" if is_fragment_request() else "errors/error.html"
    return render_template(template, status=status, title=title, message=message), status


# What each failure tells the person: (the status shown, the title, what happened).
PAGES = {
    400: (400, _l("Please try again"), _l("What was sent can't be used. Reload the page and send it again.")),
    403: (403, _l("Not allowed"), _l("This page is for administrators only.")),
    404: (404, _l("Not found"), _l("There is nothing at this address.")),
    405: (405, _l("Not allowed"), _l("This address does not accept that kind of request.")),
    413: (413, _l("Too large"), _l("What you sent is larger than the portal accepts.")),
    CSRFError: (400, _l("Please try again"),
                _l("The form had expired or came from another site. Reload the page and send it again.")),
    UnstorableInput: (400, _l("Please try again"),
                      _l("What you sent contains a NUL character, which the portal cannot store. Remove it and send it again.")),
    500: (500, _l("Something went wrong"),
          _l("The portal could not finish this. The error was logged; please try again in a moment.")),
}


def init_app(app):
    for failure, page in PAGES.items():
        app.register_error_handler(failure, lambda error, page=page: _page(*page))


def _page(status, title, message):
    if status == 500:
        db.session.rollback()  # whatever failed must not be committed by a later request
    return render_error(status, title, message)
