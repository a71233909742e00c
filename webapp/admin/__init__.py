from flask import Blueprint, abort
from flask_login import current_user, login_required

bp = Blueprint("admin", __name__)


@bp.before_request
@login_required
def require_admin():
    """Every admin page: anonymous visitors log in first, users get 403 (and so does an
    anonymous OPTIONS, which login_required lets through for CORS preflights)."""
    if not current_user.is_authenticated or not current_user.is_admin:
        abort(403)


from . import apinizer, catalog, deliveries, jira_settings, outbox, routes, sources, statuses, users, webhook  # noqa: E402,F401
