"""pytest fixtures for a real OpenID provider (tests/oidc/provider.mjs on Node.js).

``oidc_provider`` is one provider per test session, for test-client flows (its client's
redirect URI is the test client's http://localhost/...); ``start_oidc_provider(redirect_uri)``
starts one more, e.g. for a live server. ``provider.accounts`` are the people it knows
(login name -> claims), reset before each test and read by the provider at every sign-in.
``provider.signing_key`` is the key it signs ID tokens with; ``oidc_front_door`` is a provider
whose public address is a FrontDoor (tests/oidc/front_door.py) that can rewrite its ID tokens.
"""
import fcntl
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests
from joserfc.jwk import RSAKey

from tests.oidc.front_door import FrontDoor
from tests.support import need_service

HERE = Path(__file__).parent
CLIENT_ID, CLIENT_SECRET = "portal", "portal-test-secret"
TEST_CLIENT_CALLBACK = "http://localhost/auth/oidc/callback"
INSTALL_SECONDS, START_SECONDS = 300, 20
ADMIN_GROUP = "portal-admins"

PEOPLE = {
    "newcomer": {"email": "newcomer@example.com", "email_verified": True, "name": "Nur Newcomer",
                 "locale": "tr-TR", "groups": ["staff"]},
    "unverified": {"email": "unverified@example.com", "email_verified": False, "name": "Una Verified"},
    "entra": {"email": "entra@example.com", "xms_edov": True, "name": "En Tra"},  # no email_verified
    "boss": {"email": "boss@example.com", "email_verified": True, "name": "Bo Boss",
             "groups": ["staff", ADMIN_GROUP]},
}


def _install():
    """npm ci into tests/oidc/node_modules, once (quiet, bounded in time), under a file lock:
    CI's two suites start side by side, and npm ci first empties node_modules."""
    with open(HERE / ".npm-install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (HERE / "node_modules" / "oidc-provider").is_dir():
            return
        if not (shutil.which("node") and shutil.which("npm")):
            need_service("Node.js and npm are needed for the OpenID provider of the SSO tests")
        result = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=HERE,
                                capture_output=True, text=True, timeout=INSTALL_SECONDS)
        if result.returncode != 0:
            need_service(f"npm ci failed in tests/oidc: {result.stderr[-500:]}")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OpenIDProvider:
    def __init__(self, redirect_uri, front_door=False):
        self.port = free_port()
        self.front_door = FrontDoor(free_port(), self.port) if front_door else None
        self.issuer = f"http://127.0.0.1:{self.front_door.server_port if front_door else self.port}"
        self.signing_key = RSAKey.generate_key(2048, parameters={"kid": "provider-key", "use": "sig"})
        self._dir = tempfile.mkdtemp(prefix="oidc-provider-")
        self._accounts_file = Path(self._dir) / "accounts.json"
        self.accounts = {}
        self.save()
        self.process = subprocess.Popen(
            [shutil.which("node"), str(HERE / "provider.mjs")], cwd=HERE, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PORT": str(self.port), "ISSUER": self.issuer,
                 "CLIENT_ID": CLIENT_ID, "CLIENT_SECRET": CLIENT_SECRET, "REDIRECT_URI": redirect_uri,
                 "SIGNING_KEYS": json.dumps({"keys": [self.signing_key.as_dict(private=True)]}),
                 "ACCOUNTS_FILE": str(self._accounts_file)})
        self._wait()

    def _wait(self):
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            try:
                if requests.get(self.issuer + "/.well-known/openid-configuration", timeout=1).ok:
                    return
            except requests.ConnectionError:
                time.sleep(0.1)
        self.stop()
        pytest.fail("the OpenID provider did not start")

    def reset(self):
        self.accounts = json.loads(json.dumps(PEOPLE))
        self.save()

    def save(self):
        """Write `accounts` where the provider reads them."""
        self._accounts_file.write_text(json.dumps(self.accounts))

    def portal_settings(self, **changes):
        """The portal's settings for signing in here."""
        return {"OIDC_ISSUER": self.issuer, "OIDC_CLIENT_ID": CLIENT_ID,
                "OIDC_CLIENT_SECRET": CLIENT_SECRET, "OIDC_PROVIDER_NAME": "Test ID",
                "OIDC_SCOPES": "openid email profile groups", **changes}

    def stop(self):
        if self.front_door:
            self.front_door.stop()
        self.process.terminate()
        self.process.wait(timeout=10)
        shutil.rmtree(self._dir, ignore_errors=True)


@pytest.fixture(scope="session")
def start_oidc_provider():
    started = []

    def start(redirect_uri, front_door=False):
        _install()
        started.append(OpenIDProvider(redirect_uri, front_door))
        started[-1].reset()
        return started[-1]

    yield start
    for provider in started:
        provider.stop()


@pytest.fixture(scope="session")
def _oidc_provider_server(start_oidc_provider):
    return start_oidc_provider(TEST_CLIENT_CALLBACK)


@pytest.fixture
def oidc_provider(_oidc_provider_server):
    _oidc_provider_server.reset()
    return _oidc_provider_server


@pytest.fixture(scope="session")
def _oidc_front_door_server(start_oidc_provider):
    return start_oidc_provider(TEST_CLIENT_CALLBACK, front_door=True)


@pytest.fixture
def oidc_front_door(_oidc_front_door_server):
    """A provider behind a FrontDoor; the door passes everything through until a test says."""
    _oidc_front_door_server.reset()
    _oidc_front_door_server.front_door.rewrite_id_token = None
    return _oidc_front_door_server
