"""The hand-over with public keys: RS256 from HANDOVER_PUBLIC_KEY, ES256 from a JWKS URL
(the hand-over itself, HS256: tests/test_handover.py)."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.test_handover import accounts, by_hand, claims, hand_over, portal, refused, signed  # noqa: F401

def _pem(private_key):
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def test_rs256_with_the_public_key(portal, rsa_key):
    app, client = portal(HANDOVER_SECRET=None, HANDOVER_PUBLIC_KEY=_pem(rsa_key))
    assert hand_over(client, signed(key=rsa_key, algorithm="RS256")).status_code == 303
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    refused(hand_over(app.test_client(), signed(key=other, algorithm="RS256")), "signature", "")


def test_an_hs256_token_is_refused_when_a_public_key_is_configured(portal, rsa_key):
    pem = _pem(rsa_key)
    _, client = portal(HANDOVER_SECRET=None, HANDOVER_PUBLIC_KEY=pem)
    # The classic confusion: HMAC keyed with the public key the attacker knows.
    token = by_hand({"alg": "HS256", "typ": "JWT"}, claims(), hmac_key=pem.encode())
    refused(hand_over(client, token), "algorithm", "algorithm")
    assert accounts() == 0


class JwksServer:
    """A key server on this machine, as the framing site would run one; counts its fetches."""

    def __init__(self, keys):
        self.keys, self.fetches = keys, 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                outer.fetches += 1
                body = json.dumps({"keys": outer.keys}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/.well-known/jwks.json"

    def close(self):
        self.server.shutdown()


@pytest.fixture
def ec_key():
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def jwks(ec_key):
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(ec_key.public_key()))
    server = JwksServer([{**jwk, "kid": "intranet-2026", "use": "sig", "alg": "ES256"}])
    yield server
    server.close()


def test_es256_with_keys_from_a_jwks_url_fetched_once(portal, ec_key, jwks):
    app, client = portal(HANDOVER_SECRET=None, HANDOVER_JWKS_URL=jwks.url)
    headers = {"kid": "intranet-2026"}
    assert hand_over(client, signed(key=ec_key, algorithm="ES256", headers=headers)).status_code == 303
    assert hand_over(app.test_client(), signed(key=ec_key, algorithm="ES256", headers=headers)).status_code == 303
    assert jwks.fetches == 1  # cached


def test_an_unknown_kid_is_refused(portal, ec_key, jwks):
    _, client = portal(HANDOVER_SECRET=None, HANDOVER_JWKS_URL=jwks.url)
    refused(hand_over(client, signed(key=ec_key, algorithm="ES256", headers={"kid": "retired"})),
            "unknown_key", "key the portal does not know")
    refused(hand_over(client, signed(key=ec_key, algorithm="ES256")), "unknown_key", "")
    assert accounts() == 0


def test_an_unreachable_key_server_refuses_quickly(portal, ec_key):
    _, client = portal(HANDOVER_SECRET=None, HANDOVER_JWKS_URL="http://127.0.0.1:9/jwks.json")
    refused(hand_over(client, signed(key=ec_key, algorithm="ES256", headers={"kid": "k"})),
            "keys_unavailable", "could not fetch the signing keys")


def test_an_rs256_token_is_refused_with_only_es256_keys(portal, jwks, rsa_key):
    _, client = portal(HANDOVER_SECRET=None, HANDOVER_JWKS_URL=jwks.url)
    token = signed(key=rsa_key, algorithm="RS256", headers={"kid": "intranet-2026"})
    refused(hand_over(client, token), "algorithm", "algorithm")
