"""Links into the new-request form (`/requests/new?product=…&endpoint=…`): what they choose,
and that whatever a link says that names nothing offered is ignored (docs/embedding.md)."""
from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.hostile import attack, hostile_text
from webapp.extensions import db
from webapp.models import ApiEndpoint, ApiProduct, Category, Label
from webapp.support.links import slug

pytestmark = pytest.mark.usefixtures("no_server_errors")


@pytest.fixture
def catalog(app):
    payments = ApiProduct(name="Ödeme API", position=1)
    payments.endpoints = [ApiEndpoint(method="POST", path="/v2/payments", position=1),
                          ApiEndpoint(method="GET", path="/v2/payments/{id}", position=2)]
    accounts = ApiProduct(name="Accounts API", position=2)
    accounts.endpoints = [ApiEndpoint(method="POST", path="/v2/payments", position=1)]
    hidden = ApiProduct(name="Secret API", published=False)
    hidden.endpoints = [ApiEndpoint(method="GET", path="/secret")]
    db.session.add_all([Label(name="Bug", position=1), Label(name="Question", position=2),
                        Label(name="api-portal", applies_to_all=True), Category(name="Billing"),
                        payments, accounts, hidden])
    db.session.commit()
    return dict(payments=payments, accounts=accounts, hidden=hidden)


@pytest.fixture
def user(make_user, auth):
    auth.login(make_user(email="deniz@example.com").email)


def chosen(client, **query):
    """The form the link opens: each field's chosen value, and the summary typed in."""
    response = client.get("/requests/new?" + urlencode(query))
    assert response.status_code == 200
    form = FormValues()
    form.feed(response.get_data(as_text=True))
    return {name: form.values.get(name) for name in ("label", "category", "product", "endpoint", "summary")}


class FormValues(HTMLParser):
    """Each select's selected option's text, and each text input's value."""

    def __init__(self):
        super().__init__()
        self.values, self.select, self.option = {}, None, False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "select":
            self.select = attrs["name"]
        elif tag == "option" and "selected" in attrs and attrs.get("value"):
            self.option = True
        elif tag == "input" and attrs.get("value") and attrs.get("type", "text") == "text":
            self.values[attrs["name"]] = attrs["value"]

    def handle_endtag(self, tag):
        self.select = None if tag == "select" else self.select
        self.option = False

    def handle_data(self, data):
        if self.option and self.select:
            self.values[self.select] = data


def test_a_link_chooses_product_endpoint_category_label_and_summary(client, user, catalog):
    assert slug("Ödeme API") == "ödeme-api"
    assert chosen(client, product="ödeme-api", endpoint="post /v2/payments", category="billing",
                  label="bug", summary="  POST  /v2/payments answers 500 ") == {
        "label": "Bug", "category": "Billing", "product": "Ödeme API", "endpoint": "POST /v2/payments",
        "summary": "POST /v2/payments answers 500"}
    # By id; and the same path under another product is that product's endpoint.
    endpoint = catalog["accounts"].endpoints[0]
    assert chosen(client, product=catalog["accounts"].id, endpoint="POST /v2/payments")["product"] == "Accounts API"
    # The endpoint alone names its product.
    assert chosen(client, endpoint=str(endpoint.id))["product"] == "Accounts API"
    assert chosen(client, endpoint="GET /v2/payments/{id}")["product"] == "Ödeme API"


def test_what_names_nothing_offered_is_ignored(client, user, catalog):
    nothing = {"label": None, "category": None, "product": None, "endpoint": None, "summary": None}
    assert chosen(client, product="no-such-api", endpoint="DELETE /v2/payments", label="api-portal",
                  category="Other") == nothing
    assert chosen(client, product=catalog["hidden"].id, endpoint="GET /secret") == nothing
    # An endpoint of another product than the one named is not chosen; the product stays.
    assert chosen(client, product="accounts-api", endpoint="GET /v2/payments/{id}")["endpoint"] is None


@attack(100)
@given(query=st.dictionaries(st.sampled_from(["product", "endpoint", "category", "label", "summary", "x"]),
                             st.one_of(hostile_text, st.sampled_from(["1", "0", "-1", "ödeme-api", "POST"]))))
def test_any_link_opens_the_form_choosing_only_what_is_offered(client, user, catalog, query):
    query = {name: value.replace("\x00", "") for name, value in query.items()}
    values = chosen(client, **query)
    assert values["label"] in (None, "Bug", "Question")
    assert values["product"] in (None, "Ödeme API", "Accounts API")
    assert values["endpoint"] in (None, "POST /v2/payments", "GET /v2/payments/{id}")
    assert values["category"] in (None, "Billing")
    assert values["summary"] is None or 0 < len(values["summary"]) <= 255
