"""SMTP_SECURITY against a real SMTP server that speaks TLS: STARTTLS (the server refuses a
login before it) and TLS from the start. The server's certificate is trusted through
SSL_CERT_FILE, as an operator's private CA would be; one nobody trusts sends nothing."""
import ssl

import pytest
from sqlalchemy import select

from tests.mail.server import start, stop
from tests.tls import self_signed
from webapp import mail
from webapp.cli import create_user
from webapp.extensions import db
from webapp.mail import sending
from webapp.models import MailOutbox


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    return self_signed(tmp_path_factory.mktemp("smtp-tls"))


@pytest.fixture(params=["starttls", "ssl"])
def tls_server(request, certificate):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    if request.param == "starttls":
        recorder = start(tls_context=context, require_starttls=True, auth_require_tls=True)
    else:
        recorder = start(ssl_context=context)
    recorder.settings["SMTP_SECURITY"] = request.param
    yield recorder
    stop(recorder)


@pytest.fixture
def app(app_factory, tls_server):
    app = app_factory(MAIL_GATHER_SECONDS=0, SMTP_TIMEOUT=5, **tls_server.settings)
    with app.app_context():
        yield app


def a_reset_mail():
    user = create_user("deniz@example.com", "a long enough passphrase", "Deniz", False)
    mail.note(user, mail.RESET_PASSWORD, "link", secret="https://portal.example.com/auth/set-password/x",
              gather=False, params={"hours": 72})
    db.session.commit()


def test_mail_goes_over_tls_with_the_login_inside_it(app, tls_server, certificate, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", certificate[0])
    a_reset_mail()
    sending.send_due()
    assert tls_server.over_tls == [True]  # and the server took the login only after TLS began
    assert db.session.scalar(select(MailOutbox.state)) == "sent"


def test_a_certificate_nobody_trusts_sends_nothing(app, tls_server, monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    a_reset_mail()
    sending.send_due()
    row = db.session.scalar(select(MailOutbox))
    assert tls_server.messages == [] and row.state == "waiting" and "CERTIFICATE_VERIFY_FAILED" in row.last_error
