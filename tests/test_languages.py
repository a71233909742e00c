"""English and Turkish throughout: no page shows English text to a Turkish user, validation
messages (WTForms' own included) come in the user's language, and dates, file sizes and
numbers are written the way each language writes them."""
from html.parser import HTMLParser
from importlib import metadata

import pytest
from babel.messages.pofile import read_po
from flask import render_template_string

from tests.sample import seed
from tests.support import PASSWORD
from tests.test_translations import ROOT
from webapp.extensions import db
from webapp.models import ApiEndpoint, ApiProduct, Attachment, Category, JiraComment, Label, SupportRequest, User

SKIPPED_TAGS = {"script", "style", "code"}  # code: identifiers (endpoints, audit actions, URLs)
SHOWN_ATTRIBUTES = {"placeholder", "aria-label", "title", "alt", "label", "data-type-message",
                    "data-size-message", "data-empty-message", "data-refused-message", "hx-confirm"}
# The same in both languages: language codes, the Jira-side examples in placeholders.
NOT_WORDS = {"EN", "TR", "English", "Türkçe", "SUP", "SUP-123", "/payments/v1", "https://your-company.atlassian.net",
             "https://api.example.com/openapi.json", "https://apinizer.example.com",
             "customfield_10070", "customfield_10071", "customfield_10072",
             "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS",
             # "Sent with your request" lists data: a time zone, the test client's User-Agent.
             "Europe/Istanbul", f"Werkzeug/{metadata.version('werkzeug')}"}


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.chunks, self.skipping = [], 0

    def handle_starttag(self, tag, attrs):
        self.skipping += tag in SKIPPED_TAGS
        self.chunks += [" ".join(value.split()) for name, value in attrs if name in SHOWN_ATTRIBUTES and value]

    def handle_endtag(self, tag):
        self.skipping -= tag in SKIPPED_TAGS

    def handle_data(self, data):
        if not self.skipping and data.strip():
            self.chunks.append(" ".join(data.split()))


def texts(html):
    """What a page shows (or says to a screen reader), as whitespace-folded pieces."""
    parser = _Text()
    parser.feed(html)
    return set(parser.chunks)


def data_texts():
    """Everything the sample's people typed: the same in both languages by nature."""
    values = []
    for user in db.session.scalars(db.select(User)):
        values += [user.display_name, user.email]
    for item in db.session.scalars(db.select(SupportRequest)):
        values += [item.summary, item.description, item.reference, item.jira_key, item.jira_status, item.label]
    for model, columns in ((Category, ("name",)), (ApiProduct, ("name",)), (Label, ("name",)),
                           (ApiEndpoint, ("label", "method", "path")), (Attachment, ("original_name",)),
                           (JiraComment, ("author_name", "body_html"))):
        for row in db.session.scalars(db.select(model)):
            values += [getattr(row, column) for column in columns]
    return set().union(*(texts(str(value)) for value in values if value))


def same_in_turkish():
    """Catalog entries whose Turkish is the English (API Token, URL...)."""
    with open(ROOT / "webapp/translations/tr/LC_MESSAGES/messages.po", "rb") as f:
        return {m.id for m in read_po(f) if m.id and m.string == m.id}


def visit_every_page(client, ids):
    """Each page a user and an admin reach, with forms in their error states: {name: html}."""
    pages = {"login": client.get("/auth/login"),
             "login-error": client.post("/auth/login", data={"email": "deniz@example.com", "password": "x"})}
    client.post("/auth/login", data={"email": "deniz@example.com", "password": PASSWORD})
    for path in ("/requests/", "/requests/?q=nothing", "/requests/new", f"/requests/{ids['queued']}",
                 f"/requests/{ids['sent']}", "/requests/999999", "/admin/"):
        pages[path] = client.get(path)
    pages["new-errors"] = client.post("/requests/new", data={"label": "Nope", "summary": "x" * 300})
    pages["filed"] = client.post("/requests/new", data={"label": "Bug", "summary": "Works", "description": "Yes"},
                                 follow_redirects=True)
    client.post("/auth/logout")
    client.post("/auth/login", data={"email": "ada@example.com", "password": PASSWORD})
    for path in ("/admin/", "/admin/jira", "/admin/categories", "/admin/products", "/admin/deliveries",
                 "/admin/deliveries?state=queued", "/admin/audit", "/admin/apinizer"):
        pages[path] = client.get(path)
    pages["jira-errors"] = client.post("/admin/jira", data={"base_url": "not a site", "project_key": "1x"})
    pages["apinizer-errors"] = client.post("/admin/apinizer", data={"base_url": "ftp://x", "projects": ","})
    pages["category-error"] = client.post("/admin/categories", data={"name": ""}, follow_redirects=True)
    client.post("/auth/logout")
    return {name: response.get_data(as_text=True) for name, response in pages.items()}


def test_no_page_shows_english_to_a_turkish_user(app, client):
    """Text that reads the same in both languages is data, a code, or deliberately the same;
    anything else is a string that missed its translation (or was never marked)."""
    ids = seed(app)
    english = visit_every_page(client, ids)
    db.session.execute(db.update(User).values(language="tr"))
    db.session.commit()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "tr-TR,tr;q=0.9"  # before log-in: the browser's
    turkish = visit_every_page(client, ids)
    allowed = data_texts() | same_in_turkish() | NOT_WORDS
    untranslated = {}
    for name, html in turkish.items():
        left = {text for text in texts(html) & texts(english[name])
                if text not in allowed and any(ch.isalpha() for ch in text)}
        if left:
            untranslated[name] = sorted(left)
    assert not untranslated, "English on Turkish pages:\n" + "\n".join(
        f"  {name}: {left}" for name, left in untranslated.items())


@pytest.mark.parametrize("language, required, too_long, not_a_choice", [
    ("en", "This field is required.", "Field cannot be longer than 255 characters.", "Not a valid choice."),
    ("tr", "Bu alan zorunludur.", "Alan 255 karakterden uzun olamaz.", "Geçerli bir seçenek değil."),
])
def test_validation_messages_follow_the_language(app, client, make_user, auth, language, required,
                                                 too_long, not_a_choice):
    """WTForms' built-in messages come from its own catalog, in the user's language."""
    make_user(email="deniz@example.com", language=language)
    auth.login("deniz@example.com")
    page = client.post("/requests/new", data={"label": "No such label", "summary": "x" * 300}).get_data(as_text=True)
    for message in (required, too_long, not_a_choice):
        assert message in page


@pytest.mark.parametrize("language, list_date, detail_date, sizes", [
    ("en", "11/28/26, 12:05\u202fPM", "Nov 28, 2026, 12:05:00\u202fPM", ("10.2 kB", "1.2 MB")),  # CLDR's narrow space
    ("tr", "28.11.2026 12:05", "28 Kas 2026 12:05:00", ("10,2 kB", "1,2 MB")),
])
def test_dates_and_sizes_follow_the_language(app, client, auth, language, list_date, detail_date, sizes):
    ids = seed(app, language)
    db.session.execute(db.update(SupportRequest).values(updated_at=SupportRequest.created_at))
    db.session.commit()
    auth.login("deniz@example.com")
    assert list_date in client.get("/requests/").get_data(as_text=True)
    detail = client.get(f"/requests/{ids['sent']}").get_data(as_text=True)
    assert detail_date in detail  # Europe/Istanbul, the portal's time zone
    for size in sizes:
        assert size in detail


@pytest.mark.parametrize("language, written", [("en", "1,234,567 · 512 B · 3.0 GB"), ("tr", "1.234.567 · 512 B · 3,0 GB")])
def test_numbers_follow_the_language(app, language, written):
    with app.test_request_context(headers={"Accept-Language": language}):
        assert render_template_string("{{ 1234567|number }} · {{ 512|filesizeformat }} · {{ (3 * 1024 ** 3)|filesizeformat }}") == written


def test_a_users_language_outlasts_their_session(app, client, make_user, auth):
    """Chosen on another device: after log-out the log-in page stays in it."""
    make_user(email="deniz@example.com", language="tr")
    auth.login("deniz@example.com")
    page = client.post("/auth/logout", follow_redirects=True).get_data(as_text=True)
    assert 'lang="tr"' in page and "Oturumunuz kapatıldı" in page


def test_the_language_switch_is_on_every_page_and_remembered(app, client, make_user, auth):
    make_user(email="deniz@example.com")
    assert 'name="language" value="tr"' in client.get("/auth/login").get_data(as_text=True)
    client.post("/language", data={"language": "tr", "next": "/auth/login"})
    assert "Giriş yap" in client.get("/auth/login").get_data(as_text=True)
    auth.login("deniz@example.com")
    client.post("/language", data={"language": "en", "next": "/requests/"})
    assert db.session.scalar(db.select(User.language)) == "en"
    page = client.get("/requests/").get_data(as_text=True)
    assert "Support Requests" in page and 'value="en" aria-pressed="true"' in page
