from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(message=_l("This field is required.")), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(message=_l("This field is required."))])
    remember = BooleanField(_l("Keep me logged in"))
