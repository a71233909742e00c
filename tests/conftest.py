"""Shared fixtures. The database and job runner come from the environment:

TEST_DATABASE_URL  PostgreSQL URL; each run gets a fresh schema (default: a SQLite file)
TEST_REDIS_URL     Redis for the RQ tests (default redis://127.0.0.1:6379/15)
TEST_JOBS          rq | in-process: the job runner of the app fixture (default in-process)
TEST_BACKEND_ONLY=1  CI's second run (SQLite, in-process jobs) sets it to leave out what its
                   first run covers once: the tests that use no portal database, the browser
                   tests, and the tests that start RQ worker processes (kills, the soak)
CI=true            a test skipped for a missing service fails the run
"""
import os
import secrets
import tempfile
import time
import uuid

import pytest

_TMP = tempfile.mkdtemp(prefix="portal-tests-")
os.environ["INSTANCE_PATH"] = os.path.join(_TMP, "instance")  # never the developer's instance/

from flask import Flask, has_app_context  # noqa: E402
from flask_babel import force_locale  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from jinja2 import BytecodeCache  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from webapp import create_app  # noqa: E402
from webapp.cli import create_user  # noqa: E402
from webapp.config import TestConfig  # noqa: E402
from webapp.extensions import db  # noqa: E402
from webapp.messages import translated  # noqa: E402
from tests.support import IN_CI, PASSWORD, need_service  # noqa: E402

# jira_sim, jira_client: the Jira simulator; browser, live_server: Chromium and a real server;
# no_server_errors, tried: the security suite (tests/hostile.py); oidc_provider, start_oidc_provider:
# a real OpenID provider (tests/oidc/fixtures.py)
pytest_plugins = ["tests.jirasim.fixtures", "tests.browser", "tests.hostile", "tests.oidc.fixtures", "tests.mail.server"]



class _CompiledOnce(BytecodeCache):
    """Jinja's compiled templates shared by every app the suite builds (one per test, each
    with an empty template cache): a quarter of the suite's time was compiling templates.
    Jinja still checks each template's source against what was compiled."""

    def __init__(self):
        self.compiled = {}

    def load_bytecode(self, bucket):
        if bucket.key in self.compiled:
            checksum, code = self.compiled[bucket.key]
            if checksum == bucket.checksum:
                bucket.code = code

    def dump_bytecode(self, bucket):
        self.compiled[bucket.key] = (bucket.checksum, bucket.code)


Flask.jinja_options = {**Flask.jinja_options, "bytecode_cache": _CompiledOnce()}


def _postgres_schema_url(url):
    """A URL for a fresh schema of its own, so that runs never collide."""
    schema = f"test_{os.getpid()}_{secrets.token_hex(3)}"
    engine = create_engine(make_url(url).set(drivername="postgresql+psycopg"))
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    full = make_url(url).set(drivername="postgresql+psycopg")
    full = full.update_query_dict({"options": f"-csearch_path={schema},public"})
    return full.render_as_string(hide_password=False), schema


def _drop_schema(url, schema):
    engine = create_engine(make_url(url).set(drivername="postgresql+psycopg"))
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


def _empty_database():
    """(url, cleanup) for an empty database of the kind under test."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return "sqlite:///" + os.path.join(_TMP, f"{uuid.uuid4().hex}.db"), lambda: None
    schema_url, schema = _postgres_schema_url(url)
    return schema_url, lambda: _drop_schema(url, schema)


@pytest.fixture(scope="session")
def database_url():
    url, cleanup = _empty_database()
    yield url
    cleanup()


@pytest.fixture
def empty_database_url():
    """A database of its own with no tables, for migration tests."""
    url, cleanup = _empty_database()
    yield url
    cleanup()


@pytest.fixture(scope="session")
def redis_url():
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    from redis import Redis
    try:
        Redis.from_url(url, socket_connect_timeout=1).ping()
    except Exception as exc:
        need_service(f"Redis is not reachable at {url} ({type(exc).__name__})")
    return url


@pytest.fixture(scope="session")
def _schema(database_url):
    app = create_app(TestConfig, {"SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        db.create_all()
        db.engine.dispose()


def _jobs_overrides(request):
    if os.environ.get("TEST_JOBS", "in-process") != "rq":
        return {}
    url = request.getfixturevalue("redis_url")
    return {"REDIS_URL": url, "RQ_QUEUE": f"test-{uuid.uuid4().hex[:8]}"}


class FreshContextClient(FlaskClient):
    """Each request gets its own app context, hence its own database session, as in a real
    server; afterwards the test's session is expired so it reads what the request wrote."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        if has_app_context():
            db.session.expire_all()
        return response


@pytest.fixture
def app_factory(request, database_url, _schema):
    """Build apps on the test database; rows are wiped after each test."""
    made = []

    def make(**overrides):
        config = {"SQLALCHEMY_DATABASE_URI": database_url, **_jobs_overrides(request), **overrides}
        app = create_app(TestConfig, config)
        app.test_client_class = FreshContextClient
        made.append(app)
        return app

    yield make
    for app in made:
        if "scheduler" in app.extensions:
            app.extensions["scheduler"].set()
        # A delayed retry left by this test must not run later against the next test's rows
        # (SQLite reuses ids after the wipe) with this test's settings.
        queue = app.extensions["queue"]
        if queue.mode == "in-process":
            queue.discard_pending()
            queue.join(timeout=5)
            queue.discard_pending()  # what a job still running then enqueued (a retry of its own)
    if made:
        on_test_db = [a for a in made if a.config["SQLALCHEMY_DATABASE_URI"] == database_url]
        with (on_test_db or [make()])[0].app_context():
            _wipe()
        for app in made:
            with app.app_context():
                db.engine.dispose()


def _wipe():
    db.session.remove()
    tables = list(reversed(db.metadata.sorted_tables))
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())


@pytest.fixture
def app(app_factory):
    app = app_factory()
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def shown(app):
    """A stored message (webapp/messages.py) as a reader of `language` sees it."""
    def shown(stored, language="en"):
        with app.app_context(), force_locale(language):
            return translated(stored)
    return shown


@pytest.fixture
def make_user(app):
    counter = iter(range(1, 10_000))

    def make(email=None, admin=False, name=None, password=PASSWORD, language=None):
        user = create_user(email or f"user{next(counter)}@example.com", password, name, admin)
        if language:
            user.language = language
            db.session.commit()
        return user

    return make


class Auth:
    def __init__(self, client):
        self.client = client

    def login(self, email, password=PASSWORD, data_extra=None, **kwargs):
        data = {"email": email, "password": password, **(data_extra or {})}
        return self.client.post("/auth/login", data=data, **kwargs)

    def logout(self):
        return self.client.post("/auth/logout")


@pytest.fixture
def auth(client):
    return Auth(client)


@pytest.fixture
def admin_client(app, make_user):
    """A second browser, logged in as an admin of its own."""
    user = make_user(email="root@example.com", admin=True, name="Root Admin")
    client = app.test_client()
    Auth(client).login(user.email)
    return client


@pytest.fixture
def admin(make_user, auth):
    """A logged-in admin; requests go through the `client` fixture."""
    user = make_user(email="admin@example.com", admin=True, name="Ada Admin")
    auth.login(user.email)
    return user


@pytest.fixture
def drain(app):
    """Run queued jobs, delayed ones included, until none is left (either job runner)."""
    def run(timeout=30):
        queue = app.extensions["queue"]
        if queue.mode == "in-process":
            assert queue.join(timeout=timeout, delayed=True), "jobs still running"
            return
        from rq import SimpleWorker
        deadline = time.monotonic() + timeout
        while queue.queue.count or queue.queue.scheduled_job_registry.count:
            assert time.monotonic() < deadline, "jobs still queued"
            SimpleWorker([queue.queue], connection=queue.redis).work(burst=True, with_scheduler=True)
            time.sleep(0.05)
    return run


@pytest.fixture
def configure_jira(app, jira_sim):
    """configure(**changes): point the integration at the simulator, active, with the demo
    custom fields (tests/jirasim/portal.py)."""
    from tests.jirasim.portal import configure_portal
    return lambda **changes: configure_portal(jira_sim, **changes)


@pytest.fixture
def jira_on(configure_jira, jira_sim):
    """The integration active against the simulator; returns the simulator."""
    configure_jira()
    return jira_sim


BACKEND_FIXTURES = {"database_url", "app_factory"}
WORKER_PROCESS_TESTS = ("tests/test_kill.py", "tests/test_soak.py", "tests/mail/test_mail_kill.py")


def _covered_by_the_first_run(item):
    fixtures = set(item.fixturenames)
    return (not BACKEND_FIXTURES & fixtures or "browser" in fixtures
            or item.nodeid.startswith(WORKER_PROCESS_TESTS))


def pytest_collection_modifyitems(config, items):
    if not os.environ.get("TEST_BACKEND_ONLY"):
        return
    once = [item for item in items if _covered_by_the_first_run(item)]
    if once:
        config.hook.pytest_deselected(items=once)
        items[:] = [item for item in items if not _covered_by_the_first_run(item)]


def pytest_sessionfinish(session, exitstatus):
    """In CI a skip hides a missing service or tool: fail the run instead."""
    if not IN_CI:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped and session.exitstatus == 0:
        reporter.write_line(f"CI: {len(skipped)} test(s) skipped; every test must run in CI.", red=True)
        session.exitstatus = 1
