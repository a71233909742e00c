"""Administration → Apinizer: the connector's settings, the projects to follow picked from those
the worker last read ("Read projects"), "Refresh now", and the preview of what the worker's
last reading of Apinizer's Management API would change, to apply or discard. The web process
never calls Apinizer: every reading is a job."""
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
    form = ApinizerForm(obj=settings if request.method == "GET" else None, settings=settings)
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
        apinizer.request_projects(settings)
        if settings.projects:
            apinizer.request_reading(settings)
            flash(_("Settings saved. The worker reads Apinizer now; nothing changes before you apply what it finds."), "success")
        else:
            flash(_("Settings saved. The worker reads the projects this token can see; pick those to follow."), "success")
    else:
        db.session.commit()
        flash(_("Settings saved. Type the token to connect."), "success")
    return redirect(url_for("admin.apinizer_settings"), code=303)


def _projects_response(settings):
    """The projects' check boxes for an htmx swap (they poll themselves while the worker
    reads), else back to the page."""
    if is_fragment_request():
        form = ApinizerForm(formdata=None, obj=settings, settings=settings)
        return render_template("admin/_apinizer_projects.html", form=form, settings=settings)
    return redirect(url_for("admin.apinizer_settings"), code=303)


@bp.get("/apinizer/projects")
def apinizer_projects():
    """The projects as the worker last read them: the page polls them while it reads."""
    return _projects_response(ApinizerSettings.get())


@bp.post("/apinizer/projects/read")
def read_apinizer_projects():
    """Ask the worker to list the projects the saved token can see."""
    settings = ApinizerSettings.get()
    if apinizer.is_configured(settings):
        audit.record("apinizer.projects_read_asked")
        apinizer.request_projects(settings)
        if not is_fragment_request():
            flash(_("The worker reads the projects from Apinizer."), "success")
    else:
        db.session.commit()  # the row get() may have made
        if not is_fragment_request():
            flash(_("Save the address and the token first."), "error")
    return _projects_response(settings)


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
