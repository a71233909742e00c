"""What goes with a request besides what was typed ("Sent with your request",
webapp/sent_with.py): the host page's context only as capped text, the box on the form, the
user leaving it out, and the lines it adds to the Jira description on Cloud and Data Center.
In a real browser, with the host page's postMessage: tests/test_browser_sent_with.py."""
import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from tests.hostile import attack, hostile_text
from tests.jirasim.fixtures import both_deployments
from tests.test_delivery import issues_in, new_request, reload
from tests.test_support_uploads import user  # noqa: F401 (a fixture: a logged-in user, label Bug)
from webapp.extensions import db
from webapp.jira import adf_to_text
from webapp.models import SupportRequest
from webapp.sent_with import FIELD_VALUE_MAX, TEXT_MAX, URL_MAX, from_host

pytestmark = pytest.mark.usefixtures("no_server_errors")
CHROME = "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36"
HOST = {"pageUrl": "https://developer.example.com/apis/payments#post-v2-payments",
        "pageTitle": "Payments API — POST /v2/payments", "fields": {"Application ID": "app-42", "Environment": "test"}}


def test_the_host_context_is_kept_as_capped_text_only():
    assert from_host(json.dumps(HOST)) == {
        "page_url": HOST["pageUrl"], "page_title": HOST["pageTitle"],
        "fields": [["Application ID", "app-42"], ["Environment", "test"]]}
    hostile = from_host(json.dumps({
        "pageUrl": "javascript:alert(1)", "pageTitle": "<b>x</b>\r\nSet-Cookie: a=1\u202e" + "t" * 999,
        "fields": {"ok": 42, "list": [1, 2], "object": {"a": 1}, "empty": " ", "yes": True,
                   "line\nbreak": "a\tb\x00c", **{f"f{n}": "v" for n in range(30)}}}))
    assert "page_url" not in hostile
    assert hostile["page_title"].startswith("<b>x</b> Set-Cookie: a=1 ") and len(hostile["page_title"]) == TEXT_MAX
    assert hostile["fields"][:2] == [["ok", "42"], ["line break", "a b c"]]
    assert len(hostile["fields"]) <= 20
    for raw in ("", "not json", "[1, 2]", "null", '"text"', "{" * 5000):
        assert from_host(raw) == {}


@given(st.recursive(st.none() | st.booleans() | st.floats() | st.integers() | hostile_text,
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(hostile_text, inner, max_size=4),
                    max_leaves=20),
       st.dictionaries(st.sampled_from(["pageUrl", "pageTitle", "fields"]), hostile_text | st.dictionaries(
           hostile_text, hostile_text, max_size=30)))
def test_whatever_the_host_sends_only_capped_text_is_kept(anything, shaped):
    for raw in (json.dumps(anything), json.dumps(shaped)):
        kept = from_host(raw)
        assert set(kept) <= {"page_url", "page_title", "fields"}
        assert len(kept.get("page_url", "")) <= URL_MAX and len(kept.get("page_title", "")) <= TEXT_MAX
        assert kept.get("page_url", "https://").startswith(("https://", "http://", "HTTP"))
        for name, value in kept.get("fields", []):
            assert isinstance(name, str) and isinstance(value, str) and 0 < len(value) <= FIELD_VALUE_MAX
            assert name.isprintable() and value.isprintable()


def test_the_form_lists_what_goes_with_the_request_and_it_is_stored(client, user):
    page = client.get("/requests/new", headers={"User-Agent": CHROME}).get_data(as_text=True)
    box = re.search(r'<details class="sent-context".*?</details>', page, re.S).group(0)
    assert "Sent with your request" in box and CHROME in box and "Portal language" in box
    assert "Europe/Istanbul" in box  # the portal's time zone until the browser says its own
    response = client.post("/requests/new", headers={"User-Agent": CHROME}, data={
        "label": "Bug", "summary": "s", "description": "d", "context": json.dumps(HOST), "time_zone": "Asia/Tokyo"})
    assert response.status_code == 303
    assert db.session.scalar(select(SupportRequest.context)) == {
        "page_url": HOST["pageUrl"], "page_title": HOST["pageTitle"],
        "fields": [["Application ID", "app-42"], ["Environment", "test"]],
        "browser": CHROME, "language": "en", "time_zone": "Asia/Tokyo"}


def test_the_box_alone_shows_the_host_context_in_the_users_language(client, user):
    client.post("/language", data={"language": "tr"})
    box = client.post("/requests/new/context", data={"context": json.dumps(HOST), "time_zone": "Asia/Tokyo"}
                      ).get_data(as_text=True)
    assert box.strip().startswith('<details class="sent-context" id="sent-context"')
    for text in ("Sayfa", HOST["pageUrl"], "Application ID", "app-42", "Asia/Tokyo", "Portal dili"):
        assert text in box, text


def test_left_out_nothing_goes_with_the_request(client, user):
    client.post("/requests/new", data={"label": "Bug", "summary": "s", "description": "d",
                                       "context": json.dumps(HOST), "leave_out_context": "y"})
    item = db.session.scalar(select(SupportRequest))
    assert item.context is None


def test_a_form_that_comes_back_keeps_the_host_context(client, user):
    page = client.post("/requests/new", data={"label": "Bug", "summary": "", "description": "d",
                                              "context": json.dumps(HOST)}).get_data(as_text=True)
    assert "app-42" in page and 'name="context"' in page


@both_deployments
def test_the_jira_description_carries_what_was_sent(configure_jira, make_user, drain, jira_sim, app):
    configure_jira()
    reporter = make_user(email="deniz@example.com", name="Deniz Yılmaz")
    context = {**from_host(json.dumps({**HOST, "fields": {"Application *ID*": "app-42 {code}"}})),
               "browser": CHROME, "language": "tr", "time_zone": "Europe/Istanbul"}
    request = new_request(reporter, context=context)
    drain()
    assert reload(request).delivery_state == "sent"
    (issue,) = issues_in(jira_sim)
    description = issue["fields"]["description"]
    text = adf_to_text(description) if jira_sim.deployment == "cloud" else description.replace("\\", "")
    assert ("Since 09:00 every call fails.\nSee the attached log.\n\nSent with the request:\n"
            f"Page: {HOST['pageUrl']}\nPage title: {HOST['pageTitle']}\nApplication *ID*: app-42 {{code}}\n"
            f"Browser: {CHROME}\nPortal language: tr\nTime zone: Europe/Istanbul\n\nPortal reference:") in text


@both_deployments
def test_without_context_the_description_is_as_before(configure_jira, make_user, drain, jira_sim, app):
    configure_jira()
    request = new_request(make_user(email="deniz@example.com"))
    drain()
    (issue,) = issues_in(jira_sim)
    description = issue["fields"]["description"]
    text = adf_to_text(description) if jira_sim.deployment == "cloud" else description.replace("\\", "")
    assert "Sent with the request" not in text and f"Portal reference: {reload(request).reference}" in text
