"""Friendly error pages in the user's language; an htmx swap gets a short fragment."""
from flask import render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError

from .extensions import db
from .htmx import is_fragment_request
from .inputs import UnstorableInput


def _render(status, title, message):
    template = "errors/_error.html" if is_fragment_request() else "errors/error.html"
    return render_template(template, status=status, title=title, message=message), status


def init_app(app):
    @app.errorhandler(403)
    def forbidden(error):
        return _render(403, _("Not allowed"), _("This page is for administrators only."))

    @app.errorhandler(404)
    def not_found(error):
        return _render(404, _("Not found"), _("There is nothing at this address."))

    @app.errorhandler(405)
    def method_not_allowed(error):
        return _render(405, _("Not allowed"), _("This address does not accept that kind of request."))

    @app.errorhandler(413)
    def too_large(error):
        return _render(413, _("Too large"), _("What you sent is larger than the portal accepts."))

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return _render(400, _("Please try again"),
                       _("The form had expired or came from another site. Reload the page and send it again."))

    @app.errorhandler(UnstorableInput)
    def unstorable_input(error):
        return _render(400, _("Please try again"),
                       _("What you sent contains a NUL character, which the portal cannot store. Remove it and send it again."))

    @app.errorhandler(500)
    def internal_error(error):
        db.session.rollback()
        return _render(500, _("Something went wrong"),
                       _("The portal could not finish this. The error was logged; please try again in a moment."))
