"""Conditional polls (webapp/polls.py): a poll whose fragment did not change gets 304 from the
change counters alone; every writer (sync, webhook refresh, delivery, file fetch, admin
actions, catalog) makes the next poll render again."""
import pytest
from sqlalchemy import event, select

from tests.test_sync import fresh, reporter, synced_once, track  # noqa: F401
from tests.test_sync_attachments import PNG, app, attachments, no_auto_fetch  # noqa: F401
from webapp import delivery, sync
from webapp.extensions import db
from webapp.models import Attachment, Category, SupportRequest
from webapp.sync.jira_files import fetch_jira_file

POLL = {"HX-Request": "true"}
LIST = {**POLL, "HX-Target": "request-results"}


@pytest.fixture
def reader(client, auth, reporter):  # noqa: F811
    auth.login(reporter.email)
    return client


def poll(client, url, tag=None, headers=POLL):
    return client.get(url, headers={**headers, **({"If-None-Match": tag} if tag else {})})


def unchanged(client, url, headers=POLL):
    """Poll twice; the second, with the first's ETag, must be answered 304. Returns the ETag."""
    first = poll(client, url, headers=headers)
    assert first.status_code == 200 and first.headers["ETag"]
    again = poll(client, url, first.headers["ETag"], headers)
    assert again.status_code == 304 and again.data == b""
    return first.headers["ETag"]


def renders_again(client, url, tag, headers=POLL):
    response = poll(client, url, tag, headers)
    assert response.status_code == 200, "the change did not reach the poll"
    return response.get_data(as_text=True)


def detail_polls(request):
    return [f"/requests/{request.id}/{name}" for name in ("comments", "delivery", "files")]


@pytest.fixture
def statements(app):
    """The SQL statements run while the block runs."""
    seen = []

    def note(_conn, _cursor, statement, *_args):
        seen.append(statement)
    event.listen(db.engine, "before_cursor_execute", note)
    yield seen
    event.remove(db.engine, "before_cursor_execute", note)


def test_an_unchanged_poll_gets_304_without_the_pages_queries(reader, track, statements):  # noqa: F811
    request, _issue = track()
    for url in detail_polls(request):
        tag = unchanged(reader, url)
        statements.clear()
        assert poll(reader, url, tag).status_code == 304
        tables = " ".join(statements)
        assert "jira_comments" not in tables and "status_changes" not in tables and "attachments" not in tables
    tag = unchanged(reader, "/requests/", LIST)
    statements.clear()
    assert poll(reader, "/requests/", tag, LIST).status_code == 304
    assert not any("FROM support_requests" in s for s in statements)


def test_a_sync_a_comment_and_a_webhook_refresh_reach_the_next_poll(jira_on, reader, track):  # noqa: F811
    request, issue = track()
    synced_once()
    tags = {url: unchanged(reader, url) for url in detail_polls(request)}
    listed = unchanged(reader, "/requests/", LIST)
    jira_on.set_status(issue.key, "In Progress")
    jira_on.add_comment(issue.key, "We are looking into it.")
    sync.sync_changed()
    assert "We are looking into it." in renders_again(reader, f"/requests/{request.id}/comments",
                                                      tags[f"/requests/{request.id}/comments"])
    assert "In progress" in renders_again(reader, "/requests/", listed, LIST)  # its category's name

    tag, listed = unchanged(reader, f"/requests/{request.id}/comments"), unchanged(reader, "/requests/", LIST)
    jira_on.add_comment(issue.key, "Fixed on our side.")
    sync.refresh_issue(issue.id)  # what a webhook enqueues
    assert "Fixed on our side." in renders_again(reader, f"/requests/{request.id}/comments", tag)
    renders_again(reader, "/requests/", listed, LIST)


def test_a_delivery_reaches_the_delivery_box(jira_on, reader, reporter):  # noqa: F811
    request = SupportRequest(reporter_id=reporter.id, label="Bug", summary="Broken", description="...",
                             delivery_state="queued")
    db.session.add(request)
    db.session.commit()
    url = f"/requests/{request.id}/delivery"
    tag = unchanged(reader, url)
    delivery.deliver(request.id)  # the worker's job
    assert fresh(request).jira_key in renders_again(reader, url, tag)


def test_a_fetched_file_reaches_the_attachments(jira_on, reader, track, no_auto_fetch):  # noqa: F811
    request, issue = track()
    jira_on.attach(issue.key, "shot.png", PNG, mime_type="image/png")
    jira_on.add_comment(issue.key, "Here is what we see:", files=["shot.png"])
    synced_once()
    sync.sync_changed()
    [row] = attachments(request)
    url = f"/requests/{request.id}/files"
    tag = unchanged(reader, url)
    fetch_jira_file(row.id)
    assert f"/attachments/{row.id}" in renders_again(reader, url, tag)


def test_an_admins_retry_and_a_catalog_rename_reach_the_polls(app, reader, admin_client, reporter, drain):  # noqa: F811
    category = Category(name="Billing", position=1)
    request = SupportRequest(reporter_id=reporter.id, label="Bug", summary="Broken", description="...",
                             delivery_state="failed", category=category)
    db.session.add(request)
    db.session.commit()
    listed, tag = unchanged(reader, "/requests/", LIST), unchanged(reader, f"/requests/{request.id}/delivery")
    delivery.requeue([request.id])  # the admin's Retry
    drain()  # and what the worker then does, before the polls that must see no change
    renders_again(reader, f"/requests/{request.id}/delivery", tag)
    renders_again(reader, "/requests/", listed, LIST)

    listed = unchanged(reader, "/requests/", LIST)
    category.name = "Invoices"
    db.session.commit()
    assert "Invoices" in renders_again(reader, "/requests/", listed, LIST)


def test_a_change_to_someone_elses_request_keeps_my_304_but_not_the_admins(
        app, reader, admin_client, reporter, make_user):  # noqa: F811
    other = make_user(email="other@example.com")
    mine = unchanged(reader, "/requests/", LIST)
    admins = unchanged(admin_client, "/requests/", LIST)
    db.session.add(SupportRequest(reporter_id=other.id, label="Bug", summary="Theirs", description="..."))
    db.session.commit()
    assert poll(reader, "/requests/", mine, LIST).status_code == 304
    assert "Theirs" in renders_again(admin_client, "/requests/", admins, LIST)


def test_the_etag_follows_the_reader_and_the_url(app, reader, auth, reporter, make_user):  # noqa: F811
    tag = unchanged(reader, "/requests/", LIST)
    assert poll(reader, "/requests/?q=x", tag, LIST).status_code == 200
    reader.post("/language", data={"language": "tr"}, headers={"Referer": "/requests/"})
    reporter.language = "tr"
    db.session.commit()
    assert poll(reader, "/requests/", tag, LIST).status_code == 200
    someone = make_user(email="someone@example.com")
    auth.logout()
    auth.login(someone.email)
    assert poll(reader, "/requests/", tag, LIST).status_code == 200


def test_whole_pages_and_switched_off_polls_always_render(app_factory, reporter, auth, client):  # noqa: F811
    auth.login(reporter.email)
    page = client.get("/requests/")
    assert page.status_code == 200 and "ETag" not in page.headers
    app = app_factory(CONDITIONAL_POLLS=False)
    off = app.test_client()
    off.post("/auth/login", data={"email": reporter.email, "password": "correct horse battery"})
    first = poll(off, "/requests/", headers=LIST)
    assert "ETag" not in first.headers
    assert poll(off, "/requests/", '"anything"', LIST).status_code == 200


def test_a_rolled_back_change_bumps_nothing(app, reporter, track):  # noqa: F811
    request, _issue = track()
    version = fresh(request).poll_version
    row = fresh(request)
    row.summary = "Never saved"
    db.session.flush()
    db.session.rollback()
    db.session.commit()
    assert fresh(request).poll_version == version
    assert db.session.scalar(select(Attachment.id)) is None
