from sqlalchemy import select

from webapp.extensions import db
from webapp.models import ApiEndpoint, ApiProduct, Label, User


def test_users_create_and_list(runner, app):
    result = runner.invoke(args=["users", "create", "Ops@Example.com", "--password", "s3cret-pass",
                                 "--admin", "--name", "Operations"])
    assert result.exit_code == 0, result.output
    assert "Created admin ops@example.com (Operations)." in result.output
    user = db.session.scalar(select(User).where(User.email == "ops@example.com"))
    assert user.is_admin and user.check_password("s3cret-pass")
    assert "s3cret-pass" not in user.password_hash

    runner.invoke(args=["users", "create", "dev@example.com", "--password", "another-pass"])
    listing = runner.invoke(args=["users", "list"]).output
    assert "ops@example.com" in listing and "admin" in listing
    assert "dev@example.com" in listing and "user" in listing


def test_users_create_refuses_duplicates_and_weak_input(runner, make_user):
    make_user(email="taken@example.com")
    result = runner.invoke(args=["users", "create", "TAKEN@example.com", "--password", "long-enough"])
    assert result.exit_code != 0 and "already exists" in result.output
    result = runner.invoke(args=["users", "create", "x@example.com", "--password", "short"])
    assert result.exit_code != 0 and "at least 10 characters" in result.output
    for common in ("password123", "Qwertyuiop", "iloveyou1!", "1234567890"):
        result = runner.invoke(args=["users", "create", "x@example.com", "--password", common])
        assert result.exit_code != 0 and "most common ones" in result.output, common
    result = runner.invoke(args=["users", "create", "x@example.com", "--password", "X@Example.com"])
    assert result.exit_code != 0 and "not your e-mail address" in result.output
    assert db.session.scalar(select(User).where(User.email == "x@example.com")) is None
    result = runner.invoke(args=["users", "create", "not-an-email", "--password", "long-enough"])
    assert result.exit_code != 0 and "e-mail address" in result.output


def test_users_password(runner, make_user):
    user = make_user(email="u@example.com")
    refused = runner.invoke(args=["users", "password", "u@example.com", "--password", "letmein123"])
    assert refused.exit_code != 0 and "most common ones" in refused.output
    result = runner.invoke(args=["users", "password", "u@example.com", "--password", "new-password-1"])
    assert result.exit_code == 0
    db.session.refresh(user)
    assert user.check_password("new-password-1")


def test_demo_creates_two_accounts_once_and_prints_how_to_log_in(runner, app, monkeypatch):
    monkeypatch.setenv("DEMO_ADMIN_PASSWORD", "admin-pass-123")
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "admin@example.com" in first.output and "admin-pass-123" in first.output
    assert "user@example.com" in first.output
    users = db.session.scalars(select(User).order_by(User.email)).all()
    assert [(u.email, u.role) for u in users] == [("admin@example.com", "admin"), ("user@example.com", "user")]
    assert users[0].check_password("admin-pass-123")
    again = runner.invoke(args=["demo"])
    assert again.output.splitlines()[:3] == first.output.splitlines()[:3]
    assert db.session.scalar(select(db.func.count()).select_from(User)) == 2
    # A catalog to file the first request with, added once.
    assert db.session.scalars(select(Label.name).order_by(Label.position)).all() == ["Bug", "Question", "Feature-Request"]
    assert db.session.scalar(select(ApiProduct.name)) == "Payments API"
    assert db.session.scalar(select(db.func.count()).select_from(ApiEndpoint)) == 2
