"""Every page a user and an admin can reach, checked by axe-core (WCAG 2.1 A/AA) in English
and Turkish; the support flow by keyboard alone; and the same flow with JavaScript off.
Screenshots: tests/screenshots/a11y-*, keyboard-*, nojs-*."""
import re

import pytest
from playwright.sync_api import Error as PlaywrightError, expect

from tests.a11y import axe_violations, describe
from tests.browser import Page
from tests.sample import seed
from tests.support import PASSWORD

DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
LOCALES = {"en": "en-US", "tr": "tr-TR"}


@pytest.fixture
def live_app_overrides():
    return {"JIRA_ALLOW_HTTP": True, "JIRA_TEST_TIMEOUT": (1, 2)}


class Walk:
    """Visits pages, saving a screenshot of each and collecting axe-core's violations."""

    def __init__(self, browser, url, language, device="desktop"):
        self.language, self.device = language, device
        options = DESKTOP if device == "desktop" else PHONE
        self.tab = Page(browser, url, locale=LOCALES[language], **options)
        self.page = self.tab.page
        self.found = {}

    def check(self, name):
        expect(self.page.locator("html")).to_have_attribute("lang", self.language)
        self.tab.shot(f"a11y-{self.device}-{self.language}-{name}")
        violations = axe_violations(self.page)
        if violations:
            self.found[name] = describe(violations)

    def support_pages(self, ids):
        """The list (with rows, and a search that finds nothing), the form (empty, and sent
        empty), the detail of a queued request and of one with comments and files."""
        p = self.page
        self.tab.log_in("deniz@example.com")
        expect(p.locator("#request-results tbody tr")).to_have_count(3)
        self.check("list")
        self.tab.goto("/requests/?q=nothing+like+this")
        self.check("list-no-match")
        self.tab.goto("/requests/new")
        self.check("new")
        p.click("button[type=submit]")
        expect(p.locator("#form-problems")).to_be_focused()  # the problems are read out
        expect(p.locator("#form-problems")).to_have_attribute("role", "alert")
        expect(p.locator("#summary")).to_have_attribute("aria-invalid", "true")
        expect(p.locator("#summary")).to_have_attribute("aria-describedby", "summary-error")
        self.check("new-errors")
        p.click("#form-problems a[href='#summary']")
        expect(p.locator("#summary")).to_be_focused()  # each problem leads to its field
        self.tab.goto(f"/requests/{ids['queued']}")
        self.check("detail-queued")
        self.tab.goto(f"/requests/{ids['sent']}")
        expect(p.locator("#comments")).to_contain_text("looking into it")
        self.check("detail-sent")

    def report(self):
        return "\n".join(f"[{self.device} {self.language}] {name}:\n{text}" for name, text in self.found.items())


@pytest.mark.parametrize("language", ["en", "tr"])
def test_every_page_passes_axe(browser, live_server, configure_jira, jira_sim, language):
    app, url = live_server
    ids = seed(app, language)
    configure_jira(enabled=False)
    walk = Walk(browser, url, language)
    p = walk.page

    walk.tab.goto("/auth/login")
    walk.check("login")
    p.fill("#email", "deniz@example.com")
    p.fill("#password", "wrong")
    p.click("button[type=submit]")
    expect(p.locator("#password-error")).to_be_visible()
    walk.check("login-error")

    walk.tab.log_in("oya@example.com")
    walk.check("list-empty")
    p.click(".topbar-tools button.link-button")
    p.wait_for_url("**/auth/login")

    walk.support_pages(ids)
    assert walk.tab.goto("/requests/999999").status == 404
    walk.check("404")
    assert walk.tab.goto("/admin/").status == 403
    walk.check("403")
    p.click(".topbar-tools button.link-button")
    p.wait_for_url("**/auth/login")

    walk.tab.log_in("ada@example.com")
    walk.tab.goto("/admin/")
    walk.check("admin-overview")
    walk.tab.goto("/admin/jira")
    p.click("button[value=test]")
    expect(p.locator("#jira-test li.check")).not_to_have_count(0)
    walk.check("admin-jira-tested")
    p.fill("#base_url", "")
    p.fill("#project_key", "1x")
    p.click("button[value=save]")
    expect(p.locator("#base_url")).to_be_focused()  # the first field to fix, its error read out
    expect(p.locator("#base_url")).to_have_attribute("aria-describedby", re.compile("base_url-error"))
    expect(p.locator("#project_key-error")).to_have_attribute("role", "alert")
    walk.check("admin-jira-errors")
    for name in ("categories", "products", "deliveries", "statuses", "audit"):
        walk.tab.goto(f"/admin/{name}")
        walk.check(f"admin-{name}")
    walk.tab.goto("/admin/categories")
    p.click("#categories form.inline-form button")
    expect(p.locator("#new-category")).to_be_focused()
    expect(p.locator("#category-error")).to_be_visible()
    walk.check("admin-categories-error")

    assert not walk.found, walk.report()
    assert [e for e in walk.tab.errors if "status of 40" not in e] == []
    walk.tab.close()


@pytest.mark.parametrize("language", ["en", "tr"])
def test_support_pages_pass_axe_on_a_phone(browser, live_server, language):
    app, url = live_server
    ids = seed(app, language)
    walk = Walk(browser, url, language, device="phone")
    p = walk.page
    walk.support_pages(ids)
    assert not walk.found, walk.report()
    assert walk.tab.errors == []
    walk.tab.close()


@pytest.mark.parametrize("live_app_overrides", [{"EMBED_ORIGINS": ["https://intranet.example.com"]}])
@pytest.mark.parametrize("language", ["en", "tr"])
def test_the_compact_embedded_layout_passes_axe(browser, live_server, language):
    app, url = live_server
    ids = seed(app, language)
    walk = Walk(browser, url, language)
    p = walk.page
    walk.tab.goto("/auth/login?embed=1")  # a top-level page is embedded only when it says so
    expect(p.locator(".embedbar")).to_be_visible()
    walk.check("embedded-login")
    p.fill("#email", "deniz@example.com")
    p.fill("#password", PASSWORD)
    p.click("button[type=submit]")
    p.wait_for_url("**/requests/")
    expect(p.locator(".embedbar .mainnav")).to_be_visible()
    walk.check("embedded-list")
    walk.tab.goto(f"/requests/{ids['sent']}?embed=1")
    expect(p.locator(".embedbar")).to_be_visible()
    walk.check("embedded-detail")
    assert not walk.found, walk.report()
    walk.tab.close()


class Keyboard:
    """Drives a page with keys alone, checking after each key that the focus can be seen."""

    def __init__(self, page):
        self.page = page

    def focus_state(self):
        return self.page.evaluate("""() => {
            const el = document.activeElement;
            if (!el || el === document.body) return "page";
            if (el.matches("main, main h1")) return "target";  // of the skip link, a page change: read, not operated
            const style = getComputedStyle(el);
            const visible = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2;
            return visible ? "visible" : "invisible: " + el.outerHTML.slice(0, 100);
        }""")

    def press(self, key):
        self.page.keyboard.press(key)
        try:
            state = self.focus_state()
        except PlaywrightError as exc:  # the key followed a link that loads a whole page
            if "context was destroyed" not in str(exc):
                raise
            self.page.wait_for_load_state()
            state = self.focus_state()
        assert state in ("visible", "page", "target"), f"after {key}, the focus is {state}"

    def type(self, text):
        self.page.keyboard.type(text)

    def focused(self, selector):
        return self.page.evaluate("(s) => document.activeElement.matches(s)", selector)

    def tab_to(self, selector, limit=40):
        for _ in range(limit):
            self.press("Tab")
            if self.focused(selector):
                return
        raise AssertionError(f"Tab never reached {selector}")


def test_filing_a_request_by_keyboard_alone(browser, live_server, tmp_path):
    app, url = live_server
    seed(app, "en")
    tab = Page(browser, url, **DESKTOP)
    p, keys = tab.page, Keyboard(tab.page)
    tab.goto("/auth/login")
    assert keys.focused("#email")  # autofocus
    keys.type("deniz@example.com")
    keys.press("Tab")
    keys.type("wrong password")
    keys.press("Enter")
    expect(p.locator("#password")).to_be_focused()  # the invalid field, its error read out
    expect(p.locator("#password")).to_have_attribute("aria-describedby", "password-error")
    keys.press("Control+a")
    keys.type("correct horse battery")
    keys.tab_to("#remember")
    keys.press("Space")
    keys.tab_to("button[type=submit]")
    tab.shot("keyboard-login")
    keys.press("Enter")
    p.wait_for_url("**/requests/")
    expect(p.locator("main h1")).to_be_focused()  # the new page is announced

    tab.goto("/requests/")  # a page load: the first key reaches the skip link
    keys.press("Tab")
    expect(p.locator(".skip-link")).to_be_focused()
    expect(p.locator(".skip-link")).to_be_in_viewport()
    keys.press("Enter")
    expect(p.locator("main")).to_be_focused()
    keys.press("Tab")
    assert keys.focused("a[href$='/requests/new']")  # past the header, to the page's first control
    tab.shot("keyboard-list-new-focused")
    keys.press("Enter")
    p.wait_for_url("**/requests/new")
    keys.tab_to("#label")
    keys.press("ArrowDown")
    expect(p.locator("#label")).to_have_value("Bug")
    keys.press("Tab")
    assert keys.focused("#summary")
    keys.type("Refunds answer 409")
    keys.press("Tab")
    keys.type("Every POST /v2/refunds answers 409 since this morning.")
    keys.press("Tab")
    assert keys.focused("#category")
    keys.press("ArrowDown")
    keys.press("Tab")
    keys.press("ArrowDown")  # Payments API: the endpoint list follows
    expect(p.locator("#product")).to_have_value(re.compile(r"\d+"))
    expect(p.locator("#endpoint optgroup")).to_have_count(0)
    keys.press("Tab")
    assert keys.focused("#endpoint")
    keys.press("ArrowDown")
    expect(p.locator("#endpoint option:checked")).to_have_text("POST /v2/payments")
    keys.press("Tab")
    assert keys.focused("#attachments")
    (tmp_path / "trace.log").write_text("POST /v2/refunds -> 409\n")
    with p.expect_file_chooser() as chooser:
        keys.press("Space")
    chooser.value.set_files(str(tmp_path / "trace.log"))  # what the system's file dialog does
    expect(p.locator(".chosen-files li")).to_contain_text("trace.log")
    keys.tab_to("button[type=submit]")
    expect(p.locator(".upload-progress")).to_be_hidden()  # nothing uploaded yet
    tab.shot("keyboard-new-filled")
    keys.press("Enter")
    p.wait_for_url(re.compile(r".*/requests/\d+$"))
    expect(p.locator("#flashes")).to_contain_text("was received")
    expect(p.locator("main h1")).to_contain_text("Refunds answer 409")
    detail = p.locator("main").inner_text()
    for text in ("Billing", "Payments API", "POST /v2/payments", "trace.log", "Every POST /v2/refunds"):
        assert text in detail, text
    tab.shot("keyboard-detail")

    keys.tab_to(".back-link a")
    keys.press("Enter")
    p.wait_for_url("**/requests/")
    keys.tab_to("#request-results tbody tr:first-child a")  # the newest update first: ours
    keys.press("Enter")
    p.wait_for_url(re.compile(r".*/requests/\d+$"))
    expect(p.locator("main h1")).to_contain_text("Refunds answer 409")
    assert tab.errors == []
    tab.close()


@pytest.mark.parametrize("live_app_overrides", [{"LIST_POLL_SECONDS": 1}])
def test_a_status_poll_keeps_the_keyboard_where_it_is(browser, live_server):
    app, url = live_server
    seed(app, "en")
    tab = Page(browser, url, **DESKTOP)
    p, keys = tab.page, Keyboard(tab.page)
    tab.log_in("deniz@example.com")
    keys.tab_to("#request-results tbody tr:nth-child(2) a")
    focused_id = p.evaluate("document.activeElement.id")
    for _ in range(2):  # two refreshes of the list while the keyboard is on a row
        with p.expect_response(lambda r: r.request.headers.get("hx-trigger") == "request-results"):
            pass
    expect(p.locator(f"#{focused_id}")).to_be_focused()
    keys.press("Tab")
    assert keys.focused("#request-results tbody tr:nth-child(3) a")
    tab.close()


def test_the_support_flow_without_javascript(browser, live_server, tmp_path):
    app, url = live_server
    seed(app, "en")
    tab = Page(browser, url, java_script_enabled=False, **DESKTOP)
    p = tab.page
    tab.goto("/requests/")
    assert "/auth/login?next=" in p.url
    tab.log_in("deniz@example.com")
    expect(p.locator("#request-results tbody tr")).to_have_count(3)
    tab.shot("nojs-list")

    # Searching: the Search button (shown only without JavaScript) submits the filters.
    p.fill("#filter-q", "refunds")
    p.click("#request-filters button[type=submit]")
    p.wait_for_url("**/requests/?*q=refunds*")
    expect(p.locator("#request-results tbody tr")).to_have_count(1)
    tab.shot("nojs-search")

    # Filing: every endpoint is offered, grouped by product; the product follows from it.
    p.click("a[href$='/requests/new']")
    p.wait_for_url("**/requests/new")
    expect(p.locator("#endpoint optgroup")).to_have_count(2)
    p.select_option("#label", "Question")
    p.fill("#summary", "Account list is paged how?")
    p.select_option("#endpoint", label="GET /v1/accounts")
    (tmp_path / "curl.txt").write_text("curl https://api.example.com/v1/accounts\n")
    p.set_input_files("#attachments", str(tmp_path / "curl.txt"))
    p.click("button[type=submit]")
    expect(p.locator("#form-problems")).to_contain_text("Description: This field is required.")
    expect(p.locator("#summary")).to_have_value("Account list is paged how?")  # nothing typed is lost
    expect(p.locator(".kept-files")).to_contain_text("curl.txt")  # nor the file
    expect(p.get_by_label("Remove curl.txt")).not_to_be_checked()
    tab.shot("nojs-new-errors")
    p.fill("#description", "Which parameter pages through GET /v1/accounts?")
    p.click("button[type=submit]")
    p.wait_for_url(re.compile(r".*/requests/\d+$"))
    expect(p.locator("#flashes")).to_contain_text("was received")
    detail = p.locator("main").inner_text()
    for text in ("Account list is paged how?", "Accounts API", "GET /v1/accounts", "curl.txt",
                 "Which parameter pages"):
        assert text in detail, text
    tab.shot("nojs-detail")

    p.click("text=Back to the list")
    p.wait_for_url("**/requests/")
    expect(p.locator("#request-results tbody tr")).to_have_count(4)
    p.click("#request-results a:has-text('PR-') >> nth=0")
    p.wait_for_url(re.compile(r".*/requests/\d+\?back=.*|.*/requests/\d+$"))
    expect(p.locator("main h1")).to_contain_text("Account list is paged how?")

    # The language switch and log-out are forms too.
    p.click("button[name=language][value=tr]")
    expect(p.locator("html")).to_have_attribute("lang", "tr")
    p.click(".topbar-tools button.link-button")
    p.wait_for_url("**/auth/login")
    expect(p.locator(".flash")).to_contain_text("Oturumunuz kapatıldı.")
    assert tab.errors == []
    tab.close()
