"""E-mail in a real browser: "Forgot your password?" from the log-in page to a mail at the
real SMTP server, whose link lets the user back in; the mail's unsubscribe link without a
log-in; Administration → Outbox."""
import re

import pytest

from tests.browser import IN_PROCESS_JOBS, Page


@pytest.fixture
def live_app_overrides(smtp_server):
    return {**smtp_server.settings, "MAIL_GATHER_SECONDS": 0, **IN_PROCESS_JOBS}


def test_forgot_password_then_back_in_through_the_mailed_link(browser, live_server, make_user, smtp_server):
    app, url = live_server
    app.config["PORTAL_BASE_URL"] = url
    with app.app_context():
        make_user(email="deniz@example.com", name="Deniz Yılmaz")
        make_user(email="admin@example.com", admin=True, name="Ada Admin")
    user = Page(browser, url)
    user.goto("/auth/login")
    user.page.click("text=Forgot your password?")
    user.page.wait_for_url("**/auth/forgot")
    user.page.fill("input[name=email]", "deniz@example.com")
    user.page.click("button[type=submit]")
    user.page.wait_for_selector("p.done")
    user.shot("forgot-password")
    from tests.workers import wait_for
    assert wait_for(lambda: smtp_server.to("deniz@example.com"), timeout=20)
    text = smtp_server.to("deniz@example.com")[0].get_body(("plain",)).get_content()
    link = re.search(r"(http\S+/auth/set-password/\S+)", text).group(1)
    user.page.goto(link)
    user.page.fill("#new_password", "a long and rare passphrase")
    user.page.fill("#confirm", "a long and rare passphrase")
    user.page.click("button[type=submit]")
    user.page.wait_for_url("**/requests/")
    assert "Deniz Yılmaz" in user.page.inner_text("header")
    user.goto("/auth/password")
    user.page.check("input[value=status]")
    user.page.click("text=Save mail preferences")
    user.page.wait_for_selector(".flash")
    user.shot("mail-preferences")

    admin = Page(browser, url)
    admin.log_in("admin@example.com")
    admin.goto("/admin/outbox?state=sent")
    assert "deniz@example.com" in admin.page.inner_text("table.data")
    admin.shot("admin-outbox")

    with app.app_context():
        from webapp.models import User
        from webapp.mail.unsubscribe import unsubscribe_url
        deniz = User.query.filter_by(email="deniz@example.com").one()
        stop = unsubscribe_url(deniz, "updates")
    stranger = Page(browser, url)  # not logged in
    stranger.page.goto(stop)
    stranger.page.click("text=Stop this mail")
    stranger.page.wait_for_selector("p.done")
    stranger.shot("unsubscribed")
    with app.app_context():
        assert User.query.filter_by(email="deniz@example.com").one().mail_preference == "none"
    assert user.errors == [] and admin.errors == [] and stranger.errors == []
