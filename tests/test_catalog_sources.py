"""A product that follows its OpenAPI document by URL (webapp/catalog): read by the worker
from a real HTTP server (tests/docserver.py), previewed, applied; endpoints that left the
document are retired, never deleted; the caps on a reading leave everything as it was."""
import json

import pytest
from sqlalchemy import select

from tests.docserver import DocServer
from webapp.catalog import sources
from webapp.extensions import db
from webapp.models import ApiEndpoint, ApiProduct, SupportRequest
from webapp.periodic import periodic_jobs

HX = {"HX-Request": "true"}
PETS_V1 = {
    "openapi": "3.0.3", "info": {"title": "Pets", "version": "1"},
    "servers": [{"url": "https://api.example.com/v1"}],
    "paths": {
        "/pets": {"get": {"summary": "List pets"}, "post": {"summary": "Add a pet"}},
        "/pets/{id}": {"delete": {"summary": "Delete a pet"}},
    },
}
PETS_V2_YAML = """
swagger: "2.0"
info: {title: Pets, version: "2"}
basePath: /v1
paths:
  /pets:
    get: {summary: List every pet}
    post: {summary: Add a pet}
  /pets/{id}/photo:
    put: {summary: Upload a photo}
"""


@pytest.fixture
def docs():
    server = DocServer()
    yield server
    server.stop()


@pytest.fixture
def product(app, admin):
    product = ApiProduct(name="Pets API", position=1)
    product.endpoints = [ApiEndpoint(method="GET", path="/v1/pets", position=1)]
    db.session.add(product)
    db.session.commit()
    return product


def card(client, product):
    return client.get(f"/admin/products/{product.id}/card", headers=HX).get_data(as_text=True)


def active_endpoints(product):
    db.session.expire_all()
    return [(e.method, e.path, e.summary) for e in product.endpoints if e.active]


def follow(client, product, url):
    return client.post(f"/admin/products/{product.id}/source", data={"url": url}, headers=HX).get_data(as_text=True)


def test_a_document_is_read_by_the_worker_previewed_then_applied(client, product, docs, drain, app):
    url = docs.serve("/openapi.json", json.dumps(PETS_V1))
    page = follow(client, product, url)
    if app.extensions["queue"].mode == "rq":  # in-process, the job's thread may be done already
        assert "Reading the document" in page and docs.hits == []  # the web process never fetches
    drain()
    assert docs.hits == ["/openapi.json"]
    page = card(client, product)
    assert "2 added, 0 retired" in page and "nothing changes until you apply it" in page
    assert "DELETE /v1/pets/{id}</code> — Delete a pet" in page
    assert active_endpoints(product) == [("GET", "/v1/pets", "List pets")]  # summaries follow at once
    page = client.post(f"/admin/products/{product.id}/source/apply", headers=HX).get_data(as_text=True)
    assert "2 added, 0 retired." in page and "The endpoints match the document." in page
    assert active_endpoints(product) == [("GET", "/v1/pets", "List pets"), ("POST", "/v1/pets", "Add a pet"),
                                         ("DELETE", "/v1/pets/{id}", "Delete a pet")]


def test_refreshing_retires_what_left_the_document_and_older_requests_still_show_it(
        client, product, docs, drain, admin):
    url = docs.serve("/openapi", json.dumps(PETS_V1))
    follow(client, product, url)
    drain()
    client.post(f"/admin/products/{product.id}/source/apply", headers=HX)
    delete = db.session.scalars(select(ApiEndpoint).where(ApiEndpoint.method == "DELETE")).one()
    older = SupportRequest(reporter_id=admin.id, label="Bug", summary="Deleting fails", description="d",
                           delivery_state="local", product_id=product.id, endpoint_id=delete.id)
    db.session.add(older)
    db.session.commit()

    docs.serve("/openapi", PETS_V2_YAML, content_type="application/yaml")  # the document changes
    client.post(f"/admin/products/{product.id}/source/refresh", headers=HX)
    drain()
    page = card(client, product)
    assert "1 added, 1 retired" in page and "− <code>DELETE /v1/pets/{id}</code>" in page
    assert len(active_endpoints(product)) == 3  # nothing changed before the admin applies
    client.post(f"/admin/products/{product.id}/source/apply", headers=HX)
    assert active_endpoints(product) == [("GET", "/v1/pets", "List every pet"), ("POST", "/v1/pets", "Add a pet"),
                                         ("PUT", "/v1/pets/{id}/photo", "Upload a photo")]
    assert db.session.get(ApiEndpoint, delete.id).active is False  # retired, not deleted

    options = client.get(f"/requests/endpoints?product={product.id}").get_data(as_text=True)
    assert "PUT /v1/pets/{id}/photo — Upload a photo" in options and "DELETE" not in options
    assert "DELETE /v1/pets/{id}" in client.get(f"/requests/{older.id}").get_data(as_text=True)


def test_the_daily_job_reads_every_followed_document(client, product, docs, drain, app):
    assert ("catalog", sources.refresh_all, 24 * 3600) in periodic_jobs(app)
    product.source_url = docs.serve("/spec.yaml", PETS_V2_YAML, content_type="text/yaml")
    db.session.commit()
    sources.refresh_all()
    drain()
    assert "2 added, 0 retired" in card(client, product)


def test_discard_and_stop_following_leave_the_endpoints_as_they_are(client, product, docs, drain):
    follow(client, product, docs.serve("/openapi.json", json.dumps(PETS_V1)))
    drain()
    client.post(f"/admin/products/{product.id}/source/discard", headers=HX)
    assert "added," not in card(client, product)
    page = client.post(f"/admin/products/{product.id}/source/stop", headers=HX).get_data(as_text=True)
    assert "Follow an OpenAPI document" in page
    assert active_endpoints(product) == [("GET", "/v1/pets", "List pets")]


HUGE = json.dumps({"openapi": "3.0.0", "paths": {f"/p{i}": {"get": {}} for i in range(400)}})


@pytest.mark.parametrize("document, config, message", [
    (dict(body=HUGE), {"CATALOG_MAX_KB": 4}, "The document is larger than 4 KB, the most the operator allows."),
    (dict(body=HUGE, declare_length=False), {"CATALOG_MAX_KB": 4},
     "The document is larger than 4 KB, the most the operator allows."),
    (dict(body=json.dumps(PETS_V1), trickle=0.05), {"CATALOG_FETCH_SECONDS": 1},
     "The server took longer than 1 seconds to send the document."),
    (dict(body=json.dumps(PETS_V1)), {"CATALOG_ALLOWED_HOSTS": ["docs.example.com"]},
     "The operator allows documents only from these hosts: docs.example.com."),
    (dict(body="<html>Docs</html>", content_type="text/html"), {},
     "The document at this address is not OpenAPI or Swagger"),
    (dict(body="gone", status=410), {}, "The server answered HTTP 410 instead of the document."),
])
def test_a_reading_over_a_cap_changes_nothing_and_says_why(client, product, docs, drain, app,
                                                             document, config, message):
    url = docs.serve("/openapi.json", json.dumps(PETS_V1))
    follow(client, product, url)
    drain()
    before = card(client, product)
    assert "2 added, 0 retired" in before
    docs.serve("/openapi.json", **document)
    app.config.update(config)  # the operator changed a setting since the URL was saved
    client.post(f"/admin/products/{product.id}/source/refresh", headers=HX)
    drain()
    page = card(client, product)
    assert "The last reading failed; nothing was changed." in page and message in page
    assert "2 added, 0 retired" in page  # what waited still waits
    assert active_endpoints(product) == [("GET", "/v1/pets", "List pets")]


def test_a_redirect_to_a_host_not_allowed_is_not_followed(client, product, docs, drain, app):
    app.config["CATALOG_ALLOWED_HOSTS"] = ["127.0.0.1"]
    url = docs.serve("/openapi.json", "", status=302, location="http://localhost:1/openapi.json")
    follow(client, product, url)
    drain()
    assert "The operator allows documents only from these hosts: 127.0.0.1." in card(client, product)


def test_the_address_is_checked_when_it_is_saved(client, product, app):
    for bad in ("ftp://example.com/x", "not a url", "https://user:pw@example.com/x", "https://example.com:99999/"):
        assert "Enter the document&#39;s address" in follow(client, product, bad)
    app.config["CATALOG_ALLOWED_HOSTS"] = ["docs.example.com"]
    assert "only from these hosts: docs.example.com" in follow(client, product, "https://evil.example.net/openapi")
    db.session.expire_all()
    assert product.source_url is None and product.source_reading is False
