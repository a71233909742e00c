"""The hand-over in a real browser: an intranet page on another site (https://localhost:L)
whose server signs a token for its user and posts it into a named frame of the portal
(https://127.0.0.1:P), as docs/embedding.md tells the host's developers to."""
import html
import time
import uuid

import jwt
import pytest
from playwright.sync_api import expect
from werkzeug.wrappers import Request, Response

from tests.test_browser_embedding import IntranetPage, IntranetServer, _compact, certificate, live_server_ssl  # noqa: F401
from webapp.extensions import db
from webapp.models import SupportRequest, User

SECRET = "the-intranet-and-the-portal-share-this-secret"
AUDIENCE = "support-portal"

HOST_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Intranet</title><link rel="icon" href="data:,">
<style>body {{ font-family: sans-serif; margin: 0; }} header {{ background: #333; color: #fff; padding: 1rem; }}
main {{ max-width: 900px; margin: 0 auto; }} iframe {{ width: 100%; border: 0; display: block; }}</style></head>
<body><header>Intranet — signed in as {name}</header><main>
<iframe name="support-portal" data-support-portal title="Support requests" src="{portal}/?embed=1"></iframe>
<form id="support-handover" method="post" action="{portal}/auth/handover" target="support-portal" hidden>
  <input type="hidden" name="token" value="{token}">
  <input type="hidden" name="next" value="/requests/?embed=1">
</form></main>
<script src="{portal}/static/embed.js" defer></script>
<script src="/submit-handover.js" defer></script>
</body></html>"""


class HandoverIntranet(IntranetServer):
    """The host's server: knows its user, signs a token for them on each page it renders."""

    user = {"email": "deniz@example.com", "name": "Deniz Yılmaz", "locale": "en"}
    portal_url = None  # known once the portal runs

    @property
    def site(self):
        return self.url("localhost")  # another site than the portal's 127.0.0.1

    def token(self):
        now = int(time.time())
        return jwt.encode({"iss": self.site, "aud": AUDIENCE, "iat": now, "exp": now + 60,
                           "jti": uuid.uuid4().hex, **self.user}, SECRET, algorithm="HS256")

    @Request.application
    def wsgi(self, request):
        if request.path == "/submit-handover.js":
            return Response('document.getElementById("support-handover").submit();',
                            mimetype="text/javascript")
        page = HOST_PAGE.format(portal=html.escape(self.portal_url), token=html.escape(self.token()),
                                name=html.escape(self.user["name"]))
        return Response(page, mimetype="text/html")


@pytest.fixture
def host(certificate):
    host = HandoverIntranet(certificate)
    yield host
    host.close()


@pytest.fixture
def live_app_overrides(host):
    return {"EMBED_ORIGINS": [host.site], "EMBED_CROSS_SITE": True, "WTF_CSRF_ENABLED": True,
            "HANDOVER_SECRET": SECRET, "HANDOVER_ISSUER": host.site, "HANDOVER_AUDIENCE": AUDIENCE}


def test_the_frame_opens_logged_in_from_the_host_pages_token(browser, live_server, host):
    app, portal_url = live_server
    host.portal_url = portal_url
    with app.app_context():
        db.session.add(SupportRequest(reporter_id=_account(app), label="Bug",
                                      summary="Sandbox token expires after a minute", description="d"))
        db.session.commit()
    tab = IntranetPage(browser, host.site, portal_url)
    tab.goto("/")
    frame = tab.frame
    expect(frame.locator("h1")).to_have_text("Support Requests")
    expect(frame.locator("main")).to_contain_text("Sandbox token expires after a minute")
    _compact(frame)
    session = [c for c in tab.context.cookies() if c["name"] == "session"]
    assert len(session) == 1 and session[0]["partitionKey"] == "https://localhost"
    assert tab.frame_url() == portal_url + "/requests/?embed=1"  # the token is in no address
    tab.sized_to_content()
    tab.shot("embed-handover-list")
    assert tab.unexpected_errors == []
    tab.close()


def test_the_first_arrival_creates_the_account_and_a_reload_signs_a_new_token(browser, live_server, host):
    app, portal_url = live_server
    host.portal_url = portal_url
    tab = IntranetPage(browser, host.site, portal_url)
    tab.goto("/")
    expect(tab.frame.locator("main")).to_contain_text("File your first request")
    expect(tab.frame.locator(".embedbar")).to_contain_text("Deniz Yılmaz")
    tab.page.reload()  # a new page, a new token (an old one would be refused as used)
    expect(tab.frame.locator("main")).to_contain_text("File your first request")
    with app.app_context():
        assert [(u.email, u.display_name) for u in db.session.query(User)] == [("deniz@example.com", "Deniz Yılmaz")]
    tab.shot("embed-handover-first-arrival")
    assert tab.unexpected_errors == []
    tab.close()


def _account(app):
    """Deniz's account as an earlier hand-over created it."""
    with app.app_context():
        user = User(email="deniz@example.com", display_name="Deniz Yılmaz", password_hash="!handover")
        db.session.add(user)
        db.session.commit()
        return user.id
