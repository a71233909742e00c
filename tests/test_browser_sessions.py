"""Sessions that end, in a real browser (issue 13): after log-out, a copied session cookie, a
copied remember-me cookie and the Back button all lead to the log-in page."""
import re

from tests.browser import Page
from tests.support import PASSWORD
from webapp.extensions import db
from webapp.models import SupportRequest


def test_after_log_out_copies_and_back_lead_to_the_log_in_page(browser, live_server, make_user):
    app, url = live_server
    with app.app_context():
        user = make_user(email="deniz@example.com", name="Deniz")
        db.session.add(SupportRequest(reporter_id=user.id, label="Bug", summary="Private summary",
                                      description="Only Deniz may read this."))
        db.session.commit()
    person = Page(browser, url)
    p = person.page
    person.goto("/auth/login")
    p.fill("input[name=email]", "deniz@example.com")
    p.fill("input[name=password]", PASSWORD)
    p.check("input[name=remember]")
    p.click("button[type=submit]")
    p.wait_for_url("**/requests/")
    p.click("#request-results a >> nth=0")  # an htmx-boosted navigation, as people browse
    p.wait_for_url(re.compile(r".*/requests/\d+.*"))
    assert "Only Deniz may read this." in p.locator("main").inner_text()
    cookies = {c["name"]: c for c in person.context.cookies()}
    assert {"session", "remember_token"} <= set(cookies)

    p.click("button:has-text('Log out')")
    p.wait_for_url("**/auth/login")
    p.go_back()  # the page seen before logging out is not shown again
    p.wait_for_url(re.compile(r".*/auth/login.*"))
    assert "Only Deniz may read this." not in p.content()
    person.shot("sessions-back-after-log-out")
    assert p.evaluate("localStorage.length") == 0  # no page snapshot kept by htmx

    for copied in (["session"], ["remember_token"], ["session", "remember_token"]):
        thief = Page(browser, url)
        thief.context.add_cookies([cookies[name] for name in copied])
        thief.goto("/requests/")
        assert "/auth/login" in thief.page.url, copied
        assert "Private summary" not in thief.page.content()
        thief.close()
    assert person.errors == []
    person.close()
