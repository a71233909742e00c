"""Refuse, before any view runs, the one character no database column can hold.

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
