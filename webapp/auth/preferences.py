"""Your mail preferences (on your own page, beside the password): which mail about your
requests the portal sends you."""
from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from . import bp
from .forms import MailPreferenceForm
from ..extensions import db
from ..mail import enabled


@bp.post("/mail-preferences")
@login_required
def mail_preferences():
    """Save the choice: everything, status changes only, or none."""
    form = MailPreferenceForm()
    if not form.validate_on_submit():
        return render_template("auth/password.html", **own_page(preference_form=form))
    current_user.mail_preference = form.mail_preference.data
    db.session.commit()
    flash(_("Your mail preferences are saved."), "success")
    return redirect(url_for("auth.change_password"), code=303)


def own_page(form=None, preference_form=None):
    """What the user's own page shows: the password form (None: no password here) and the
    mail preferences."""
    user = current_user._get_current_object()
    if preference_form is None:
        preference_form = MailPreferenceForm(formdata=None, mail_preference=user.mail_preference)
    return {"form": form, "preference_form": preference_form, "mail_on": enabled()}
