"""The Jira Config screen: settings, the live Active/Passive switch, the label list and
"Save and Test"."""
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from . import bp
from .forms import JiraSettingsForm, LabelForm, errors_text
from .. import audit, integration, messages, technical, transitions
from ..choices import all_labels
from ..extensions import db
from ..htmx import is_fragment_request
from ..jira import check_connection, make_label
from ..jira.check import ConnectionReport, Step, check_transitions
from ..models import Label

ADVICE = {
    "myself": _l("Check the Username (the Atlassian account e-mail) and the API Token. Create a new token if it was revoked or expired, and make sure the account may use the project."),
    "project": _l("Check the Project Key (Jira → Project settings → Details) and that the account may browse the project."),
    "issue_type": _l("Enter one of the valid issue types listed above, exactly as Jira names it."),
    "field": _l("Put the field on the project's create screen for this issue type in Jira, or clear its ID here."),
    "server": _l("Check the Jira URL, and that this server can reach it (proxy, firewall)."),
    "labels": _l("Add the Labels field to the create screen of this issue type in Jira, and make sure the workflow allows labels; or remove the list's labels."),
    "attachments": _l("Ask a Jira administrator to enable attachments; requests are still created without their files."),
    "transitions": _l("Type the transition's name as the project's workflow names it (the button on the issue in Jira), make sure the portal's Jira account may use it, or clear it to switch the action off."),
}


def _page(form, settings, report=None, status_error=None, code=200):
    return render_template(
        "admin/jira.html", form=form, settings=settings, report=report, labels=all_labels(),
        label_form=LabelForm(), status_error=status_error, advice=ADVICE,
    ), code


@bp.route("/jira", methods=["GET", "POST"])
def jira_settings():
    """Show and save the Jira settings; "Save and Test" also runs the checks."""
    settings = integration.settings()
    form = JiraSettingsForm(obj=settings if request.method == "GET" else None,
                            token_set=integration.has_token(settings))
    if not form.validate_on_submit():
        if form.errors:
            flash(_("Some settings need attention; see the messages below."), "error")
        return _page(form, settings)
    had_token = integration.has_token(settings)
    changed = integration.save(settings, form.values(), token=form.api_token.data,
                               clear_token=form.clear_token.data)
    db.session.commit()
    if had_token and not integration.has_token(settings) and not form.clear_token.data:
        flash(_("The stored token was removed: it was for another Jira URL, deployment or username. "
                "Type the token for these settings."), "error")
    if request.form.get("action") != "test":
        flash(_("Settings saved.") if changed else _("Nothing changed."), "success")
        return redirect(url_for("admin.jira_settings"), code=303)
    report = run_checks(settings)
    db.session.commit()
    return _page(JiraSettingsForm(formdata=None, obj=settings, token_set=integration.has_token(settings)), settings, report)


def run_checks(settings):
    """Check the saved settings against Jira without creating anything there."""
    try:
        jira = integration.client(settings, timeout=current_app.config["JIRA_TEST_TIMEOUT"])
    except integration.NoClient as exc:
        return ConnectionReport(steps=[Step("server", False, messages.from_error(exc.cause))])
    field_ids = [settings.category_field_id, settings.product_field_id, settings.endpoint_field_id,
                 *technical.field_ids(settings)]
    report = check_connection(jira, settings.project_key, settings.issue_type, field_ids=field_ids,
                              labels=[label.name for label in all_labels()])
    if report.issue_type_id:
        settings.issue_type_id = report.issue_type_id
    if report.field_schemas:
        settings.field_schemas = report.field_schemas
    if report.ok:
        check_transitions(jira, report, transitions.mapping(settings), transitions.samples())
    audit.record("jira.settings.tested", passed=report.ok)
    return report


@bp.post("/jira/status")
def jira_status():
    """The Active/Passive switch, flipped in place."""
    settings = integration.settings()
    enabled = request.form.get("enabled") == "1"
    missing = integration.set_enabled(settings, enabled)
    db.session.commit()
    error = None
    if missing:
        error = _("Fill in these settings before activating: %(fields)s.",
                  fields=", ".join(str(name) for name in missing))
    if is_fragment_request():
        return render_template("admin/_jira_status.html", settings=settings, status_error=error)
    if error:
        flash(error, "error")
    else:
        flash(_("The integration is now active.") if settings.enabled else _("The integration is now passive."), "success")
    return redirect(url_for("admin.jira_settings"), code=303)


def _labels_response(error=None, notice=None):
    if is_fragment_request():
        return render_template("admin/_labels.html", labels=all_labels(), label_form=LabelForm(),
                               label_error=error, label_notice=notice)
    if error or notice:
        flash(error or notice, "error" if error else "info")
    return redirect(url_for("admin.jira_settings") + "#labels", code=303)


@bp.post("/jira/labels")
def add_label():
    """Add a label to the list; Jira labels cannot hold spaces, so they become dashes."""
    form = LabelForm()
    if not form.validate_on_submit():
        return _labels_response(error=errors_text(form.name))
    name, changed = make_label(form.name.data)
    # lower() on both sides in SQL: SQLite's lower() leaves non-ASCII letters ("İ") as they are.
    if db.session.scalar(select(Label).where(func.lower(Label.name) == func.lower(name))):
        return _labels_response(error=_("“%(name)s” is already in the list.", name=name))
    position = (db.session.scalar(select(func.max(Label.position))) or 0) + 1
    db.session.add(Label(name=name, position=position))
    audit.record("labels.added", label=name)
    db.session.commit()
    notice = _("Jira labels cannot contain spaces, so it was saved as “%(name)s”.", name=name) if changed else None
    return _labels_response(notice=notice)


@bp.post("/jira/labels/<int:label_id>/remove")
def remove_label(label_id):
    """Remove a label; requests filed with it keep it."""
    label = db.get_or_404(Label, label_id)
    db.session.delete(label)
    audit.record("labels.removed", label=label.name)
    db.session.commit()
    return _labels_response()


@bp.post("/jira/labels/<int:label_id>/every-issue")
def toggle_label_for_every_issue(label_id):
    """Choose whether a label is offered in the form or added to every issue."""
    label = db.get_or_404(Label, label_id)
    label.applies_to_all = request.form.get("applies_to_all") == "1"
    audit.record("labels.changed", label=label.name, every_issue=label.applies_to_all)
    db.session.commit()
    return _labels_response()
