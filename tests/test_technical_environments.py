"""Environments from the catalog (issue 19 item 3, webapp/technical.py): a product's OpenAPI
`servers` (or Swagger 2's host, basePath and schemes), read by the worker, are the Environment
field's choices with that product when Jira Config or the product's card says so; the field
follows the chosen product (an out-of-band swap), a plain select works without JavaScript, and
the choice reaches Jira. Apinizer's environments: tests/test_apinizer.py."""
import json

import pytest
from sqlalchemy import select

from tests.docserver import DocServer
from tests.test_admin_jira import settings_form
from tests.test_delivery import issues_in
from webapp.catalog.openapi import environments_from_openapi, load
from webapp.extensions import db
from webapp.models import ApiProduct, JiraSettings, Label, SupportRequest

pytestmark = pytest.mark.usefixtures("no_server_errors")
HX = {"HX-Request": "true"}
PETS = {"openapi": "3.0.3", "info": {"title": "Pets", "version": "1"},
        "servers": [{"url": "https://api.example.com/v1", "description": "Production"},
                    {"url": "https://sandbox.example.com/v1"}],
        "paths": {"/pets": {"get": {"summary": "List pets"}}}}


@pytest.fixture
def docs():
    server = DocServer()
    yield server
    server.stop()


def test_servers_become_environment_names():
    assert environments_from_openapi(PETS) == ["Production", "https://sandbox.example.com/v1"]
    swagger = load(b"swagger: '2.0'\nhost: api.example.com\nbasePath: /v2\nschemes: [https, http]\npaths: {}\n")
    assert environments_from_openapi(swagger) == ["https://api.example.com/v2", "http://api.example.com/v2"]
    assert environments_from_openapi({"swagger": "2.0", "host": "h.example.com", "paths": {}}) == ["https://h.example.com"]
    odd = {"servers": [{"url": 5}, "x", {"description": " Two\nlines "}, {"url": "a" * 300}], "paths": {}}
    assert environments_from_openapi(odd) == ["Two lines", "a" * 100]
    assert environments_from_openapi({"paths": {}}) == []


def test_the_admin_picks_the_source_in_jira_config(client, admin):
    assert 'name="environments_from"' in client.get("/admin/jira").get_data(as_text=True)
    assert client.post("/admin/jira", data=settings_form(environments_from="catalog")).status_code == 303
    db.session.expire_all()
    assert JiraSettings.get().environments_from == "catalog"
    assert client.post("/admin/jira", data=settings_form(environments_from="elsewhere")).status_code == 200
    db.session.expire_all()
    assert JiraSettings.get().environments_from == "catalog"


def test_a_products_servers_are_offered_with_it_and_reach_jira(client, auth, make_user, docs, drain,
                                                                configure_jira, jira_sim):
    configure_jira(technical_fields=["environment"], environments="Staging", environments_from="catalog")
    db.session.add(Label(name="Bug"))
    pets, other = ApiProduct(name="Pets API", position=1), ApiProduct(name="Other API", position=2)
    db.session.add_all([pets, other])
    db.session.commit()
    auth.login(make_user(email="admin@example.com", admin=True).email)
    url = docs.serve("/openapi.json", json.dumps(PETS))
    client.post(f"/admin/products/{pets.id}/source", data={"url": url}, headers=HX)
    drain()  # the worker reads the document: its servers are kept at once, like summaries
    assert "The catalog names: Production, https://sandbox.example.com/v1" in client.get(
        f"/admin/products/{pets.id}/card", headers=HX).get_data(as_text=True)
    auth.logout()
    auth.login(make_user(email="deniz@example.com").email)

    page = client.get("/requests/new").get_data(as_text=True)  # no product yet: every choice, grouped
    assert ('<option value="Staging">Staging</option> <optgroup label="Pets API"><option value="Production">'
            in " ".join(page.split()))
    assert 'hx-include="#environment"' in page
    swap = client.get("/requests/endpoints", query_string={"product": pets.id, "environment": "Production"},
                      headers=HX).get_data(as_text=True)
    assert 'id="environment-field" class="field-wrap" hx-swap-oob="true"' in swap
    assert '<option value="Production" selected>' in swap and "Staging" not in swap
    swap = client.get("/requests/endpoints", query_string={"product": other.id}, headers=HX).get_data(as_text=True)
    assert '<option value="Staging">' in swap and "Production" not in swap  # no catalog list: the admin's

    form = {"label": "Bug", "summary": "s", "description": "d", "product": pets.id}
    page = client.post("/requests/new", data={**form, "environment": "Staging"}).get_data(as_text=True)
    assert "Choose an environment offered for the chosen product." in page
    assert db.session.scalar(select(SupportRequest)) is None
    assert client.post("/requests/new", data={**form, "environment": "Production"}).status_code == 303
    assert db.session.scalar(select(SupportRequest.technical)) == {"environment": "Production"}
    drain()
    (issue,) = issues_in(jira_sim)
    assert "Production" in json.dumps(issue["fields"]["description"])
    auth.logout()

    auth.login("admin@example.com")  # the product's card chooses otherwise
    card = client.post(f"/admin/products/{pets.id}/environments", data={"environments_from": "admin"},
                       headers=HX).get_data(as_text=True)
    assert 'value="admin" checked' in card
    assert client.post(f"/admin/products/{pets.id}/environments", data={"environments_from": "x"},
                       headers=HX).status_code == 200
    db.session.expire_all()
    assert db.session.get(ApiProduct, pets.id).environments_from == "admin"
    swap = client.get("/requests/endpoints", query_string={"product": pets.id}, headers=HX).get_data(as_text=True)
    assert '<option value="Staging">' in swap and "Production" not in swap


def test_without_names_the_field_takes_any_text(client, make_user, auth):
    settings = JiraSettings.get()
    settings.technical_fields, settings.environments_from = ["environment"], "catalog"
    db.session.add(Label(name="Bug"))
    db.session.commit()
    auth.login(make_user(email="deniz@example.com").email)
    page = client.get("/requests/new").get_data(as_text=True)
    assert '<input autocomplete="off" id="environment"' in page and "<select id=\"environment\"" not in page
    client.post("/requests/new", data={"label": "Bug", "summary": "s", "description": "d", "environment": " EU-2 "})
    assert db.session.scalar(select(SupportRequest.technical)) == {"environment": "EU-2"}
