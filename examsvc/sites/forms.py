"""Site and room forms: typed values only; the rules of numbers and seat maps are the services'."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, IntegerField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from .models import Room, Site
from .seatmap import MAX_COLUMNS, MAX_ROWS, SeatListError, parse_seat_list
from .services import RoomData, SiteData


def seat_list(_form: FlaskForm, field: Field) -> None:
    """A list of seats such as "5, 10-12"; the message says which part is wrong and how."""
    try:
        parse_seat_list(field.data or "")
    except SeatListError as exc:
        raise ValidationError(str(exc)) from exc


def format_seat_list(seats: Iterable[int]) -> str:
    """Seats as typed into the form, runs joined as ranges: [5, 10, 11, 12] → "5, 10-12"."""
    parts: list[str] = []
    run: list[int] = []
    for seat in sorted(set(seats)):
        if run and seat == run[-1] + 1:
            run.append(seat)
            continue
        if run:
            parts.append(_run(run))
        run = [seat]
    if run:
        parts.append(_run(run))
    return ", ".join(parts)


def _run(run: list[int]) -> str:
    if len(run) == 1:
        return str(run[0])
    if len(run) == 2:
        return f"{run[0]}, {run[1]}"
    return f"{run[0]}-{run[-1]}"


class SiteForm(FlaskForm):
    number = IntegerField(
        _l("Site number"),
        validators=[InputRequired()],
        render_kw={"min": 1, "max": 999},
    )
    name = StringField(_l("Site name"), validators=[DataRequired(), Length(max=200)])
    address = StringField(_l("Address"), validators=[Length(max=300)])
    institution = StringField(_l("Institution"), validators=[Length(max=200)])

    @staticmethod
    def values(site: Site) -> dict[str, object]:
        return {
            "number": site.number,
            "name": site.name,
            "address": site.address,
            "institution": site.institution.name if site.institution else "",
        }

    def to_data(self) -> SiteData:
        return SiteData(
            number=self.number.data or 0,
            name=self.name.data or "",
            address=self.address.data or "",
            institution=self.institution.data or "",
        )


class RoomForm(FlaskForm):
    number = IntegerField(
        _l("Room number"),
        validators=[InputRequired()],
        render_kw={"min": 1, "max": 99},
    )
    name = StringField(_l("Room name"), validators=[DataRequired(), Length(max=100)])
    rows = IntegerField(
        _l("Rows"),
        validators=[InputRequired()],
        render_kw={"min": 1, "max": MAX_ROWS},
    )
    columns = IntegerField(
        _l("Seats per row"),
        validators=[InputRequired()],
        render_kw={"min": 1, "max": MAX_COLUMNS},
    )
    spare = StringField(
        _l("Spare seats"),
        validators=[Length(max=500), seat_list],
        render_kw={"placeholder": "5, 10-12"},
    )
    blocked = StringField(
        _l("Blocked seats"),
        validators=[Length(max=500), seat_list],
        render_kw={"placeholder": "5, 10-12"},
    )

    @staticmethod
    def values(room: Room) -> dict[str, object]:
        return {
            "number": room.number,
            "name": room.name,
            "rows": room.rows,
            "columns": room.columns,
            "spare": format_seat_list(room.spare_seats or ()),
            "blocked": format_seat_list(room.blocked_seats or ()),
        }

    def to_data(self) -> RoomData:
        """The typed room; call after the form validated (the seat lists parse)."""
        return RoomData(
            number=self.number.data or 0,
            name=self.name.data or "",
            rows=self.rows.data or 0,
            columns=self.columns.data or 0,
            spare=parse_seat_list(self.spare.data or ""),
            blocked=parse_seat_list(self.blocked.data or ""),
        )
