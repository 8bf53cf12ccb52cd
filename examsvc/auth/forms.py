"""Sign-in, staff account and password forms."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Regexp, ValidationError
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


# Roles whose work is at one site: the account must name it.
SITE_ROLES = frozenset({Role.SITE_ADMIN, Role.INVIGILATOR})


class _WithSite(_WithRoles):
    """Roles plus the site (考点) a site admin or invigilator works at."""

    site = SelectField(_l("Exam site"), default="")

    def offer_sites(self, sites: Iterable[Any]) -> None:
        """Offer the organization's sites (objects with id, number and name), or none."""
        self.site.choices = [SelectChoice("", _l("None"))] + [
            SelectChoice(str(s.id), f"{s.number:03d} {s.name}") for s in sites
        ]

    @property
    def site_id(self) -> int | None:
        return int(self.site.data) if self.site.data else None

    def validate_site(self, field: SelectField) -> None:
        if set(self.roles.data or []) & {str(r) for r in SITE_ROLES} and not field.data:
            raise ValidationError(
                _l("A site admin or invigilator must be attached to a site: choose the site.")
            )


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=128)])


class NewUserForm(_WithSite):
    username = StringField(
        _l("Username"),
        validators=[DataRequired(), Length(min=3, max=64), Regexp(r"^[A-Za-z0-9._-]+$")],
    )
    display_name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    password = PasswordField(
        _l("Initial password"), validators=[DataRequired(), Length(min=10, max=128)]
    )
    roles = MultiCheckboxField(_l("Roles"), validators=[DataRequired()])


class RolesForm(_WithSite):
    roles = MultiCheckboxField(_l("Roles"))
    active = BooleanField(_l("Active"))


class PasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    new = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=10, max=128)])
    repeat = PasswordField(
        _l("Repeat new password"), validators=[EqualTo("new", _l("The passwords differ."))]
    )
