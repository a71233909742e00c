"""The optional Apinizer API Manager connector: the API proxies of the projects the admin
picks become products, their endpoints the products' endpoints. The worker reads Apinizer's
Management API (`/apiops`, a personal API access token); what it found waits for the admin,
as a followed document's does (sources.py): the same preview, and applying retires what left
(a proxy gone: its product is unpublished; an endpoint gone: retired), never deleting."""
import json
import logging
from urllib.parse import quote

from sqlalchemy import func, select

from .. import audit, crypto
from ..extensions import db
from ..jira.texts import N_, message
from ..models import ApiProduct, ApinizerSettings, utcnow
from ..queue import enqueue
from .fetch import FetchFailed, fetch
from .openapi import HTTP_METHODS, one_line
from .sources import add_endpoints, changes

log = logging.getLogger(__name__)
REFUSED = N_("Apinizer refused the token (HTTP %(status)d): check it, and that its user is a member of the projects.")
NOT_FOUND = N_("Apinizer knows no project %(project)s that this token's user may see.")
UNREADABLE = N_("Apinizer's answer was not what its Management API describes.")


def is_configured(settings):
    return bool(settings.base_url and settings.api_token_encrypted)


def request_reading(settings):
    """Commit, then ask the worker to read Apinizer."""
    settings.reading = True
    db.session.commit()
    enqueue(read_apinizer)


def refresh():
    """Periodic job: read Apinizer when the connector is set up."""
    settings = db.session.get(ApinizerSettings, 1)
    if settings is not None and is_configured(settings):
        request_reading(settings)


def request_projects(settings):
    """Commit, then ask the worker to list the projects the token can see ("Read projects")."""
    settings.projects_reading = True
    db.session.commit()
    enqueue(read_projects)


def read_projects():
    """Job: the projects the token's user may see, for the admin to pick from."""
    settings = ApinizerSettings.get()
    if not is_configured(settings):  # the token was removed meanwhile
        settings.projects_reading = False
        db.session.commit()
        return
    version = (settings.base_url, settings.api_token_encrypted)
    known, error = None, None
    try:
        token = crypto.decrypt(settings.api_token_encrypted)
        db.session.rollback()
        known = _projects(version[0].rstrip("/") + "/apiops/projects/", _headers(token))
    except FetchFailed as exc:
        error = exc.stored
    except crypto.SecretUnreadable as exc:
        error = message(N_("%(text)s"), text=str(exc))
    settings = ApinizerSettings.get()
    if (settings.base_url, settings.api_token_encrypted) != version:
        return  # changed meanwhile: saving asked for another reading
    settings.projects_reading, settings.projects_read_at, settings.projects_error = False, utcnow(), error
    if error is None:
        settings.known_projects = known
    db.session.commit()


def read_apinizer():
    """Job: the projects' proxies and their endpoints, kept on the settings row for the admin."""
    settings = ApinizerSettings.get()
    version = (settings.base_url, settings.api_token_encrypted, tuple(settings.projects or ()))
    found, known, error = None, None, None
    try:
        token = crypto.decrypt(settings.api_token_encrypted)
        db.session.rollback()
        known, found = _read(version[0], token, version[2])
    except FetchFailed as exc:
        error = exc.stored
    except crypto.SecretUnreadable as exc:
        error = message(N_("%(text)s"), text=str(exc))
    settings = ApinizerSettings.get()
    if (settings.base_url, settings.api_token_encrypted, tuple(settings.projects or ())) != version:
        return  # changed meanwhile: another reading follows
    settings.reading, settings.read_at, settings.error = False, utcnow(), error
    if error is None:
        settings.known_projects = known
        _follow_environments(found)
        settings.found = found if pending(settings, found) else None
    db.session.commit()


def _headers(token):
    return {"Authorization": f"Bearer {token}", "Accept": "application/json"}


def _projects(url, headers):
    return [row["name"][:200] for row in _results(url, headers) if isinstance(row.get("name"), str)]


def _read(base_url, token, projects):
    headers = _headers(token)
    api = base_url.rstrip("/") + "/apiops/projects/"
    known = _projects(api, headers)
    found = []
    for project in projects:
        if project not in known:
            raise FetchFailed(NOT_FOUND, project=project)
        environments = _environments(base_url.rstrip("/") + "/apiops/", project, headers)
        proxies_url = f"{api}{quote(project, safe='')}/apiProxies/"
        for proxy in _results(proxies_url, headers):
            name = proxy.get("name")
            if not isinstance(name, str) or not name.strip():
                continue
            base = proxy.get("relativePath") if isinstance(proxy.get("relativePath"), str) else ""
            endpoints = _results(f"{proxies_url}{quote(name, safe='')}/endpoints/", headers)
            found.append({"project": project, "proxy": name[:200], "environments": environments,
                          "endpoints": [list(entry) for entry in _endpoints(base, endpoints)]})
    return known, found


def _environments(api, project, headers):
    """The names of the project's environments, or None where Apinizer gives none: the
    reference has `GET /apiops/projects/{project}/environments/` (docs.apinizer.com) and
    `GET /apiops/environments/{project}` (management-api-docs); neither answering (a user
    without the right, an older Manager) leaves them unknown, and the reading goes on."""
    name = quote(project, safe="")
    for url in (f"{api}projects/{name}/environments/", f"{api}environments/{name}"):
        try:
            rows = _results(url, headers)
        except FetchFailed:
            continue
        names = (row.get("name") or row.get("environmentName") for row in rows)
        return list(dict.fromkeys(one_line(n)[:100] for n in names if one_line(n)))[:50]
    return None


def _follow_environments(found):
    """Like summaries, a proxy's environments follow Apinizer at every reading."""
    products = _products()
    for entry in found:
        product = products.get((entry["project"], entry["proxy"]))
        if product is not None and entry.get("environments") is not None:
            product.catalog_environments = entry["environments"]


def _endpoints(base, rows):
    """(METHOD or None, path, summary) of a proxy's active endpoints; ALL is any method."""
    for row in rows:
        path = row.get("endpoint")
        if row.get("active") is False or not isinstance(path, str):
            continue
        method = str(row.get("httpMethod") or "").upper()
        full = (base.rstrip("/") + "/" + path.lstrip("/")).rstrip("/") or "/"
        yield (method if method in HTTP_METHODS else None), full[:500], one_line(row.get("description"))


def _results(url, headers):
    """The `resultList` of one Management API answer."""
    try:
        body = json.loads(fetch(url, headers=headers))
    except FetchFailed as exc:
        if exc.status in (401, 403):
            raise FetchFailed(REFUSED, status=exc.status) from None
        raise
    except ValueError:
        raise FetchFailed(UNREADABLE) from None
    rows = body.get("resultList") if isinstance(body, dict) else None
    if not isinstance(rows, list):
        raise FetchFailed(UNREADABLE)
    return [row for row in rows if isinstance(row, dict)]


def _products():
    """{(project, proxy): product} of the products that mirror a proxy."""
    rows = db.session.scalars(select(ApiProduct).where(ApiProduct.apinizer_proxy.is_not(None))).all()
    return {(p.apinizer_project, p.apinizer_proxy): p for p in rows}


def pending(settings, found=None):
    """What applying the reading would do, or None: {"products_added": [names],
    "products_retired": [products], "endpoints": [(name, added, retired)]}."""
    found = settings.found if found is None else found
    if found is None:
        return None
    products = _products()
    wanted = {(entry["project"], entry["proxy"]) for entry in found}
    result = {"products_added": [], "endpoints": [],
              "products_retired": [p for key, p in products.items() if key not in wanted and p.published]}
    for entry in found:
        product = products.get((entry["project"], entry["proxy"]))
        endpoints = [tuple(e) for e in entry["endpoints"]]
        if product is None or not product.active or not product.published:
            result["products_added"].append(entry["proxy"])
        added, retired = changes(product, endpoints) if product else (endpoints, [])
        if added or retired:
            result["endpoints"].append((entry["proxy"], added, retired))
    return result if any(result.values()) else None


def apply_found(settings):
    """Apply the reading: a product per proxy (new, or brought back), endpoints added and
    retired as a followed document's; a product whose proxy left is unpublished. Returns the
    preview it applied; the caller commits."""
    preview = pending(settings)
    products = _products()
    position = (db.session.scalar(select(func.max(ApiProduct.position))) or 0) + 1
    for entry in settings.found or ():
        product = products.get((entry["project"], entry["proxy"]))
        if product is None:
            product = ApiProduct(name=entry["proxy"], position=position, apinizer_project=entry["project"],
                                 apinizer_proxy=entry["proxy"])
            db.session.add(product)
            position += 1
        product.active = product.published = True
        if entry.get("environments") is not None:
            product.catalog_environments = entry["environments"]
        endpoints = [tuple(e) for e in entry["endpoints"]]
        for endpoint in changes(product, endpoints)[1]:
            endpoint.active = False
        add_endpoints(product, endpoints)
    for product in (preview or {}).get("products_retired", ()):
        product.published = False
    settings.found = None
    audit.record("apinizer.applied", products_added=len((preview or {}).get("products_added", ())),
                 products_retired=len((preview or {}).get("products_retired", ())))
    return preview
