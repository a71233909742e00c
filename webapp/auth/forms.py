from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, RadioField, SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from ..forms import REQUIRED
from .passwords import MAX_LENGTH, password_problem


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(message=REQUIRED), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(message=REQUIRED)])
    remember = BooleanField(_l("Keep me logged in"))


class NewPasswordForm(FlaskForm):
    """A new password, typed twice, that passes the one password rule for `email`."""
    new_password = PasswordField(_l("New password"), validators=[DataRequired(message=REQUIRED)])
    confirm = PasswordField(_l("New password again"), validators=[
        DataRequired(message=REQUIRED),
        EqualTo("new_password", message=_l("The two passwords are not the same."))])

    def __init__(self, *args, email="", **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def validate_new_password(self, field):
        problem = password_problem(field.data, self.email)
        if problem is not None:
            raise ValidationError(problem)


class ChangePasswordForm(NewPasswordForm):
    current_password = PasswordField(_l("Current password"), validators=[
        DataRequired(message=REQUIRED), Length(max=MAX_LENGTH)])


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(message=REQUIRED), Length(max=254)])


class MailPreferenceForm(FlaskForm):
    """What mail about one's requests one gets (User.mail_preference)."""
    mail_preference = RadioField(_l("E-mail about my requests"), choices=[
        SelectChoice("all", _l("Everything: status changes and new comments")),
        SelectChoice("status", _l("Status changes only")),
        SelectChoice("none", _l("None"))], validators=[DataRequired(message=REQUIRED)])
