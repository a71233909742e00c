"""The ID token itself: the real provider's answer reaches the portal through a FrontDoor
(tests/oidc/front_door.py) that swaps in another token — signed with another key, changed on
the way, expired, for someone else, unsigned — and each is refused: a clear page, an audit
entry, nobody logged in or created. The first test proves the swap itself is not what fails."""
import base64
import json
import time

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.oidc.flow import logged_in, refused_without_log_in, sign_in, users

pytestmark = pytest.mark.usefixtures("no_server_errors")


@pytest.fixture
def portal(app_factory, oidc_front_door):
    app = app_factory(**oidc_front_door.portal_settings())
    with app.app_context():
        yield app.test_client()


def _segment(data):
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _parts(id_token):
    """The provider's header and claims, read without checking: the portal is what checks."""
    return [json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
            for part in id_token.split(".")[:2]]


def signed_with(key, **changes):
    """A rewrite: the provider's claims after `changes`, signed with `key` under the provider's kid."""
    def rewrite(id_token):
        header, claims = _parts(id_token)
        return jwt.encode({"alg": "RS256", "kid": header["kid"]}, {**claims, **changes}, key)
    return rewrite


def test_a_token_the_door_signs_again_with_the_providers_key_is_accepted(portal, oidc_front_door):
    oidc_front_door.front_door.rewrite_id_token = signed_with(oidc_front_door.signing_key)
    assert sign_in(portal, "newcomer").status_code == 303
    assert logged_in(portal) and [u.email for u in users()] == ["newcomer@example.com"]


def test_a_token_signed_with_another_key_is_refused(portal, oidc_front_door):
    impostor = RSAKey.generate_key(2048)
    oidc_front_door.front_door.rewrite_id_token = signed_with(impostor)
    refused_without_log_in(portal, sign_in(portal, "newcomer"), "unverified:BadSignatureError")


def test_a_token_changed_on_the_way_is_refused(portal, oidc_front_door):
    def someone_else(id_token):
        header, claims, signature = id_token.split(".")
        _, original = _parts(id_token)
        forged = {**original, "sub": "boss", "email": "boss@example.com", "groups": ["portal-admins"]}
        return ".".join([header, _segment(forged), signature])
    oidc_front_door.front_door.rewrite_id_token = someone_else
    refused_without_log_in(portal, sign_in(portal, "newcomer"), "unverified:BadSignatureError")


def test_an_expired_token_is_refused(portal, oidc_front_door):
    # Past the two minutes of clock skew the portal allows.
    now = int(time.time())
    oidc_front_door.front_door.rewrite_id_token = signed_with(
        oidc_front_door.signing_key, iat=now - 3600, exp=now - 600)
    refused_without_log_in(portal, sign_in(portal, "newcomer"), "unverified:ExpiredTokenError")


def test_a_token_for_another_client_is_refused(portal, oidc_front_door):
    oidc_front_door.front_door.rewrite_id_token = signed_with(
        oidc_front_door.signing_key, aud="another-client", azp="another-client")
    refused_without_log_in(portal, sign_in(portal, "newcomer"), "unverified:InvalidClaimError")


def test_an_unsigned_token_is_refused(portal, oidc_front_door):
    def unsigned(id_token):
        _, claims = _parts(id_token)
        return f"{_segment({'alg': 'none', 'typ': 'JWT'})}.{_segment(claims)}."
    oidc_front_door.front_door.rewrite_id_token = unsigned
    refused_without_log_in(portal, sign_in(portal, "newcomer"), "unverified:UnsupportedAlgorithmError")
