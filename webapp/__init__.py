"""The support-requests portal: create_app() builds the Flask application."""
import logging
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet
from flask import Flask, request, session
from flask_login import current_user
from werkzeug.routing import IntegerConverter

from . import access_log
from .config import Config
from .extensions import babel, csrf, db, login_manager, migrate
from .models import MAX_ID
from .storage import make_private_dir

ROOT = Path(__file__).resolve().parent.parent


def create_app(config_class=Config, overrides=None):
    app = Flask(
        __name__,
        instance_path=os.environ.get("INSTANCE_PATH", str(ROOT / "instance")),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.url_map.converters["int"] = IdConverter
    app.config.from_object(config_class)
    app.config.update(overrides or {})
    make_private_dir(app.instance_path)
    _fill_local_defaults(app)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("werkzeug").addFilter(access_log.HIDE_TOKENS)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)

    from . import compression, embedding, integration, metrics, queue
    compression.init_app(app)
    embedding.init_app(app)
    queue.init_app(app)
    integration.init_app(app)
    metrics.init_app(app)

    from . import auth, admin, cli, errors, hooks, inputs, mail, main, periodic, polls, support, htmx, templating
    from .auth import handover
    handover.init_app(app)
    app.register_blueprint(main.bp)
    app.register_blueprint(auth.bp, url_prefix="/auth")
    auth.sso.init_app(app)
    app.register_blueprint(support.bp, url_prefix="/requests")
    app.register_blueprint(admin.bp, url_prefix="/admin")
    app.register_blueprint(hooks.bp, url_prefix="/hooks")
    csrf.exempt(hooks.bp)  # Jira cannot send a CSRF token; its HMAC signature is checked instead
    app.register_blueprint(mail.bp, url_prefix="/mail")
    csrf.exempt(mail.bp)  # one-click unsubscribe (RFC 8058): the signed token is the proof
    errors.init_app(app)
    inputs.init_app(app)
    htmx.init_app(app)
    polls.init_app(app)
    templating.init_app(app)
    cli.init_app(app)
    periodic.start_embedded(app)
    return app


class IdConverter(IntegerConverter):
    """`<int:...>` in routes: an id as the database holds it. A larger number is no id (404),
    where the database would fail on it."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def _fill_local_defaults(app):
    """On a developer machine nothing needs setting: keep generated keys and the
    SQLite database in the instance folder. Production sets them in the environment."""
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(app, "secret_key", lambda: secrets.token_hex(32))
    if not app.config.get("ENCRYPTION_KEYS"):
        key = _instance_secret(app, "encryption_key", lambda: Fernet.generate_key().decode())
        app.config["ENCRYPTION_KEYS"] = [key]
    uri = app.config.get("SQLALCHEMY_DATABASE_URI")
    if not uri:
        path = os.path.join(app.instance_path, "portal.db")
        if not os.path.exists(path):  # SQLite would create it readable by everyone
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        uri = "sqlite:///" + path
    elif uri.startswith(("postgres://", "postgresql://")):
        uri = "postgresql+psycopg://" + uri.split("://", 1)[1]  # the driver we ship
    app.config["SQLALCHEMY_DATABASE_URI"] = uri
    if uri.startswith("sqlite"):
        # Workers and web threads share the file: wait for a lock rather than fail at once.
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options["connect_args"] = {"timeout": 30, **options.get("connect_args", {})}
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def _instance_secret(app, name, make):
    path = Path(app.instance_path) / name
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(make())
    return path.read_text().strip()


def select_locale():
    languages = ["en", "tr"]
    if current_user and current_user.is_authenticated and current_user.language in languages:
        return current_user.language
    if session.get("language") in languages:
        return session["language"]
    return request.accept_languages.best_match(languages) or "en"


def select_timezone():
    if current_user and current_user.is_authenticated and current_user.timezone:
        return current_user.timezone
    return None
