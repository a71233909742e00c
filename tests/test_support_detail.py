"""Support pages through the test client, after filing: the detail page, downloads, who may
see what, and the kept files of unsent forms. The list and the form are in test_support.py."""
import re
from datetime import timedelta
from urllib.parse import quote

from sqlalchemy import func, select

from tests.test_support import LOG, PNG, attach, catalog, form_key, make_request, send, user  # noqa: F401 (fixtures)
from webapp import storage
from webapp.extensions import db
from webapp.models import JiraComment, StatusChange, SupportRequest, utcnow


# The detail page --------------------------------------------------------------------------

def test_the_detail_page_shows_everything_and_public_comments_only(client, user, catalog):
    item = make_request(user, summary="Refund fails", description="Line one\nLine two", jira_key="SUP-9",
                        jira_status="Done", jira_status_category="done", category_id=catalog["category"].id,
                        product_id=catalog["product"].id, endpoint_id=catalog["endpoint"].id)
    now = utcnow()
    db.session.add_all([
        JiraComment(request_id=item.id, jira_comment_id="1", author_name="Selin Support",
                    body_html="<p>We are <strong>on it</strong>.</p>", public=True, created_at=now),
        JiraComment(request_id=item.id, jira_comment_id="2", author_name="", body_html="",
                    public=False, created_at=now),
        StatusChange(request_id=item.id, from_status="Open", from_category="new", to_status="Done",
                     to_category="done", changed_at=now + timedelta(minutes=1)),
    ])
    db.session.commit()
    page = client.get(f"/requests/{item.id}").get_data(as_text=True)
    for text in ("SUP-9", item.reference, "Refund fails", "Line one\nLine two", "Billing", "Payments API",
                 "POST /payments", "Deniz Yılmaz", "badge-green", "Selin Support",
                 "<strong>on it</strong>", "Status changed from Received to Resolved"):
        assert text in page
    assert page.index("Selin Support") < page.index("Status changed from Received to Resolved")


def test_back_returns_to_the_list_as_it_was(client, user):
    item = make_request(user, summary="Refund fails", jira_key="SUP-1")
    page = client.get("/requests/?q=refund&status=").get_data(as_text=True)
    link = re.search(r'href="(/requests/\d+\?back=[^"]+)"', page).group(1).replace("&amp;", "&")
    detail = client.get(link).get_data(as_text=True)
    assert 'href="/requests/?q=refund"' in detail
    evil = client.get(f"/requests/{item.id}?back=" + quote("//evil.example.com")).get_data(as_text=True)
    assert re.search(r'href="([^"]*)">← Back to the list', evil).group(1) == "/requests/"


def test_the_delivery_state_polls_until_the_key_is_known(client, user):
    item = make_request(user, delivery_state="queued")
    part = client.get(f"/requests/{item.id}/delivery", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'hx-trigger="every 2s"' in part and "Being sent" in part
    item.delivery_state, item.jira_key = "sent", "SUP-55"
    db.session.commit()
    part = client.get(f"/requests/{item.id}/delivery", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "SUP-55" in part and "hx-trigger" not in part


def test_downloads_are_attachments_with_the_unicode_name(client, user):
    item = make_request(user)
    file = attach(item, "Ekran görüntüsü ş.png", PNG, "image/png")
    response = client.get(f"/requests/{item.id}/attachments/{file.id}")
    assert response.status_code == 200 and response.data == PNG
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and quote("Ekran görüntüsü ş.png") in disposition


def test_nobody_edits_or_deletes_a_request(client, user, app):
    item = make_request(user)
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("support.")]
    # The form's posts, those that add to a request or change only how its reporter hears of
    # it, and the reporter's asks to the team to resolve or reopen it (in Jira, not here).
    posting = ("support.new_request", "support.upload_file", "support.context_box", "support.mute", "support.reply",
               "support.resolve", "support.reopen")
    assert all(rule.methods <= {"GET", "HEAD", "OPTIONS"} for rule in rules if rule.endpoint not in posting)
    assert client.post(f"/requests/{item.id}").status_code == 405
    assert client.delete(f"/requests/{item.id}").status_code == 405


def test_another_users_request_is_not_there(client, user, make_user, auth):
    item = make_request(user)
    file = attach(item, "trace.log", LOG, "text/plain")
    auth.logout()
    stranger = make_user(email="stranger@example.com")
    auth.login(stranger.email)
    for url in (f"/requests/{item.id}", f"/requests/{item.id}/delivery", f"/requests/{item.id}/comments",
                f"/requests/{item.id}/attachments/{file.id}"):
        assert client.get(url).status_code == 404, url
    assert "Something broke" not in client.get("/requests/?q=Something").get_data(as_text=True)
    assert "Something broke" not in client.get("/requests/?key=PR").get_data(as_text=True)


def test_a_file_of_another_request_is_not_served_through_mine(client, user, make_user):
    mine = make_request(user)
    theirs = make_request(make_user(email="other@example.com"))
    file = attach(theirs, "secret.log", LOG, "text/plain")
    assert client.get(f"/requests/{mine.id}/attachments/{file.id}").status_code == 404


def test_pages_need_a_login(client):
    for url in ("/requests/", "/requests/new", "/requests/1", "/requests/endpoints"):
        response = client.get(url)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_sending_needs_the_csrf_token(app_factory, make_user):
    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        user = make_user(email="csrf@example.com")
        client = app.test_client()
        page = client.get("/auth/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        client.post("/auth/login", data={"email": user.email, "password": "correct horse battery",
                                         "csrf_token": token})
        response = client.post("/requests/new", data={"label": "Bug", "summary": "s", "description": "d"})
        assert response.status_code == 400
        assert db.session.scalar(select(func.count()).select_from(SupportRequest)) == 0


def test_kept_files_of_unsent_forms_have_a_quota_per_user_oldest_dropped(client, user, app, catalog):
    """Issue 13, item 10: each form sent back with errors kept up to 100 MB for a day, without
    any limit. Now a user keeps at most KEPT_FILES_MAX_MB; the oldest files go first."""
    app.config["KEPT_FILES_MAX_MB"] = 1
    big = b"x" * (600 * 1024)
    files = lambda: {p.name for p in storage.attachments_dir().iterdir()}
    before = files()
    first = send(client, files=[("first.log", big)], summary="").get_data(as_text=True)
    first_token = re.search(r'name="kept" value="([^"]+)"', first).group(1)
    [first_file] = files() - before
    second = send(client, files=[("second.log", big)], summary="").get_data(as_text=True)
    assert "second.log" in second
    assert first_file not in files() and len(files() - before) == 1  # first.log went: 1.2 MB > 1 MB
    again = client.post("/requests/new", data={"label": "Bug", "summary": "", "description": "d",
                                               "kept": first_token, "submission_key": form_key(client)})
    assert "first.log" not in again.get_data(as_text=True)  # gone, not half there
    token = re.search(r'name="kept" value="([^"]+)"', second).group(1)
    sent = client.post("/requests/new", data={"label": "Bug", "summary": "s", "description": "d",
                                              "kept": token, "submission_key": form_key(client)})
    assert sent.status_code == 303
    [attachment] = db.session.scalar(select(SupportRequest)).attachments
    assert attachment.original_name == "second.log"
    assert storage.path_of(attachment.stored_name).read_bytes() == big
