"""A user and an admin in a real browser: log-in, navigation, languages, phone widths."""
from tests.browser import Page


def test_a_user_logs_in_sees_their_requests_and_no_admin_area(browser, live_server, make_user):
    app, url = live_server
    with app.app_context():
        make_user(email="user@example.com", name="Deniz Yılmaz")
    page = Page(browser, url)
    response = page.goto("/requests/")
    assert "/auth/login" in page.page.url and response.status == 200
    assert page.page.locator(".flash").inner_text() == "Please log in to continue."
    page.shot("login")

    page.page.fill("input[name=email]", "user@example.com")
    page.page.fill("input[name=password]", "wrong")
    page.page.click("button[type=submit]")
    page.page.wait_for_selector("p.error")
    assert "not correct" in page.page.locator("p.error").inner_text()
    page.shot("login-error")

    page.log_in("user@example.com")
    assert page.page.locator("h1").inner_text() == "Support Requests"
    assert page.page.locator(".empty h2").inner_text() == "No support requests yet"
    assert page.page.locator(".who").inner_text() == "Deniz Yılmaz"
    assert page.page.locator("a[href='/admin/']").count() == 0
    page.shot("user-requests")

    page.page.click("button[name=language][value=tr]")
    page.page.wait_for_selector("html[lang=tr]")
    assert page.page.locator("h1").inner_text() == "Destek Talepleri"
    page.shot("user-requests-tr")
    page.page.click("button[name=language][value=en]")
    page.page.wait_for_selector("html[lang=en]")

    page.page.click("text=Log out")
    page.page.wait_for_url("**/auth/login")
    assert "You have been logged out." in page.page.locator(".flash").inner_text()
    assert page.errors == []

    page.goto("/admin/")  # logged out: to the login page
    assert "/auth/login?next=" in page.page.url
    page.close()


def test_a_user_is_refused_the_admin_area(browser, live_server, make_user):
    app, url = live_server
    with app.app_context():
        make_user(email="user@example.com")
    page = Page(browser, url)
    page.log_in("user@example.com")
    response = page.goto("/admin/")
    assert response.status == 403
    assert page.page.locator("h1").inner_text() == "Not allowed"
    page.shot("user-admin-403")
    assert [e for e in page.errors if "403" not in e] == []
    page.close()


def test_an_admin_sees_the_admin_overview(browser, live_server, make_user):
    app, url = live_server
    with app.app_context():
        make_user(email="admin@example.com", admin=True, name="Portal Admin")
    page = Page(browser, url)
    page.log_in("admin@example.com")
    page.page.click("a[href='/admin/']")
    page.page.wait_for_url("**/admin/")
    assert page.page.locator("h1").inner_text() == "Administration"
    assert page.page.locator(".badge-red").inner_text() == "Passive"
    assert "admin@example.com" in page.page.locator("table").inner_text()
    page.shot("admin-overview")
    assert page.errors == []
    page.close()


def test_pages_fit_a_phone(browser, live_server, make_user):
    app, url = live_server
    with app.app_context():
        make_user(email="admin@example.com", admin=True)
    page = Page(browser, url, viewport={"width": 390, "height": 844}, is_mobile=True)
    page.goto("/auth/login")
    page.shot("phone-login")
    page.log_in("admin@example.com")
    page.goto("/admin/")
    width = page.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "the page scrolls sideways on a phone"
    page.shot("phone-admin")
    assert page.errors == []
    page.close()
