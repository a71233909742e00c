"""The Apinizer API Manager connector against the simulator of its Management API
(tests/apinizersim/): the admin picks projects from those the worker read ("Read projects");
their proxies become products with their endpoints (and their project's environments),
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


def connect(client, sim, drain, **changes):
    """Save the address and token; the worker reads the projects to pick from."""
    page = client.post("/admin/apinizer", data={"base_url": sim.url, "api_token": TOKEN, **changes},
                       follow_redirects=True).get_data(as_text=True)
    drain()
    return page


def save(client, sim, **changes):
    data = {"base_url": sim.url, "api_token": TOKEN, "projects": ["Payments"]}
    data.update(changes)
    if db.session.get(ApinizerSettings, 1) is None or ApinizerSettings.get().known_projects is None:
        db.session.rollback()  # the projects are read once, first
        client.post("/admin/apinizer", data={"base_url": sim.url, "api_token": TOKEN})
        apinizer.read_projects()
    return client.post("/admin/apinizer", data=data, follow_redirects=True).get_data(as_text=True)


def projects_box(client):
    return client.get("/admin/apinizer/projects", headers=HX).get_data(as_text=True)


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


def test_a_refused_token_or_a_project_gone_changes_nothing(client, admin, apinizer_sim, drain):
    connect(client, apinizer_sim, drain, api_token="wrong-token")
    page = projects_box(client)
    assert "The projects could not be read." in page and "Apinizer refused the token (HTTP 401)" in page
    assert 'name="projects"' not in page and db.session.get(ApinizerSettings, 1).known_projects is None
    save(client, apinizer_sim, projects=["Payments", "Internal"])
    drain()
    del apinizer_sim.projects["Internal"]
    client.post("/admin/apinizer/refresh", headers=HX)
    drain()
    page = status(client)
    assert "The last reading failed; nothing was changed." in page
    assert "Apinizer knows no project Internal that this token&#39;s user may see." in page
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


def test_the_admin_picks_the_projects_the_worker_read(client, admin, apinizer_sim, drain, monkeypatch):
    jobs = []
    monkeypatch.setattr(apinizer, "enqueue", lambda job, *args: jobs.append((job, args)))
    page = client.post("/admin/apinizer", data={"base_url": apinizer_sim.url, "api_token": TOKEN},
                       follow_redirects=True).get_data(as_text=True)
    assert "The worker reads the projects this token can see" in page
    assert "No projects read yet." in page and "Reading the projects from Apinizer…" in page
    assert apinizer_sim.calls == {} and jobs == [(apinizer.read_projects, ())]  # only a job calls Apinizer
    box = projects_box(client)
    assert 'hx-get="/admin/apinizer/projects"' in box  # polls itself while the worker reads
    monkeypatch.undo()
    apinizer.read_projects()
    box = projects_box(client)
    assert 'value="Payments"' in box and 'value="Internal"' in box and "hx-get" not in box
    assert apinizer_sim.calls == {"GET list_projects": 1}

    apinizer_sim.projects["Accounts"] = {"description": "", "environments": [], "proxies": {}}
    box = client.post("/admin/apinizer/projects/read", headers=HX).get_data(as_text=True)
    assert "Reading the projects from Apinizer…" in box and "Accounts" not in box
    drain()
    assert 'value="Accounts"' in projects_box(client)
    # Without JavaScript the button posts the settings form to the same route: back to the page.
    response = client.post("/admin/apinizer/projects/read", data={"base_url": "ignored", "projects": ["x"]})
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/apinizer")
    drain()

    page = client.post("/admin/apinizer", data={"base_url": apinizer_sim.url, "projects": ["Nowhere"]}).get_data(as_text=True)
    assert "Choose from the projects Apinizer listed." in page and ApinizerSettings.get().projects == []
    response = client.post("/admin/apinizer", data={"base_url": apinizer_sim.url, "projects": ["Accounts", "Payments"]})
    assert response.status_code == 303
    db.session.expire_all()
    assert ApinizerSettings.get().projects == ["Payments", "Accounts"]  # in Apinizer's order
    page = client.get("/admin/apinizer").get_data(as_text=True)
    assert 'value="Payments" checked' in page and 'value="Internal">' in page
    # A project Apinizer stops listing stays offered, ticked, until the admin unticks it.
    del apinizer_sim.projects["Accounts"]
    client.post("/admin/apinizer/projects/read", headers=HX)
    drain()
    assert 'value="Accounts" checked> Accounts</label> <span class="muted">(not listed' in projects_box(client)


def test_read_projects_needs_the_saved_address_and_token(client, admin, apinizer_sim, drain):
    page = client.post("/admin/apinizer/projects/read", follow_redirects=True).get_data(as_text=True)
    assert "Save the address and the token first." in page
    drain()
    assert apinizer_sim.calls == {}


def test_the_projects_environments_come_with_their_proxies(client, admin, apinizer_sim, drain):
    save(client, apinizer_sim)
    drain()
    client.post("/admin/apinizer/apply", headers=HX)
    db.session.expire_all()
    cards = db.session.scalars(select(ApiProduct).where(ApiProduct.name == "Cards API")).one()
    assert cards.catalog_environments == ["production", "sandbox"]
    # The vendor's newer path first, then the one of the reference the simulator follows.
    assert apinizer_sim.calls["GET list_project_environments"] == 1
    apinizer_sim.projects["Payments"]["environments"].append({"name": "eu-prod", "description": "",
                                                              "type": "PRODUCTION", "status": "PUBLISHED",
                                                              "accessUrl": "https://eu.example.com"})
    client.post("/admin/apinizer/refresh", headers=HX)
    drain()
    db.session.expire_all()
    # Like summaries, they follow Apinizer at each reading; nothing waits to be applied for them.
    assert db.session.get(ApiProduct, cards.id).catalog_environments == ["production", "sandbox", "eu-prod"]
    assert "The products match Apinizer." in status(client)
    apinizer_sim.projects["Payments"]["environments"] = "not a list"
    client.post("/admin/apinizer/refresh", headers=HX)
    drain()
    db.session.expire_all()  # an answer it cannot read leaves them as they were, and the reading stands
    assert db.session.get(ApiProduct, cards.id).catalog_environments == ["production", "sandbox", "eu-prod"]
    assert "The products match Apinizer." in status(client)
