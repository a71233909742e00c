"""Security headers on every response; framing only by listed origins; the compact layout and
the cookie modes of embedding. The real-browser side is in test_browser_embedding.py."""
import re
from pathlib import Path

import pytest
from flask import request

from tests.support import PASSWORD
from webapp.embedding import content_security_policy, parse_origins

HOST = "https://intranet.example.com"
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


@pytest.fixture
def embed_app(app_factory):
    app = app_factory(EMBED_ORIGINS=[HOST])
    with app.app_context():
        yield app


@pytest.fixture
def embed_client(embed_app):
    return embed_app.test_client()


def _boom():
    raise RuntimeError("broken on purpose")


def _responses(client, app, make_user):
    """One response of each kind the portal gives, by name."""
    app.add_url_rule("/test-boom", view_func=_boom)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # the 500 page, as in production
    make_user(email="u@example.com")
    fragment = {"HX-Request": "true"}
    return {
        "page": client.get("/auth/login"),
        "redirect": client.get("/"),
        "post redirect": client.post("/language", data={"language": "tr", "next": "/auth/login"}),
        "static file": client.get("/static/portal.css"),
        "json": client.get("/healthz"),
        "not found": client.get("/nowhere"),
        "not found fragment": client.get("/nowhere", headers=fragment),
        "method not allowed": client.delete("/auth/login"),
        "server error": client.get("/test-boom"),
        "login": client.post("/auth/login", data={"email": "u@example.com", "password": PASSWORD}),
        "logged-in page": client.get("/requests/"),
        "fragment": client.get("/requests/", headers={**fragment, "HX-Target": "request-results"}),
    }


KINDS = ["page", "redirect", "post redirect", "static file", "json", "not found", "not found fragment",
         "method not allowed", "server error", "login", "logged-in page", "fragment"]


def test_every_kind_of_response_carries_the_security_headers(client, app, make_user):
    responses = _responses(client, app, make_user)
    assert sorted(responses) == sorted(KINDS)
    assert responses["server error"].status_code == 500
    assert responses["not found fragment"].status_code == 404
    for kind, response in responses.items():
        headers = response.headers
        assert headers["Content-Security-Policy"] == content_security_policy([]), kind
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], kind
        assert headers["X-Frame-Options"] == "DENY", kind
        assert headers["X-Content-Type-Options"] == "nosniff", kind
        assert headers["Referrer-Policy"] == "same-origin", kind
        assert "Strict-Transport-Security" not in headers, kind  # plain http


def test_the_policy_allows_no_inline_code():
    policy = dict(part.split(" ", 1) for part in content_security_policy([]).split("; "))
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert "unsafe" not in content_security_policy([HOST])
    assert policy["default-src"] == "'self'" and policy["object-src"] == "'none'"
    assert policy["form-action"] == "'self'" and policy["base-uri"] == "'self'"


def test_listed_origins_may_frame_every_response(embed_client, embed_app, make_user):
    for kind, response in _responses(embed_client, embed_app, make_user).items():
        assert response.headers["Content-Security-Policy"].endswith(f"frame-ancestors {HOST}"), kind
        assert "X-Frame-Options" not in response.headers, kind


def test_a_view_may_set_a_stricter_policy_of_its_own(app, client):
    def download():
        return "data", {"Content-Security-Policy": "default-src 'none'; sandbox", "Content-Type": "text/plain"}
    app.add_url_rule("/test-download", view_func=download)
    response = client.get("/test-download")
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("base_url, headers, overrides, hsts", [
    ("https://support.example.com", {}, {}, "max-age=31536000"),
    ("http://support.example.com", {}, {}, None),
    ("https://support.example.com", {}, {"HSTS_SECONDS": 0}, None),
    ("https://support.example.com", {}, {"HSTS_SECONDS": 600}, "max-age=600"),
    # Behind a proxy that ends TLS: only trusted when the operator says how many proxies there are.
    ("http://support.example.com", {"X-Forwarded-Proto": "https"}, {}, None),
    ("http://support.example.com", {"X-Forwarded-Proto": "https"}, {"TRUSTED_PROXIES": 1}, "max-age=31536000"),
    ("http://support.example.com", {"X-Forwarded-Proto": "http"}, {"TRUSTED_PROXIES": 1}, None),
])
def test_hsts_only_over_https(app_factory, base_url, headers, overrides, hsts):
    client = app_factory(**overrides).test_client()
    for path in ("/auth/login", "/static/portal.css", "/nowhere"):
        response = client.get(path, base_url=base_url, headers=headers)
        assert response.headers.get("Strict-Transport-Security") == hsts, path


def test_trusted_proxies_give_the_client_address(app_factory):
    app = app_factory(TRUSTED_PROXIES=1)
    seen = []
    app.add_url_rule("/test-address", view_func=lambda: seen.append(request.remote_addr) or "")
    app.test_client().get("/test-address", headers={"X-Forwarded-For": "203.0.113.9"})
    assert seen == ["203.0.113.9"]


def test_templates_have_no_inline_code_the_policy_would_block():
    """script-src/style-src 'self': inline <script>, style="", hx-on and javascript: links
    would be refused by the browser. Checked on the template sources of pages; e-mail
    (templates/email/) is read by mail clients, which want inline styles and no policy."""
    offenders = []
    patterns = {
        "inline script": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
        "inline style element": re.compile(r"<style\b", re.I),
        "style attribute": re.compile(r"\sstyle\s*=", re.I),
        "event handler attribute": re.compile(r"\s(on[a-z]+|hx-on[:\-][\w:\-]*)\s*=", re.I),
        "javascript: URL": re.compile(r"javascript:", re.I),
        "js: value": re.compile(r"hx-vals\s*=\s*['\"]\s*(js|javascript):", re.I),
    }
    for path in sorted(TEMPLATES.rglob("*.html")):
        if path.relative_to(TEMPLATES).parts[0] == "email":
            continue
        text = path.read_text()
        for name, pattern in patterns.items():
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                offenders.append(f"{path.relative_to(TEMPLATES)}:{line}: {name}")
    assert offenders == []


@pytest.mark.parametrize("values, origins", [
    ([], []),
    (["https://Intranet.Example.com/"], ["https://intranet.example.com"]),
    (["https://intranet.example.com:443", "http://intranet.example.com:80"],
     ["https://intranet.example.com", "http://intranet.example.com"]),
    (["http://127.0.0.1:8080", "https://*.corp.example", "https://*.corp.example"],
     ["http://127.0.0.1:8080", "https://*.corp.example"]),
    (["https://[::1]:8443"], ["https://[::1]:8443"]),
])
def test_embed_origins_are_read_as_browsers_spell_origins(values, origins):
    assert parse_origins(values) == origins


@pytest.mark.parametrize("value", ["intranet.example.com", "https://intranet.example.com/portal", "*",
                                   "https://*", "ftp://intranet.example.com", "https://a.example.com?x=1",
                                   "'self'", "https://a.example.com https://b.example.com"])
def test_a_malformed_embed_origin_stops_start_up(app_factory, value):
    with pytest.raises(ValueError, match="EMBED_ORIGINS"):
        app_factory(EMBED_ORIGINS=[value])


# The compact layout

def _is_compact(response):
    html = response.get_data(as_text=True)
    compact = 'class="embedbar"' in html
    assert compact != ('class="topbar"' in html)
    assert compact == ('src="/static/embedded.js?v=' in html)
    return compact


def test_embed_1_gives_the_compact_layout_and_it_stays(embed_client, make_user):
    make_user(email="u@example.com")
    page = embed_client.get("/auth/login?embed=1")
    assert _is_compact(page)
    html = page.get_data(as_text=True)
    assert f'<meta name="support-portal-embed" content="{HOST}">' in html
    assert '"X-Portal-Embed": "1"' in html
    assert '<html lang="en" class="embedded">' in html
    # The essentials stay reachable: language, a way out of the frame (without ?embed).
    assert 'action="/language"' in html
    assert '<a href="/auth/login" target="_blank" rel="noopener">Open in a new tab</a>' in html

    response = embed_client.post("/auth/login?embed=1", data={"email": "u@example.com", "password": PASSWORD})
    assert response.status_code == 303 and response.headers["Location"] == "/requests/"
    listing = embed_client.get("/requests/")  # the redirect, inside the frame
    assert _is_compact(listing)
    html = listing.get_data(as_text=True)
    assert 'action="/auth/logout"' in html and 'href="/requests/"' in html
    assert _is_compact(embed_client.get("/nowhere"))  # error pages too
    assert _is_compact(embed_client.post("/auth/logout", follow_redirects=True))

    assert not _is_compact(embed_client.get("/auth/login?embed=0"))
    assert not _is_compact(embed_client.get("/auth/login"))


def test_a_tab_next_to_the_frame_keeps_its_header(embed_client):
    """Same-site embedding shares one session between the frame and a tab of the portal."""
    assert _is_compact(embed_client.get("/auth/login?embed=1"))
    assert _is_compact(embed_client.get("/auth/login", headers={"Sec-Fetch-Dest": "iframe"}))
    tab = embed_client.get("/auth/login", headers={"Sec-Fetch-Dest": "document"})
    assert not _is_compact(tab)
    assert '"X-Portal-Embed": "0"' in tab.get_data(as_text=True)
    # htmx requests from the tab's page say which layout they belong to, and so do the frame's.
    boosted = {"HX-Request": "true", "HX-Boosted": "true", "Sec-Fetch-Dest": "empty"}
    assert not _is_compact(embed_client.get("/auth/login", headers={**boosted, "X-Portal-Embed": "0"}))
    assert _is_compact(embed_client.get("/auth/login", headers={**boosted, "X-Portal-Embed": "1"}))
    assert _is_compact(embed_client.get("/auth/login", headers={"Sec-Fetch-Dest": "iframe"}))  # session kept


def test_the_new_tab_link_keeps_the_rest_of_the_address(embed_client):
    html = embed_client.get("/auth/login?next=/requests/%3Fq%3Da%26b&embed=1").get_data(as_text=True)
    assert 'href="/auth/login?next=%2Frequests%2F%3Fq%3Da%26b" target="_blank"' in html


def test_without_embed_origins_there_is_no_compact_layout(client):
    page = client.get("/auth/login?embed=1")
    assert not _is_compact(page)
    assert "support-portal-embed" not in page.get_data(as_text=True)
    assert not _is_compact(client.get("/auth/login", headers={"Sec-Fetch-Dest": "iframe"}))


def test_embedded_pages_vary_on_the_layout_signals(embed_client, client):
    vary = embed_client.get("/auth/login?embed=1").headers["Vary"]
    assert "Sec-Fetch-Dest" in vary and "X-Portal-Embed" in vary and "HX-Request" in vary
    assert "X-Portal-Embed" not in embed_client.get("/static/portal.css").headers.get("Vary", "")
    assert "X-Portal-Embed" not in client.get("/auth/login").headers["Vary"]


# Cookies

def _cookie(response, name):
    found = [c for c in response.headers.getlist("Set-Cookie") if c.startswith(name + "=")]
    assert len(found) == 1, response.headers.getlist("Set-Cookie")
    return {part.split("=")[0].lower(): part for part in found[0].split("; ")[1:]}


def test_same_site_cookies_by_default(embed_client, make_user):
    make_user(email="u@example.com")
    response = embed_client.post("/auth/login?embed=1", data={
        "email": "u@example.com", "password": PASSWORD, "remember": "y"})
    session = _cookie(response, "session")
    assert session["samesite"] == "SameSite=Lax" and "httponly" in session
    assert "partitioned" not in session and "secure" not in session
    assert "partitioned" not in _cookie(response, "remember_token")


def test_cross_site_cookies_are_none_secure_and_partitioned(app_factory, make_user):
    app = app_factory(EMBED_ORIGINS=[HOST], EMBED_CROSS_SITE=True)
    client = app.test_client()
    with app.app_context():
        make_user(email="u@example.com")
    response = client.post("/auth/login?embed=1", base_url="https://support.example.com", data={
        "email": "u@example.com", "password": PASSWORD, "remember": "y"})
    assert response.status_code == 303
    for name in ("session", "remember_token"):
        cookie = _cookie(response, name)
        assert cookie["samesite"] == "SameSite=None", name
        assert "secure" in cookie and "partitioned" in cookie and "httponly" in cookie, name

    # Logging out must clear the partitioned cookie: only a Partitioned deletion reaches it.
    response = client.post("/auth/logout", base_url="https://support.example.com")
    cleared = _cookie(response, "remember_token")
    assert "partitioned" in cleared and "secure" in cleared and cleared["samesite"] == "SameSite=None"
    assert cleared["max-age"] == "Max-Age=0"


def test_cross_site_mode_needs_embed_origins(app_factory):
    app = app_factory(EMBED_CROSS_SITE=True)
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert not app.config.get("SESSION_COOKIE_PARTITIONED")

