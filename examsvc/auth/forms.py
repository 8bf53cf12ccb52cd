"""Sign-in, staff account and password forms."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from .roles import Role
from .setup import role_names


class MultiCheckboxField(SelectMultipleField):
    """Several choices shown as checkboxes (the roles of a user)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class _WithRoles(FlaskForm):
    """A form with a ``roles`` field offering every staff role by its translated name."""

    roles: MultiCheckboxField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        names = role_names()
        self.roles.choices = [SelectChoice(str(r), names[str(r)]) for r in Role]


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=128)])


class NewUserForm(_WithRoles):
    username = StringField(
        _l("Username"),
        validators=[DataRequired(), Length(min=3, max=64), Regexp(r"^[A-Za-z0-9._-]+$")],
    )
    display_name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    password = PasswordField(
        _l("Initial password"), validators=[DataRequired(), Length(min=10, max=128)]
    )
    roles = MultiCheckboxField(_l("Roles"), validators=[DataRequired()])


class RolesForm(_WithRoles):
    roles = MultiCheckboxField(_l("Roles"))
    active = BooleanField(_l("Active"))


class PasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    new = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=10, max=128)])
    repeat = PasswordField(
        _l("Repeat new password"), validators=[EqualTo("new", _l("The passwords differ."))]
    )
