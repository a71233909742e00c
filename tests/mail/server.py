"""A real SMTP server for the tests (aiosmtpd on a free port of this machine). What it
receives is parsed with the email package, as a mail client would read it."""
import email
import socket
import threading
from email import policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


class Recorder:
    """The server's handler: keeps each message it accepted; refuses recipients whose
    address starts with "refused"; can hold a session at RCPT until `release` is set
    (a sender killed there sent nothing)."""

    def __init__(self):
        self.messages = []
        self.envelopes = []
        self.over_tls = []  # for each message: whether its session was encrypted
        self.held = threading.Event()  # set when a session reached RCPT while holding
        self.release = threading.Event()
        self.release.set()
        self._lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("refused"):
            return "550 5.1.1 No such mailbox here"
        if not self.release.is_set():
            self.held.set()
            import asyncio
            while not self.release.is_set():
                await asyncio.sleep(0.05)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content, policy=policy.default)
        with self._lock:
            self.envelopes.append(envelope)
            self.messages.append(message)
            self.over_tls.append(server.transport.get_extra_info("ssl_object") is not None)
        return "250 Message accepted for delivery"

    def to(self, address):
        """The messages addressed to `address`."""
        return [m for m in self.messages if address in m["To"]]


class Authenticator:
    def __init__(self, username, password):
        self.username, self.password = username.encode(), password.encode()

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == self.username and auth_data.password == self.password
        return AuthResult(success=ok)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(**options):
    """A Recorder behind a running aiosmtpd server asking for a login ("portal" /
    "smtp-secret-pw"), with `.settings` that send to it and `.controller`; `options` go to
    the Controller (TLS)."""
    recorder = Recorder()
    port = free_port()
    options.setdefault("auth_require_tls", False)
    controller = Controller(recorder, hostname="127.0.0.1", port=port,
                            authenticator=Authenticator("portal", "smtp-secret-pw"), **options)
    controller.start()
    recorder.controller = controller
    recorder.settings = {
        "SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "SMTP_SECURITY": "none",
        "SMTP_USERNAME": "portal", "SMTP_PASSWORD": "smtp-secret-pw",
        "MAIL_FROM": "Support Portal <portal@example.com>", "MAIL_REPLY_TO": "support@example.com",
        "PORTAL_BASE_URL": "https://portal.example.com",
    }
    return recorder


def stop(recorder):
    recorder.release.set()
    recorder.controller.stop()


@pytest.fixture
def smtp_server():
    """A running SMTP server (plain SMTP): `.messages`, `.to(address)`, and `.settings`, the
    app settings that send to it."""
    recorder = start()
    yield recorder
    stop(recorder)
