"""Single sign-on with an OpenID provider (docs/sso.md): the authorization code flow with
PKCE and a nonce, through Authlib, which checks the ID token's signature against the
provider's keys, its issuer, audience, nonce and expiry."""
import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import OAuth
from flask import abort, current_app, request, session, url_for
from flask_babel import lazy_gettext as _l
from joserfc.errors import JoseError

from . import accounts, bp
from .routes import log_in, safe_next
from .. import audit
from ..errors import render_error
from ..extensions import db

CLIENT = "oidc"
NEXT = "sso_next"  # where to go after the provider sends the person back
MAX_NEXT = 2000  # a longer one is dropped: it would not fit in the session cookie

DENIED = _l("The sign-in was cancelled or refused at your provider. Try again, or ask your administrator.")
UNVERIFIABLE = _l("The answer from your provider could not be verified, so nobody was signed in. "
                  "Start again from the log-in page.")
UNREACHABLE = _l("Your sign-in provider cannot be reached just now. Try again in a moment.")


def init_app(app):
    """Register the provider's client when OIDC_ISSUER is set (its endpoints and keys are
    discovered on first use)."""
    config = app.config
    if not config["OIDC_ISSUER"]:
        return
    OAuth(app).register(
        CLIENT, client_id=config["OIDC_CLIENT_ID"], client_secret=config["OIDC_CLIENT_SECRET"],
        server_metadata_url=config["OIDC_ISSUER"] + "/.well-known/openid-configuration",
        client_kwargs={"scope": config["OIDC_SCOPES"], "code_challenge_method": "S256",
                       "default_timeout": config["OIDC_TIMEOUT"]})


def provider_name():
    """The provider's name for the log-in button, or None without single sign-on."""
    return current_app.config["OIDC_PROVIDER_NAME"] if current_app.config["OIDC_ISSUER"] else None


@bp.app_context_processor
def sso_context():
    return {"sso_provider": provider_name()}


def _client():
    if provider_name() is None:
        abort(404)
    return current_app.extensions["authlib.integrations.flask_client"].create_client(CLIENT)


def _redirect_uri():
    base = current_app.config["PORTAL_BASE_URL"]
    return base + url_for("auth.sso_callback") if base else url_for("auth.sso_callback", _external=True)


@bp.get("/oidc/login")
def sso_login():
    """Send the person to the provider, remembering where they were going."""
    client = _client()
    # One sign-in at a time per browser: the session cookie must not grow with each click
    # (Authlib keeps each attempt's state, nonce and PKCE verifier under "_state_<client>_").
    for key in [key for key in session if key.startswith(f"_state_{CLIENT}_")]:
        del session[key]
    target = safe_next(request.args.get("next"))
    session[NEXT] = target if target and len(target) <= MAX_NEXT else None
    try:
        return client.authorize_redirect(_redirect_uri())
    except (requests.RequestException, ValueError) as error:  # ValueError: no JSON in discovery
        return _unreachable(error)


@bp.get("/oidc/callback")
def sso_callback():
    """Check the provider's answer and log the person in to their (perhaps new) account."""
    client = _client()
    if request.args.get("error"):
        return _refused(f"provider:{request.args['error'][:64]}", DENIED)
    issuer = current_app.config["OIDC_ISSUER"]
    try:
        # The ID token's issuer must be the configured one, not merely the discovery document's.
        token = client.authorize_access_token(claims_options={"iss": {"essential": True, "values": [issuer]}})
    except requests.RequestException as error:
        return _unreachable(error)
    except (AuthlibBaseError, JoseError, ValueError) as error:
        return _refused(f"unverified:{type(error).__name__}", UNVERIFIABLE)
    claims = token.get("userinfo")
    if not claims:  # no ID token: nothing says who this is
        return _refused("unverified:no_id_token", UNVERIFIABLE)
    try:
        user = accounts.account_for(issuer, claims)
    except accounts.Refused as refusal:
        db.session.rollback()
        return _refused(refusal.reason, refusal.message)
    return log_in(user, False, session.pop(NEXT, None))


def _refused(reason, message):
    """A refused sign-in: written to the audit log, explained to the person."""
    audit.record("auth.sso.refused", reason=reason)
    db.session.commit()
    return render_error(403, _l("Sign-in refused"), message)


def _unreachable(error):
    current_app.logger.warning("OpenID provider unreachable: %s", type(error).__name__)
    return render_error(503, _l("Sign-in unavailable"), UNREACHABLE)
