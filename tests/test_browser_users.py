"""An admin creates a local account in a real browser; its owner follows the one-time link,
sets a password and is logged in (issue 16, item 4)."""
from tests.browser import Page


def test_create_an_account_and_set_its_password_through_the_link(browser, live_server, make_user):
    app, url = live_server
    with app.app_context():
        make_user(email="admin@example.com", admin=True, name="Ada Admin")
    admin = Page(browser, url)
    admin.log_in("admin@example.com")
    admin.goto("/admin")
    admin.page.click("nav.subnav >> text=Users")
    admin.page.wait_for_url("**/admin/users")
    admin.page.fill("#email", "Newcomer@Example.com")
    admin.page.fill("#display_name", "Nur Newcomer")
    admin.page.click("text=Create and make a link to set the password")
    admin.page.wait_for_selector("#password-link")
    link = admin.page.locator("#password-link input").input_value()
    assert "/auth/set-password/" in link
    assert "newcomer@example.com" in admin.page.locator("table.data").inner_text()
    admin.shot("admin-users")

    newcomer = Page(browser, url)
    newcomer.page.goto(link)
    assert "newcomer@example.com" in newcomer.page.inner_text("main")
    newcomer.page.fill("#new_password", "short")
    newcomer.page.fill("#confirm", "short")
    newcomer.page.click("button[type=submit]")
    newcomer.page.wait_for_selector(".error")
    assert "at least 10 characters" in newcomer.page.inner_text("main")
    newcomer.shot("set-password")
    newcomer.page.fill("#new_password", "a long and rare passphrase")
    newcomer.page.fill("#confirm", "a long and rare passphrase")
    newcomer.page.click("button[type=submit]")
    newcomer.page.wait_for_url("**/requests/")
    assert "Nur Newcomer" in newcomer.page.inner_text("header")
    assert admin.errors == [] and newcomer.errors == []
    newcomer.page.goto(link)  # a second use: the link is spent
    assert "cannot be used" in newcomer.page.inner_text("main")
    admin.close()
    newcomer.close()
