import os
import re
import stat

from flask import url_for

from webapp import create_app
from webapp.config import Config, TestConfig


def test_embedded_defaults_keep_keys_and_sqlite_in_instance(tmp_path, monkeypatch):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    app = create_app(Config, {"SECRET_KEY": None, "ENCRYPTION_KEYS": [],
                              "SQLALCHEMY_DATABASE_URI": None, "REDIS_URL": None})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/portal.db"
    assert app.extensions["queue"].mode == "in-process"
    secret = tmp_path / "secret_key"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert app.config["SECRET_KEY"] == secret.read_text()
    # A second start reuses them: sessions and encrypted tokens survive restarts.
    again = create_app(Config, {"SECRET_KEY": None, "ENCRYPTION_KEYS": [],
                                "SQLALCHEMY_DATABASE_URI": None, "REDIS_URL": None})
    assert again.config["SECRET_KEY"] == app.config["SECRET_KEY"]
    assert again.config["ENCRYPTION_KEYS"] == app.config["ENCRYPTION_KEYS"]


def test_postgres_urls_use_the_shipped_driver():
    app = create_app(TestConfig, {"SQLALCHEMY_DATABASE_URI": "postgres://u:p@db:5432/portal"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db:5432/portal"


def test_config_reads_the_environment(monkeypatch):
    monkeypatch.setenv("LOGIN_MAX_FAILURES", "9")
    monkeypatch.setenv("MAX_UPLOAD_MB", "3")
    import importlib
    import webapp.config
    config = importlib.reload(webapp.config)
    try:
        assert config.Config.LOGIN_MAX_FAILURES == 9
        assert config.Config.MAX_CONTENT_LENGTH == 3 * 1024 * 1024
    finally:
        monkeypatch.delenv("LOGIN_MAX_FAILURES")
        monkeypatch.delenv("MAX_UPLOAD_MB")
        importlib.reload(webapp.config)


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_checks_the_database(client, app):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["checks"]["database"] == "ok"


def test_readyz_is_503_when_the_database_is_unreachable(app_factory, tmp_path):
    missing = tmp_path / "no-such-dir" / "portal.db"
    app = app_factory(SQLALCHEMY_DATABASE_URI=f"sqlite:///{missing}")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["database"] == "unreachable"


def test_readyz_is_503_when_redis_is_unreachable(app_factory):
    app = app_factory(REDIS_URL="redis://127.0.0.1:1/0")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"] == {"database": "ok", "redis": "unreachable"}


def test_readyz_checks_redis_when_configured(app_factory, redis_url):
    app = app_factory(REDIS_URL=redis_url)
    response = app.test_client().get("/readyz")
    assert response.status_code == 200
    assert response.json["checks"] == {"database": "ok", "redis": "ok"}


def test_pages_vary_on_htmx_requests(client):
    response = client.get("/auth/login")
    assert "HX-Request" in response.headers["Vary"]


def test_unknown_page_is_a_friendly_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert b"There is nothing at this address." in response.data


def test_htmx_swap_of_an_error_gets_a_fragment(client):
    response = client.get("/no/such/page", headers={"HX-Request": "true"})
    assert response.status_code == 404
    assert b"<html" not in response.data
    assert b"There is nothing at this address." in response.data


def test_instance_path_is_not_the_repository_during_tests(app):
    assert not app.instance_path.startswith(os.path.dirname(os.path.dirname(__file__)) + "/instance")


def test_static_urls_carry_a_content_version_that_may_be_cached_for_good(app, client, tmp_path):
    page = client.get("/auth/login").get_data(as_text=True)
    css = re.search(r'href="(/static/portal\.css\?v=[0-9a-f]{12})"', page).group(1)
    versioned = client.get(css)
    assert versioned.status_code == 200
    assert versioned.cache_control.max_age == 365 * 24 * 3600 and versioned.cache_control.immutable
    assert client.get("/static/embed.js").cache_control.no_cache  # host pages link it unversioned

    app.static_folder = str(tmp_path)
    (tmp_path / "site.css").write_text("body { color: black; }")
    with app.test_request_context():
        first = url_for("static", filename="site.css")
        (tmp_path / "site.css").write_text("body { color: navy; }")
        assert url_for("static", filename="site.css") != first  # a changed file, a new URL


def test_the_instance_folder_and_what_it_holds_are_private(tmp_path, monkeypatch):
    """Issue 13, item 9: the SQLite database and attachment files were world-readable."""
    instance = tmp_path / "instance"
    monkeypatch.setenv("INSTANCE_PATH", str(instance))
    app = create_app(Config, {"SECRET_KEY": None, "ENCRYPTION_KEYS": [],
                              "SQLALCHEMY_DATABASE_URI": None, "REDIS_URL": None})
    import io
    from webapp import storage
    from webapp.extensions import db
    with app.app_context():
        db.create_all()
        stored, _, _ = storage.store_stream(io.BytesIO(b"a customer's log"))
        path = storage.path_of(stored)
        db.engine.dispose()
    mode = lambda p: stat.S_IMODE(p.stat().st_mode)
    assert mode(instance) == 0o700
    assert mode(instance / "portal.db") == 0o600
    assert mode(path.parent) == 0o700 and mode(path) == 0o600
