"""Deployment settings, all from the environment (documented in README.md)."""
import os
from datetime import timedelta


def _bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def _list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


class Config:
    # Both may be left unset on a developer machine: create_app() then keeps a
    # generated value in the instance folder. Production sets them.
    SECRET_KEY = os.environ.get("SECRET_KEY")
    ENCRYPTION_KEYS = _list("ENCRYPTION_KEYS")  # Fernet keys, newest first

    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL")  # default: SQLite in instance/
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    REDIS_URL = os.environ.get("REDIS_URL")  # unset: jobs run in-process
    RQ_QUEUE = os.environ.get("RQ_QUEUE", "portal")

    HEARTBEAT_SECONDS = int(os.environ.get("HEARTBEAT_SECONDS", "60"))
    RUN_SCHEDULER = True  # embedded mode: the web process runs periodic jobs

    # http:// Jira URLs only where the operator allows it (an intranet Data Center).
    JIRA_ALLOW_HTTP = _bool("JIRA_ALLOW_HTTP")
    # The only hosts the portal may call as Jira (and follow Jira's redirects to): names,
    # `*.example.com` for subdomains, `host:port`. Empty: any host (docs/security.md).
    JIRA_ALLOWED_HOSTS = _list("JIRA_ALLOWED_HOSTS")
    # Timeouts of the admin's "Save and Test" (connect, read): a dead Jira answers in seconds.
    JIRA_TEST_TIMEOUT = (3, 6)

    # Products that follow an OpenAPI document by URL (webapp/catalog): the hosts the worker
    # may read documents from (empty: any host), and the caps on one reading.
    CATALOG_ALLOWED_HOSTS = _list("CATALOG_ALLOWED_HOSTS")
    CATALOG_MAX_KB = int(os.environ.get("CATALOG_MAX_KB", "5120"))
    CATALOG_FETCH_SECONDS = int(os.environ.get("CATALOG_FETCH_SECONDS", "20"))
    CATALOG_REFRESH_SECONDS = int(os.environ.get("CATALOG_REFRESH_SECONDS", str(24 * 3600)))
    # http:// for Apinizer Manager only where the operator allows it (its token goes along).
    APINIZER_ALLOW_HTTP = _bool("APINIZER_ALLOW_HTTP")

    # Attachments are stored here under random names (default: instance/attachments).
    ATTACHMENTS_DIR = os.environ.get("ATTACHMENTS_DIR")
    ATTACHMENT_MAX_MB = int(os.environ.get("ATTACHMENT_MAX_MB", "10"))  # per file
    ATTACHMENT_MAX_FILES = int(os.environ.get("ATTACHMENT_MAX_FILES", "10"))
    ATTACHMENT_EXTENSIONS = _list("ATTACHMENT_EXTENSIONS", "png,jpg,jpeg,gif,webp,pdf,txt,log,json,xml,csv,har,yaml,yml,zip")
    JIRA_FILE_MAX_MB = int(os.environ.get("JIRA_FILE_MAX_MB", "100"))  # support team's files, fetched on download
    UNCLAIMED_FILE_HOURS = int(os.environ.get("UNCLAIMED_FILE_HOURS", "24"))  # kept files of unsent forms
    # What one user's unsent forms may keep in all; beyond it the oldest kept files go.
    KEPT_FILES_MAX_MB = int(os.environ.get("KEPT_FILES_MAX_MB", str(ATTACHMENT_MAX_MB * ATTACHMENT_MAX_FILES)))
    LIST_PAGE_SIZE = 25
    LIST_POLL_SECONDS = int(os.environ.get("LIST_POLL_SECONDS", "15"))
    # A poll whose fragment did not change gets 304 from change counters (webapp/polls.py);
    # false: every poll renders (the capacity benchmark's comparison).
    CONDITIONAL_POLLS = _bool("CONDITIONAL_POLLS", True)

    # Delivery to Jira (webapp/delivery.py).
    SWEEP_SECONDS = int(os.environ.get("SWEEP_SECONDS", "30"))
    DELIVERY_LEASE_SECONDS = int(os.environ.get("DELIVERY_LEASE_SECONDS", "900"))
    DELIVERY_RETRY_BASE_SECONDS = float(os.environ.get("DELIVERY_RETRY_BASE_SECONDS", "5"))
    DELIVERY_RETRY_MAX_SECONDS = float(os.environ.get("DELIVERY_RETRY_MAX_SECONDS", "600"))
    DELIVERY_GIVE_UP_HOURS = float(os.environ.get("DELIVERY_GIVE_UP_HOURS", "24"))
    # A queued request whose job has not run for this long is enqueued again by the sweep.
    DELIVERY_STALE_SECONDS = int(os.environ.get("DELIVERY_STALE_SECONDS", "120"))
    # A create whose answer was lost may take this long to show up in Jira's search.
    SEARCH_LAG_SECONDS = float(os.environ.get("SEARCH_LAG_SECONDS", "10"))
    # Connect and read timeouts of every call a worker makes.
    JIRA_TIMEOUT = (5, float(os.environ.get("JIRA_READ_TIMEOUT", "30")))
    # A 429 holds back every worker's calls to what Jira limited (that endpoint, that issue's
    # writes) until its Retry-After passed (webapp/jira/pace.py); false: only the job that met
    # it waits. A job sleeps out a hold of up to JIRA_HOLD_SLEEP_SECONDS; a longer one sends
    # the delivery back to the queue until then, and skips the sync run.
    JIRA_RATE_LIMIT_HOLDS = _bool("JIRA_RATE_LIMIT_HOLDS", True)
    JIRA_HOLD_SLEEP_SECONDS = float(os.environ.get("JIRA_HOLD_SLEEP_SECONDS", "3"))

    # Status and comment sync (webapp/sync/).
    SYNC_SECONDS = int(os.environ.get("SYNC_SECONDS", "60"))
    RECONCILE_SECONDS = int(os.environ.get("RECONCILE_SECONDS", "3600"))
    SYNC_OVERLAP_MINUTES = int(os.environ.get("SYNC_OVERLAP_MINUTES", "2"))
    # A sync run holds a lease renewed after every page: a killed worker's frees the sync this soon.
    SYNC_LEASE_SECONDS = int(os.environ.get("SYNC_LEASE_SECONDS", "300"))
    # Pages of 100 issues one job reads, so each stays well within RQ's job timeout (600 s);
    # the next job carries on: the sync's continuation, the reconcile's next part.
    SYNC_PAGES_PER_JOB = int(os.environ.get("SYNC_PAGES_PER_JOB", "10"))
    RECONCILE_BATCHES_PER_JOB = int(os.environ.get("RECONCILE_BATCHES_PER_JOB", "10"))

    # Jira versions that cannot sign webhooks (older Data Center): unsigned ones are taken
    # only from these addresses or networks (e.g. "10.0.4.12, 10.0.5.0/24"); none: never.
    JIRA_WEBHOOK_UNSIGNED_FROM = _list("JIRA_WEBHOOK_UNSIGNED_FROM")

    # Passwords people choose (webapp/auth/passwords.py): at least this long, never a common one.
    # Werkzeug's method for stored passwords (its default, scrypt, unless told otherwise).
    PASSWORD_HASH_METHOD = os.environ.get("PASSWORD_HASH_METHOD", "scrypt")
    PASSWORD_MIN_LENGTH = int(os.environ.get("PASSWORD_MIN_LENGTH", "10"))
    # How long an admin's link to set a password (a new account's, a reset) may be used.
    SET_PASSWORD_LINK_HOURS = int(os.environ.get("SET_PASSWORD_LINK_HOURS", "72"))

    # E-mail (webapp/mail/, docs/email.md). No SMTP_HOST: nothing is sent. The password
    # stays in the environment: never rendered, never logged.
    SMTP_HOST = os.environ.get("SMTP_HOST", "").strip()
    SMTP_SECURITY = os.environ.get("SMTP_SECURITY", "starttls").strip().lower()  # starttls | ssl | none
    SMTP_PORT = int(os.environ.get("SMTP_PORT") or {"ssl": 465, "none": 25}.get(SMTP_SECURITY, 587))
    SMTP_USERNAME = os.environ.get("SMTP_USERNAME")
    SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD")
    SMTP_TIMEOUT = float(os.environ.get("SMTP_TIMEOUT", "20"))
    MAIL_FROM = os.environ.get("MAIL_FROM", "")
    MAIL_REPLY_TO = os.environ.get("MAIL_REPLY_TO")
    # Changes to one request within this many seconds go out as one mail.
    MAIL_GATHER_SECONDS = int(os.environ.get("MAIL_GATHER_SECONDS", "60"))
    MAIL_SEND_SECONDS = int(os.environ.get("MAIL_SEND_SECONDS", "30"))  # the outbox sweep
    MAIL_LEASE_SECONDS = int(os.environ.get("MAIL_LEASE_SECONDS", "120"))
    MAIL_GIVE_UP_HOURS = float(os.environ.get("MAIL_GIVE_UP_HOURS", "24"))
    # Admins hear when Jira calls have been failing for longer than this.
    MAIL_JIRA_FAILING_MINUTES = int(os.environ.get("MAIL_JIRA_FAILING_MINUTES", "30"))

    # When set, GET /metrics needs "Authorization: Bearer <METRICS_TOKEN>".
    METRICS_TOKEN = os.environ.get("METRICS_TOKEN")
    METRICS_PUBLIC = _bool("METRICS_PUBLIC")  # without a token: anyone, not only this machine

    # The portal's own address, for links in Jira issues (default: from the request).
    PORTAL_BASE_URL = os.environ.get("PORTAL_BASE_URL", "").rstrip("/")

    # Framing and security headers (webapp/embedding.py, docs/embedding.md).
    EMBED_ORIGINS = _list("EMBED_ORIGINS")  # origins whose pages may frame the portal; none: no framing
    EMBED_CROSS_SITE = _bool("EMBED_CROSS_SITE")  # cookies SameSite=None; Secure; Partitioned
    HSTS_SECONDS = int(os.environ.get("HSTS_SECONDS", "31536000"))  # over https; 0: no HSTS header
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))  # X-Forwarded-* of this many proxies

    # Hand-over log-in from the framing site (webapp/auth/handover.py, docs/embedding.md):
    # on when a key is set. The secret signs HS256; the public key (PEM) or the JWKS RS256/ES256.
    HANDOVER_SECRET = os.environ.get("HANDOVER_SECRET")
    HANDOVER_PUBLIC_KEY = os.environ.get("HANDOVER_PUBLIC_KEY")
    HANDOVER_JWKS_URL = os.environ.get("HANDOVER_JWKS_URL")
    HANDOVER_ISSUER = os.environ.get("HANDOVER_ISSUER")
    HANDOVER_AUDIENCE = os.environ.get("HANDOVER_AUDIENCE")  # default: PORTAL_BASE_URL
    HANDOVER_ADMIN_GROUPS = _list("HANDOVER_ADMIN_GROUPS")  # set: the token's groups decide the role

    LANGUAGES = ["en", "tr"]
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = os.environ.get("PORTAL_TIMEZONE", "Europe/Istanbul")

    # Password log-in; false: single sign-on only (the form is hidden, its POSTs refused).
    LOCAL_LOGIN = _bool("LOCAL_LOGIN", True)
    # OpenID Connect sign-in (webapp/auth/oidc.py, docs/sso.md); unset issuer: none.
    OIDC_ISSUER = os.environ.get("OIDC_ISSUER", "").rstrip("/")
    OIDC_CLIENT_ID = os.environ.get("OIDC_CLIENT_ID")
    OIDC_CLIENT_SECRET = os.environ.get("OIDC_CLIENT_SECRET")  # from the environment only
    OIDC_PROVIDER_NAME = os.environ.get("OIDC_PROVIDER_NAME", "single sign-on")
    OIDC_SCOPES = os.environ.get("OIDC_SCOPES", "openid email profile")
    OIDC_EMAIL_CLAIM = os.environ.get("OIDC_EMAIL_CLAIM", "email")
    # Whose truth says the e-mail is the person's: only then is an account linked or made.
    OIDC_EMAIL_VERIFIED_CLAIM = os.environ.get("OIDC_EMAIL_VERIFIED_CLAIM", "email_verified")
    OIDC_NAME_CLAIM = os.environ.get("OIDC_NAME_CLAIM", "name")
    OIDC_LANGUAGE_CLAIM = os.environ.get("OIDC_LANGUAGE_CLAIM", "locale")
    OIDC_GROUPS_CLAIM = os.environ.get("OIDC_GROUPS_CLAIM", "groups")
    # Members of any of these groups are admins, others not; empty: SSO never changes roles.
    OIDC_ADMIN_GROUPS = _list("OIDC_ADMIN_GROUPS")
    OIDC_TIMEOUT = (5, 10)  # connect, read: every call to the provider

    LOGIN_MAX_FAILURES = int(os.environ.get("LOGIN_MAX_FAILURES", "5"))
    LOGIN_LOCK_MINUTES = int(os.environ.get("LOGIN_LOCK_MINUTES", "15"))

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE")
    REMEMBER_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE")
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_DURATION = timedelta(days=int(os.environ.get("REMEMBER_DAYS", "30")))
    WTF_CSRF_TIME_LIMIT = None  # tied to the session instead; long forms must not expire

    # The largest request body: by default room for the most files at the largest size.
    MAX_CONTENT_LENGTH = int(os.environ.get(
        "MAX_UPLOAD_MB", str(ATTACHMENT_MAX_MB * ATTACHMENT_MAX_FILES + 1))) * 1024 * 1024


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret-key"
    ENCRYPTION_KEYS = ["mO5tHI2c0H7GcmjUkgn1bu_zZO12eWgQKq6uQo6JeQo="]
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    REDIS_URL = None
    RUN_SCHEDULER = False
    WTF_CSRF_ENABLED = False
    LOGIN_MAX_FAILURES = 3
    # The suite stores hundreds of passwords: a cheap hash there, the strong default elsewhere.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
