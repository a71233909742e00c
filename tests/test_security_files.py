"""Security suite, category 3 (docs/security.md): attachments. Too large (refused before the
body is read), types judged by content, hostile names, empty files, many files at once,
storage outside any web root, and a full disk: a clear message and nothing half stored."""
import errno
import io
import re
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.hostile import PAYLOADS, attack, hostile_text
from webapp import storage
from webapp.extensions import db
from webapp.models import Attachment, Label, SupportRequest
from webapp.support.files import SIGNATURES

pytestmark = pytest.mark.usefixtures("no_server_errors")

MAGIC = {"png": b"\x89PNG\r\n\x1a\n", "jpg": b"\xff\xd8\xff\xe0", "gif": b"GIF89a", "pdf": b"%PDF-1.7\n",
         "zip": b"PK\x03\x04", "exe": b"MZ\x90\x00\x03", "elf": b"\x7fELF\x02\x01", "html": b"<!doctype html><script>",
         "svg": b"<svg onload=alert(1)>", "php": b"<?php system($_GET['c']); ?>", "text": b"plain words\n",
         "nul": b"text\x00with a NUL", "webp": b"RIFF\x00\x00\x00\x00WEBP"}
EXTENSIONS = ["png", "jpg", "jpeg", "gif", "webp", "pdf", "txt", "log", "json", "csv", "zip", "har", "yaml",
              "exe", "html", "htm", "svg", "js", "php", "sh", "bat", "", "PNG", "png.exe", "exe.png", "tar.gz"]


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def stored_files():
    return sorted(p.name for p in storage.attachments_dir().iterdir())


@pytest.fixture
def user(app, make_user, auth):
    db.session.add(Label(name="Bug", position=1))
    db.session.commit()
    user = make_user(email="files@example.com")
    auth.login(user.email)
    return user


def send(client, files, **fields):
    data = {"label": "Bug", "summary": "Files", "description": "d", **fields}
    data["attachments"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post("/requests/new", data=data, content_type="multipart/form-data")


file_name = st.one_of(
    st.tuples(st.sampled_from(PAYLOADS + ["", "..", "../../app", "..\\..\\win", "/etc/passwd", "C:\\x\\y",
                                          "\u202egnp", "CON", "a" * 300]),
              st.sampled_from(EXTENSIONS)).map(lambda p: f"{p[0]}.{p[1]}" if p[1] else p[0]),
    st.builds(lambda a, b: f"{a}.{b}", hostile_text, st.sampled_from(EXTENSIONS)),
)
file_content = st.one_of(
    st.builds(lambda magic, rest: magic + rest, st.sampled_from(list(MAGIC.values())), st.binary(max_size=600)),
    st.binary(max_size=700),
    st.just(b""),
)


@attack(150)
@given(files=st.lists(st.tuples(file_name, file_content), min_size=1, max_size=4))
def test_files_are_stored_safely_or_refused_clearly(client, user, tried, files):
    tried("3 attachments", len(files))
    before = (count(SupportRequest), count(Attachment), set(stored_files()))
    response = send(client, files)
    if response.status_code == 400:  # a line break in a file name breaks the multipart body itself
        assert any("\r" in name or "\n" in name for name, _ in files)
        assert (count(SupportRequest), count(Attachment), set(stored_files())) == before
        return
    assert response.status_code in (200, 303)
    if response.status_code == 200:  # refused: the request is not stored; kept files await a retry
        assert (count(SupportRequest), count(Attachment)) == before[:2]
        page = response.get_data(as_text=True)
        kept = re.findall(r'name="kept" value="([^"]+)"', page)
        assert len(set(stored_files()) - before[2]) == len(kept)
        return
    item = db.session.scalar(select(SupportRequest).order_by(SupportRequest.id.desc()))
    assert set(stored_files()) - before[2] == {a.stored_name for a in item.attachments}
    for attachment in item.attachments:
        assert re.fullmatch(r"[0-9a-f]{32}", attachment.stored_name)
        name = attachment.original_name
        assert name and "/" not in name and "\\" not in name and len(name) <= 255
        assert all(unicodedata.category(ch)[0] != "C" for ch in name)  # no control or format characters
        assert "\u202e" not in name
        data = storage.path_of(attachment.stored_name).read_bytes()
        assert data  # never empty
        extension = name.rsplit(".", 1)[-1].lower()
        assert extension in user_allowed(client)
        if extension in SIGNATURES:  # judged by content: the bytes are what the name says
            assert any(data.startswith(sig) for sig in SIGNATURES[extension])
        else:
            assert b"\x00" not in data[:512]
        download = client.get(f"/requests/{item.id}/attachments/{attachment.id}")
        assert download.status_code == 200 and download.data == data
        disposition = download.headers["Content-Disposition"]
        assert disposition.startswith("attachment;") and "\r" not in disposition and "\n" not in disposition
        assert download.headers["X-Content-Type-Options"] == "nosniff"
        assert not download.headers["Content-Type"].startswith(("text/html", "image/svg", "application/javascript"))


def user_allowed(client):
    return client.application.config["ATTACHMENT_EXTENSIONS"]


def test_storage_is_outside_any_web_root(app, client, user):
    folder = storage.attachments_dir().resolve()
    for root in (app.static_folder, app.template_folder, Path(app.root_path)):
        assert not folder.is_relative_to(Path(root).resolve()), root
    item = send(client, [("a.txt", b"hello")])
    assert item.status_code == 303
    name = db.session.scalar(select(Attachment.stored_name))
    for path in (f"/static/{name}", f"/static/../instance/attachments/{name}", f"/{name}", f"/attachments/{name}"):
        assert client.get(path).status_code == 404, path


def test_a_body_over_the_limit_is_refused_before_it_is_read(app, client, user, tried):
    tried("3 attachments")
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024

    class Counting(io.RawIOBase):
        read_bytes = 0

        def readable(self):
            return True

        def readinto(self, buffer):
            n = min(len(buffer), 64 * 1024)
            buffer[:n] = b"x" * n
            Counting.read_bytes += n
            return n

    body = io.BufferedReader(Counting())
    response = client.post("/requests/new", environ_overrides={
        "wsgi.input": body, "CONTENT_LENGTH": str(50 * 1024 * 1024),
        "CONTENT_TYPE": "multipart/form-data; boundary=b"})
    assert response.status_code == 413
    assert "larger than the portal accepts" in response.get_data(as_text=True)
    assert Counting.read_bytes <= 1024 * 1024
    assert count(SupportRequest) == 0


def test_too_many_files_at_once_keeps_only_the_limit(app, client, user, tried):
    tried("3 attachments", 40)
    app.config["ATTACHMENT_MAX_FILES"] = 5
    before = set(stored_files())
    page = send(client, [(f"f{n}.txt", b"x") for n in range(40)]).get_data(as_text=True)
    assert "Attach at most 5 files." in page
    assert count(SupportRequest) == 0
    assert len(set(stored_files()) - before) == 5  # the kept five; the other 35 are gone


@pytest.mark.parametrize("error", [errno.ENOSPC, errno.EDQUOT, errno.EIO])
def test_a_full_disk_says_so_and_stores_nothing(client, user, monkeypatch, tried, error):
    tried("3 attachments")
    class FullDisk(io.FileIO):
        def write(self, data):
            raise OSError(error, "No space left on device")

    def open_on_full_disk(path, mode="r", *args, **kwargs):
        if "w" in mode or "x" in mode:
            return FullDisk(path, mode.replace("b", ""))
        return open(path, mode, *args, **kwargs)

    monkeypatch.setattr(storage, "open", open_on_full_disk, raising=False)
    before = set(stored_files())
    response = send(client, [("trace.log", b"a log line\n" * 1000)])
    assert response.status_code == 200
    assert "“trace.log” could not be saved" in response.get_data(as_text=True), re.findall(r"“[^”]*”[^<]*", response.get_data(as_text=True))
    assert count(SupportRequest) == count(Attachment) == 0
    assert set(stored_files()) == before  # the half-written file is gone too


# Downloads (issue 13, item 4): the type comes from the file, never from Jira's word ------------

def jira_file(user, name, content, claimed):
    """A file the support team attached in Jira, fetched into storage, with the type Jira gave."""
    item = SupportRequest(reporter_id=user.id, label="Bug", summary="s", description="d",
                          delivery_state="sent", jira_issue_id="10001", jira_key="SUP-1")
    db.session.add(item)
    db.session.commit()
    stored, size, digest = storage.store_stream(io.BytesIO(content))
    row = Attachment(request_id=item.id, source="jira", jira_attachment_id="1", original_name=name,
                     content_type=claimed, size=size, sha256=digest, stored_name=stored,
                     in_public_comment=True)
    db.session.add(row)
    db.session.commit()
    return f"/requests/{item.id}/attachments/{row.id}"


DOWNLOADS = [  # (name, content, the type Jira claims, the type served)
    ("app.js", b"alert(document.cookie)", "text/javascript", "application/octet-stream"),
    ("page.html", b"<script>alert(1)</script>", "text/html", "application/octet-stream"),
    ("notes.txt", b"<script>alert(1)</script>", "text/html", "text/plain; charset=utf-8"),
    ("shot.png", MAGIC["png"] + b"...", "image/svg+xml", "image/png"),
    ("shot.png", b"<svg onload=alert(1)>", "image/png", "application/octet-stream"),
    ("trace.log", b"a log\n", "text/plain\r\nX-Evil: 1", "text/plain; charset=utf-8"),
    ("data.json", b'{"a": 1}', "application/json\x1b[31m\x0b", "application/json"),  # (no NUL: no column holds it)
]


@pytest.mark.parametrize("name, content, claimed, served", DOWNLOADS)
def test_a_download_is_served_as_its_name_and_content_prove(client, user, tried, name, content, claimed, served):
    tried("3 attachments")
    response = client.get(jira_file(user, name, content, claimed))
    assert response.status_code == 200 and response.data == content
    assert response.headers["Content-Type"] == served
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response.headers["Cross-Origin-Resource-Policy"] == "same-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "X-Evil" not in response.headers
