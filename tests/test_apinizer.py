"""The Apinizer API Manager connector against the simulator of its Management API
(tests/apinizersim/): the picked projects' proxies become products with their endpoints,
previewed then applied; what left Apinizer is retired, never deleted; the token is stored
encrypted, never shown, and sent only to the address it was typed for."""
import pytest
from sqlalchemy import select

from tests.apinizersim import TOKEN
from tests.apinizersim.fixtures import apinizer_sim, apinizer_sim_server  # noqa: F401
from webapp import crypto
from webapp.catalog import apinizer
from webapp.extensions import db
from webapp.models import ApiEndpoint, ApiProduct, ApinizerSettings, SupportRequest
from webapp.periodic import periodic_jobs

HX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def http_allowed(app):
    app.config["APINIZER_ALLOW_HTTP"] = True  # the simulator listens on plain http


def save(client, sim, **changes):
    data = {"base_url": sim.url, "api_token": TOKEN, "projects": "Payments"}
    data.update(changes)
    return client.post("/admin/apinizer", data=data, follow_redirects=True).get_data(as_text=True)


def status(client):
    return client.get("/admin/apinizer/status", headers=HX).get_data(as_text=True)


def catalog():
    db.session.expire_all()
    return {p.name: [(e.method, e.path, e.summary) for e in p.endpoints if e.active]
            for p in db.session.scalars(select(ApiProduct).where(ApiProduct.published)).all()}


def test_the_projects_proxies_become_products_after_the_preview(client, admin, apinizer_sim, drain):
    page = save(client, apinizer_sim, projects="Payments")
    assert "The worker reads Apinizer now" in page and TOKEN not in page
    drain()
    page = status(client)
    assert "2 products added, 0 retired" in page and "+ <code>POST /cards/charges</code> — Charge a card" in page
    assert "Projects this token can see: Payments, Internal" in page
    assert catalog() == {}  # nothing before the admin applies
    client.post("/admin/apinizer/apply", headers=HX)
    assert catalog() == {
        "Cards API": [("POST", "/cards/charges", "Charge a card"), ("GET", "/cards/charges/{id}", "Get a charge")],
        "Refunds API": [(None, "/refunds", "Any refund call")],  # ALL: any method; inactive ones left out
    }
    assert apinizer_sim.calls["GET list_endpoints"] == 2
    assert set(apinizer_sim.authorizations) == {f"Bearer {TOKEN}"}
    settings = ApinizerSettings.get()
    assert crypto.decrypt(settings.api_token_encrypted) == TOKEN and settings.api_token_last4 == TOKEN[-4:]
    assert TOKEN not in client.get("/admin/apinizer").get_data(as_text=True)


def test_what_left_apinizer_is_retired_and_older_requests_still_show_it(client, admin, apinizer_sim, drain):
    save(client, apinizer_sim)
    drain()
    client.post("/admin/apinizer/apply", headers=HX)
    charge = db.session.scalars(select(ApiEndpoint).where(ApiEndpoint.path == "/cards/charges/{id}")).one()
    older = SupportRequest(reporter_id=admin.id, label="Bug", summary="s", description="d", delivery_state="local",
                           product_id=charge.product_id, endpoint_id=charge.id)
    db.session.add(older)
    db.session.commit()

    proxies = apinizer_sim.projects["Payments"]["proxies"]
    del proxies["Refunds API"]
    proxies["Cards API"]["endpoints"] = [e for e in proxies["Cards API"]["endpoints"] if e["id"] != "e2"]
    proxies["Cards API"]["endpoints"].append({"id": "e5", "endpoint": "/tokens", "description": "Tokenise",
                                              "active": True, "httpMethod": "POST"})
    client.post("/admin/apinizer/refresh", headers=HX)
    drain()
    page = status(client)
    assert "0 products added, 1 retired" in page and "− Refunds API" in page
    assert "Cards API: 1 added, 1 retired" in page and "− <code>GET /cards/charges/{id}</code>" in page
    client.post("/admin/apinizer/apply", headers=HX)
    assert catalog() == {"Cards API": [("POST", "/cards/charges", "Charge a card"), ("POST", "/cards/tokens", "Tokenise")]}
    assert db.session.get(ApiEndpoint, charge.id).active is False  # retired, not deleted
    assert "GET /cards/charges/{id}" in client.get(f"/requests/{older.id}").get_data(as_text=True)
    assert "The products match Apinizer." in status(client)


def test_a_refused_token_or_unknown_project_changes_nothing(client, admin, apinizer_sim, drain):
    save(client, apinizer_sim, api_token="wrong-token")
    drain()
    page = status(client)
    assert "The last reading failed; nothing was changed." in page and "Apinizer refused the token (HTTP 401)" in page
    save(client, apinizer_sim, projects="Payments, Nowhere")
    drain()
    assert "Apinizer knows no project Nowhere that this token&#39;s user may see." in status(client)
    assert catalog() == {}


def test_the_token_stays_with_the_address_it_was_typed_for(client, admin, apinizer_sim, drain):
    save(client, apinizer_sim)
    drain()
    page = save(client, apinizer_sim, base_url="http://127.0.0.1:1", api_token="")
    assert "The stored token was removed" in page
    assert ApinizerSettings.get().api_token_encrypted is None


def test_the_daily_job_reads_apinizer_when_it_is_set_up(client, admin, apinizer_sim, drain, app):
    assert ("apinizer", apinizer.refresh, 24 * 3600) in periodic_jobs(app)
    apinizer.refresh()  # not set up: nothing to read
    drain()
    assert apinizer_sim.calls == {}
    save(client, apinizer_sim)
    drain()
    client.post("/admin/apinizer/discard", headers=HX)
    apinizer.refresh()
    drain()
    assert "2 products added" in status(client)


def test_the_settings_are_checked_when_saved(client, admin, app, apinizer_sim):
    app.config["APINIZER_ALLOW_HTTP"] = False
    assert "(https://)" in save(client, apinizer_sim)
    app.config.update(APINIZER_ALLOW_HTTP=True, CATALOG_ALLOWED_HOSTS=["apinizer.example.com"])
    assert "only from these hosts: apinizer.example.com" in save(client, apinizer_sim)
    app.config["CATALOG_ALLOWED_HOSTS"] = []
    assert "Name at least one Apinizer project." in save(client, apinizer_sim, projects=" , ")
    assert ApinizerSettings.get().base_url == ""


def test_keys_rotate_reencrypts_the_apinizer_token(client, admin, app, runner, apinizer_sim, drain):
    save(client, apinizer_sim)
    drain()
    old_key = app.config["ENCRYPTION_KEYS"][0]
    app.config["ENCRYPTION_KEYS"] = ["Gq0Q3cS8cF0dYw0x8oYqVqfQmF7pQ2bJbJ9lP1mM0cU=", old_key]
    assert "Re-encrypted 1 stored secret(s)" in runner.invoke(args=["keys", "rotate"]).output
    app.config["ENCRYPTION_KEYS"] = app.config["ENCRYPTION_KEYS"][:1]  # the old key can go now
    db.session.expire_all()
    assert crypto.decrypt(ApinizerSettings.get().api_token_encrypted) == TOKEN
