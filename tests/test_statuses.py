"""Statuses in people's words (issue 17 items 3, 4, 6): Jira's statuses read by a worker,
named by the admin in English and Turkish, "Waiting for you", and the list's filters."""
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.hostile import attack
from tests.jirasim.fixtures import both_deployments
from webapp import statuses, sync
from webapp.extensions import db
from webapp.models import AuditLog, JiraSettings, JiraStatus, StatusChange, SupportRequest
from webapp.sync.apply import shown_status

pytestmark = pytest.mark.usefixtures("no_server_errors")
JIRA_NAMES = ("To Do", "In Progress", "Waiting for customer", "Done")


@pytest.fixture
def reporter(make_user):
    return make_user(email="deniz@example.com", name="Deniz Yılmaz")


def make_request(reporter, **fields):
    values = dict(reporter_id=reporter.id, label="Bug", summary="Something broke", description="Details",
                  delivery_state="sent")
    item = SupportRequest(**{**values, **fields})
    db.session.add(item)
    db.session.commit()
    return item


def waiting_request(reporter, summary="Which application ID?", key="SUP-5"):
    return make_request(reporter, summary=summary, jira_key=key, jira_status="Waiting for customer",
                        jira_status_id="10001", jira_status_category="indeterminate")


def read_from_jira(client, drain):
    response = client.post("/admin/statuses/read")
    assert response.status_code == 303
    drain()
    db.session.expire_all()


def mapped(jira_id, **names):
    row = db.session.scalar(select(JiraStatus).where(JiraStatus.jira_id == jira_id))
    for name, value in names.items():
        setattr(row, name, value)
    db.session.commit()
    return row


# Reading them from Jira --------------------------------------------------------------------

@both_deployments
def test_read_from_jira_lists_the_projects_statuses_with_defaults(client, admin, jira_on, drain):
    page = client.get("/admin/statuses").get_data(as_text=True)
    assert "Not read from Jira yet." in page
    read_from_jira(client, drain)
    rows = {r.name: r for r in db.session.scalars(select(JiraStatus))}
    assert set(rows) == set(JIRA_NAMES)
    assert [(rows[n].name_en, rows[n].name_tr, rows[n].waiting_for_customer) for n in JIRA_NAMES] == [
        ("Received", "Alındı", False), ("In progress", "İşlemde", False),
        ("In progress", "İşlemde", True), ("Resolved", "Çözüldü", False)]
    assert rows["Waiting for customer"].jira_id == "10001" and rows["Done"].category == "done"
    page = client.get("/admin/statuses").get_data(as_text=True)
    assert "Last read from Jira" in page and all(name in page for name in JIRA_NAMES)
    assert db.session.scalar(select(AuditLog.action)) == "statuses.read_asked"


def test_the_admins_names_survive_a_new_read_and_a_status_gone_from_jira_is_marked(client, admin, jira_on, drain):
    read_from_jira(client, drain)
    mapped("10001", name_en="Waiting for your answer")
    jira_on.state.statuses["10005"] = {"id": "10005", "name": "Awaiting customer reply", "category": "indeterminate"}
    del jira_on.state.statuses["3"]
    read_from_jira(client, drain)
    rows = {r.jira_id: r for r in db.session.scalars(select(JiraStatus))}
    assert rows["10001"].name_en == "Waiting for your answer"
    assert rows["10005"].waiting_for_customer and rows["10005"].in_jira
    assert not rows["3"].in_jira
    assert "No longer in Jira" in client.get("/admin/statuses").get_data(as_text=True)


def test_reading_while_passive_calls_nothing_and_says_why(client, admin, jira_sim, drain):
    read_from_jira(client, drain)
    assert sum(jira_sim.calls.values()) == 0
    page = client.get("/admin/statuses").get_data(as_text=True)
    assert "The integration is passive or paused" in page


def test_a_refusal_is_shown_and_pauses(client, admin, jira_on, drain):
    jira_on.fault("error", status=401, path="/statuses")
    read_from_jira(client, drain)
    assert db.session.scalar(select(func.count()).select_from(JiraStatus)) == 0
    assert JiraSettings.get().paused_reason is not None
    assert 'class="error"' in client.get("/admin/statuses").get_data(as_text=True)


# The admin's names -------------------------------------------------------------------------

def test_saving_names_is_audited_and_bad_input_keeps_the_row(client, admin, jira_on, drain):
    read_from_jira(client, drain)
    row = mapped("10001")
    response = client.post(f"/admin/statuses/{row.id}", data={"name_en": " Waiting for you ", "name_tr": "Yanıtınız bekleniyor"})
    assert response.status_code == 303
    db.session.expire_all()
    row = db.session.get(JiraStatus, row.id)
    assert (row.name_en, row.name_tr, row.waiting_for_customer) == ("Waiting for you", "Yanıtınız bekleniyor", False)
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "statuses.changed"))
    assert entry.details == {"status": "Waiting for customer", "name_en": "Waiting for you",
                             "name_tr": "Yanıtınız bekleniyor", "waiting_for_customer": False}
    client.post("/language", data={"language": "tr"})
    page = client.post(f"/admin/statuses/{row.id}", data={"name_en": "", "name_tr": "x" * 101},
                       headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Bu alan zorunludur." in page and 'aria-invalid="true"' in page
    db.session.expire_all()
    assert db.session.get(JiraStatus, row.id).name_en == "Waiting for you"
    assert "Müşterilere gösterilen durum adları değiştirildi" in client.get("/admin/audit").get_data(as_text=True)


@attack(60)
@given(name_en=st.text(max_size=120), name_tr=st.text(max_size=120), waiting=st.sampled_from([None, "y", "", "0"]))
def test_the_status_form_stores_exactly_or_refuses(client, admin, tried, name_en, name_tr, waiting):
    tried("1 forms")
    row = db.session.scalar(select(JiraStatus)) or JiraStatus(jira_id="1", name="Open", category="new",
                                                                 name_en="Received", name_tr="Alındı")
    db.session.add(row)
    db.session.commit()
    before = (row.name_en, row.name_tr, row.waiting_for_customer)
    data = {"name_en": name_en, "name_tr": name_tr, **({"waiting": waiting} if waiting is not None else {})}
    response = client.post(f"/admin/statuses/{row.id}", data=data)
    assert response.status_code in (303, 400)
    db.session.expire_all()
    row = db.session.get(JiraStatus, row.id)
    if response.status_code == 400:  # NUL: no database stores it
        assert "\x00" in name_en + name_tr and (row.name_en, row.name_tr, row.waiting_for_customer) == before
    elif 0 < len(name_en.strip()) <= 100 and 0 < len(name_tr.strip()) <= 100:
        assert (row.name_en, row.name_tr) == (name_en.strip(), name_tr.strip())
        assert row.waiting_for_customer == (waiting in ("y", "0"))
    else:
        assert (row.name_en, row.name_tr, row.waiting_for_customer) == before


# What users see --------------------------------------------------------------------------

def test_a_turkish_user_never_sees_an_english_jira_status(client, make_user, auth, jira_on, drain, admin_client):
    read_from_jira(admin_client, drain)
    mapped("10002", name_tr="Tamamlandı, teşekkürler")
    user = make_user(email="ayse@example.com", language="tr")
    auth.login(user.email)
    client.post("/language", data={"language": "tr"})
    done = make_request(user, jira_key="SUP-1", jira_status="Done", jira_status_id="10002", jira_status_category="done")
    make_request(user, jira_key="SUP-2", jira_status="In Progress", jira_status_id="3", jira_status_category="indeterminate")
    make_request(user, jira_key="SUP-3", jira_status="Triage by L2", jira_status_id="99", jira_status_category="new")
    waiting_request(user, key="SUP-4")
    db.session.add_all([
        StatusChange(request_id=done.id, from_status="To Do", from_status_id="10000", from_category="new",
                     to_status="Done", to_status_id="10002", to_category="done"),
        StatusChange(request_id=done.id, from_status="Done", to_status="Reopened"),  # an old row: no ids
    ])
    db.session.commit()
    pages = [client.get("/requests/").get_data(as_text=True), client.get(f"/requests/{done.id}").get_data(as_text=True),
             client.get("/requests/", query_string={"status": "Alındı"}).get_data(as_text=True)]
    english = (*JIRA_NAMES, "Triage by L2", "Reopened", "Received", "In progress", "Resolved", "Waiting for you")
    for page in pages:
        for name in english:
            assert f">{name}<" not in page, name
    history = re.search(r'<section id="comments".*?</section>', pages[1], re.S).group(0)
    assert not [name for name in english if name in history]
    assert "Durum Alındı → Tamamlandı, teşekkürler olarak değişti" in history
    assert "Tamamlandı, teşekkürler → İşlemde olarak değişti" in history  # "Reopened": not mapped, no category
    listing = pages[0]
    for name in ("Tamamlandı, teşekkürler", "İşlemde", "Alındı", "Sizi bekliyor"):
        assert f">{name}<" in listing
    assert re.findall(r">(SUP-\d+)</a>", pages[2]) == ["SUP-3"]  # unmapped: its category's name
    options = re.search(r'<select id="filter-status".*?</select>', listing, re.S).group(0)
    assert "Tamamlandı, teşekkürler" in options and "Done" not in options


def test_shown_status_in_a_given_language_for_e_mails(app, reporter, jira_on, client, admin, drain):
    read_from_jira(client, drain)
    mapped("10001", name_en="Waiting for your answer", name_tr="Yanıtınızı bekliyor")
    item = waiting_request(reporter)
    with app.app_context():  # a job: no request, no reader
        assert shown_status(item, "tr") == "Yanıtınızı bekliyor"
        assert shown_status(item, "en") == "Waiting for your answer"
        assert statuses.is_waiting_for_customer(item)


def test_waiting_for_you_badge_count_filter_and_reply_box(client, reporter, auth, admin_client, jira_on, drain):
    read_from_jira(admin_client, drain)
    auth.login(reporter.email)
    waiting = waiting_request(reporter)
    make_request(reporter, summary="Other", jira_key="SUP-6", jira_status="In Progress", jira_status_id="3",
                 jira_status_category="indeterminate")
    resolved = waiting_request(reporter, summary="Resolved since", key="SUP-7")
    resolved.jira_status_category = "done"
    db.session.commit()
    listing = client.get("/requests/").get_data(as_text=True)
    assert listing.count("Waiting for you</span>") == 1
    assert re.search(r'id="waiting-count"[^>]*>1<', listing)
    page = client.get("/requests/", query_string={"show": "waiting"}).get_data(as_text=True)
    assert re.findall(r">(SUP-\d+)</a>", page) == ["SUP-5"]
    detail = client.get(f"/requests/{waiting.id}").get_data(as_text=True)
    assert 'id="reply-box" class="reply-box waiting-for-you"' in detail and "Waiting for you" in detail
    other = client.get("/requests/").get_data(as_text=True)
    mapped("10001", waiting_for_customer=False)
    assert "waiting-count" not in client.get("/requests/").get_data(as_text=True) and "waiting-count" in other
    # An admin sees the reporter's as waiting for the reporter, and not in "Waiting for me".
    mapped("10001", waiting_for_customer=True)
    admin_list = admin_client.get("/requests/").get_data(as_text=True)
    assert "Waiting for the reporter" in admin_list and "waiting-count" not in admin_list
    assert re.findall(r">(SUP-\d+)</a>", admin_client.get("/requests/?show=waiting").get_data(as_text=True)) == []


def test_a_change_between_two_statuses_of_one_name_is_not_listed(client, reporter, auth):
    auth.login(reporter.email)
    item = make_request(reporter, jira_key="SUP-8", jira_status="In Review", jira_status_id="20",
                        jira_status_category="indeterminate")
    db.session.add_all([
        StatusChange(request_id=item.id, from_status="To Do", from_status_id="10000", from_category="new",
                     to_status="In Progress", to_status_id="3", to_category="indeterminate"),
        StatusChange(request_id=item.id, from_status="In Progress", from_status_id="3", from_category="indeterminate",
                     to_status="In Review", to_status_id="20", to_category="indeterminate")])
    db.session.commit()
    history = re.search(r'<section id="comments".*?</section>', client.get(f"/requests/{item.id}").get_data(as_text=True),
                        re.S).group(0)
    assert history.count("Status changed from") == 1 and "Status changed from Received to In progress" in history


# The sync keeps Jira's ids --------------------------------------------------------------------

@both_deployments
def test_the_sync_stores_the_status_id_and_category_with_the_history(jira_on, jira_client, reporter):
    issue = jira_client.create_issue(jira_client.new_issue_fields("SUP", "10002", "Cannot log in"))
    item = make_request(reporter, jira_issue_id=issue.id, jira_key=issue.key, jira_status="To Do",
                        jira_status_category="new")
    sync.reconcile()
    db.session.expire_all()
    item = db.session.get(SupportRequest, item.id)
    assert item.jira_status_id == "10000"
    item.jira_status_id = None  # a row stored before ids were, its issue quiet since
    db.session.commit()
    before = item.updated_at
    sync.sync_changed()  # the incremental sync sees the quiet issue again: it gets its id, as no news
    db.session.expire_all()
    item = db.session.get(SupportRequest, item.id)
    assert item.jira_status_id == "10000" and item.updated_at == before
    assert db.session.scalar(select(func.count()).select_from(StatusChange)) == 0
    jira_on.set_status(issue.key, "Waiting for customer")
    sync.reconcile()
    db.session.expire_all()
    item = db.session.get(SupportRequest, item.id)
    assert (item.jira_status, item.jira_status_id, item.jira_status_category) == (
        "Waiting for customer", "10001", "indeterminate")
    change = db.session.scalar(select(StatusChange))
    assert (change.from_status_id, change.from_category, change.to_status_id, change.to_category) == (
        "10000", "new", "10001", "indeterminate")
