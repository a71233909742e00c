"""In a real browser: an admin makes a product follow its OpenAPI document, sees the preview,
applies it; the document changes, "Refresh now" retires the endpoint that left it, the form
no longer offers it, and an older request still shows it. Apinizer: the admin reads the
projects, ticks one, applies its proxies; the form's Environment field then follows the
chosen product (its project's environments)."""
import json

import pytest

from tests.apinizersim import TOKEN
from tests.apinizersim.fixtures import apinizer_sim, apinizer_sim_server  # noqa: F401
from tests.browser import IN_PROCESS_JOBS, Page
from tests.docserver import DocServer
from webapp.extensions import db
from webapp.models import ApiEndpoint, ApiProduct, JiraSettings, SupportRequest, User

V1 = {"openapi": "3.0.3", "info": {"title": "Pets", "version": "1"},
      "paths": {"/pets": {"get": {"summary": "List pets"}}, "/pets/{id}": {"delete": {"summary": "Delete a pet"}}}}
V2 = "openapi: 3.0.3\ninfo: {title: Pets, version: '2'}\npaths:\n  /pets:\n    get: {summary: List pets}\n"


@pytest.fixture
def live_app_overrides():
    return {"APINIZER_ALLOW_HTTP": True, **IN_PROCESS_JOBS}  # the simulator listens on plain http


@pytest.fixture
def docs():
    server = DocServer()
    yield server
    server.stop()


def test_refreshing_a_followed_document_retires_an_endpoint_an_older_request_keeps(browser, live_server, make_user, docs):
    app, url = live_server
    with app.app_context():
        make_user(email="admin@example.com", admin=True, name="Ada Admin")
        db.session.add(ApiProduct(name="Pets API", position=1))
        db.session.commit()
    page = Page(browser, url)
    p = page.page
    page.log_in("admin@example.com")
    page.goto("/admin/products")
    p.fill(".product input[name=url]", docs.serve("/openapi.json", json.dumps(V1)))
    p.click(".product-source button")
    p.wait_for_selector(".source-preview")  # the card polled until the worker had read it
    assert "2 added, 0 retired" in p.locator(".source-preview").inner_text()
    page.shot("admin-products-preview")
    p.click(".source-preview button:text-is(\"Apply\")")
    p.wait_for_selector("text=The endpoints match the document.")

    with app.app_context():
        product = db.session.query(ApiProduct).one()
        delete = db.session.query(ApiEndpoint).filter_by(method="DELETE").one()
        admin = db.session.query(User).one()
        older = SupportRequest(reporter_id=admin.id, label="Bug", summary="Delete fails", description="d",
                               delivery_state="local", product_id=product.id, endpoint_id=delete.id)
        db.session.add(older)
        db.session.commit()
        older_id, product_id = older.id, product.id

    def offered():  # the Endpoint field the new-request form swaps in for this product
        return p.context.request.get(f"{url}/requests/endpoints?product={product_id}").text()

    assert "DELETE /pets/{id} — Delete a pet" in offered()
    docs.serve("/openapi.json", V2, content_type="application/yaml")
    page.goto("/admin/products")
    p.click(".product-source >> text=Refresh now")
    p.wait_for_selector(".source-preview")
    assert "0 added, 1 retired" in p.locator(".source-preview").inner_text()
    p.click(".source-preview button:text-is(\"Apply\")")
    p.wait_for_selector("text=The endpoints match the document.")
    page.shot("admin-products-applied")

    assert "GET /pets — List pets" in offered() and "DELETE" not in offered()
    page.goto(f"/requests/{older_id}")
    assert "DELETE /pets/{id}" in p.inner_text("main")
    assert page.errors == []
    page.close()


def test_an_admin_connects_apinizer_and_applies_its_proxies(browser, live_server, make_user, apinizer_sim):
    app, url = live_server
    with app.app_context():
        make_user(email="admin@example.com", admin=True, name="Ada Admin")
    page = Page(browser, url)
    p = page.page
    page.log_in("admin@example.com")
    page.goto("/admin/apinizer")
    p.fill("#base_url", apinizer_sim.url)
    p.fill("#api_token", TOKEN)
    p.click('form.settings-form button:text-is("Save")')
    p.check('#apinizer-projects input[value="Payments"]')  # polled until the worker had read them
    assert p.locator('#apinizer-projects input[name="projects"]').count() == 2
    apinizer_sim.projects["Accounts"] = {"description": "", "environments": [], "proxies": {}}
    p.click('#apinizer-projects button:text-is("Read projects")')
    p.wait_for_selector('#apinizer-projects input[value="Accounts"]')
    p.check('#apinizer-projects input[value="Payments"]')
    p.click('form.settings-form button:text-is("Save")')
    p.wait_for_selector("#apinizer-status .preview-list")  # polled until the worker had read it
    assert "2 products added, 0 retired" in p.inner_text("#apinizer-status")
    page.shot("admin-apinizer-preview")
    p.click('#apinizer-status button:text-is("Apply")')
    p.wait_for_selector("text=The products match Apinizer.")
    page.goto("/admin/products")
    assert "Cards API" in p.content() and "Charge a card" in p.inner_text("main")
    assert "The catalog names: production, sandbox" in p.inner_text("main")

    with app.app_context():  # the form asks for the environment, from the catalog
        settings = JiraSettings.get()
        settings.technical_fields, settings.environments, settings.environments_from = (
            ["environment"], "Staging", "catalog")
        db.session.commit()
    page.goto("/requests/new")
    assert p.locator("#environment optgroup").count() == 2  # no product yet: grouped, works without JS
    p.select_option("#product", label="Cards API")
    p.wait_for_selector("#environment:not(:has(optgroup))")
    assert p.locator("#environment option").all_inner_texts() == ["—", "production", "sandbox"]
    p.select_option("#environment", "sandbox")
    p.select_option("#product", value="")
    p.wait_for_selector("#environment optgroup", state="attached")
    assert p.locator("#environment option:checked").inner_text() == "sandbox"  # kept while still offered
    assert page.errors == []
    page.close()
