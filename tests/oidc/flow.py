"""Driving the provider's pages without a browser: its log-in form, then back to the portal;
and what the portal made of it."""
import html
import re
from urllib.parse import urljoin, urlsplit

import requests
from sqlalchemy import select

from tests.oidc.fixtures import TEST_CLIENT_CALLBACK
from webapp.extensions import db
from webapp.models import AuditLog, User

FORM_ACTION = re.compile(r'<form[^>]*action="([^"]+)"')


def at_provider(authorize_url, login, password="any password"):
    """Sign `login` in at the provider; the URL it sends the browser back to the portal with."""
    browser = requests.Session()
    response = browser.get(authorize_url, allow_redirects=False, timeout=10)
    for _ in range(10):
        location = response.headers.get("Location")
        if location is None:  # the log-in page
            action = urljoin(response.url, html.unescape(FORM_ACTION.search(response.text).group(1)))
            response = browser.post(action, data={"prompt": "login", "login": login, "password": password},
                                    allow_redirects=False, timeout=10)
            continue
        location = urljoin(response.url, location)
        if location.startswith(TEST_CLIENT_CALLBACK):
            return location
        response = browser.get(location, allow_redirects=False, timeout=10)
    raise AssertionError(f"the provider never sent the browser back: {response.status_code} {response.text[:300]}")


def local(url):
    """The path and query of a portal URL, for the test client."""
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def sign_in(client, login, next_path=None):
    """Start at the portal, sign in at the provider, come back: the portal's last answer."""
    started = client.get("/auth/oidc/login", query_string={"next": next_path} if next_path else None)
    assert started.status_code == 302, started.get_data(as_text=True)
    return client.get(local(at_provider(started.headers["Location"], login)))


def users():
    return db.session.scalars(select(User).order_by(User.id)).all()


def audited(action):
    return [entry.details for entry in db.session.scalars(
        select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id))]


def logged_in(client):
    return client.get("/requests/").status_code == 200


def refused_without_log_in(client, response, reason):
    """The sign-in was refused as unverifiable: a clear page, nobody logged in or created."""
    assert response.status_code == 403
    assert "could not be verified" in response.get_data(as_text=True)
    assert not logged_in(client) and users() == []
    assert audited("auth.sso.refused") == [{"reason": reason}]
