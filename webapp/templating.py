"""Template helpers shared by every page, and versioned URLs for the static files."""
import hashlib
import os

from flask import current_app, request
from flask_babel import format_decimal, get_locale

from .catalog import apinizer
from .catalog.sources import pending_changes
from .models import DeliveryState
from .embedding import full_page_url, is_embedded
from .auth.forgot import offered as forgot_offered
from .jira import WEBHOOK_EVENTS
from .mail import enabled as mail_enabled
from .hooks.routes import webhook_url
from .messages import translated
from .statuses import is_waiting_for_customer, waiting_count
from .sync.apply import shown_change, shown_status
from .transitions import action_title


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


YEAR = 365 * 24 * 3600


def static_version(app, filename, known):
    """A short hash of the file's content, recomputed when the file changes."""
    path = os.path.join(app.static_folder, filename)
    try:
        stamp = os.stat(path).st_mtime_ns
    except OSError:
        return None
    if known.get(filename, (None,))[0] != stamp:
        with open(path, "rb") as file:
            known[filename] = (stamp, hashlib.sha256(file.read()).hexdigest()[:12])
    return known[filename][1]


def init_app(app):
    known_versions = {}

    @app.url_defaults
    def version_static_urls(endpoint, values):
        # A changed file gets a new URL, so browsers may keep each version without asking again.
        if endpoint == "static" and "filename" in values and "v" not in values:
            version = static_version(app, values["filename"], known_versions)
            if version:
                values["v"] = version

    @app.after_request
    def cache_versioned_static_files(response):
        # Unversioned URLs (the host pages' /static/embed.js) keep Flask's revalidation.
        if request.endpoint == "static" and request.args.get("v") and response.status_code in (200, 304):
            response.cache_control.no_cache = None
            response.cache_control.public = True
            response.cache_control.max_age = YEAR
            response.cache_control.immutable = True
        return response

    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.filters["filesizeformat"] = filesize  # Jinja's own knows no locale
    app.jinja_env.filters["number"] = format_decimal
    app.jinja_env.filters["message"] = translated  # a stored message (webapp/messages.py)
    app.jinja_env.globals["catalog_changes"] = pending_changes  # a product card's preview
    app.jinja_env.globals["apinizer_changes"] = apinizer.pending
    app.jinja_env.globals["DeliveryState"] = DeliveryState
    app.jinja_env.globals["delivery_state_name"] = DeliveryState.name_of
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["shown_status"] = shown_status
    app.jinja_env.globals["shown_change"] = shown_change
    app.jinja_env.globals["action_title"] = action_title
    app.jinja_env.globals["is_waiting_for_customer"] = is_waiting_for_customer
    app.jinja_env.globals["waiting_count"] = waiting_count
    app.jinja_env.globals["webhook_url"] = webhook_url
    app.jinja_env.globals["webhook_events"] = WEBHOOK_EVENTS
    app.jinja_env.globals["full_page_url"] = full_page_url
    app.jinja_env.globals["forgot_offered"] = forgot_offered
    app.jinja_env.globals["mail_enabled"] = mail_enabled

    @app.context_processor
    def embed_context():
        return {"embedded": is_embedded(), "embed_origins": current_app.config["EMBED_ORIGINS"]}
