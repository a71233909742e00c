from flask import Blueprint
from flask_login import login_required

bp = Blueprint("support", __name__)


@bp.before_request
@login_required
def require_login():
    """Support requests are for logged-in users only."""


from . import routes, actions  # noqa: E402,F401
