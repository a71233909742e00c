"""Support pages through the test client: list, search, the new-request form and its files.
The detail page and who may see what: test_support_detail.py; the browser walk:
test_browser_support.py."""
import io
import os
import re
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from webapp import housekeeping, storage
from webapp.extensions import db
from webapp.models import ApiEndpoint, ApiProduct, Attachment, Category, Label, SupportRequest, utcnow

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
LOG = "2026-11-30 10:00 POST /token -> 500\n".encode()


@pytest.fixture
def catalog(app):
    bug, question = Label(name="Bug", position=1), Label(name="Question", position=2)
    hidden = Label(name="api-portal", applies_to_all=True)
    billing = Category(name="Billing", position=1)
    payments = ApiProduct(name="Payments API", position=1)
    payments.endpoints = [ApiEndpoint(method="POST", path="/payments", position=1),
                          ApiEndpoint(method="GET", path="/payments/{id}", position=2)]
    unpublished = ApiProduct(name="Secret API", published=False)
    unpublished.endpoints = [ApiEndpoint(method="GET", path="/secret")]
    db.session.add_all([bug, question, hidden, billing, payments, unpublished])
    db.session.commit()
    return dict(category=billing, product=payments, endpoint=payments.endpoints[0],
                unpublished=unpublished)


@pytest.fixture
def user(make_user, auth):
    user = make_user(email="deniz@example.com", name="Deniz Yılmaz")
    auth.login(user.email)
    return user


def form_key(client):
    page = client.get("/requests/new").get_data(as_text=True)
    return re.search(r'name="submission_key"[^>]*value="([^"]+)"', page).group(1)


def send(client, files=(), **fields):
    data = {"label": "Bug", "summary": "Token endpoint answers 500",
            "description": "Since 09:00 every call fails.", "submission_key": form_key(client)}
    data.update(fields)
    data["attachments"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post("/requests/new", data=data, content_type="multipart/form-data")


def make_request(reporter, **fields):
    values = dict(reporter_id=reporter.id, label="Bug", summary="Something broke",
                  description="Details", delivery_state="sent")
    values.update(fields)
    item = SupportRequest(**values)
    db.session.add(item)
    db.session.commit()
    return item


def attach(item, name, data, content_type):
    stored, size, digest = storage.store_stream(io.BytesIO(data))
    file = Attachment(request_id=item.id, original_name=name, content_type=content_type,
                      size=size, sha256=digest, stored_name=stored)
    db.session.add(file)
    db.session.commit()
    return file


# The list ---------------------------------------------------------------------------------

def test_an_empty_list_invites_the_first_request(client, user):
    page = client.get("/requests/").get_data(as_text=True)
    assert "No support requests yet" in page
    assert 'href="/requests/new"' in page


def test_the_list_shows_own_requests_with_every_column(client, user, make_user, catalog):
    other = make_user(email="other@example.com")
    make_request(user, summary="Mine", jira_key="SUP-7", jira_status="In Progress",
                 jira_status_category="indeterminate", category_id=catalog["category"].id,
                 product_id=catalog["product"].id, endpoint_id=catalog["endpoint"].id)
    make_request(user, summary="Still queued", delivery_state="queued")
    make_request(other, summary="Not mine")
    page = client.get("/requests/").get_data(as_text=True)
    assert "Mine" in page and "Still queued" in page and "Not mine" not in page
    for text in ("SUP-7", "In progress", "badge-amber", "Billing", "Payments API", "POST /payments", "Queued"):
        assert text in page
    assert "Reporter" not in page  # only admins get that column


def test_admins_see_everyones_requests_with_the_reporter(client, admin, make_user):
    other = make_user(email="other@example.com", name="Oya Öztürk")
    make_request(other, summary="Theirs")
    page = client.get("/requests/").get_data(as_text=True)
    assert "Theirs" in page and "Oya Öztürk" in page and "Reporter" in page


def test_search_by_key_and_summary_and_filters(client, user, catalog):
    make_request(user, summary="Refund fails", jira_key="SUP-101", jira_status="Done", label="Bug",
                 jira_status_id="10002", jira_status_category="done", category_id=catalog["category"].id,
                 product_id=catalog["product"].id, endpoint_id=catalog["endpoint"].id)
    make_request(user, summary="How do I page results?", jira_key="SUP-202", jira_status="Open",
                 jira_status_id="1", jira_status_category="new", label="Question")
    make_request(user, summary="100% CPU_load", reference="PR-AAAA2222")

    def found(**params):
        page = client.get("/requests/", query_string=params).get_data(as_text=True)
        return sorted(re.findall(r">(SUP-\d+|PR-\w+)</a>", page))

    assert found(key="sup-1") == ["SUP-101"]
    assert found(key="aaaa") == ["PR-AAAA2222"]
    assert found(q="REFUND") == ["SUP-101"]
    assert found(q="%") == ["PR-AAAA2222"]  # LIKE wildcards are taken literally
    assert found(q="C_U") == []  # "CPU" would match an unescaped _
    assert found(status="Done") == []  # Jira's name is no one's word for it
    assert found(status="Resolved") == ["SUP-101"]
    assert found(status="Received") == ["SUP-202"]
    assert found(show="closed") == ["SUP-101"]
    assert found(show="open") == ["PR-AAAA2222", "SUP-202"]
    assert found(product=str(catalog["product"].id)) == ["SUP-101"]
    assert found(endpoint=str(catalog["endpoint"].id)) == ["SUP-101"]
    assert found(endpoint=str(catalog["endpoint"].id + 1)) == []
    assert found(label="Question") == ["SUP-202"]
    assert found(category=str(catalog["category"].id)) == ["SUP-101"]
    assert found(category="not-a-number") == ["PR-AAAA2222", "SUP-101", "SUP-202"]
    page = client.get("/requests/?q=nothing-like-this").get_data(as_text=True)
    assert "No request matches" in page


def test_a_key_shaped_search_finds_keys_and_references_by_their_beginning(client, user):
    for key in ("SUP-12", "SUP-123", "SUP-2120", "XSUP-12"):
        make_request(user, summary=key, jira_key=key)
    make_request(user, summary="not sent", reference="PR-7K3M9QXA")
    make_request(user, summary="SUP_1-9", jira_key="SUP_1-9")

    def found(key):
        page = client.get("/requests/", query_string={"key": key}).get_data(as_text=True)
        return sorted(re.findall(r">([A-Z][A-Z0-9_]*-\w+)</a>", page))

    assert found("sup-12") == ["SUP-12", "SUP-123"]  # as typed: the start of a key, any case
    assert found("SUP-123") == ["SUP-123"]
    assert found("SUP-") == ["SUP-12", "SUP-123", "SUP-2120"]
    assert found("pr-7k3") == found("PR-7K3M9QXA") == ["PR-7K3M9QXA"]
    assert found("SUP_1-") == ["SUP_1-9"]  # _ is a character of the key, not a wildcard
    assert found("2120") == ["SUP-2120"]  # not key-shaped: any part, as before


def test_a_search_as_you_type_gets_only_the_results(client, user):
    make_request(user, summary="Refund fails", jira_key="SUP-101")
    response = client.get("/requests/?q=refund", headers={"HX-Request": "true", "HX-Target": "request-results"})
    page = response.get_data(as_text=True)
    assert page.lstrip().startswith("<div id=\"request-results\"") and "<html" not in page
    assert 'hx-get="/requests/?q=refund"' in page  # the poll keeps the search
    assert "HX-Request" in response.headers["Vary"]
    boosted = client.get("/requests/?q=refund", headers={"HX-Request": "true", "HX-Boosted": "true",
                                                          "HX-Target": "request-results"})
    assert "<html" in boosted.get_data(as_text=True)


def test_pages_follow_the_newest_update_first(client, user, app):
    app.config["LIST_PAGE_SIZE"] = 10
    start = utcnow() - timedelta(days=1)
    for number in range(25):  # some share a timestamp: the id breaks the tie
        make_request(user, summary=f"Request {number:02d}", updated_at=start + timedelta(minutes=number // 2))
    seen, url = [], "/requests/"
    while url:
        page = client.get(url).get_data(as_text=True)
        seen += re.findall(r"<td>(Request \d+)</td>", page)
        older = re.search(r'href="([^"]+)">Older', page)
        url = older and older.group(1).replace("&amp;", "&")
    assert seen == [f"Request {n:02d}" for n in reversed(range(25))]
    assert client.get("/requests/?after=garbage").status_code == 200


# The form ---------------------------------------------------------------------------------

def test_the_form_offers_the_admins_lists(client, user, catalog):
    page = client.get("/requests/new").get_data(as_text=True)
    assert ">Bug<" in page and ">Question<" in page and "api-portal" not in page
    assert "Billing" in page and "Payments API" in page and "Secret API" not in page
    # No product chosen yet: every offered endpoint, grouped by product.
    assert '<optgroup label="Payments API"><option value="1">POST /payments</option>' in page
    assert "/secret" not in page


def test_without_labels_the_form_says_who_can_fix_it(client, user, make_user, auth):
    page = client.get("/requests/new").get_data(as_text=True)
    assert "No labels are set up yet" in page and "ask the portal's administrator" in page
    auth.logout()
    auth.login(make_user(email="boss@example.com", admin=True).email)
    page = client.get("/requests/new").get_data(as_text=True)
    assert 'href="/admin/jira#labels"' in page


def test_endpoints_follow_the_chosen_product(client, user, catalog):
    field = client.get(f"/requests/endpoints?product={catalog['product'].id}",
                       headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'id="endpoint-field"' in field and "POST /payments" in field and "GET /payments/{id}" in field
    hidden = client.get(f"/requests/endpoints?product={catalog['unpublished'].id}").get_data(as_text=True)
    assert "/secret" not in hidden


def test_sending_stores_the_request_with_its_files(client, user, catalog, app):
    response = send(client, files=[("trace.log", LOG), ("Ekran görüntüsü ş.png", PNG)],
                    category=catalog["category"].id, product=catalog["product"].id,
                    endpoint=catalog["endpoint"].id)
    assert response.status_code == 303
    item = db.session.scalar(select(SupportRequest))
    assert response.headers["Location"].endswith(f"/requests/{item.id}")
    assert (item.label, item.summary, item.reporter_id) == ("Bug", "Token endpoint answers 500", user.id)
    assert (item.category_id, item.product_id, item.endpoint_id) == (
        catalog["category"].id, catalog["product"].id, catalog["endpoint"].id)
    assert item.delivery_state == "local"  # the integration is passive in this test
    names = sorted(a.original_name for a in item.attachments)
    assert names == ["Ekran görüntüsü ş.png", "trace.log"]
    for attachment in item.attachments:
        path = storage.path_of(attachment.stored_name)
        assert path.read_bytes() in (LOG, PNG)
        assert "static" not in str(path) and attachment.original_name not in str(path)
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Your request {item.reference} was received." in detail


def test_a_form_sent_twice_files_one_request(client, user, catalog):
    key = form_key(client)
    data = {"label": "Bug", "summary": "Twice", "description": "d", "submission_key": key}
    first = client.post("/requests/new", data=data)
    second = client.post("/requests/new", data=data)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert db.session.scalar(select(func.count()).select_from(SupportRequest)) == 1


def test_errors_sit_next_to_their_fields_and_nothing_is_lost(client, user, catalog):
    response = send(client, files=[("trace.log", LOG)], label="", summary="  ",
                    description="Typed with care: <b>ğüşiöç</b>")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert db.session.scalar(select(func.count()).select_from(SupportRequest)) == 0
    assert page.count("This field is required.") == 4  # next to each field, and in the summary
    assert 'id="label-error"' in page and 'id="summary-error"' in page
    assert '<a href="#summary">Summary: This field is required.</a>' in page
    assert "Typed with care: &lt;b&gt;ğüşiöç&lt;/b&gt;" in page
    token = re.search(r'name="kept" value="([^"]+)"', page).group(1)
    assert "trace.log" in page
    key = re.search(r'name="submission_key"[^>]*value="([^"]+)"', page).group(1)
    fixed = client.post("/requests/new", data={"label": "Bug", "summary": "Now complete", "description": "d",
                                               "kept": token, "submission_key": key})
    assert fixed.status_code == 303
    item = db.session.scalar(select(SupportRequest))
    assert [a.original_name for a in item.attachments] == ["trace.log"]
    assert storage.path_of(item.attachments[0].stored_name).read_bytes() == LOG


def test_a_kept_file_can_be_removed_and_cannot_be_taken_by_another_user(client, user, make_user, auth, catalog):
    page = send(client, files=[("trace.log", LOG)], summary="").get_data(as_text=True)
    token = re.search(r'name="kept" value="([^"]+)"', page).group(1)
    removed = client.post("/requests/new", data={"label": "Bug", "summary": "s", "description": "d",
                                                 "kept": token, "remove": token, "submission_key": "k1"})
    assert removed.status_code == 303
    assert db.session.scalar(select(SupportRequest)).attachments == []
    auth.logout()
    thief = make_user(email="thief@example.com")
    auth.login(thief.email)
    client.post("/requests/new", data={"label": "Bug", "summary": "s", "description": "d",
                                       "kept": token, "submission_key": "k2"})
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 0


def test_files_are_judged_by_content_and_refused_clearly(client, user, catalog, app):
    app.config["ATTACHMENT_MAX_MB"] = 1
    files_before = len(list(storage.attachments_dir().iterdir()))
    page = send(client, files=[("photo.png", b"MZ\x90\x00 not a png"), ("tool.exe", b"MZ"),
                               ("big.log", b"x" * (1024 * 1024 + 1)), ("empty.txt", b""),
                               ("../../etc/ok.txt", b"fine")]).get_data(as_text=True)
    assert "“photo.png” is not really a .png file." in page
    assert "“tool.exe”: this type of file is not accepted." in page
    assert "“big.log” is larger than 1 MB." in page
    assert "“empty.txt” is empty." in page
    assert db.session.scalar(select(func.count()).select_from(SupportRequest)) == 0
    assert "ok.txt" in page and "etc/" not in page  # kept, under its own name only
    assert len(list(storage.attachments_dir().iterdir())) == files_before + 1  # refused files are not kept


def test_without_javascript_the_endpoint_names_its_product(client, user, catalog):
    response = send(client, endpoint=catalog["endpoint"].id)
    assert response.status_code == 303
    item = db.session.scalar(select(SupportRequest))
    assert (item.product_id, item.endpoint_id) == (catalog["product"].id, catalog["endpoint"].id)


def test_an_unpublished_products_endpoint_is_refused(client, user, catalog):
    page = send(client, endpoint=catalog["unpublished"].endpoints[0].id).get_data(as_text=True)
    assert "Choose an endpoint of the chosen product." in page
    assert db.session.scalar(select(func.count()).select_from(SupportRequest)) == 0


def test_files_of_forms_never_sent_are_removed_after_a_while(client, user, app):
    page = send(client, files=[("trace.log", LOG)], summary="").get_data(as_text=True)
    assert "trace.log" in page  # kept for the next try, owned by no request yet
    sent = make_request(user)
    owned = attach(sent, "owned.log", LOG, "text/plain")
    files = sorted(path.name for path in storage.attachments_dir().iterdir())
    assert housekeeping.remove_unclaimed_files() == 0  # too young
    old = time.time() - 25 * 3600
    for name in files:
        os.utime(storage.path_of(name), (old, old))
    assert housekeeping.remove_unclaimed_files() == len(files) - 1
    assert [path.name for path in storage.attachments_dir().iterdir()] == [owned.stored_name]


def test_choices_from_outside_the_lists_are_refused(client, user, catalog):
    other_product = ApiProduct(name="Other")
    other_product.endpoints = [ApiEndpoint(path="/other")]
    db.session.add(other_product)
    db.session.commit()
    page = send(client, label="Not a label", product=catalog["product"].id,
                endpoint=other_product.endpoints[0].id, category=9999).get_data(as_text=True)
    assert "Not a valid choice." in page
    assert "Choose an endpoint of the chosen product." in page
    assert "Choose a category from the list." in page
    assert db.session.scalar(select(func.count()).select_from(SupportRequest)) == 0




def test_an_id_no_row_has_gets_the_fields_own_message(client, user, catalog):
    """0 is refused like any id outside the list (it once got WTForms' generic message)."""
    page = send(client, category="0", product="0").get_data(as_text=True)
    assert "Choose a category from the list." in page and "Choose a product from the list." in page
    assert "Not a valid choice." not in page
    assert db.session.scalar(select(func.count()).select_from(SupportRequest)) == 0

def test_labels_and_categories_keep_one_order_everywhere(client, user):
    """Position first, then id: rows that share a position come in the order they were added,
    in the list's filters and in the form alike (the filters once ordered by position only)."""
    db.session.add_all([Label(name=name, position=1) for name in ("Zeta", "Alpha", "Mid")]
                       + [Category(name=name, position=1) for name in ("Cz", "Ca", "Cm")])
    db.session.commit()
    for page in (client.get("/requests/").get_data(as_text=True),
                 client.get("/requests/new").get_data(as_text=True)):
        labels = [page.index(f">{name}</option>") for name in ("Zeta", "Alpha", "Mid")]
        categories = [page.index(f">{name}</option>") for name in ("Cz", "Ca", "Cm")]
        assert labels == sorted(labels) and categories == sorted(categories)

def test_overlong_text_is_refused_with_the_limit(client, user, catalog):
    page = send(client, summary="x" * 256).get_data(as_text=True)
    assert "Field cannot be longer than 255 characters." in page
