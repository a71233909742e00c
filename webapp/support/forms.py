from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, MultipleFileField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..admin.forms import REQUIRED
from ..models import as_id

SUMMARY_MAX = 255
DESCRIPTION_MAX = 32000


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class RequestForm(FlaskForm):
    label = SelectField(_l("Label"), validators=[DataRequired(message=REQUIRED)], validate_choice=True)
    summary = StringField(_l("Summary"), filters=[_strip],
                          validators=[DataRequired(message=REQUIRED), Length(max=SUMMARY_MAX)])
    description = TextAreaField(_l("Description"), filters=[_strip],
                                validators=[DataRequired(message=REQUIRED), Length(max=DESCRIPTION_MAX)])
    category = SelectField(_l("Category"), coerce=as_id, validators=[Optional()])
    product = SelectField(_l("API Product"), coerce=as_id, validators=[Optional()])
    endpoint = SelectField(_l("Endpoint"), coerce=as_id, validators=[Optional()])
    attachments = MultipleFileField(_l("Attachments"))
    submission_key = HiddenField()
