from flask import Blueprint

bp = Blueprint("auth", __name__)

from . import forgot, own_password, preferences, routes, set_password, sso  # noqa: E402,F401
