"""Administration → Apinizer: the connector's settings, "Refresh now", and the preview of what
the worker's last reading of Apinizer's Management API would change, to apply or discard."""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from . import bp
from .forms import ApinizerForm
from .. import audit, crypto
from ..catalog import apinizer
from ..extensions import db
from ..htmx import is_fragment_request
from ..models import ApinizerSettings


def _page(form, settings, code=200):
    return render_template("admin/apinizer.html", form=form, settings=settings), code


def _status_response(settings, notice=None):
    """The reading's box for an htmx swap, else back to the page."""
    if is_fragment_request():
        return render_template("admin/_apinizer_status.html", settings=settings, notice=notice)
    if notice:
        flash(notice, "success")
    return redirect(url_for("admin.apinizer_settings"), code=303)


@bp.route("/apinizer", methods=["GET", "POST"])
def apinizer_settings():
    settings = ApinizerSettings.get()
    form = ApinizerForm(obj=settings if request.method == "GET" else None)
    if request.method == "GET":
        form.projects.data = ", ".join(settings.projects or ())
    if not form.validate_on_submit():
        return _page(form, settings, 200)
    moved = settings.base_url and form.base_url.data != settings.base_url
    if form.api_token.data:
        settings.api_token_encrypted = crypto.encrypt(form.api_token.data)
        settings.api_token_last4 = form.api_token.data[-4:]
    elif form.clear_token.data or moved:  # never send a token to an address it was not typed for
        if moved and settings.api_token_encrypted:
            flash(_("The stored token was removed: it was for another Apinizer address. Type the token for this one."), "error")
        settings.api_token_encrypted = settings.api_token_last4 = None
    settings.base_url, settings.projects = form.base_url.data, form.project_names()
    settings.found = settings.error = None
    audit.record("apinizer.saved", url=settings.base_url, projects=", ".join(settings.projects)[:500])
    if apinizer.is_configured(settings):
        apinizer.request_reading(settings)
        flash(_("Settings saved. The worker reads Apinizer now; nothing changes before you apply what it finds."), "success")
    else:
        db.session.commit()
        flash(_("Settings saved. Type the token to connect."), "success")
    return redirect(url_for("admin.apinizer_settings"), code=303)


@bp.get("/apinizer/status")
def apinizer_status():
    """The reading's box alone: the page polls it while the worker reads."""
    return _status_response(ApinizerSettings.get())


@bp.post("/apinizer/refresh")
def refresh_apinizer():
    settings = ApinizerSettings.get()
    if apinizer.is_configured(settings):
        apinizer.request_reading(settings)
    return _status_response(settings)


@bp.post("/apinizer/apply")
def apply_apinizer():
    settings = ApinizerSettings.get()
    if not settings.found:
        return _status_response(settings, _("Nothing waits to be applied."))
    apinizer.apply_found(settings)
    db.session.commit()
    return _status_response(settings, _("Applied. The products and endpoints follow Apinizer."))


@bp.post("/apinizer/discard")
def discard_apinizer():
    settings = ApinizerSettings.get()
    settings.found = None
    db.session.commit()
    return _status_response(settings)
