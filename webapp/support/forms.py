from flask_babel import get_timezone
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import (BooleanField, DateTimeLocalField, HiddenField, IntegerField, MultipleFileField, SelectField,
                     StringField, TextAreaField)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from .. import integration, technical
from ..choices import active_categories, offered_endpoints, offered_labels, offered_products
from ..extensions import db
from ..forms import REQUIRED, strip
from ..models import ApiEndpoint, as_id

SUMMARY_MAX = 255
DESCRIPTION_MAX = 32000


class SentWithForm(FlaskForm):
    """What goes with a request besides what was typed (webapp/sent_with.py): the host
    page's context as JSON (static/embedded.js), the browser's time zone, and leaving it out."""

    context = HiddenField()
    time_zone = HiddenField()
    leave_out_context = BooleanField(_l("Leave these out"))


class RequestForm(SentWithForm):
    """The new-request form. Its choices are the lists as they are now; an id from outside
    them (an old page, a forged post) is refused with the field's own message."""

    label = SelectField(_l("Label"), validators=[DataRequired(message=REQUIRED)], validate_choice=True)
    summary = StringField(_l("Summary"), filters=[strip],
                          validators=[DataRequired(message=REQUIRED), Length(max=SUMMARY_MAX)])
    description = TextAreaField(_l("Description"), filters=[strip],
                                validators=[DataRequired(message=REQUIRED), Length(max=DESCRIPTION_MAX)])
    category = SelectField(_l("Category"), coerce=as_id, validators=[Optional()],
                           invalid_choice_message=_l("Choose a category from the list."))
    product = SelectField(_l("API Product"), coerce=as_id, validators=[Optional()],
                          invalid_choice_message=_l("Choose a product from the list."))
    endpoint = SelectField(_l("Endpoint"), coerce=as_id, validators=[Optional()],
                           invalid_choice_message=_l("Choose an endpoint of the chosen product."))
    # Technical details: each shown and kept only when the admin switched it on (webapp/technical.py).
    environment = StringField(_l("Environment"), filters=[strip], validators=[Optional(), Length(max=100)])
    application_id = StringField(_l("Application / client ID"), filters=[strip], validators=[Optional(), Length(max=200)])
    correlation_id = StringField(_l("Request or correlation ID"), filters=[strip],
                                 validators=[Optional(), Length(max=200)])
    http_status = IntegerField(_l("HTTP status"), validators=[Optional(), NumberRange(
        min=100, max=599, message=_l("An HTTP status is a number from 100 to 599."))])
    occurred_at = DateTimeLocalField(_l("When it happened"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    attachments = MultipleFileField(_l("Attachments"))
    submission_key = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.label.choices = [("", _("Choose a label"))] + [(name, name) for name in offered_labels()]
        self.category.choices = [("", "—")] + [(c.id, c.name) for c in active_categories()]
        self.offered_products = offered_products()
        self.product.choices = [("", "—")] + [(p.id, p.name) for p in self.offered_products]
        self.endpoint.choices = endpoint_choices(self.product.data)
        self.settings = settings = integration.settings()
        self.technical_asked = technical.asked(settings)
        for key in technical.FIELDS:
            if key not in self.technical_asked:
                delattr(self, key)  # not asked: whatever a post carries is neither checked nor kept

    def technical_details(self):
        """The details given in the fields the admin switched on, as text; None when none."""
        details = {}
        for key in self.technical_asked:
            value = getattr(self, key).data
            if key == "occurred_at" and value:
                value = f"{value:%Y-%m-%d %H:%M} ({self.time_zone.data or get_timezone()})"[:120]
            if value not in (None, ""):
                details[key] = str(value)
        return details or None

    def environment_choices(self):
        """The Environment field's choices as the chosen product has them (webapp/technical.py)."""
        product = {p.id: p for p in self.offered_products}.get(self.product.data)
        return technical.environment_choices(self.settings, product, self.offered_products)

    def validate_environment(self, field):
        allowed = technical.allowed_environments(self.environment_choices())
        if field.data and allowed and field.data not in allowed:
            raise ValidationError(_("Choose an environment offered for the chosen product."))

    def validate_endpoint(self, field):
        if field.data and not self.product.data:  # chosen without JavaScript: the endpoint names its product
            self.product.data = db.session.scalar(select(ApiEndpoint.product_id).where(ApiEndpoint.id == field.data))


def endpoint_choices(product_id):
    """The chosen product's endpoints; with no product yet, every offered endpoint grouped
    by product (so the form works without JavaScript: the product follows from the endpoint)."""
    endpoints = offered_endpoints(product_id)
    if product_id:
        return [("", "—")] + [(e.id, e.choice_label) for e in endpoints]
    groups = {None: [("", "—")]}
    for endpoint in endpoints:
        groups.setdefault(endpoint.product.name, []).append((endpoint.id, endpoint.choice_label))
    return groups


class ReplyForm(FlaskForm):
    """The requester's reply on the detail page; files follow the new-request form's rules."""

    body = TextAreaField(_l("Reply"), filters=[strip],
                         validators=[DataRequired(message=REQUIRED), Length(max=DESCRIPTION_MAX)])
    attachments = MultipleFileField(_l("Attachments"))
    submission_key = HiddenField()


class StatusActionForm(FlaskForm):
    """"Mark as resolved" or "Reopen" on the detail page, with an optional note for the team."""

    note = TextAreaField(_l("Note for the support team (optional)"), filters=[strip],
                         validators=[Length(max=DESCRIPTION_MAX)])
    submission_key = HiddenField()
