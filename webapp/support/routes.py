"""Support requests: the list of a user's requests."""
from flask import render_template
from flask_login import current_user
from sqlalchemy import select

from . import bp
from ..extensions import db
from ..models import SupportRequest


@bp.get("/")
def list_requests():
    """The user's own requests (every request for admins), newest update first."""
    query = select(SupportRequest).order_by(SupportRequest.updated_at.desc()).limit(50)
    if not current_user.is_admin:
        query = query.where(SupportRequest.reporter_id == current_user.id)
    requests = db.session.scalars(query).all()
    return render_template("support/list.html", requests=requests)
