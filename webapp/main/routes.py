"""Site-wide routes: the home redirect, the language switch and health checks."""
from flask import current_app, jsonify, redirect, request, session, url_for
from flask_login import current_user
from sqlalchemy import text

from . import bp
from ..extensions import db
from ..auth.routes import safe_next


@bp.get("/")
def index():
    """Everyone starts at their support requests."""
    return redirect(url_for("support.list_requests"))


@bp.post("/language")
def set_language():
    """Switch the interface language; remembered on the account when logged in."""
    language = request.form.get("language")
    if language in current_app.config["LANGUAGES"]:
        session["language"] = language
        if current_user.is_authenticated:
            current_user.language = language
            db.session.commit()
    return redirect(safe_next(request.form.get("next")) or url_for("main.index"), code=303)


@bp.get("/healthz")
def healthz():
    """The process is up."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """The database and, when configured, Redis answer; 503 otherwise."""
    checks = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # report, don't crash: this is what readiness is for
        current_app.logger.warning("readyz: database unreachable: %s", type(exc).__name__)
        checks["database"] = "unreachable"
        db.session.rollback()
    queue = current_app.extensions["queue"]
    if queue.mode == "rq":
        try:
            queue.redis.ping()
            checks["redis"] = "ok"
        except Exception as exc:
            current_app.logger.warning("readyz: redis unreachable: %s", type(exc).__name__)
            checks["redis"] = "unreachable"
    ready = all(value == "ok" for value in checks.values())
    return jsonify(status="ok" if ready else "unavailable", checks=checks), 200 if ready else 503
