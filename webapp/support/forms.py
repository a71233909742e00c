from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, MultipleFileField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..forms import REQUIRED, strip
from ..models import as_id

SUMMARY_MAX = 255
DESCRIPTION_MAX = 32000


class RequestForm(FlaskForm):
    label = SelectField(_l("Label"), validators=[DataRequired(message=REQUIRED)], validate_choice=True)
    summary = StringField(_l("Summary"), filters=[strip],
                          validators=[DataRequired(message=REQUIRED), Length(max=SUMMARY_MAX)])
    description = TextAreaField(_l("Description"), filters=[strip],
                                validators=[DataRequired(message=REQUIRED), Length(max=DESCRIPTION_MAX)])
    category = SelectField(_l("Category"), coerce=as_id, validators=[Optional()])
    product = SelectField(_l("API Product"), coerce=as_id, validators=[Optional()])
    endpoint = SelectField(_l("Endpoint"), coerce=as_id, validators=[Optional()])
    attachments = MultipleFileField(_l("Attachments"))
    submission_key = HiddenField()
