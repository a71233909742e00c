import re
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import (BooleanField, IntegerField, PasswordField, RadioField, SelectChoice, SelectMultipleField,
                     StringField, TextAreaField)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from .. import technical
from ..catalog.openapi import HTTP_METHODS
from ..extensions import db
from ..forms import REQUIRED, strip
from ..integration import SETTINGS_FIELDS
from ..jira import normalize_base_url
from ..jira.urls import host_allowed
from ..models import User

def errors_text(*fields):
    """The fields' error messages as one line, in the user's language."""
    return " ".join(str(error) for field in fields for error in field.errors)


def _upper(value):
    return value.strip().upper() if isinstance(value, str) else value


def _custom_field_id(value):
    """Accept `customfield_10070`, `10070` or `cf[10070]`; store `customfield_10070`."""
    if not isinstance(value, str) or not value.strip():
        return None
    match = re.fullmatch(r"(?:customfield_|cf\[)?(\d+)\]?", value.strip(), re.IGNORECASE)
    return f"customfield_{match.group(1)}" if match else value.strip()


def custom_field_id(form, field):
    if field.data and not re.fullmatch(r"customfield_\d+", field.data):
        raise ValidationError(_l("Use the form customfield_10070 (the word customfield, an underscore and the number)."))


class JiraSettingsForm(FlaskForm):
    deployment = RadioField(_l("Deployment"), choices=[
        SelectChoice("cloud", _l("Jira Cloud (API token)")),
        SelectChoice("datacenter", _l("Jira Data Center / Server (personal access token)")),
    ], default="cloud")
    base_url = StringField(_l("Jira URL"), filters=[strip],
                           validators=[DataRequired(message=REQUIRED), Length(max=500)])
    description = TextAreaField(_l("Description"), filters=[strip], validators=[Length(max=5000)])
    username = StringField(_l("Username"), filters=[strip], validators=[Length(max=254)])
    api_token = PasswordField(_l("API Token"), filters=[strip], validators=[Length(max=2000)])
    clear_token = BooleanField(_l("Remove the stored token"))
    project_key = StringField(_l("Project Key"), filters=[_upper],
                              validators=[DataRequired(message=REQUIRED), Length(max=255)])
    issue_type = StringField(_l("Issue Type"), filters=[strip],
                             validators=[DataRequired(message=REQUIRED), Length(max=100)])
    category_field_id = StringField(_l("Category Custom Field ID"), filters=[_custom_field_id],
                                    validators=[Optional(), custom_field_id])
    product_field_id = StringField(_l("API Product Custom Field ID"), filters=[_custom_field_id],
                                   validators=[Optional(), custom_field_id])
    show_all_jira_files = BooleanField(_l("Show every file on the issue"))
    endpoint_field_id = StringField(_l("API Product Endpoint Custom Field ID"),
                                    filters=[_custom_field_id], validators=[Optional(), custom_field_id])
    technical_fields = SelectMultipleField(_l("Technical details to ask for"), choices=[
        SelectChoice(key, name) for key, name in technical.FIELDS.items()],
                                           invalid_choice_message=_l("Choose from the listed details."))
    environments = TextAreaField(_l("Environments"), filters=[strip], validators=[Length(max=5000)])
    environments_from = RadioField(_l("Environments offered"), choices=[
        SelectChoice(key, _l(name)) for key, name in technical.ENVIRONMENT_SOURCES.items()], default="admin")
    environment_field_id = StringField(_l("Environment Custom Field ID"), filters=[_custom_field_id],
                                       validators=[Optional(), custom_field_id])
    application_field_id = StringField(_l("Application / Client ID Custom Field ID"), filters=[_custom_field_id],
                                       validators=[Optional(), custom_field_id])
    correlation_field_id = StringField(_l("Request or Correlation ID Custom Field ID"), filters=[_custom_field_id],
                                       validators=[Optional(), custom_field_id])
    http_status_field_id = StringField(_l("HTTP Status Custom Field ID"), filters=[_custom_field_id],
                                       validators=[Optional(), custom_field_id])
    occurred_field_id = StringField(_l("When It Happened Custom Field ID"), filters=[_custom_field_id],
                                    validators=[Optional(), custom_field_id])
    resolve_transition = StringField(_l("“Mark as resolved” transition"), filters=[strip],
                                     validators=[Length(max=100)])
    reopen_transition = StringField(_l("“Reopen” transition"), filters=[strip], validators=[Length(max=100)])
    reopen_days = IntegerField(_l("Reopen within (days)"), default=14,
                               validators=[Optional(), NumberRange(min=1, max=3650)])
    reply_transition = StringField(_l("Transition a reply makes while the team waits for the requester"),
                                   filters=[strip], validators=[Length(max=100)])

    def __init__(self, *args, token_set=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.token_set = token_set

    def validate_base_url(self, field):
        try:
            parts = urlsplit(field.data if "://" in field.data else "https://" + field.data)
            url = normalize_base_url(field.data)
        except ValueError:
            raise ValidationError(_l("Enter the address of your Jira site, like https://your-company.atlassian.net."))
        if "@" in parts.netloc:  # any user info, even an empty "user:@"
            raise ValidationError(_l("Leave the user name and token out of the URL; they have fields of their own."))
        if url.startswith("http://") and not current_app.config["JIRA_ALLOW_HTTP"]:
            raise ValidationError(_l("Use https://. Plain http is allowed only when the operator sets JIRA_ALLOW_HTTP for an intranet Data Center."))
        if not host_allowed(url, current_app.config["JIRA_ALLOWED_HOSTS"]):
            raise ValidationError(_l("The operator allows only these Jira hosts: %(hosts)s.",
                                     hosts=", ".join(current_app.config["JIRA_ALLOWED_HOSTS"])))
        field.data = url

    def validate_username(self, field):
        if self.deployment.data == "cloud" and not field.data:
            raise ValidationError(REQUIRED)

    def validate_api_token(self, field):
        if not field.data and (not self.token_set or self.clear_token.data):
            raise ValidationError(REQUIRED)
        if field.data and any(ch.isspace() for ch in field.data):
            raise ValidationError(_l("A token has no spaces; paste it again."))

    def validate_project_key(self, field):
        if not re.fullmatch(r"[A-Z][A-Z0-9_]*", field.data):
            raise ValidationError(_l("A project key starts with a letter and has only letters, digits and underscores, like SUP."))

    def values(self):
        """The settings as integration.save() takes them; an empty field is None, or "" where
        the column holds text (a check box is True or False)."""
        empty = {"description": "", "username": "", "show_all_jira_files": False, "technical_fields": [],
                 "environments": "", "reopen_days": 14, "environments_from": "admin"}
        values = {name: getattr(self, name).data or empty.get(name) for name in SETTINGS_FIELDS}
        values["technical_fields"] = [key for key in technical.FIELDS if key in values["technical_fields"]]
        return values


class LabelForm(FlaskForm):
    name = StringField(_l("Label"), filters=[strip], validators=[DataRequired(message=REQUIRED), Length(max=255)])


class StatusNamesForm(FlaskForm):
    """A Jira status in the customers' words (Administration → Statuses)."""

    name_en = StringField(_l("Name in English"), filters=[strip],
                          validators=[DataRequired(message=REQUIRED), Length(max=100)])
    name_tr = StringField(_l("Name in Turkish"), filters=[strip],
                          validators=[DataRequired(message=REQUIRED), Length(max=100)])
    waiting = BooleanField(_l("Waiting for the customer"))


class NameForm(FlaskForm):
    name = StringField(_l("Name"), filters=[strip], validators=[DataRequired(message=REQUIRED), Length(max=200)])




class EndpointForm(FlaskForm):
    method = StringField(_l("Method"), filters=[_upper], validators=[Optional()])
    path = StringField(_l("Endpoint"), filters=[strip], validators=[DataRequired(message=REQUIRED), Length(max=500)])

    def validate_method(self, field):
        if field.data and field.data not in HTTP_METHODS:
            raise ValidationError(_l("Choose one of GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS."))

    def validate_path(self, field):
        if not field.data.startswith("/") or any(ch.isspace() for ch in field.data):
            raise ValidationError(_l("An endpoint is a path that starts with /, like /payments/v1."))


def check_catalog_url(url, schemes, invalid):
    """A URL the worker may read the catalog from: one of `schemes`, a host, no user info,
    nothing unprintable, and a host the operator allows (CATALOG_ALLOWED_HOSTS)."""
    try:
        parts = urlsplit(url)
        parts.port  # ValueError when it is no port number
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in schemes or not parts.hostname or "@" in parts.netloc \
            or any(ch.isspace() or not ch.isprintable() for ch in url):
        raise ValidationError(invalid)
    allowed = current_app.config["CATALOG_ALLOWED_HOSTS"]
    if not host_allowed(url, allowed):
        raise ValidationError(_l("The operator allows documents only from these hosts: %(hosts)s.",
                                 hosts=", ".join(allowed)))


class SourceForm(FlaskForm):
    """The address of the OpenAPI document a product follows."""
    url = StringField(_l("OpenAPI document URL"), filters=[strip],
                      validators=[DataRequired(message=REQUIRED), Length(max=2000)])

    def validate_url(self, field):
        check_catalog_url(field.data, ("http", "https"),
                          _l("Enter the document's address, like https://api.example.com/openapi.json."))


class ApinizerForm(FlaskForm):
    """Where Apinizer's Management API is, its token, and the projects whose proxies to follow."""
    base_url = StringField(_l("Apinizer Manager URL"), filters=[strip],
                           validators=[DataRequired(message=REQUIRED), Length(max=500)])
    api_token = PasswordField(_l("Personal API access token"), filters=[strip], validators=[Length(max=2000)])
    clear_token = BooleanField(_l("Remove the stored token"))
    projects = SelectMultipleField(_l("Projects"), invalid_choice_message=_l("Choose from the projects Apinizer listed."))

    def __init__(self, *args, settings, **kwargs):
        super().__init__(*args, **kwargs)
        # What the worker last read, and what is followed now (a project Apinizer stopped listing
        # stays offered, checked, until the admin unticks it).
        names = list(dict.fromkeys([*(settings.known_projects or ()), *(settings.projects or ())]))
        self.projects.choices = [(name, name) for name in names]

    def validate_base_url(self, field):
        schemes = ("http", "https") if current_app.config["APINIZER_ALLOW_HTTP"] else ("https",)
        check_catalog_url(field.data, schemes,
                          _l("Enter the address of Apinizer Manager, like https://apinizer.example.com (https://)."))
        field.data = field.data.rstrip("/").removesuffix("/apiops")

    def project_names(self):
        """The projects ticked, each once, in Apinizer's order."""
        chosen = set(self.projects.data or ())
        return [name for name, _ in self.projects.choices if name in chosen]


class ProductEnvironmentsForm(FlaskForm):
    """Which environments the form offers with one product (webapp/technical.py)."""
    environments_from = RadioField(_l("Environments offered"), choices=[
        SelectChoice("", _l("As Jira Config says"))] + [
        SelectChoice(key, _l(name)) for key, name in technical.ENVIRONMENT_SOURCES.items()], default="")


class NewUserForm(FlaskForm):
    """A local account; its owner sets the password through a one-time link."""
    email = StringField(_l("E-mail"), filters=[strip], validators=[DataRequired(message=REQUIRED), Length(max=254)])
    display_name = StringField(_l("Name"), filters=[strip], validators=[DataRequired(message=REQUIRED), Length(max=120)])
    admin = BooleanField(_l("Administrator"))

    def validate_email(self, field):
        field.data = User.normalize_email(field.data)
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", field.data) or len(field.data) > 254:
            raise ValidationError(_l("Enter an e-mail address, like name@example.com."))
        if db.session.scalar(select(User.id).where(User.email == field.data)) is not None:
            raise ValidationError(_l("An account with this e-mail address exists already."))
