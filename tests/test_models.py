import re

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from webapp.crypto import SecretUnreadable, decrypt, encrypt
from webapp.extensions import db
from webapp.models import (ApiEndpoint, ApiProduct, Attachment, AuditLog, Category, JiraComment,
                           JiraSettings, SupportRequest)


def make_request(user, **fields):
    values = dict(reporter_id=user.id, label="bug", summary="Token endpoint returns 500",
                  description="Since this morning.\nEvery call.")
    values.update(fields)
    request = SupportRequest(**values)
    db.session.add(request)
    db.session.commit()
    return request


def test_a_request_gets_a_unique_portal_reference(make_user):
    user = make_user()
    first, second = make_request(user), make_request(user)
    assert re.fullmatch(r"PR-[2-9A-HJ-NP-Z]{8}", first.reference)
    assert first.reference != second.reference
    assert first.delivery_state == "queued"
    assert first.display_key == first.reference
    first.jira_key = "SUP-123"
    assert first.display_key == "SUP-123"


def test_references_are_unique_in_the_database(make_user):
    user = make_user()
    first = make_request(user)
    with pytest.raises(IntegrityError):
        make_request(user, reference=first.reference)
    db.session.rollback()


def test_timestamps_come_back_in_utc(make_user):
    request = make_request(make_user())
    db.session.expire_all()
    again = db.session.get(SupportRequest, request.id)
    assert again.created_at.utcoffset().total_seconds() == 0


def test_a_request_keeps_its_product_endpoint_category_and_files(make_user):
    user = make_user()
    product = ApiProduct(name="Payments API")
    product.endpoints.append(ApiEndpoint(path="/payments/v1", method="POST"))
    category = Category(name="Payment")
    db.session.add_all([product, category])
    db.session.commit()
    request = make_request(user, product_id=product.id, endpoint_id=product.endpoints[0].id,
                           category_id=category.id)
    request.attachments.append(Attachment(original_name="ekran görüntüsü.png", content_type="image/png",
                                          size=10, sha256="0" * 64, stored_name="a" * 32))
    request.comments.append(JiraComment(jira_comment_id="10001", author_name="Agent",
                                        body_html="<p>Looking</p>", created_at=request.created_at))
    db.session.commit()
    product.published = False  # unpublished products stay on old requests
    db.session.commit()
    db.session.expire_all()
    again = db.session.get(SupportRequest, request.id)
    assert again.product.name == "Payments API" and again.endpoint.path == "/payments/v1"
    assert again.category.name == "Payment"
    assert again.attachments[0].original_name == "ekran görüntüsü.png"
    assert again.comments[0].author_name == "Agent"


def test_one_settings_row_passive_by_default(app):
    settings = JiraSettings.get()
    db.session.commit()
    assert settings.id == 1 and settings.enabled is False and settings.deployment == "cloud"
    assert JiraSettings.get() is settings
    assert db.session.scalars(select(JiraSettings)).all() == [settings]


def test_the_token_is_stored_encrypted(app):
    settings = JiraSettings.get()
    settings.api_token_encrypted = encrypt("ATATT3xFfGF0-secret-token")
    db.session.commit()
    raw = db.session.execute(select(JiraSettings.api_token_encrypted)).scalar_one()
    assert "secret-token" not in raw
    assert decrypt(raw) == "ATATT3xFfGF0-secret-token"


def test_a_token_from_a_lost_key_is_reported_not_crashed(app):
    token = encrypt("secret")
    app.config["ENCRYPTION_KEYS"] = ["Gq0Q3cS8cF0dYw0x8oYqVqfQmF7pQ2bJbJ9lP1mM0cU="]
    with pytest.raises(SecretUnreadable):
        decrypt(token)


def test_keys_rotate_newest_first(app):
    old_key = app.config["ENCRYPTION_KEYS"][0]
    token = encrypt("secret")
    app.config["ENCRYPTION_KEYS"] = ["Gq0Q3cS8cF0dYw0x8oYqVqfQmF7pQ2bJbJ9lP1mM0cU=", old_key]
    assert decrypt(token) == "secret"


def test_audit_log_records_json_details(make_user):
    admin = make_user(admin=True)
    db.session.add(AuditLog(actor_id=admin.id, action="jira.settings.saved",
                            details={"changed": ["project_key"]}))
    db.session.commit()
    entry = db.session.scalars(select(AuditLog)).one()
    assert entry.details == {"changed": ["project_key"]} and entry.actor.email == admin.email
