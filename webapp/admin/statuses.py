"""Administration → Statuses: the project's Jira statuses in the customers' words.

The web process never calls Jira here: "Read from Jira" enqueues `statuses.read_statuses`,
and the page polls its table until the worker has read (docs/architecture.md)."""
from datetime import datetime

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from . import bp
from .forms import StatusNamesForm, errors_text
from .. import audit
from .. import statuses as mapping
from ..extensions import db
from ..htmx import is_fragment_request
from ..models import JiraStatus
from ..queue import enqueue


def _context(error=None, error_for=None):
    state = mapping.read_state()
    asked, read = (datetime.fromisoformat(state[k]) if state[k] else None for k in ("asked", "read"))
    return dict(statuses=mapping.all_statuses(), read_at=read, problem=state["problem"],
                reading=asked is not None and (read is None or read < asked),
                error=error, error_for=error_for)


def _response(error=None, error_for=None):
    """After a change: the table for an htmx swap, else back to the page."""
    if is_fragment_request():
        return render_template("admin/_statuses.html", **_context(error, error_for))
    if error:
        flash(error, "error")
    return redirect(url_for("admin.statuses"), code=303)


@bp.get("/statuses")
def statuses():
    """The statuses as Jira last listed them, each with its names for customers."""
    if is_fragment_request():  # the table's poll while the worker reads
        return render_template("admin/_statuses.html", **_context())
    return render_template("admin/statuses.html", **_context())


@bp.post("/statuses/read")
def read_statuses():
    """Ask a worker to read the project's statuses from Jira now."""
    mapping.ask_to_read()
    audit.record("statuses.read_asked")
    db.session.commit()
    enqueue(mapping.read_statuses)
    if not is_fragment_request():
        flash(_("The statuses are being read from Jira."), "success")
    return _response()


@bp.post("/statuses/<int:status_id>")
def save_status(status_id):
    """One status's names for customers and its "waiting for the customer" mark."""
    row = db.get_or_404(JiraStatus, status_id)
    form = StatusNamesForm()
    if not form.validate_on_submit():
        return _response(errors_text(form.name_en, form.name_tr, form.waiting), row.id)
    changed = {name: getattr(form, field).data for name, field in
               (("name_en", "name_en"), ("name_tr", "name_tr"), ("waiting_for_customer", "waiting"))
               if getattr(row, name) != getattr(form, field).data}
    if changed:
        for name, value in changed.items():
            setattr(row, name, value)
        audit.record("statuses.changed", status=row.name, **changed)
        db.session.commit()
        mapping.forget_mappings()
    return _response()
