"""Files the support team attaches in Jira: copied by the sync, fetched by the worker, served
from storage (the web process never calls Jira)."""
import hashlib
import io
import unicodedata

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from tests.jirasim import PORTAL_PAT, PORTAL_TOKEN
from tests.jirasim.fixtures import both_deployments
from tests.jirasim.state import now
from tests.test_sync import calls, fresh, reporter, synced_once, track  # noqa: F401
from webapp import integration, storage, sync
from webapp.extensions import db
from webapp.models import Attachment, utcnow
from webapp.storage import clean_filename
from webapp.sync import jira_files
from webapp.sync.jira_files import fetch_jira_file

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40  # every byte value, CRLF included


@pytest.fixture
def app(app_factory, tmp_path):
    app = app_factory(JIRA_TIMEOUT=(2, 5), ATTACHMENTS_DIR=str(tmp_path / "files"))
    with app.app_context():
        yield app


@pytest.fixture
def agent_file(jira_on, track):
    """agent_file(name, data, mime_type) → (request, row, Jira attachment id): an agent
    attached the file in Jira, showed it in a public comment, and a sync brought its row."""
    def make(name="shot.png", data=PNG, mime_type="image/png"):
        request, issue = track()
        attachment_id = jira_on.attach(issue.key, name, data, mime_type=mime_type)
        jira_on.add_comment(issue.key, "Here is what we see:", files=[name])
        synced_once()
        sync.sync_changed()
        [row] = attachments(request)
        return request, row, attachment_id
    return make


def attachments(request):
    db.session.expire_all()
    return db.session.scalars(
        select(Attachment).where(Attachment.request_id == request.id).order_by(Attachment.id)).all()


def delete_in_jira(sim, attachment_id):
    """An agent deletes the file in Jira (the simulator has no control action for this)."""
    with sim.state.lock:
        attachment = sim.state.attachments.pop(attachment_id)
        issue = sim.state.issues[attachment["issue"]]
        issue["attachments"].remove(attachment_id)
        issue["updated"] = now()


def portal_file(request, name, data, **columns):
    row = Attachment(request_id=request.id, source="portal", original_name=name,
                     content_type="text/plain", size=len(data), **columns)
    db.session.add(row)
    db.session.commit()
    return row


@pytest.fixture
def no_auto_fetch(monkeypatch):
    """The sync enqueues no fetch job: the test runs `fetch_jira_file` itself."""
    monkeypatch.setattr(jira_files, "enqueue_missing", lambda: 0)


def why_not(row):
    with force_locale("en"):
        return str(jira_files.why_not_stored(db.session.get(Attachment, row.id)))


def stored_bytes(row):
    db.session.expire_all()
    row = db.session.get(Attachment, row.id)
    return storage.path_of(row.stored_name).read_bytes() if row.stored_name else None


# The sync -------------------------------------------------------------------------------------

@pytest.mark.parametrize("run", ["sync_changed", "reconcile", "refresh_issue"])
def test_an_agents_file_appears_after_a_sync(jira_on, track, run, no_auto_fetch):
    request, issue = track()
    synced_once()
    before = fresh(request).updated_at
    attachment_id = jira_on.attach(issue.key, "report.pdf", b"%PDF-1.4 hello", mime_type="application/pdf")
    if run == "refresh_issue":  # what the webhook enqueues
        sync.refresh_issue(issue.id)
    else:
        getattr(sync, run)()
    [row] = attachments(request)
    assert (row.source, row.jira_attachment_id, row.original_name, row.content_type, row.size) == (
        "jira", attachment_id, "report.pdf", "application/pdf", 14)
    assert row.stored_name is None and row.created_at is not None
    assert fresh(request).updated_at > before  # a new file is something the user sees


def test_a_second_sync_adds_nothing(agent_file):
    request, _, _ = agent_file()
    before = fresh(request).updated_at
    sync.sync_changed()
    sync.reconcile()
    assert len(attachments(request)) == 1
    assert fresh(request).updated_at == before


def upload_from_portal(jira_client, issue, tmp_path, name="log.txt", data=b"portal log"):
    """What delivery sends for a portal file; returns Jira's attachment id."""
    source = tmp_path / name
    source.write_bytes(data)
    [uploaded] = jira_client.upload_attachment(issue.id, source, filename=name)
    return uploaded.id


def test_a_portal_file_uploaded_to_jira_is_not_copied(jira_on, track, jira_client, tmp_path):
    request, issue = track()
    uploaded_id = upload_from_portal(jira_client, issue, tmp_path)
    mine = portal_file(request, "log.txt", b"portal log", jira_attachment_id=uploaded_id,
                       uploaded_at=utcnow())
    synced_once()
    sync.sync_changed()
    sync.reconcile()
    assert [(a.id, a.source) for a in attachments(request)] == [(mine.id, "portal")]


def test_a_portal_upload_in_flight_is_left_to_delivery(jira_on, track, jira_client, tmp_path):
    """The upload reached Jira but the worker has not recorded its id yet: delivery adopts
    it by name and size, so the sync must not make a "jira" copy of it."""
    request, issue = track()
    mine = portal_file(request, "log.txt", b"portal log", upload_started_at=utcnow())
    uploaded_id = upload_from_portal(jira_client, issue, tmp_path)
    synced_once()
    sync.sync_changed()
    assert [a.source for a in attachments(request)] == ["portal"]
    # Had a copy been made anyway, it goes once delivery records the id as the portal file's.
    db.session.add(Attachment(request_id=request.id, source="jira", jira_attachment_id=uploaded_id,
                              original_name="log.txt", content_type="text/plain", size=10))
    db.session.get(Attachment, mine.id).jira_attachment_id = uploaded_id
    db.session.commit()
    sync.reconcile()
    assert [a.id for a in attachments(request)] == [mine.id]


def test_a_file_deleted_in_jira_disappears_with_its_cached_copy(jira_on, track, drain):
    request, issue = track()
    mine = portal_file(request, "mine.txt", b"mine", jira_attachment_id="99999", uploaded_at=utcnow())
    gone = jira_on.attach(issue.key, "gone.png", PNG, mime_type="image/png")
    kept = jira_on.attach(issue.key, "kept.png", PNG, mime_type="image/png")
    jira_on.add_comment(issue.key, "Both screenshots:", files=["gone.png", "kept.png"])
    synced_once()
    sync.sync_changed()
    drain()  # the worker fetched both
    row = next(a for a in attachments(request) if a.jira_attachment_id == gone)
    cached = storage.path_of(row.stored_name)
    assert cached.read_bytes() == PNG
    before = fresh(request).updated_at
    delete_in_jira(jira_on, gone)
    sync.sync_changed()
    assert [a.jira_attachment_id for a in attachments(request)] == [mine.jira_attachment_id, kept]
    assert not cached.exists()
    assert fresh(request).updated_at > before


@pytest.mark.parametrize("name, shown", [
    ("Ekran görüntüsü ş.png", "Ekran görüntüsü ş.png"),
    (unicodedata.normalize("NFD", "Ekran görüntüsü ş.png"), "Ekran görüntüsü ş.png"),
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\agent\\rapor\x07\n.txt", "rapor.txt"),
    ("\x00", "file"),
])
def test_clean_filename(name, shown):
    assert clean_filename(name) == shown


def test_a_turkish_file_name_survives_sync_and_fetch(agent_file, drain):
    _, row, _ = agent_file("Ekran görüntüsü ş.png")
    assert row.original_name == "Ekran görüntüsü ş.png"
    drain()
    assert stored_bytes(row) == PNG


# Fetching the file: a worker's job -----------------------------------------------------------

def test_the_worker_fetches_the_exact_bytes_once(jira_on, agent_file, drain):
    request, row, _ = agent_file()  # the sync enqueued the fetch
    drain()
    [row] = attachments(request)
    assert stored_bytes(row) == PNG and row.sha256 == hashlib.sha256(PNG).hexdigest()
    # Through the media host's redirect, which never gets the credentials.
    assert [r["authorization"] for r in jira_on.media_requests] == [False]
    sync.reconcile()
    drain()
    fetch_jira_file(row.id)
    assert len(jira_on.media_requests) == 1 and jira_files.enqueue_missing() == 0


def test_a_second_job_for_a_file_being_fetched_does_nothing(jira_on, agent_file, no_auto_fetch,
                                                            monkeypatch):
    _, row, _ = agent_file()
    download = jira_files._download

    def slow_download(*args):
        fetch_jira_file(row.id)  # another worker wakes for the same file meanwhile
        return download(*args)

    monkeypatch.setattr(jira_files, "_download", slow_download)
    fetch_jira_file(row.id)
    assert stored_bytes(row) == PNG and len(jira_on.media_requests) == 1
    assert len(list(storage.attachments_dir().iterdir())) == 1


def test_a_file_removed_from_jira_is_not_tried_again(jira_on, agent_file, no_auto_fetch):
    request, row, attachment_id = agent_file()
    delete_in_jira(jira_on, attachment_id)
    fetch_jira_file(row.id)
    assert why_not(row) == "This file was removed from Jira."
    assert attachments(request)[0].stored_name is None and jira_files.enqueue_missing() == 0


@pytest.mark.parametrize("fault", [{"kind": "error", "status": 503}, {"kind": "drop"}])
def test_jira_failing_keeps_nothing_and_the_next_sync_tries_again(jira_on, agent_file, no_auto_fetch,
                                                                  fault, caplog, monkeypatch, drain):
    _, row, _ = agent_file()
    jira_on.fault(path="/attachment/content", **fault)
    fetch_jira_file(row.id)
    assert list(storage.attachments_dir().iterdir()) == []
    assert why_not(row) == "Being fetched from Jira…"
    assert "jira file" in caplog.text and PORTAL_TOKEN not in caplog.text
    jira_on.faults.clear()
    monkeypatch.undo()  # the sync enqueues again
    sync.reconcile()
    drain()
    assert stored_bytes(row) == PNG


def test_a_refused_token_pauses_the_fetch(jira_on, agent_file, no_auto_fetch):
    from webapp.models import JiraSettings
    _, row, _ = agent_file()
    jira_on.fault(path="/attachment/content", kind="error", status=401)
    fetch_jira_file(row.id)
    assert JiraSettings.get().paused_reason and stored_bytes(row) is None
    assert why_not(row) == "The support team's file can't be fetched right now: the Jira connection is off."


def test_a_passive_integration_fetches_nothing(jira_on, agent_file, configure_jira, no_auto_fetch):
    _, row, _ = agent_file()
    configure_jira(enabled=False)
    before = calls(jira_on)
    fetch_jira_file(row.id)
    assert calls(jira_on) == before and stored_bytes(row) is None
    assert why_not(row) == "The support team's file can't be fetched right now: the Jira connection is off."


def test_a_file_over_the_size_limit_is_refused_without_a_call(jira_on, agent_file, app, no_auto_fetch):
    app.config["JIRA_FILE_MAX_MB"] = 1
    _, row, _ = agent_file("big.log", b"x" * (1024 * 1024 + 1), "text/plain")
    before = calls(jira_on)
    fetch_jira_file(row.id)
    assert calls(jira_on) == before
    assert why_not(row) == "This file is too large to download through the portal."


def test_a_portal_file_is_never_fetched(jira_on, track):
    request, _ = track()
    stored_name, _, _ = storage.store_stream(io.BytesIO(b"mine"))
    row = portal_file(request, "mine.txt", b"mine", stored_name=stored_name)
    before = calls(jira_on)
    fetch_jira_file(row.id)
    assert calls(jira_on) == before and stored_bytes(row) == b"mine"


# Through the detail page: served from storage only ---------------------------------------------

@both_deployments
def test_the_support_teams_file_downloads_through_the_detail_page(agent_file, client, auth, make_user,
                                                                  jira_on, no_auto_fetch):
    request, row, attachment_id = agent_file("Ekran görüntüsü ş.png")
    auth.login("reporter@example.com")
    url = f"/requests/{request.id}/attachments/{row.id}"
    before = calls(jira_on)
    page = client.get(f"/requests/{request.id}").get_data(as_text=True)
    assert "Ekran görüntüsü ş.png" in page and "Being fetched from Jira…" in page and url not in page
    response = client.get(url)  # not fetched yet: the page says so, and no call to Jira
    assert response.status_code == 303 and calls(jira_on) == before
    fetch_jira_file(row.id)  # the worker
    part = client.get(f"/requests/{request.id}/files").get_data(as_text=True)
    assert url in part and "from the support team" in part and "Being fetched" not in part
    response = client.get(url)
    assert response.status_code == 200 and response.data == PNG
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"

    if jira_on.deployment == "datacenter":  # from the attachment's content URL, with the token
        assert jira_on.calls["GET /secure/attachment/{id}/{filename}"] == 1
        assert jira_on.calls.get("GET /rest/api/2/attachment/content/{id}", 0) == 0

    auth.logout()
    auth.login(make_user(email="stranger@example.com").email)
    assert client.get(url).status_code == 404
    assert client.get(f"/requests/{request.id}/files").status_code == 404


@pytest.mark.parametrize("deployment", ["datacenter"], indirect=True)
@pytest.mark.parametrize("how", ["redirect", "html"])
def test_a_download_jira_refuses_is_never_called_removed(agent_file, client, auth, admin_client, jira_on,
                                                         no_auto_fetch, how):
    """Data Center answering the token with its log-in page (a redirect, or a single sign-on's
    HTML page with status 200): the admin is told, the file is not "removed from Jira", and
    saving the settings fetches it again."""
    request, row, _ = agent_file("trace.log", b"the trace", "text/plain")
    jira_on.refuse_downloads(how)
    fetch_jira_file(row.id)
    row = attachments(request)[0]
    assert row.stored_name is None and row.fetch_problem == "refused"
    auth.login("reporter@example.com")
    page = client.get(f"/requests/{request.id}").get_data(as_text=True)
    page = page.replace("&#39;", "'")
    assert "Jira refused the portal's download" in page and "removed from Jira" not in page
    assert 'hx-get="/requests/%d/files"' % request.id not in page  # nothing to wait for: no poll
    overview = admin_client.get("/admin/").get_data(as_text=True).replace("&#39;", "'")
    assert "Jira refused the portal's token for one of the support team's files" in overview
    jira_on.refuse_downloads(None)
    fetch_jira_file(row.id)
    assert attachments(request)[0].stored_name is None  # not tried again before the settings change
    settings = integration.settings()  # the admin saves the settings (Administration → Jira)
    values = {name: getattr(settings, name) for name in integration.SETTINGS_FIELDS}
    assert integration.save(settings, {**values, "description": "PATs may download now."}) == ["description"]
    db.session.commit()
    fetch_jira_file(row.id)
    assert stored_bytes(attachments(request)[0]) == b"the trace"
    assert "refused the portal" not in admin_client.get("/admin/").get_data(as_text=True)


def test_a_lost_stored_copy_is_fetched_again(agent_file, client, auth, jira_on, drain):
    request, row, _ = agent_file()
    drain()
    storage.path_of(attachments(request)[0].stored_name).unlink()
    auth.login("reporter@example.com")
    url = f"/requests/{request.id}/attachments/{row.id}"
    response = client.get(url)
    assert response.status_code == 303
    assert "Being fetched from Jira…" in client.get(response.headers["Location"]).get_data(as_text=True)
    drain()  # the page woke the worker
    assert client.get(url).data == PNG


def test_a_file_gone_from_jira_says_so_on_the_detail_page(agent_file, client, auth, jira_on, no_auto_fetch):
    request, row, attachment_id = agent_file()
    delete_in_jira(jira_on, attachment_id)
    fetch_jira_file(row.id)
    auth.login("reporter@example.com")
    response = client.get(f"/requests/{request.id}/attachments/{row.id}")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/requests/{request.id}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "This file was removed from Jira." in page


# Fail closed (issue 13, item 5): a Jira file is shown only when a public comment shows it -------

@both_deployments
def test_a_file_no_public_comment_shows_stays_hidden_and_unfetched(configure_jira, track, client, auth,
                                                                   drain, jira_sim):
    configure_jira()
    request, issue = track()
    auth.login("reporter@example.com")
    beside_a_note = jira_sim.attach(issue.key, "internal-dump.log", b"secret", mime_type="text/plain")
    jira_sim.add_comment(issue.key, "For the team only:", internal=True, files=["internal-dump.log"])
    loose = jira_sim.attach(issue.key, "loose.txt", b"no comment", mime_type="text/plain")
    shown = jira_sim.attach(issue.key, "answer.txt", b"the fix", mime_type="text/plain")
    jira_sim.add_comment(issue.key, "See the attached answer.", files=["answer.txt"])
    synced_once()
    sync.sync_changed()
    drain()
    rows = {a.original_name: a for a in attachments(request)}
    assert set(rows) == {"internal-dump.log", "loose.txt", "answer.txt"}
    page = client.get(f"/requests/{request.id}").get_data(as_text=True)
    assert "answer.txt" in page and "internal-dump.log" not in page and "loose.txt" not in page
    for name in ("internal-dump.log", "loose.txt"):
        assert rows[name].stored_name is None  # never fetched
        assert client.get(f"/requests/{request.id}/attachments/{rows[name].id}").status_code == 404
    assert client.get(f"/requests/{request.id}/attachments/{rows['answer.txt'].id}").data == b"the fix"
    assert [r["path"] for r in jira_sim.media_requests] in ([f"/_media/{shown}"], [])
    assert beside_a_note and loose


def test_the_admin_may_show_every_file_on_the_issue(configure_jira, track, client, auth, drain, jira_sim):
    from webapp.models import JiraSettings
    configure_jira()
    request, issue = track()
    jira_sim.attach(issue.key, "loose.txt", b"no comment", mime_type="text/plain")
    synced_once()
    sync.sync_changed()
    auth.login("reporter@example.com")
    assert "loose.txt" not in client.get(f"/requests/{request.id}").get_data(as_text=True)
    JiraSettings.get().show_all_jira_files = True
    db.session.commit()
    sync.sync_changed()  # the next run fetches what is now shown
    drain()
    assert "loose.txt" in client.get(f"/requests/{request.id}").get_data(as_text=True)
    [row] = attachments(request)
    assert client.get(f"/requests/{request.id}/attachments/{row.id}").data == b"no comment"


def test_a_comment_made_internal_hides_its_file_again(configure_jira, track, client, auth, jira_sim):
    configure_jira()
    request, issue = track()
    jira_sim.attach(issue.key, "answer.txt", b"the fix", mime_type="text/plain")
    comment_id = jira_sim.add_comment(issue.key, "The answer:", files=["answer.txt"])
    synced_once()
    sync.sync_changed()
    assert attachments(request)[0].in_public_comment
    with jira_sim.state.lock:
        comment = next(c for c in jira_sim.state.issues[issue.id]["comments"] if c["id"] == comment_id)
        comment["visibility"] = {"type": "role", "value": "Administrators", "identifier": "Administrators"}
    sync.reconcile()
    assert not attachments(request)[0].in_public_comment
