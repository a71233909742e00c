"""Categories and API products with endpoints: the lists that feed the request form."""
import io
import json

import pytest
from sqlalchemy import select

from webapp.catalog.openapi import endpoints_from_openapi
from webapp.extensions import db
from webapp.models import ApiEndpoint, ApiProduct, AuditLog, Category

HX = {"HX-Request": "true"}


def names(model):
    db.session.expire_all()
    return [row.name for row in db.session.scalars(
        select(model).where(model.active).order_by(model.position, model.id))]


def test_categories_add_rename_reorder_remove(client, admin):
    for name in ("Payment", "Customer", "Other Request"):
        fragment = client.post("/admin/categories", data={"name": name}, headers=HX).data.decode()
    assert "<html" not in fragment and "Other Request" in fragment
    assert names(Category) == ["Payment", "Customer", "Other Request"]
    ids = {c.name: c.id for c in db.session.scalars(select(Category))}
    client.post(f"/admin/categories/{ids['Other Request']}/move", data={"direction": "up"}, headers=HX)
    assert names(Category) == ["Payment", "Other Request", "Customer"]
    client.post(f"/admin/categories/{ids['Payment']}/move", data={"direction": "up"}, headers=HX)
    assert names(Category) == ["Payment", "Other Request", "Customer"]  # already first
    client.post(f"/admin/categories/{ids['Customer']}/rename", data={"name": "Customers"}, headers=HX)
    client.post(f"/admin/categories/{ids['Payment']}/remove", headers=HX)
    assert names(Category) == ["Other Request", "Customers"]
    assert db.session.get(Category, ids["Payment"]).name == "Payment"  # kept for old requests
    page = client.get("/admin/categories").data.decode()
    assert "value=\"Payment\"" not in page and "value=\"Customers\"" in page


def test_category_errors_are_shown_in_place(client, admin):
    fragment = client.post("/admin/categories", data={"name": " "}, headers=HX).data.decode()
    assert "This field is required." in fragment
    assert client.post("/admin/categories", data={"name": ""}).status_code == 303  # no-JS: flash


def test_products_publish_unpublish_and_remove(client, admin):
    client.post("/admin/products", data={"name": "Payments API"}, headers=HX)
    client.post("/admin/products", data={"name": "Accounts API"}, headers=HX)
    product = db.session.scalars(select(ApiProduct).where(ApiProduct.name == "Payments API")).one()
    fragment = client.post(f"/admin/products/{product.id}/publish", data={"published": "0"},
                           headers=HX).data.decode()
    assert f'id="product-{product.id}"' in fragment and "Unpublished" in fragment
    db.session.expire_all()
    assert product.published is False and product.active is True
    client.post(f"/admin/products/{product.id}/rename", data={"name": "Payments API v2"}, headers=HX)
    accounts = db.session.scalars(select(ApiProduct).where(ApiProduct.name == "Accounts API")).one()
    client.post(f"/admin/products/{accounts.id}/move", data={"direction": "up"}, headers=HX)
    assert names(ApiProduct) == ["Accounts API", "Payments API v2"]
    client.post(f"/admin/products/{product.id}/remove", headers=HX)
    assert names(ApiProduct) == ["Accounts API"]
    assert client.post(f"/admin/products/{product.id}/rename", data={"name": "x"}).status_code == 404


def test_endpoints_add_validate_reorder_remove(client, admin):
    client.post("/admin/products", data={"name": "Payments API"})
    product = db.session.scalars(select(ApiProduct)).one()
    url = f"/admin/products/{product.id}/endpoints"
    client.post(url, data={"method": "post", "path": "/payments/v1"}, headers=HX)
    client.post(url, data={"method": "", "path": "/refunds/v1"}, headers=HX)
    bad = client.post(url, data={"method": "FETCH", "path": "payments"}, headers=HX).data.decode()
    assert "Choose one of GET" in bad and "starts with /" in bad
    db.session.expire_all()
    endpoints = [(e.method, e.path) for e in product.endpoints if e.active]
    assert endpoints == [("POST", "/payments/v1"), (None, "/refunds/v1")]
    second = product.endpoints[1]
    client.post(f"{url}/{second.id}/move", data={"direction": "up"}, headers=HX)
    db.session.expire_all()
    assert [e.path for e in sorted(product.endpoints, key=lambda e: e.position)] == ["/refunds/v1", "/payments/v1"]
    client.post(f"{url}/{second.id}/remove", headers=HX)
    db.session.expire_all()
    assert [e.path for e in product.endpoints if e.active] == ["/payments/v1"]


def test_endpoints_of_another_product_are_404(client, admin):
    client.post("/admin/products", data={"name": "A"})
    client.post("/admin/products", data={"name": "B"})
    a, b = db.session.scalars(select(ApiProduct).order_by(ApiProduct.id)).all()
    client.post(f"/admin/products/{a.id}/endpoints", data={"path": "/a"})
    endpoint = db.session.scalars(select(ApiEndpoint)).one()
    assert client.post(f"/admin/products/{b.id}/endpoints/{endpoint.id}/remove").status_code == 404



def test_endpoints_sharing_a_position_are_listed_as_they_are_moved(client, admin):
    """The product card and Move read one order, position then id (the card once ordered by
    position only)."""
    product = ApiProduct(name="Payments")
    product.endpoints = [ApiEndpoint(path=path, position=0) for path in ("/first", "/second", "/third")]
    db.session.add(product)
    db.session.commit()
    page = client.get("/admin/products").data.decode()
    assert page.index("/first<") < page.index("/second<") < page.index("/third<")
    second = product.endpoints[1]
    page = client.post(f"/admin/products/{product.id}/endpoints/{second.id}/move",
                       data={"direction": "up"}, headers=HX).data.decode()
    assert page.index("/second<") < page.index("/first<") < page.index("/third<")

OPENAPI_YAML = b"""
openapi: 3.0.0
info: {title: Payments, version: "1"}
servers:
  - url: https://api.example.com/payments/v1
paths:
  /charges:
    get: {responses: {"200": {description: ok}}}
    post: {summary: Create a charge, responses: {"201": {description: ok}}}
    parameters: []
  /charges/{id}:
    get: {responses: {"200": {description: ok}}}
"""


def test_import_endpoints_from_an_openapi_file(client, admin):
    client.post("/admin/products", data={"name": "Payments API"})
    product = db.session.scalars(select(ApiProduct)).one()
    client.post(f"/admin/products/{product.id}/endpoints", data={"method": "GET", "path": "/payments/v1/charges"})
    fragment = client.post(f"/admin/products/{product.id}/import", headers=HX,
                           data={"spec": (io.BytesIO(OPENAPI_YAML), "payments.yaml")},
                           content_type="multipart/form-data").data.decode()
    assert "2 endpoints added from payments.yaml (3 in the file)." in fragment
    db.session.expire_all()
    assert [(e.method, e.path, e.summary) for e in product.endpoints] == [
        ("GET", "/payments/v1/charges", None), ("POST", "/payments/v1/charges", "Create a charge"),
        ("GET", "/payments/v1/charges/{id}", None)]  # each summary kept
    assert db.session.scalars(select(AuditLog.action).where(AuditLog.action == "endpoints.imported")).one()


def test_import_refuses_what_is_not_openapi(client, admin):
    client.post("/admin/products", data={"name": "Payments API"})
    product = db.session.scalars(select(ApiProduct)).one()
    for content in (b"\x89PNG\r\n\x1a\n\x00\x00", b"just: yaml", b"[1, 2"):
        fragment = client.post(f"/admin/products/{product.id}/import", headers=HX,
                               data={"spec": (io.BytesIO(content), "x.json")},
                               content_type="multipart/form-data").data.decode()
        assert "This is not an OpenAPI or Swagger file" in fragment
    missing = client.post(f"/admin/products/{product.id}/import", headers=HX, data={},
                          content_type="multipart/form-data").data.decode()
    assert "Choose an OpenAPI file" in missing


@pytest.mark.parametrize("document, expected", [
    ({"swagger": "2.0", "basePath": "/v2/", "paths": {"/pets": {"get": {"summary": " List\n pets "}, "x-extra": {}}}},
     [("GET", "/v2/pets", "List pets")]),
    ({"openapi": "3.1.0", "servers": [{"url": "https://{region}.example.com/api"}],
      "paths": {"/pets": {"delete": {"summary": 5}}}}, [("DELETE", "/pets", None)]),
    ({"openapi": "3.1.0", "paths": {"/a": "not an object", "/b": {"PATCH": {}}}}, [("PATCH", "/b", None)]),
])
def test_openapi_parsing(document, expected):
    assert endpoints_from_openapi(json.dumps(document).encode()) == expected


def test_users_cannot_change_the_lists(client, auth, make_user):
    make_user(email="u@example.com")
    auth.login("u@example.com")
    for path in ("/admin/categories", "/admin/products", "/admin/products/1/endpoints",
                 "/admin/products/1/import", "/admin/categories/1/remove"):
        assert client.post(path, data={"name": "x"}).status_code == 403
    assert client.get("/admin/products").status_code == 403
