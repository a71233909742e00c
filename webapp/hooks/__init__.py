"""Incoming webhooks: Jira's admin webhooks at /hooks/jira (no login; HMAC-signed, no CSRF)."""
from flask import Blueprint

bp = Blueprint("hooks", __name__)

from . import routes  # noqa: E402,F401
