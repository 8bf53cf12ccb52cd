"""The answer change over Socket.IO, in one read and one or two writes.

Autosave is the one request every candidate sends every few seconds for the whole exam, so its
cost decides how many candidates one worker serves (bench/README.md). The ORM way took seven
statements (the sign-in, its registration, the sitting, the paper item with its version and
item, the stored answer, then two updates) with the ORM's object loading around each. Here one
statement reads everything a change is judged by, the pure core (``parse_change``, ``merge``)
judges it, and an upsert stores it.

Only the common case is taken this way: a live sign-in whose part is in progress before its
stored deadline. Anything else (no sitting yet, a pause, time up, a deadline not stored by an
older version) goes to ``services.save_answer``, so every refusal keeps the one wording and code
the protocol documents.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, and_, bindparam, func, select, text
from sqlalchemy.engine import Connection

from ..assembly.models import PaperItem
from ..bank.models import Item, ItemVersion
from ..extensions import db
from ..proctoring.pushes import Seat
from ..registration.models import Registration
from .answers import (
    AnswerChange,
    AnswerError,
    ItemView,
    PaperView,
    StoredAnswer,
    merge,
    parse_change,
)
from .models import Answer, CandidateLogin, Sitting, aware
from .services import DeliveryError, commit, grace, save_answer, signed_in

_login, _reg, _sitting, _slot, _version, _item_row, _answer = (
    model.__table__
    for model in (CandidateLogin, Registration, Sitting, PaperItem, ItemVersion, Item, Answer)
)
_position = bindparam("position")
# A Core statement built once: SQLAlchemy caches its compiled form and its result columns (a
# textual query rebuilt the result's column map on every execution). The sitting row is locked
# for the change, so two tabs (or a submit) cannot interleave; SQLite, which has no row locks
# and drops the FOR UPDATE, serializes writers instead.
READ = (
    select(
        _reg.c.id.label("reg_id"),
        _reg.c.plan_id,
        _reg.c.room_id,
        _sitting.c.id.label("sitting_id"),
        _sitting.c.state,
        _sitting.c.deadline_at,
        _sitting.c.answered,
        _slot.c.part_kind.label("item_part"),
        _slot.c.option_order,
        _item_row.c.type.label("item_type"),
        func.json_array_length(_version.c.options).label("option_count"),
        _answer.c.seq.label("stored_seq"),
        _answer.c.value.label("stored_value"),
        _answer.c.flagged.label("stored_flagged"),
    )
    .select_from(
        _login.join(_reg, _reg.c.id == _login.c.registration_id)
        .join(
            _sitting,
            and_(
                _sitting.c.registration_id == _reg.c.id,
                _sitting.c.part_kind == bindparam("part"),
            ),
        )
        .outerjoin(_slot, and_(_slot.c.paper_id == _reg.c.paper_id, _slot.c.position == _position))
        .outerjoin(_version, _version.c.id == _slot.c.item_version_id)
        .outerjoin(_item_row, _item_row.c.id == _version.c.item_id)
        .outerjoin(
            _answer, and_(_answer.c.sitting_id == _sitting.c.id, _answer.c.position == _position)
        )
    )
    .where(_login.c.id == bindparam("login"), _login.c.state == "live")
    .with_for_update(of=_sitting)
)

UPSERT = text(
    """
INSERT INTO answer (sitting_id, position, value, flagged, seq, saved_at)
VALUES (:sitting_id, :position, :value, :flagged, :seq, :saved_at)
ON CONFLICT (sitting_id, position) DO UPDATE SET value = excluded.value,
    flagged = excluded.flagged, seq = excluded.seq, saved_at = excluded.saved_at
WHERE answer.seq < excluded.seq
"""
).bindparams(
    bindparam("value", type_=Answer.__table__.c.value.type),
    bindparam("flagged", type_=Boolean()),
    bindparam("saved_at", type_=DateTime(timezone=True)),
)
COUNT = text(
    """
UPDATE sitting SET answered = :answered,
    last_seq = CASE WHEN last_seq < :seq THEN :seq ELSE last_seq END
WHERE id = :sitting_id
"""
)


def save_change(
    login_id: int | None, part: str, payload: object, now: datetime
) -> tuple[dict[str, Any], Seat | None]:
    """Store and commit one change of the signed-in candidate: the acknowledgement, and the
    registration whose board hears of it when it was saved. Refusals raise DeliveryError and
    change nothing."""
    position = payload.get("position") if isinstance(payload, dict) else None
    if login_id is None or type(position) is not int or not 0 < position < 2**31:
        return _the_long_way(login_id, part, payload, now)
    # A connection of its own rather than the ORM session: the session's bookkeeping cost as
    # much as the statements. It commits when the block ends, before the acknowledgement.
    with db.engine.begin() as conn:
        params = {"login": login_id, "part": part, "position": position}
        row = conn.execute(READ, params).mappings().first()
        if _takes_answers(row, now):
            return _judge_and_store(conn, row, part, payload, now)
    return _the_long_way(login_id, part, payload, now)


def _judge_and_store(
    conn: Connection, row: Any, part: str, payload: object, now: datetime
) -> tuple[dict[str, Any], Seat | None]:
    try:
        change = parse_change(payload, PaperView(_item(row, payload)), part)
        stored = row["stored_seq"]
        result = merge(
            None
            if stored is None
            else StoredAnswer(stored, row["stored_value"], bool(row["stored_flagged"])),
            change,
        )
    except AnswerError as exc:
        status = 409 if exc.code == "seq_conflict" else 422
        raise DeliveryError(exc.code, exc.message, status) from exc
    answered = row["answered"]
    if result.write:
        # The sitting row is locked (PostgreSQL), or read and written with no other green
        # thread in between (SQLite, one process): the count read is current. The upsert's own
        # WHERE keeps an older change from overwriting a newer one even where that fails.
        answered += (change.value is not None) - (row["stored_value"] is not None)
        _store(conn, row["sitting_id"], change, now, answered)
    ack = {
        "ok": True,
        "seq": change.seq,
        "position": change.position,
        "outcome": result.outcome,
        "answered": answered,
    }
    seat = Seat(row["reg_id"], row["plan_id"], row["room_id"])
    return ack, seat if result.outcome == "saved" else None


def _takes_answers(row: Any, now: datetime) -> bool:
    if row is None or row["state"] != "in_progress" or row["deadline_at"] is None:
        return False
    deadline = aware(row["deadline_at"])
    assert deadline is not None
    return bool(now < deadline + grace())


def _item(row: Any, payload: Any) -> tuple[ItemView, ...]:
    """The item as ``parse_change`` judges it; none when the position is not in the paper."""
    if row["item_part"] is None:
        return ()
    return (
        ItemView(
            position=payload["position"],
            part=row["item_part"],
            item_type=row["item_type"],
            option_order=row["option_order"],
            option_count=row["option_count"] or 0,
        ),
    )


def _store(
    conn: Connection, sitting_id: int, change: AnswerChange, now: datetime, answered: int
) -> None:
    values = {
        "sitting_id": sitting_id,
        "position": change.position,
        "value": change.value,
        "flagged": change.flagged,
        "seq": change.seq,
        "saved_at": now,
    }
    conn.execute(UPSERT, values)
    conn.execute(COUNT, {"answered": answered, "seq": change.seq, "sitting_id": sitting_id})


def _the_long_way(
    login_id: int | None, part: str, payload: object, now: datetime
) -> tuple[dict[str, Any], Seat | None]:
    reg = signed_in(login_id)
    ack = save_answer(reg, part, payload, now)
    commit()
    return ack, Seat(reg.id, reg.plan_id, reg.room_id) if ack["outcome"] == "saved" else None
