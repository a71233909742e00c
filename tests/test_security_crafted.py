"""Security suite: crafted input that used to answer 500 or lead off-site (issue 13, items 7
and 8). Each is a clear 4xx or a safe answer now; the property tests also walk the successful
log-in path, and run on PostgreSQL in CI like the rest of the suite."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.hostile import attack, hostile_text
from tests.test_security_access import rules, url_for_rule, world  # noqa: F401
from tests.support import PASSWORD

pytestmark = pytest.mark.usefixtures("no_server_errors")

CRLF_NEXTS = ["/\r\nSet-Cookie: stolen=1", "/\r\n", "/requests/\nX: 1", "/\x7f", "/\t/evil.example",
              "/\x1b[31m"]
# A NUL anywhere is refused before any view, with a clear 400 (webapp/inputs.py).


@pytest.mark.parametrize("target", CRLF_NEXTS)
def test_a_next_with_control_characters_stays_on_site_after_a_successful_log_in(client, make_user, target, tried):
    tried("1 forms")
    make_user(email="a@example.com")
    response = client.post("/auth/login", query_string={"next": target},
                           data={"email": "a@example.com", "password": PASSWORD})
    assert response.status_code == 303 and response.headers["Location"] == "/requests/"
    assert "stolen" not in str(response.headers)


@pytest.mark.parametrize("target", CRLF_NEXTS)
def test_a_next_with_control_characters_on_the_language_switch(client, target, tried):
    tried("1 forms")
    response = client.post("/language", data={"language": "tr", "next": target})
    assert response.status_code == 303 and response.headers["Location"] == "/"


@pytest.fixture
def walker(make_user):
    return make_user(email="walk@example.com")


@attack(60)
@given(target=st.one_of(hostile_text, st.builds(lambda t: "/" + t, hostile_text), st.sampled_from(CRLF_NEXTS)))
def test_any_next_on_a_successful_log_in_stays_on_site(app, walker, tried, target):
    tried("1 forms")
    client = app.test_client()  # a browser of its own each time: the log-in must succeed
    response = client.post("/auth/login", query_string={"next": target},
                           data={"email": "walk@example.com", "password": PASSWORD})
    if "\x00" in target:
        assert response.status_code == 400
        return
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith("//") and "\\" not in location
    assert not any(ord(ch) < 32 or ord(ch) == 127 for ch in location)


def test_anonymous_head_and_options_on_every_route_are_no_server_error(client, world, app, tried):
    for rule in app.url_map.iter_rules():
        for method in ("HEAD", "OPTIONS"):
            tried("4 access control")
            response = client.open(url_for_rule(rule, world), method=method)
            assert response.status_code < 500, (method, rule.rule)
            if rule.endpoint.startswith("admin."):
                assert 300 <= response.status_code < 500 and b"A's" not in response.data, (method, rule.rule)


def test_a_submission_key_longer_than_its_column_is_a_clear_400(client, make_user, auth, tried):
    from webapp.extensions import db
    from webapp.models import Label
    db.session.add(Label(name="Bug"))
    db.session.commit()
    auth.login(make_user(email="a@example.com").email)
    tried("1 forms")
    response = client.post("/requests/new", data={"label": "Bug", "summary": "s", "description": "d",
                                                  "submission_key": "k" * 65})
    assert response.status_code == 400 and b"Reload the page" in response.data


@pytest.mark.parametrize("email", ["İ" * 200 + "@example.com", "ẞ" * 250, "ǰ" * 254])
def test_an_email_that_grows_when_lower_cased_is_just_a_wrong_log_in(client, email, tried):
    tried("1 forms")
    response = client.post("/auth/login", data={"email": email, "password": "x"})
    assert response.status_code in (200, 429)
    assert b"The e-mail or password is not correct." in response.data or response.status_code == 429


@pytest.mark.parametrize("path", ["/%5Cevil.example", "/%5C%5Cevil.example/x", "/%2F%2Fevil.example",
                                  "/requests/%5Cevil.example"])
def test_the_embedded_open_in_a_new_tab_link_never_leaves_the_site(app_factory, path, tried):
    tried("6 Jira URL")
    app = app_factory(EMBED_ORIGINS=["https://intranet.example.com"])
    page = app.test_client().get(path + "?embed=1", headers={"Sec-Fetch-Dest": "iframe"})
    html = page.get_data(as_text=True)
    link = html.split('target="_blank" rel="noopener"', 1)[0].rsplit('href="', 1)[1].split('"', 1)[0]
    assert link.startswith("/") and not link.startswith("//") and "\\" not in link and "evil" not in link


@pytest.mark.parametrize("url", ["/admin/audit", "/admin/users", "/admin/deliveries", "/admin/outbox"])
@pytest.mark.parametrize("page", ["99999999999999999999999999", "-5", "0", "2.5", "x"])
def test_any_page_number_of_an_admin_list_is_a_page_not_a_server_error(admin_client, url, page, tried):
    # PostgreSQL refuses an OFFSET past a bigint: a page that large once was a 500.
    tried("1 forms")
    response = admin_client.get(f"{url}?page={page}")
    assert response.status_code == 200
