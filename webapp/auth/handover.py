"""Hand-over log-in: the framing site's back end signs a short-lived JWT for its user and
posts it into the frame (docs/embedding.md). The token is checked here; a refusal names the
check that failed, never the token."""
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from . import accounts
from .. import audit
from ..extensions import db
from ..models import UsedHandoverToken, User, column_text, utcnow

MAX_LIFETIME = 120  # seconds from iat to exp: a token is for one hand-over, now
LEEWAY = 10  # seconds of clock difference between the two servers
JWKS_TIMEOUT = 5  # seconds: a slow key server refuses the hand-over, never hangs the portal
JWKS_CACHE_SECONDS = 300
MIN_SECRET_LENGTH = 32  # HS256 is as strong as its secret
REQUIRED_CLAIMS = ("iss", "aud", "iat", "exp", "jti")

# What the refusal page says for each failed check: enough for the host's developer to fix
# their side, nothing about accounts or keys.
REASONS = {
    "no_token": _l("The hand-over carried no token."),
    "in_url": _l("The token was sent in the address. Send it only in the form's body (POST)."),
    "malformed": _l("The token is not a well-formed signed JWT."),
    "algorithm": _l("The token is signed with an algorithm the portal does not accept for its keys."),
    "unknown_key": _l("The token is signed with a key the portal does not know (kid)."),
    "keys_unavailable": _l("The portal could not fetch the signing keys. Try again in a moment."),
    "signature": _l("The token's signature does not match its content."),
    "expired": _l("The token has expired. Sign a new one for each hand-over."),
    "not_yet_valid": _l("The token was issued in the future (check the clocks)."),
    "lifetime": _l("The token is valid for too long: exp may be at most 120 seconds after iat."),
    "missing_claim": _l("The token lacks a required claim (iss, aud, iat, exp and jti)."),
    "audience": _l("The token is meant for another audience (aud)."),
    "issuer": _l("The token comes from another issuer (iss)."),
    "replayed": _l("The token has been used already. Sign a new one for each hand-over (jti)."),
    "identity": _l("The token's email, name, locale or groups claims are not usable."),
    "deactivated": _l("This account is deactivated."),
}


# PyJWT's failures as the refusal they are, most specific first.
_FAILED_CHECKS = (
    (jwt.ExpiredSignatureError, "expired"), (jwt.ImmatureSignatureError, "not_yet_valid"),
    (jwt.MissingRequiredClaimError, "missing_claim"), (jwt.InvalidAudienceError, "audience"),
    (jwt.InvalidIssuerError, "issuer"), (jwt.InvalidSignatureError, "signature"),
    (Exception, "malformed"),
)


class Refused(Exception):
    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Identity:
    email: str
    name: str
    locale: str | None
    groups: tuple


def _algorithm_of(key):
    """The one algorithm a public key may verify with (never HS256, never none)."""
    if isinstance(key, rsa.RSAPublicKey):
        return "RS256"
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return "ES256"
    return None


class Verifier:
    """The portal's hand-over settings, checked once at start-up."""

    def __init__(self, config):
        self.secret = config.get("HANDOVER_SECRET") or None
        self.issuer = config.get("HANDOVER_ISSUER")
        self.audience = config.get("HANDOVER_AUDIENCE") or config.get("PORTAL_BASE_URL")
        self.admin_groups = frozenset(config.get("HANDOVER_ADMIN_GROUPS") or ())
        if not self.issuer:
            raise ValueError("HANDOVER_ISSUER: set it to the iss the framing site signs with")
        if not self.audience:
            raise ValueError("HANDOVER_AUDIENCE (or PORTAL_BASE_URL): the aud the tokens must carry")
        if self.secret is not None and len(self.secret) < MIN_SECRET_LENGTH:
            raise ValueError(f"HANDOVER_SECRET: at least {MIN_SECRET_LENGTH} characters")
        self.public_key = None
        if config.get("HANDOVER_PUBLIC_KEY"):
            pem = config["HANDOVER_PUBLIC_KEY"].replace("\\n", "\n").encode()
            self.public_key = load_pem_public_key(pem)  # a malformed key stops start-up
            if _algorithm_of(self.public_key) is None:
                raise ValueError("HANDOVER_PUBLIC_KEY: an RSA or P-256 (EC) public key")
        self.jwks = None
        if config.get("HANDOVER_JWKS_URL"):
            url = config["HANDOVER_JWKS_URL"]
            if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
                raise ValueError("HANDOVER_JWKS_URL: an http(s) address")
            self.jwks = jwt.PyJWKClient(url, cache_keys=False, lifespan=JWKS_CACHE_SECONDS,
                                        timeout=JWKS_TIMEOUT)

    def _key(self, header):
        algorithm = header.get("alg")
        if algorithm == "HS256" and self.secret:
            return self.secret
        if algorithm not in ("RS256", "ES256"):
            raise Refused("algorithm")
        if self.public_key is not None and _algorithm_of(self.public_key) == algorithm:
            return self.public_key
        if self.jwks is None:
            raise Refused("algorithm")
        if not isinstance(header.get("kid"), str):
            raise Refused("unknown_key")
        try:
            key = self.jwks.get_signing_key(header["kid"]).key
        except jwt.PyJWKClientConnectionError:
            raise Refused("keys_unavailable")
        except (jwt.PyJWKClientError, jwt.InvalidKeyError, ValueError):
            raise Refused("unknown_key")
        if _algorithm_of(key) != algorithm:
            raise Refused("algorithm")
        return key

    def verify(self, token):
        """The identity in a valid, unused token (its jti is then used up); else Refused."""
        if not token:
            raise Refused("no_token")
        try:
            header = jwt.get_unverified_header(token)
            claims = jwt.decode(token, self._key(header), algorithms=[header["alg"]],
                                audience=self.audience, issuer=self.issuer, leeway=LEEWAY,
                                options={"require": list(REQUIRED_CLAIMS)})
        except (jwt.InvalidTokenError, jwt.InvalidKeyError) as error:
            raise Refused(next(reason for kind, reason in _FAILED_CHECKS if isinstance(error, kind)))
        if claims["exp"] - claims["iat"] > MAX_LIFETIME:
            raise Refused("lifetime")
        if not isinstance(claims["jti"], str) or not 0 < len(claims["jti"]) <= 128:
            raise Refused("missing_claim")
        identity = _identity(claims)
        _use_up(claims["jti"], claims["exp"])
        return identity


def _identity(claims):
    email, name = claims.get("email"), claims.get("name")
    locale, groups = claims.get("locale"), claims.get("groups", [])
    if not isinstance(email, str) or not isinstance(name, str) or not isinstance(groups, list):
        raise Refused("identity")
    email = User.normalize_email(email)
    name = column_text(name.strip(), 120)
    if not (0 < len(email) <= 254 and "@" in email) or any(ord(ch) < 33 for ch in email) or not name:
        raise Refused("identity")
    if not all(isinstance(group, str) for group in groups):
        raise Refused("identity")
    return Identity(email, name, accounts.language_of(locale), tuple(groups))


def _use_up(jti, exp):
    """Record the jti; a second use (even at the same moment, elsewhere) breaks the key."""
    db.session.execute(delete(UsedHandoverToken).where(UsedHandoverToken.expires_at < utcnow()))
    expires = datetime.fromtimestamp(exp, timezone.utc) + timedelta(seconds=LEEWAY)
    db.session.add(UsedHandoverToken(jti=jti, expires_at=expires))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Refused("replayed")


def account_for(identity, admin_groups):
    """The account with the token's e-mail, created on first arrival; its role follows the
    groups when HANDOVER_ADMIN_GROUPS is set (accounts.follow_groups). Committed."""
    try:
        user = db.session.scalar(select(User).where(User.email == identity.email))
        if user is None:
            user = User(email=identity.email, display_name=identity.name, language=identity.locale,
                        role="user", password_hash=User.NO_PASSWORD)
            db.session.add(user)
            db.session.flush()
            audit.record("users.created_by_handover", user=identity.email)
        elif not user.active:
            raise Refused("deactivated")
        if admin_groups:
            accounts.follow_groups(user, identity.groups, admin_groups, "handover")
        user.last_login_at = utcnow()
        db.session.commit()
    except IntegrityError:  # created at the same moment by another hand-over of this person
        db.session.rollback()
        return account_for(identity, admin_groups)
    return user


def verifier():
    """The hand-over's settings, or None when the feature is off."""
    return current_app.extensions.get("handover")


def init_app(app):
    if any(app.config.get(name) for name in ("HANDOVER_SECRET", "HANDOVER_PUBLIC_KEY", "HANDOVER_JWKS_URL")):
        app.extensions["handover"] = Verifier(app.config)
