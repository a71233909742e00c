"""Refuse, before any view runs, the one character no database column can hold, and a JSON
body that no form could be read from.

PostgreSQL text cannot contain NUL (code 0), so a NUL anywhere in a query string or form
would otherwise fail deep in a query or an insert. No person types it; a clear 400 serves
the rare client that sends it. The webhook reads its raw body itself and is left alone.
"""
from itertools import chain

from flask import request
from werkzeug.exceptions import BadRequest

UNCHECKED_BLUEPRINTS = ("hooks",)


class UnstorableInput(BadRequest):
    """A value held a NUL character."""


def init_app(app):
    @app.before_request
    def refuse_nul_characters():
        if request.blueprint in UNCHECKED_BLUEPRINTS:
            return
        values = chain(*request.args.listvalues(), *request.form.listvalues())
        if any("\x00" in value for value in values):
            raise UnstorableInput()

    @app.before_request
    def refuse_json_that_is_no_form():
        # Flask-WTF reads a JSON body as the form's fields; one that is no object (`0`,
        # `[1]`) would fail inside it. No form of ours sends JSON: a clear 400.
        if request.blueprint in UNCHECKED_BLUEPRINTS or not request.is_json:
            return
        body = request.get_json(silent=True)
        if body is not None and not isinstance(body, dict):
            raise BadRequest()
