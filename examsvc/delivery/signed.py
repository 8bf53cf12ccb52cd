"""The signed-in candidate as their own requests need them, in one Core read.

Every candidate request (the waiting room, a start, the exam page, a socket's connect and
hello) needs the same few facts: the live sign-in, its registration, the candidate's name, the
room's start control, and the candidate's sittings. Loaded as ORM objects they took three or
four statements and the ORM's loading of each row, most of what a request cost at the start of
an exam (bench/README.md). Here one statement reads them as columns into plain objects; the
plan and the room come from the copy the process keeps (``kept_plan.copy``), read-only.

A ``SittingRow`` behaves as a ``Sitting`` where the candidate's requests read one (its state,
clock, counters); what changes it is written with Core statements by the callers, guarded by
the state it was read in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, bindparam, select

from ..extensions import db
from ..registration.models import Candidate, Registration
from .clock import DEFAULT_GRACE, Clock
from .kept_plan import Copy, copy
from .models import Answer, CandidateLogin, RoomControl, Sitting, sitting_clock

_login, _reg, _candidate, _control, _sitting, _answer = (
    model.__table__
    for model in (CandidateLogin, Registration, Candidate, RoomControl, Sitting, Answer)
)
SITTING_COLUMNS = (
    "id",
    "part_kind",
    "state",
    "duration_minutes",
    "extra_ratio",
    "extensions",
    "pauses",
    "started_at",
    "last_seq",
    "answered",
)


@dataclass
class SittingRow:
    """One sitting as read; ``state`` and ``started_at`` change as the caller moves it on."""

    id: int
    part_kind: str
    state: str
    duration_minutes: int
    extra_ratio: Decimal = Decimal(0)
    extensions: list[int] = field(default_factory=list)
    pauses: list[list[str | None]] = field(default_factory=list)
    started_at: datetime | None = None
    last_seq: int = 0
    answered: int = 0
    paper_id: int | None = None
    _answers: list[Any] | None = field(default=None, repr=False)

    def clock(self, grace: timedelta = DEFAULT_GRACE) -> Clock:
        return sitting_clock(self, grace)

    @property
    def answers(self) -> list[Any]:
        """The stored answers (position, value, flagged, seq), read when first asked for."""
        if self._answers is None:
            query = (
                select(_answer.c.position, _answer.c.value, _answer.c.flagged, _answer.c.seq)
                .where(_answer.c.sitting_id == self.id)
                .order_by(_answer.c.position)
            )
            self._answers = list(db.session.connection().execute(query))
        return self._answers


@dataclass
class SignedIn:
    """A live sign-in with its registration, as a candidate page or event needs it."""

    ip: str  # the sign-in's; "" when read by ticket number
    id: int  # the registration's
    plan_id: int
    room_id: int | None
    paper_id: int | None
    parts: list[str] | None
    ticket_number: str | None
    seat: int | None
    candidate_id: int
    name: str
    has_photo: bool
    start_code: str | None
    needs_authorization: bool
    authorized: dict[str, str]
    found: list[SittingRow]  # the sittings stored, in no order
    kept: Copy

    @property
    def plan(self) -> Any:
        return self.kept.plan

    @property
    def room(self) -> Any:
        return self.kept.rooms.get(self.room_id) if self.room_id is not None else None

    def sessions(self) -> list[Any]:
        """The plan's sessions this candidate sits (a retake sits only some parts)."""
        return [s for s in self.plan.sessions if self.parts is None or s.part_kind in self.parts]

    def sittings(self) -> list[SittingRow] | None:
        """The sittings in session order; None while one is not made yet."""
        by_part = {s.part_kind: s for s in self.found}
        sat = self.sessions()
        if any(s.part_kind not in by_part for s in sat):
            return None
        return [by_part[s.part_kind] for s in sat]


def _columns(with_login: bool) -> list[Any]:
    return [
        *((_login.c.id.label("login_id"), _login.c.ip) if with_login else ()),
        _reg.c.id,
        _reg.c.plan_id,
        _reg.c.room_id,
        _reg.c.paper_id,
        _reg.c.parts,
        _reg.c.ticket_number,
        _reg.c.seat,
        _reg.c.candidate_id,
        _candidate.c.name,
        _candidate.c.photo.is_not(None).label("has_photo"),
        _control.c.start_code,
        _control.c.needs_authorization,
        _control.c.authorized,
        *(_sitting.c[name].label(f"s_{name}") for name in SITTING_COLUMNS),
    ]


def _around(core: Any) -> Any:
    control = and_(_control.c.plan_id == _reg.c.plan_id, _control.c.room_id == _reg.c.room_id)
    return (
        core.join(_candidate, _candidate.c.id == _reg.c.candidate_id)
        .outerjoin(_control, control)
        .outerjoin(_sitting, _sitting.c.registration_id == _reg.c.id)
    )


# Built once: SQLAlchemy caches the compiled statement and its result columns.
BY_LOGIN = (
    select(*_columns(with_login=True))
    .select_from(_around(_login.join(_reg, _reg.c.id == _login.c.registration_id)))
    .where(_login.c.id == bindparam("login"), _login.c.state == "live")
)
# At sign-in: the registration of a ticket number, with the id number to check and the live
# sign-in it may already have (a second PC waits for the invigilator).
BY_TICKET = (
    select(
        *_columns(with_login=False),
        _candidate.c.id_number,
        _login.c.id.label("live_login_id"),
    )
    .select_from(
        _around(_reg).outerjoin(
            _login, and_(_login.c.registration_id == _reg.c.id, _login.c.state == "live")
        )
    )
    .where(_reg.c.ticket_number == bindparam("ticket"))
)


def by_login(login_id: int | None) -> SignedIn | None:
    """The live sign-in ``login_id`` with its registration and sittings; None if it is not
    live (signed out, pending, replaced) or the plan is gone."""
    if login_id is None:
        return None
    rows = db.session.connection().execute(BY_LOGIN, {"login": login_id}).all()
    return _signed(rows, 2, rows[0].ip) if rows else None


def by_ticket(ticket: str) -> tuple[SignedIn, str, int | None] | None:
    """The registration of ``ticket`` as a sign-in would have it, with the candidate's ID
    number and the id of a live sign-in it already has; None for an unknown ticket."""
    rows = db.session.connection().execute(BY_TICKET, {"ticket": ticket}).all()
    if not rows:
        return None
    signed = _signed(rows, 0, "")
    if signed is None:
        return None
    return signed, rows[0].id_number, rows[0].live_login_id


# The columns of ``_columns`` by position after the login's: a Row read by position costs a
# fraction of one read by name, and every candidate request builds one of these.
_REG_COLUMNS = len(_columns(with_login=False)) - len(SITTING_COLUMNS)
_SITTING_AT = slice(_REG_COLUMNS, _REG_COLUMNS + len(SITTING_COLUMNS))


def _signed(rows: list[Any], skip: int, ip: str) -> SignedIn | None:
    first = rows[0][skip:]
    (reg_id, plan_id, room_id, paper_id, parts, ticket, seat, candidate_id, name, has_photo) = (
        first[:10]
    )
    code, held, authorized = first[10:_REG_COLUMNS]
    kept = copy(plan_id)
    if kept is None:
        return None
    found = [
        SittingRow(*row[skip:][_SITTING_AT], paper_id=paper_id)
        for row in rows
        if row[skip + _REG_COLUMNS] is not None
    ]
    return SignedIn(
        ip=ip,
        id=reg_id,
        plan_id=plan_id,
        room_id=room_id,
        paper_id=paper_id,
        parts=parts,
        ticket_number=ticket,
        seat=seat,
        candidate_id=candidate_id,
        name=name,
        has_photo=bool(has_photo),
        start_code=code,
        needs_authorization=bool(held),
        authorized=authorized or {},
        found=found,
        kept=kept,
    )


_SITTINGS = select(*(_sitting.c[name] for name in SITTING_COLUMNS)).where(
    _sitting.c.registration_id == bindparam("reg")
)


def sittings_of(reg_id: int, paper_id: int | None) -> list[SittingRow]:
    """The registration's stored sittings, in no order (after some were just made)."""
    rows = db.session.connection().execute(_SITTINGS, {"reg": reg_id}).mappings()
    return [SittingRow(**row, paper_id=paper_id) for row in rows]
