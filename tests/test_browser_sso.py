"""Single sign-on in a real browser: someone who has never been to the portal signs in
through the OpenID provider's own pages (tests/oidc/provider.mjs) and files a request."""
import re

import pytest

from tests.a11y import axe_violations, describe
from tests.browser import Page
from tests.oidc.fixtures import free_port
from webapp.extensions import db
from webapp.models import Label, SupportRequest, User

DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.fixture
def live_server_port():
    return free_port()


@pytest.fixture
def provider(start_oidc_provider, live_server_port):
    """A provider of its own, whose client returns to this test's live portal."""
    provider = start_oidc_provider(f"http://127.0.0.1:{live_server_port}/auth/oidc/callback")
    provider.accounts["deniz"] = {"email": "deniz@example.com", "email_verified": True,
                                  "name": "Deniz Yılmaz", "locale": "en-GB"}
    provider.save()
    return provider


@pytest.fixture
def live_app_overrides(provider):
    return provider.portal_settings(OIDC_PROVIDER_NAME="Acme ID")


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_a_newcomer_signs_in_at_the_provider_and_files_a_request(browser, live_server, provider, device):
    app, url = live_server
    with app.app_context():
        db.session.add(Label(name="Bug", position=1))
        db.session.commit()
    person = Page(browser, url, other_origins=(provider.issuer,), **(DESKTOP if device == "desktop" else PHONE))
    p = person.page
    person.goto("/requests/new")
    p.wait_for_url("**/auth/login?next=*")
    button = p.get_by_role("link", name="Sign in with Acme ID")
    assert button.is_visible() and p.locator("input[name=password]").is_visible()
    person.shot(f"{device}-sso-login-page")
    violations = axe_violations(p)
    assert violations == [], describe(violations)
    assert person.errors == []

    # The provider's development pages load web fonts: refused here, and not the portal's doing.
    p.route("https://fonts.googleapis.com/**", lambda route: route.abort())
    button.click()
    p.wait_for_url(provider.issuer + "/interaction/**")
    p.fill("input[name=login]", "deniz")
    p.fill("input[name=password]", "whatever the provider checks")
    person.shot(f"{device}-sso-provider-login")
    p.click("button[type=submit]")
    p.wait_for_url("**/requests/new")  # back where they were going
    person.errors.clear()
    assert "Deniz Yılmaz" in p.locator("body").inner_text()

    p.select_option("#label", "Bug")
    p.fill("#summary", "Signed in through Acme ID")
    p.fill("#description", "My first request, on my first visit.")
    p.locator("button[type=submit]", has_text="Send").click()
    p.wait_for_url(re.compile(r".*/requests/\d+$"))
    assert "was received" in p.locator("#flashes").inner_text()
    person.shot(f"{device}-sso-first-request")
    with app.app_context():
        user = db.session.query(User).one()
        assert (user.email, user.oidc_subject, user.language) == ("deniz@example.com", "deniz", "en")
        assert db.session.query(SupportRequest).one().reporter_id == user.id
    assert person.errors == []
    person.close()


def test_the_login_page_without_local_login(browser, live_server):
    app, url = live_server
    app.config["LOCAL_LOGIN"] = False  # read at each request
    person = Page(browser, url, **DESKTOP)
    person.goto("/auth/login")
    assert person.page.get_by_role("link", name="Sign in with Acme ID").is_visible()
    assert person.page.locator("input[name=password]").count() == 0
    person.shot("desktop-sso-only-login-page")
    violations = axe_violations(person.page)
    assert violations == [], describe(violations)
    assert person.errors == []
    person.close()
