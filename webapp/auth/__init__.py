from flask import Blueprint

bp = Blueprint("auth", __name__)

from . import own_password, routes, set_password, sso  # noqa: E402,F401
