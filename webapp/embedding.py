"""Security headers on every response, and the portal inside other sites' pages.

Only the origins in EMBED_ORIGINS may frame the portal (CSP frame-ancestors); without any,
no page may (X-Frame-Options as well, for old browsers). `?embed=1` gives a compact layout
that stays for the rest of the visit in that frame; `?embed=0` leaves it. docs/embedding.md
has the host page's side and the cookie modes.
"""
import re
from urllib.parse import urlencode

from flask import current_app, g, request, session, url_for
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

# An origin as browsers report it, or a wildcard for subdomains (as frame-ancestors takes it).
_ORIGIN = re.compile(r"^(https?)://(\*\.)?([a-z0-9-]+(?:\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])(?::(\d{1,5}))?$")
_DEFAULT_PORTS = {"http": "80", "https": "443"}

# Scripts and styles only from the portal's own files: no inline code, no eval.
_POLICY = ("default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
           "font-src 'self'", "connect-src 'self'", "form-action 'self'", "base-uri 'self'",
           "object-src 'none'")


def parse_origins(values):
    """The EMBED_ORIGINS entries as browsers spell origins; a malformed one stops start-up,
    since a typo would otherwise refuse (or, as a path, silently widen) the framing."""
    origins = []
    for value in values:
        match = _ORIGIN.match(value.strip().lower().rstrip("/"))
        if not match:
            raise ValueError(f"EMBED_ORIGINS: {value!r} is not an origin such as https://intranet.example.com")
        scheme, wildcard, host, port = match.groups()
        origin = f"{scheme}://{wildcard or ''}{host}"
        if port and port != _DEFAULT_PORTS[scheme]:
            origin += f":{port}"
        if origin not in origins:
            origins.append(origin)
    return origins


def embedding_enabled():
    return bool(current_app.config["EMBED_ORIGINS"])


def is_embedded():
    """Whether this response gets the compact layout.

    An explicit ?embed= wins. An htmx request carries the mode of the page it came from
    (X-Portal-Embed, from base.html), and a top-level navigation (Sec-Fetch-Dest: document) is
    never embedded: with same-site embedding a tab and a frame share one session, and the tab
    must keep its header. Navigations inside the frame, form posts and their redirects
    included, follow the session.
    """
    if not embedding_enabled():
        return False
    if "embedded" not in g:
        g.embedded = _decide_embedded()
    return g.embedded


def _decide_embedded():
    explicit = request.args.get("embed")
    if explicit in ("0", "1"):
        return explicit == "1"
    header = request.headers.get("X-Portal-Embed")
    if header in ("0", "1"):
        return header == "1"
    if request.headers.get("Sec-Fetch-Dest") == "document":
        return False
    return bool(session.get("embed"))


def full_page_url():
    """This page without the embed switch, for opening it in a tab of its own. Built from the
    route, never from the raw path (which a crafted 404 could make point off-site); a page
    no route matched opens the home page."""
    if request.url_rule is None or request.endpoint == "static":
        return url_for("main.index")
    args = [(key, value) for key, value in request.args.items(multi=True) if key != "embed"]
    path = url_for(request.endpoint, **(request.view_args or {}))
    return path + ("?" + urlencode(args) if args else "")


def content_security_policy(origins):
    ancestors = " ".join(origins) if origins else "'none'"
    return "; ".join((*_POLICY, f"frame-ancestors {ancestors}"))


def _apply_cookie_mode(app):
    """Cross-site frames only get cookies marked SameSite=None; Secure, and browsers that block
    third-party cookies (Safari, Chrome by choice) still keep Partitioned ones, one jar per
    embedding site. Same-site frames need none of this: Lax cookies are sent to them."""
    if not app.config["EMBED_CROSS_SITE"]:
        return
    if not app.config["EMBED_ORIGINS"]:
        app.logger.warning("EMBED_CROSS_SITE is set but EMBED_ORIGINS is empty: cookies stay SameSite=Lax")
        app.config["EMBED_CROSS_SITE"] = False
        return
    app.config.update(
        SESSION_COOKIE_SAMESITE="None", SESSION_COOKIE_SECURE=True, SESSION_COOKIE_PARTITIONED=True,
        REMEMBER_COOKIE_SAMESITE="None", REMEMBER_COOKIE_SECURE=True,
    )


def _partition_remember_cookie(response):
    """Flask-Login cannot mark its remember-me cookie Partitioned, and clears it without the
    attributes a partitioned cookie must be cleared with; add them to each of its Set-Cookie."""
    name = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
    cookies = response.headers.getlist("Set-Cookie")
    if not any(cookie.startswith(name + "=") for cookie in cookies):
        return
    response.headers.remove("Set-Cookie")
    replaced = ("samesite", "secure", "partitioned")
    for cookie in cookies:
        if cookie.startswith(name + "="):
            parts = [part for part in cookie.split("; ") if part.split("=")[0].lower() not in replaced]
            cookie = "; ".join(parts + ["Secure", "SameSite=None", "Partitioned"])
        response.headers.add("Set-Cookie", cookie)


def init_app(app):
    app.config["EMBED_ORIGINS"] = parse_origins(app.config.get("EMBED_ORIGINS") or [])
    _apply_cookie_mode(app)
    if app.config.get("TRUSTED_PROXIES"):
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)
    policy = content_security_policy(app.config["EMBED_ORIGINS"])

    @app.before_request
    def remember_embed_choice():
        choice = request.args.get("embed")
        if choice in ("0", "1") and embedding_enabled():
            if choice == "1":
                session["embed"] = True
            else:
                session.pop("embed", None)

    def add_security_headers(response):
        headers = response.headers
        # A view may set a stricter policy of its own (an attachment download, say).
        headers.setdefault("Content-Security-Policy", policy)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        if not app.config["EMBED_ORIGINS"]:
            headers.setdefault("X-Frame-Options", "DENY")
        if request.is_secure and app.config["HSTS_SECONDS"]:
            headers.setdefault("Strict-Transport-Security", f"max-age={app.config['HSTS_SECONDS']}")
        if app.config["EMBED_ORIGINS"] and response.mimetype == "text/html":
            response.vary.update(("Sec-Fetch-Dest", "X-Portal-Embed"))
        if request.endpoint != "static" and current_user.is_authenticated:
            # What a logged-in person was shown is theirs: no cache keeps it past log-out.
            headers["Cache-Control"] = "no-store"
        if app.config["EMBED_CROSS_SITE"]:
            _partition_remember_cookie(response)
        return response

    # First in the list, so it runs last: after Flask-Login has added its cookie.
    app.after_request_funcs.setdefault(None, []).insert(0, add_security_headers)
