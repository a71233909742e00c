"""A product that follows its OpenAPI document: the worker reads it (daily, and when the admin
asks) and keeps the endpoints it found on the product; the admin sees what applying them would
add and retire, then applies. Retired endpoints leave the form and stay on the requests that
name them: endpoints are never deleted. Summaries and the environments (its `servers`) follow
the document at every reading (they change no stored choice)."""
import logging

from sqlalchemy import func, select

from .. import audit
from ..extensions import db
from ..jira.texts import N_, message
from ..models import ApiEndpoint, ApiProduct, utcnow
from ..queue import enqueue
from .fetch import FetchFailed, fetch
from .openapi import endpoints_from_openapi, environments_from_openapi, load

log = logging.getLogger(__name__)
NOT_OPENAPI = N_("The document at this address is not OpenAPI or Swagger: no “paths” were found in it.")
ACCEPT = {"Accept": "application/json, application/yaml;q=0.9, text/yaml;q=0.9, */*;q=0.5"}


def request_reading(product):
    """Commit, then ask the worker to read the product's document (the job must find the
    commit: the in-process queue may run it at once)."""
    product.source_reading = True
    db.session.commit()
    enqueue(read_source, product.id)


def refresh_all():
    """Periodic job: read the document of every product that follows one."""
    products = db.session.scalars(select(ApiProduct).where(ApiProduct.active, ApiProduct.source_url.is_not(None))).all()
    for product in products:
        product.source_reading = True
    db.session.commit()
    for product in products:
        enqueue(read_source, product.id)


def read_source(product_id):
    """Job: read the product's document; keep what it found for the admin, or why it failed."""
    product = db.session.get(ApiProduct, product_id)
    if product is None or not product.source_url:
        return
    url, found, environments, error = product.source_url, None, None, None
    db.session.rollback()  # no transaction held open while the document arrives
    try:
        document = load(fetch(url, headers=ACCEPT))
        found, environments = endpoints_from_openapi(document), environments_from_openapi(document)
    except FetchFailed as exc:
        error = exc.stored
    except ValueError:
        error = message(NOT_OPENAPI)
    product = db.session.get(ApiProduct, product_id)
    if product is None or product.source_url != url:  # the admin changed it meanwhile
        return
    keep_found(product, found, error)
    if error is None:  # like the summaries, the servers follow the document at every reading
        product.catalog_environments = environments
    db.session.commit()
    log.info("catalog: read %s for product %s: %s", url, product_id,
             "failed" if error else f"{len(found)} endpoints")


def keep_found(product, found, error=None):
    """Store a reading's outcome on the product: its endpoints while they would change
    something (else none wait), or the error (what waited stays, for the admin to judge)."""
    product.source_reading = False
    product.source_read_at = utcnow()
    product.source_error = error
    if error is None:
        _follow_summaries(product, found)
        added, retired = changes(product, found)
        product.source_found = [list(entry) for entry in found] if (added or retired) else None


def changes(product, found):
    """What applying `found` would do: (added [(method, path, summary)], retired [ApiEndpoint])."""
    active = {(e.method, e.path) for e in product.endpoints if e.active}
    wanted = {(method, path) for method, path, _ in found}
    added = [entry for entry in _unique(found) if (entry[0], entry[1]) not in active]
    retired = [e for e in product.endpoints if e.active and (e.method, e.path) not in wanted]
    return added, retired


def pending_changes(product):
    """The changes waiting for the admin, or None."""
    if not product.source_found:
        return None
    return changes(product, [tuple(entry) for entry in product.source_found])


def apply_found(product):
    """Apply what the last reading found: add (or bring back) its endpoints, retire the
    others. Returns (added, retired) counts; the caller commits."""
    found = [tuple(entry) for entry in product.source_found or ()]
    retired = changes(product, found)[1]
    added = add_endpoints(product, found)
    for endpoint in retired:
        endpoint.active = False
    product.source_found = None
    audit.record("endpoints.synced", product=product.name, added=added, retired=len(retired))
    return added, len(retired)


def add_endpoints(product, found):
    """Add the endpoints of `found` the product does not offer (bringing back a removed or
    retired one rather than adding it twice); returns how many. The caller commits."""
    rows = {}
    for endpoint in product.endpoints:  # an active row wins over a removed one of the same key
        if endpoint.active or (endpoint.method, endpoint.path) not in rows:
            rows[(endpoint.method, endpoint.path)] = endpoint
    position = (db.session.scalar(select(func.max(ApiEndpoint.position))
                                  .where(ApiEndpoint.product_id == product.id)) or 0) + 1
    added = 0
    for method, path, summary in _unique(found):
        row = rows.get((method, path))
        if row is None:
            row = ApiEndpoint(method=method, path=path, summary=summary, position=position + added)
            product.endpoints.append(row)
            rows[(method, path)] = row
        elif row.active:
            continue
        row.active = True
        row.summary = summary or row.summary
        added += 1
    return added


def _follow_summaries(product, found):
    summaries = {(method, path): summary for method, path, summary in found}
    for endpoint in product.endpoints:
        summary = summaries.get((endpoint.method, endpoint.path))
        if summary and endpoint.summary != summary:
            endpoint.summary = summary


def _unique(found):
    seen = set()
    for method, path, summary in found:
        if (method, path) not in seen:
            seen.add((method, path))
            yield method, path, summary
