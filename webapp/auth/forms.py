from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from ..forms import REQUIRED


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(message=REQUIRED), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(message=REQUIRED)])
    remember = BooleanField(_l("Keep me logged in"))
