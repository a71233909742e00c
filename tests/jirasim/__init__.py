"""A Jira Cloud simulator for tests and demos: see docs/jira-simulator.md."""
from .server import JiraSimulator
from .spec import validate_prepared, validate_request, validate_response
from .webhooks import sign

PORTAL_EMAIL = "portal@example.com"
PORTAL_TOKEN = "sim-token"
PORTAL_PAT = "sim-pat"

__all__ = ["JiraSimulator", "validate_request", "validate_response", "validate_prepared", "sign",
           "PORTAL_EMAIL", "PORTAL_TOKEN", "PORTAL_PAT"]
