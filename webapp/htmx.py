"""The little htmx glue the routes need."""
from flask import request


def is_fragment_request():
    """True for an htmx swap; boosted navigation and history restores get whole pages."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-Boosted") != "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def init_app(app):
    @app.after_request
    def vary_on_htmx(response):
        # The same URL answers with a page or a fragment: caches must keep them apart.
        response.vary.add("HX-Request")
        return response
