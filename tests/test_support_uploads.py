"""Files uploaded as they are chosen (POST /requests/new/files, static/portal.js): each is
checked at once and answered with its kept-file row; Send then carries only the signed
tokens, so the form's post does no file work. Without JavaScript the files still go with
the form (tests/test_support.py)."""
import io
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from tests.hostile import attack, hostile_text
from webapp.extensions import db
from webapp.models import Attachment, KeptUpload, Label, SupportRequest

pytestmark = pytest.mark.usefixtures("no_server_errors")

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


@pytest.fixture
def user(app, make_user, auth):
    db.session.add(Label(name="Bug"))
    db.session.commit()
    user = make_user(email="deniz@example.com")
    auth.login(user.email)
    return user


def upload(client, name, content):
    response = client.post("/requests/new/files", data={"file": (io.BytesIO(content), name)},
                           content_type="multipart/form-data")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def token_of(row):
    return re.search(r'name="kept" value="([^"]+)"', row).group(1)


def test_a_chosen_file_is_kept_at_once_and_send_carries_only_its_token(client, user, app):
    row = upload(client, "Ekran görüntüsü.png", PNG)
    assert 'class="kept-file"' in row and "Ekran görüntüsü.png" in row and "Remove" in row
    assert db.session.scalar(select(KeptUpload.user_id)) == user.id
    response = client.post("/requests/new", data={"label": "Bug", "summary": "s", "description": "d",
                                                  "kept": token_of(row)})
    assert response.status_code == 303
    item = db.session.scalar(select(SupportRequest))
    assert [(a.original_name, a.size) for a in item.attachments] == [("Ekran görüntüsü.png", len(PNG))]
    assert db.session.scalar(select(KeptUpload)) is None  # claimed: no longer counted


def test_a_refused_file_says_why_at_once_and_keeps_nothing(client, user):
    assert "this type of file is not accepted" in upload(client, "setup.exe", b"MZ\x90\x00")
    assert "is not really a .png file" in upload(client, "shot.png", b"GIF89a....")
    assert "is empty" in upload(client, "empty.log", b"")
    assert "No file was sent" in client.post("/requests/new/files", data={}).get_data(as_text=True)
    assert db.session.scalar(select(KeptUpload)) is None


def test_a_file_larger_than_the_limit_is_refused(client, user, app):
    app.config["ATTACHMENT_MAX_MB"] = 1
    assert "is larger than 1 MB" in upload(client, "big.log", b"x" * (1024 * 1024 + 1))
    assert db.session.scalar(select(KeptUpload)) is None


def test_a_file_larger_than_the_quota_of_unsent_forms_is_refused(client, user, app):
    app.config["KEPT_FILES_MAX_MB"] = 0
    assert "your unsent forms may keep" in upload(client, "trace.log", b"line\n")
    assert db.session.scalar(select(KeptUpload)) is None


def test_another_users_token_brings_no_file(client, user, make_user, auth):
    token = token_of(upload(client, "trace.log", b"line\n"))
    auth.logout()
    auth.login(make_user(email="oya@example.com").email)
    client.post("/requests/new", data={"label": "Bug", "summary": "s", "description": "d", "kept": token})
    assert db.session.scalar(select(Attachment)) is None


@attack(60)
@given(name=st.one_of(hostile_text, st.sampled_from(["a.png", "b.log", ".png", "x.PNG", "ü.pdf"])),
       content=st.one_of(st.binary(max_size=600), st.sampled_from([PNG, b"%PDF-1.7", b"\x00\x00"])))
def test_any_file_is_kept_exactly_or_refused(client, user, name, content):
    response = client.post("/requests/new/files", data={"file": (io.BytesIO(content), name or "x")},
                           content_type="multipart/form-data")
    if response.status_code == 400:  # no multipart body at all (a line break in its header)
        return
    assert response.status_code == 200
    row = response.get_data(as_text=True)
    assert row.strip().startswith(("<li class=\"kept-file\">", "<li class=\"refused-file\">"))
    assert "<script" not in row.lower()
