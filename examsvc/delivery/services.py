"""Delivery use cases: candidate sign-in, sittings and their clock, autosave, submission.

Every acknowledgement the candidate gets is given only after the change is committed: callers
(the HTTP fallback, the Socket.IO handlers) call ``commit()`` here before answering. The sitting
row is locked for each change, so two tabs of one candidate cannot interleave their writes.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, func, select

from ..assembly.models import PaperItem
from ..auth.models import utcnow
from ..bank.convert import version_data
from ..bank.model import AnswerForm
from ..bank.models import Item, ItemVersion
from ..errors import DomainError
from ..extensions import db
from ..plans.models import PlanSession
from ..plans.ticket_number import TicketNumberError, parse_ticket_number
from ..registration.models import Registration
from . import kept_plan, signed
from .answers import (
    MAX_SEQ,
    AnswerChange,
    AnswerError,
    ItemView,
    PaperView,
    StoredAnswer,
    display_value,
    merge,
    parse_change,
)
from .clock import Clock
from .lifecycle import FINAL_STATES, TransitionError, transition
from .models import (
    Answer,
    AnswerFile,
    CandidateLogin,
    RoomControl,
    Sitting,
    SittingEvent,
    aware,
)
from .signed import SignedIn, SittingRow
from .uploads import UploadError, check_upload

LIVE_PLAN_STATES = ("published", "in_progress")


class DeliveryError(DomainError):
    """A refused request of the candidate; ``code`` is the protocol's error code."""

    def __init__(self, code: str, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


# ---- sign-in ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignIn:
    """A stored sign-in: its id, whether it is live or waits for the invigilator (pending),
    and the registration (as far as the board's push needs it)."""

    id: int
    state: str
    registration: SignedIn


def sign_in(
    ticket_number: str, id_number: str, ip: str, user_agent: str, start_code: str = ""
) -> SignIn:
    """Sign a candidate in on this PC; a second PC waits for the invigilator (state pending).
    When the invigilator has set a start code for the room, the candidate must type it.

    In Core statements: every candidate of a hall signs in within the same minute. One read
    (``signed.by_ticket``) has the registration, the candidate's ID number, the room's start
    code, any live sign-in and the sittings; then one insert of the sign-in, the sittings not
    made yet and the events."""
    ticket = ticket_number.strip().upper()
    try:
        parse_ticket_number(ticket)
    except TicketNumberError as exc:
        raise DeliveryError("bad_ticket", f"准考证号有误：{exc}") from exc
    found = signed.by_ticket(ticket)
    if found is None or found[1] != id_number.strip().upper():
        # One message for both, so the form does not reveal which ticket numbers exist.
        raise DeliveryError("bad_credentials", "准考证号或身份证号不正确：请核对准考证", 401)
    reg, _number, live = found
    if reg.plan.state not in LIVE_PLAN_STATES:
        raise DeliveryError("not_open", f"考核计划「{reg.plan.batch}」当前不在考试期间", 403)
    code = reg.start_code
    if code and not secrets.compare_digest(start_code.strip().encode(), code.encode()):
        message = "开考码不正确：请输入监考员在黑板上公布的 6 位开考码"
        raise DeliveryError("bad_start_code", message, 401)
    state = "pending" if live is not None else "live"
    login_id = (
        db.session.connection()
        .execute(
            _LOGINS.insert().returning(_LOGINS.c.id),
            {
                "registration_id": reg.id,
                "state": state,
                "created_at": utcnow(),
                "ip": ip[:64],
                "user_agent": user_agent[:300],
            },
        )
        .scalar_one()
    )
    if live is None:
        _record(*(_event(s, "sign_in", "candidate", data={"ip": ip}) for s in made(reg)))
    else:  # one anomaly, on the part that is running (as the board and the record count it)
        detail = f"新电脑 IP {ip}"
        record_anomaly(registration_of(reg), "second_sign_in", None, detail, datetime.now(UTC))
    return SignIn(login_id, state, reg)


_LOGINS = CandidateLogin.__table__


def made(reg: SignedIn) -> list[SittingRow]:
    """The candidate's sittings in session order, the missing ones made first."""
    sittings = reg.sittings()
    if sittings is None:
        have = {s.part_kind for s in reg.found}
        _make_sittings(reg.id, [s for s in reg.sessions() if s.part_kind not in have])
        reg.found = signed.sittings_of(reg.id, reg.paper_id)
        sittings = reg.sittings()
        assert sittings is not None
    return sittings


def registration_of(reg: SignedIn) -> Registration:
    """The ORM registration behind a Core read, for the uses that are not the common path."""
    found = db.session.get(Registration, reg.id)
    assert found is not None
    kept_plan.bring(found.plan_id, found.room_id)
    return found


def room_control(reg: Registration) -> RoomControl | None:
    """The invigilator's control of the candidate's room (start code, authorization), if set."""
    if reg.room_id is None:
        return None
    return db.session.scalar(
        select(RoomControl).where(
            RoomControl.plan_id == reg.plan_id, RoomControl.room_id == reg.room_id
        )
    )


def decide_switch(
    reg: Registration, approve: bool, actor_id: int, now: datetime, reason: str
) -> int | None:
    """The invigilator approves or refuses the newest pending sign-in of a candidate. Approving
    makes it the live one and cuts the old PC off; returns the old sign-in's id (to push to)."""
    logins = list(
        db.session.scalars(
            select(CandidateLogin)
            .where(CandidateLogin.registration_id == reg.id)
            .order_by(CandidateLogin.id)
            .with_for_update()
        )
    )
    pending = [x for x in logins if x.state == "pending"]
    if not pending:
        raise DeliveryError("no_switch", "该考生没有等待批准的换机登录")
    newest = pending[-1]
    for login in pending[:-1]:
        login.state, login.decided_by_id = "refused", actor_id  # an older request is moot
    old = None
    if approve:
        for login in logins:
            if login.state == "live":
                login.state, login.decided_by_id, old = "replaced", actor_id, login.id
        newest.state = "live"
    else:
        newest.state = "refused"
    newest.decided_by_id = actor_id
    kind = "switch_approved" if approve else "switch_refused"
    data = {"ip": newest.ip, "login_id": newest.id}
    _record(
        *(
            _event(s, kind, "invigilator", actor_id=actor_id, reason=reason, data=data)
            for s in sittings_of(reg)
        )
    )
    db.session.flush()
    return old


def login_state(login_id: int | None) -> str | None:
    """The state of a sign-in (live, pending, replaced, refused), or None if there is none."""
    if login_id is None:
        return None
    login = db.session.get(CandidateLogin, login_id)
    return None if login is None else login.state


def live_registration(login_id: int | None) -> Registration | None:
    """The ORM registration behind a live sign-in, or None (signed out, pending or replaced),
    for the requests that use the ORM services."""
    found = signed.by_login(login_id)
    return None if found is None else registration_of(found)


def signed_out() -> DeliveryError:
    """The refusal of a request whose sign-in is no longer live (or never was)."""
    return DeliveryError("unauthenticated", "登录已失效：请重新登录", 401)


def live(login_id: int | None) -> SignedIn:
    """The live sign-in with its registration and sittings (one Core read); else the
    protocol's ``unauthenticated``."""
    found = signed.by_login(login_id)
    if found is None:
        raise signed_out()
    return found


def signed_in(login_id: int | None) -> Registration:
    """The registration behind a live sign-in; else the protocol's ``unauthenticated``."""
    reg = live_registration(login_id)
    if reg is None:
        raise signed_out()
    return reg


# ---- sittings --------------------------------------------------------------------------------


def sittings_of(reg: Registration, have: dict[str, Sitting] | None = None) -> list[Sitting]:
    """The candidate's sittings in session order, made when first needed. ``have``: the
    sittings already read by part (a board reads a whole room's at once)."""
    if have is None:
        kept = _kept_sittings(reg.id)
        if kept is not None:
            return list(kept)
        have = _read_sittings(reg.id)
    sat = [s for s in reg.plan.sessions if reg.parts is None or s.part_kind in reg.parts]
    missing = [s for s in sat if s.part_kind not in have]  # a retake sits only some parts
    if missing:
        _make_sittings(reg.id, missing)
        have = _read_sittings(reg.id)
    out = [have[s.part_kind] for s in sat]
    _keep_sittings(reg.id, out)
    return out


def _read_sittings(reg_id: int) -> dict[str, Sitting]:
    query = select(Sitting).where(Sitting.registration_id == reg_id)
    return {s.part_kind: s for s in db.session.scalars(query)}


def _make_sittings(reg_id: int, sessions: list[PlanSession]) -> None:
    # In one Core insert: as ORM objects each sitting was inserted on its own with RETURNING,
    # at every candidate's first sign-in.
    rows = [
        {
            "registration_id": reg_id,
            "part_kind": session.part_kind,
            "duration_minutes": session.duration_minutes,
            "extensions": [],
            "pauses": [],
            "answered": 0,
        }
        for session in sessions
    ]
    db.session.connection().execute(Sitting.__table__.insert(), rows)


# A request asks for the candidate's sittings two or three times (the route, the service, the
# snapshot); each read cost a statement and the ORM's loading of its rows. They are kept for the
# rest of the transaction only: a commit expires them, and another request may change them.
_SITTINGS = "examsvc.delivery.sittings"


def _kept_sittings(reg_id: int) -> list[Sitting] | None:
    kept = db.session.info.get(_SITTINGS)
    if kept is None or kept[0] is not db.session().get_transaction():
        return None
    found: list[Sitting] | None = kept[1].get(reg_id)
    return found


def _keep_sittings(reg_id: int, sittings: list[Sitting]) -> None:
    transaction = db.session().get_transaction()
    kept = db.session.info.get(_SITTINGS)
    if kept is None or kept[0] is not transaction:
        kept = db.session.info[_SITTINGS] = (transaction, {})
    kept[1][reg_id] = list(sittings)


def sitting_of(reg: Registration, part: str) -> Sitting:
    found: Sitting = part_of(sittings_of(reg), part)
    return found


def part_of(sittings: list[Any], part: str) -> Any:
    """The sitting of ``part`` among the candidate's; the protocol's ``unknown_part`` if none."""
    sitting = next((s for s in sittings if s.part_kind == part), None)
    if sitting is None:
        raise DeliveryError("unknown_part", f"本场考试没有「{part}」部分", 404)
    return sitting


def grace() -> timedelta:
    """How long after the deadline an answer sent before it is still taken (network latency)."""
    return timedelta(seconds=current_app.config["DELIVERY_GRACE_SECONDS"])


def clock_of(sitting: Sitting) -> Clock:
    return sitting.clock(grace())


Event = tuple[Sitting, dict[str, Any]]


def _event(
    sitting: Sitting,
    kind: str,
    actor_kind: str,
    before: str = "",
    actor_id: int | None = None,
    reason: str = "",
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> Event:
    """An event of the sitting's log, to store with ``_record``."""
    row = {
        "sitting_id": sitting.id,
        "at": at or utcnow(),
        "kind": kind,
        "from_state": before,
        "to_state": sitting.state if before else "",
        "actor_kind": actor_kind,
        "actor_id": actor_id,
        "reason": reason,
        "data": data or {},
    }
    return sitting, row


def _record(*events: Event) -> None:
    """Store events in one Core insert. As ORM objects each was inserted on its own with
    RETURNING, and sign-in, check-in and start write six for each candidate at the same moment.
    Events already loaded with a sitting are expired, so whoever reads them sees the new ones."""
    if not events:
        return
    db.session.connection().execute(_EVENTS.insert(), [row for _, row in events])
    for sitting, _ in events:
        if "events" in sitting.__dict__:
            db.session.expire(sitting, ["events"])


_EVENTS = SittingEvent.__table__


def _step(
    sitting: Sitting,
    event: str,
    actor_kind: str,
    actor_id: int | None = None,
    reason: str = "",
) -> Event:
    """Move the sitting on by ``event``; the event to record."""
    before = sitting.state
    try:
        sitting.state = transition(before, event, actor_kind)
    except TransitionError as exc:
        raise DeliveryError("bad_state", str(exc), 409) from exc
    return _event(sitting, event, actor_kind, before, actor_id, reason)


def _entering(sitting: Sitting) -> list[Event]:
    """A signed-in candidate reaches the waiting room: checked in, then admitted."""
    events = []
    if sitting.state == "registered":
        events.append(_step(sitting, "check_in", "candidate"))
    if sitting.state == "checked_in":
        events.append(_step(sitting, "admit", "system"))
    return events


def enter(*sittings: Sitting) -> None:
    """The candidate reaches the waiting room: each part is checked in and admitted."""
    _record(*(event for sitting in sittings for event in _entering(sitting)))


def start(
    sitting: Sitting,
    now: datetime,
    actor_kind: str = "candidate",
    actor_id: int | None = None,
    authorized: bool = False,
) -> None:
    """Start the part at its planned time; the clock runs from here on the server. A room whose
    invigilator holds the start waits for the room's (or the candidate's) authorization."""
    reg = sitting.registration
    control = room_control(reg)
    held = control is not None and control.needs_authorization and not authorized
    allowed = (control.authorized or {}) if control is not None else {}
    check_start(reg.plan.sessions, sittings_of(reg), sitting, now, held, allowed)
    _record(*_entering(sitting), _step(sitting, "start", actor_kind, actor_id))
    sitting.started_at = now
    db.session.flush()


def check_start(
    sessions: list[PlanSession],
    sittings: list[Any],
    sitting: Any,
    now: datetime,
    held: bool,
    authorized: Any,
) -> None:
    """Refuse a start before the part opens, while the room's invigilator holds the start
    (``held``) and has not authorized the part, or while another part is being answered."""
    session = next(s for s in sessions if s.part_kind == sitting.part_kind)
    if now < session.opens_at:
        raise DeliveryError(
            "not_yet", f"{session.part_name}将于 {session.starts_at:%H:%M} 开始，请耐心等候", 409
        )
    if held and sitting.part_kind not in authorized:
        raise DeliveryError("not_authorized", "请等待监考员宣布开考", 409)
    others = [s for s in sittings if s.state in ("in_progress", "paused")]
    if any(s.id != sitting.id for s in others):
        raise DeliveryError("bad_state", "另一部分正在作答：请先交卷", 409)


def submit(
    sitting: Sitting,
    now: datetime,
    actor_kind: str = "candidate",
    actor_id: int | None = None,
    reason: str = "",
) -> None:
    event = {"candidate": "submit", "invigilator": "force_submit", "system": "auto_submit"}
    # Lock the row and read its state afresh: a candidate's submit and the scheduler's
    # auto-submit at the deadline may race, and the second must see the first.
    db.session.refresh(sitting, with_for_update=True)
    if sitting.state == "paused":
        _close_pause(sitting, now)
    _record(_step(sitting, event[actor_kind], actor_kind, actor_id, reason))
    sitting.ended_at = now
    db.session.flush()


def _close_pause(sitting: Sitting, now: datetime) -> None:
    pauses = [list(p) for p in sitting.pauses or ()]
    if pauses and pauses[-1][1] is None:
        pauses[-1][1] = now.isoformat()
    sitting.pauses = pauses


def pause(sitting: Sitting, now: datetime, actor_id: int, reason: str) -> None:
    """Stop the candidate's clock; the paused time is credited back at resume."""
    db.session.refresh(sitting, with_for_update=True)
    _record(_step(sitting, "pause", "invigilator", actor_id, reason))
    sitting.pauses = [*(list(p) for p in sitting.pauses or ()), [now.isoformat(), None]]
    db.session.flush()


def resume(sitting: Sitting, now: datetime, actor_id: int, reason: str) -> None:
    db.session.refresh(sitting, with_for_update=True)
    _record(_step(sitting, "resume", "invigilator", actor_id, reason))
    _close_pause(sitting, now)
    db.session.flush()


def extend(
    sitting: Sitting,
    by: timedelta,
    actor_kind: str,
    actor_id: int | None,
    reason: str,
    kind: str = "extend",
) -> None:
    """Grant extra time, kept apart from the base time (one entry per grant)."""
    db.session.refresh(sitting, with_for_update=True)
    if sitting.state in FINAL_STATES:
        raise DeliveryError("bad_state", "该部分已结束，不能再延长时间", 409)
    seconds = int(by.total_seconds())
    sitting.extensions = [*(sitting.extensions or ()), seconds]
    data = {"seconds": seconds}
    _record(_event(sitting, kind, actor_kind, actor_id=actor_id, reason=reason, data=data))
    db.session.flush()


def void(sitting: Sitting, now: datetime, actor_id: int, reason: str) -> bool:
    """Cancel the result of a sitting (取消成绩); False if it is already voided."""
    db.session.refresh(sitting, with_for_update=True)
    if sitting.state == "voided":
        return False
    if sitting.state == "paused":
        _close_pause(sitting, now)
    _record(_step(sitting, "void", "invigilator", actor_id, reason))
    sitting.ended_at = sitting.ended_at or now
    db.session.flush()
    return True


def submit_overdue(now: datetime) -> list[int]:
    """Auto-submit every running sitting whose deadline and grace have passed (the scheduler)."""
    done = []
    # Only the overdue rows, through the index: loading every running sitting's clock each
    # second took the worker 40-50 ms a round with 2,000 candidates.
    overdue = db.session.scalars(
        select(Sitting).where(Sitting.state == "in_progress", Sitting.deadline_at <= now - grace())
    ).all()
    for sitting in overdue:
        # Lock only the overdue row; one a candidate's transaction holds (an answer, a submit)
        # is skipped and picked up on the next round, its state re-read then.
        locked = db.session.scalar(
            select(Sitting)
            .where(Sitting.id == sitting.id, Sitting.state == "in_progress")
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )
        if locked is not None and clock_of(locked).is_over(now):
            submit(locked, now, "system")
            done.append(sitting.id)
    return done


# ---- the paper as the candidate sees it ------------------------------------------------------


@dataclass(frozen=True)
class ShownItem:
    view: ItemView
    version: ItemVersion


def paper_of(reg: Registration | SignedIn) -> int:
    """The id of the candidate's paper; the protocol's ``no_paper`` if none is assigned yet."""
    if reg.paper_id is None:
        raise DeliveryError("no_paper", "您还没有分配试卷：请联系监考员", 409)
    return reg.paper_id


def paper_items(reg: Registration, position: int | None = None) -> list[ShownItem]:
    """The items of the candidate's paper in order, or only the one at ``position``."""
    paper_id = paper_of(reg)
    query = (
        select(PaperItem, ItemVersion, Item.type)
        .join(ItemVersion, PaperItem.item_version_id == ItemVersion.id)
        .join(Item, ItemVersion.item_id == Item.id)
        .where(PaperItem.paper_id == paper_id)
        .order_by(PaperItem.position)
    )
    if position is not None:
        query = query.where(PaperItem.position == position)
    rows = db.session.execute(query).all()
    return [
        ShownItem(
            ItemView(
                position=pi.position,
                part=pi.part_kind,
                item_type=kind,
                option_order=pi.option_order,
                option_count=len(version.options or ()),
            ),
            version,
        )
        for pi, version, kind in rows
    ]


def paper_view(reg: Registration, payload: object) -> PaperView:
    """The part of the paper an answer change can name: only its item, since a change touches
    one item and loading the whole paper on every change was most of an acknowledgement's cost.
    A missing or malformed position gives an empty view; parse_change then says what is wrong."""
    position = payload.get("position") if isinstance(payload, dict) else None
    if type(position) is not int or not 1 <= position <= MAX_SEQ:
        return PaperView(())
    return PaperView(tuple(i.view for i in paper_items(reg, position)))


# ---- autosave --------------------------------------------------------------------------------


def save_answer(reg: Registration, part: str, payload: object, now: datetime) -> dict[str, Any]:
    """Store one answer change; the acknowledgement to send once the caller has committed.

    Refusals raise DeliveryError with the protocol code and change nothing.
    """
    sitting = _running(reg, part, now)
    try:
        change = parse_change(payload, paper_view(reg, payload), part)
    except AnswerError as exc:
        raise DeliveryError(exc.code, exc.message) from exc
    stored = db.session.scalar(
        select(Answer).where(Answer.sitting_id == sitting.id, Answer.position == change.position)
    )
    try:
        result = merge(
            StoredAnswer(stored.seq, stored.value, stored.flagged) if stored else None, change
        )
    except AnswerError as exc:
        raise DeliveryError(exc.code, exc.message, 409) from exc
    if result.write:
        _write(sitting, stored, change, now)
    return {
        "ok": True,
        "seq": change.seq,
        "position": change.position,
        "outcome": result.outcome,
        "answered": sitting.answered,
    }


def _running(reg: Registration, part: str, now: datetime) -> Sitting:
    """The part's sitting, locked, if it takes answers now; else the protocol's refusal."""
    sitting = db.session.scalar(
        select(Sitting)
        .where(Sitting.registration_id == reg.id, Sitting.part_kind == part)
        .with_for_update()
    )
    if sitting is None or sitting.state != "in_progress":
        state = "尚未开始" if sitting is None or sitting.state not in FINAL_STATES else "已交卷"
        raise DeliveryError("not_in_progress", f"该部分{state}，答案未保存", 409)
    if not clock_of(sitting).accepts_answer_at(now):
        raise DeliveryError("time_up", "考试时间已到，答案未保存：作答已锁定", 409)
    return sitting


# ---- uploaded files of practical answers -------------------------------------------------------


def _upload_item(reg: Registration, part: str, position: int) -> AnswerForm:
    shown = paper_items(reg, position) if 1 <= position <= MAX_SEQ else []
    if not shown:
        raise DeliveryError("unknown_item", f"试卷中没有第 {position} 题", 404)
    if shown[0].view.part != part or shown[0].view.item_type != "practical":
        raise DeliveryError("no_upload", "只有本部分的实操题可以上传文件")
    version = shown[0].version
    return version_data(version.item, version).answer_form or AnswerForm()


def save_file(
    reg: Registration, part: str, position: int, name: str, data: bytes, now: datetime
) -> dict[str, Any]:
    """Store an uploaded file of a practical item (the same name replaces); the acknowledgement
    to send once the caller has committed. Refusals change nothing."""
    sitting = _running(reg, part, now)
    form = _upload_item(reg, part, position)
    stored = {f.name: f for f in _files(sitting.id, position)}
    try:
        upload = check_upload(name, data, form.upload, form.upload_types, tuple(stored))
    except UploadError as exc:
        raise DeliveryError(exc.code, exc.message, 413 if exc.code == "too_large" else 422) from exc
    row = stored.get(upload.name) or AnswerFile(
        sitting_id=sitting.id, position=position, name=upload.name
    )
    row.size, row.sha256, row.content, row.uploaded_at = upload.size, upload.sha256, data, now
    db.session.add(row)
    db.session.flush()
    return {"ok": True, "position": position, "files": files_of(sitting.id, position)}


def delete_file(
    reg: Registration, part: str, position: int, name: str, now: datetime
) -> dict[str, Any]:
    sitting = _running(reg, part, now)
    row = next((f for f in _files(sitting.id, position) if f.name == name), None)
    if row is None:
        raise DeliveryError("unknown_file", f"第 {position} 题没有名为“{name[:40]}”的文件", 404)
    db.session.delete(row)
    db.session.flush()
    return {"ok": True, "position": position, "files": files_of(sitting.id, position)}


def _files(sitting_id: int, position: int | None = None) -> list[AnswerFile]:
    query = select(AnswerFile).where(AnswerFile.sitting_id == sitting_id)
    if position is not None:
        query = query.where(AnswerFile.position == position)
    return list(db.session.scalars(query.order_by(AnswerFile.position, AnswerFile.name)))


def files_of(sitting_id: int, position: int | None = None) -> list[dict[str, Any]]:
    """The stored files (without their content) as the protocol lists them."""
    return [
        {"position": f.position, "name": f.name, "size": f.size, "sha256": f.sha256}
        for f in _files(sitting_id, position)
    ]


def own_file(reg: Registration, part: str, position: int, name: str) -> AnswerFile | None:
    """A file of the candidate's own sitting, to download again (nobody else's)."""
    sitting = sitting_of(reg, part)
    return next((f for f in _files(sitting.id, position) if f.name == name), None)


def _write(sitting: Sitting, stored: Answer | None, change: AnswerChange, now: datetime) -> None:
    was_answered = stored is not None and stored.value is not None
    if stored is None:
        stored = Answer(sitting_id=sitting.id, position=change.position)
        db.session.add(stored)
    sitting.answered += (change.value is not None) - was_answered
    stored.value = change.value
    stored.flagged = change.flagged
    stored.seq = change.seq
    stored.saved_at = now
    sitting.last_seq = max(sitting.last_seq, change.seq)
    db.session.flush()


def snapshot(reg: Registration | SignedIn, now: datetime) -> dict[str, Any]:
    """What a (re)connecting browser needs: every part's state and clock, saved answers."""
    sittings: list[Any] = made(reg) if isinstance(reg, SignedIn) else sittings_of(reg)
    # The paper's items only show stored answers: at a start there are none to show, and
    # reading a hundred items for nothing was a third of a start and of a hello.
    views = _views(reg.paper_id) if any(_answers(s) for s in sittings) else {}
    parts = [_part(sitting, views, now) for sitting in sittings]
    return {"server_time": ms(now), "parts": parts}


def part_state(sitting: Sitting | SittingRow, now: datetime) -> dict[str, Any]:
    """One ``Part`` of the protocol, as pushed in a ``state`` event."""
    if not _answers(sitting):
        return _part(sitting, {}, now)
    paper_id = (
        sitting.paper_id if isinstance(sitting, SittingRow) else sitting.registration.paper_id
    )
    return _part(sitting, _views(paper_id), now)


def _answers(sitting: Sitting | SittingRow) -> list[Any]:
    """The sitting's stored answers. Every stored change raises ``last_seq`` above 0, so a
    sitting still at 0 has none, without the statement that would read them."""
    return list(sitting.answers) if sitting.last_seq else []


def _views(paper_id: int | None) -> dict[int, ItemView]:
    """Every item of the paper as the answers need it, read as columns: loading the versions
    (stems, options, rubrics) was a third of a start or a reconnect."""
    if paper_id is None:
        return {}
    rows = db.session.connection().execute(_VIEWS, {"paper": paper_id})
    return {
        position: ItemView(position, part, kind, order, count or 0)
        for position, part, kind, order, count in rows
    }


# Built once, run on the session's connection: a read of columns needs none of the ORM's
# bookkeeping, and a reconnect mid-exam reads a hundred rows.
_VIEWS = (
    select(
        PaperItem.position,
        PaperItem.part_kind,
        Item.type,
        PaperItem.option_order,
        func.json_array_length(ItemVersion.options),
    )
    .join(ItemVersion, PaperItem.item_version_id == ItemVersion.id)
    .join(Item, ItemVersion.item_id == Item.id)
    .where(PaperItem.paper_id == bindparam("paper"))
)


def _part(
    sitting: Sitting | SittingRow, views: dict[int, ItemView], now: datetime
) -> dict[str, Any]:
    clock = clock_of(sitting)
    deadline = clock.deadline(now)
    return {
        "part": sitting.part_kind,
        "state": sitting.state,
        "deadline": ms(deadline) if deadline else None,
        "remaining_ms": int(clock.remaining(now).total_seconds() * 1000),
        "paused": clock.paused_at(now),
        "last_seq": sitting.last_seq,
        # Files are taken only while the part runs: a part never started has none to read.
        "files": files_of(sitting.id)
        if sitting.part_kind == "practical" and sitting.started_at is not None
        else [],
        "answers": [
            {
                "position": a.position,
                "value": display_value(views[a.position], a.value),
                "flagged": a.flagged,
                "seq": a.seq,
            }
            for a in _answers(sitting)
            if a.position in views
        ],
    }


# ---- anomalies -------------------------------------------------------------------------------

# What the browser observes and reports; the server itself records the last two.
CLIENT_ANOMALIES = ("focus_lost", "focus_back", "fullscreen_exit", "copy", "paste")
SERVER_ANOMALIES = ("second_sign_in", "ip_change")
ANOMALY_KINDS = CLIENT_ANOMALIES + SERVER_ANOMALIES
ANOMALY_NAMES = {
    "focus_lost": "离开考试页面",
    "focus_back": "回到考试页面",
    "fullscreen_exit": "退出全屏",
    "copy": "尝试复制",
    "paste": "尝试粘贴",
    "second_sign_in": "在另一台电脑登录",
    "ip_change": "IP 地址变化",
}
MAX_DETAIL_CHARS = 500


def parse_anomaly(payload: object) -> tuple[str, int | None, str]:
    """Validate a browser's ``{kind, at?, detail?}``: (kind, at in ms or None, detail)."""
    if not isinstance(payload, dict):
        raise DeliveryError("malformed", '异常事件应为 JSON 对象，如 {"kind": "focus_lost"}')
    unknown = sorted(str(k) for k in payload if k not in ("kind", "at", "detail"))
    if unknown:
        raise DeliveryError("malformed", f"异常事件含未知字段 {'、'.join(unknown)}")
    kind, at, detail = payload.get("kind"), payload.get("at"), payload.get("detail", "")
    if kind not in CLIENT_ANOMALIES:
        raise DeliveryError(
            "malformed", f"未知的异常事件类型：应为 {'、'.join(CLIENT_ANOMALIES)} 之一"
        )
    if at is not None and not is_ms(at):
        raise DeliveryError("malformed", "at 应为浏览器时间（自 1970 年起的毫秒数）")
    if detail is None:
        detail = ""
    if not isinstance(detail, str) or len(detail) > MAX_DETAIL_CHARS:
        raise DeliveryError("malformed", f"detail 应为不超过 {MAX_DETAIL_CHARS} 个字符的文本")
    return kind, None if at is None else int(at), detail


def is_ms(value: object) -> bool:
    """A time in ms since 1970 as JSON gives it: a number, not a boolean, not NaN or ±inf."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    return number and 0 <= value < 10**14  # type: ignore[operator]


def record_anomaly(
    reg: Registration,
    kind: str,
    at: int | None,
    detail: str,
    now: datetime,
    actor_kind: str = "candidate",
) -> dict[str, Any]:
    """Store an anomaly on the part in progress (else the first part); what to push to the
    invigilators. ``at`` is the browser's time in ms (kept as reported), ``now`` the server's."""
    if kind not in ANOMALY_KINDS:
        raise DeliveryError(
            "malformed", f"未知的异常事件类型：应为 {'、'.join(ANOMALY_KINDS)} 之一"
        )
    sittings = sittings_of(reg)
    if not sittings:
        raise DeliveryError("unknown_part", "本场考试没有可记录的部分", 404)
    sitting = next((s for s in sittings if s.state in ("in_progress", "paused")), sittings[0])
    data: dict[str, Any] = {"detail": detail[:MAX_DETAIL_CHARS]}
    if at is not None:
        data["client_at"] = at
    _record(_event(sitting, kind, actor_kind, data=data, at=now))
    return _anomaly(reg, sitting.part_kind, kind, now, data)


def latest_anomaly(reg: Registration, kind: str) -> dict[str, Any] | None:
    """The newest stored anomaly of ``kind`` as pushed to the invigilators (or None)."""
    event = db.session.scalar(
        select(SittingEvent)
        .join(Sitting)
        .where(Sitting.registration_id == reg.id, SittingEvent.kind == kind)
        .order_by(SittingEvent.id.desc())
        .limit(1)
    )
    if event is None:
        return None
    at = aware(event.at)
    assert at is not None
    return _anomaly(reg, event.sitting.part_kind, event.kind, at, event.data)


def _anomaly(
    reg: Registration, part: str, kind: str, at: datetime, data: dict[str, Any]
) -> dict[str, Any]:
    return {
        "registration_id": reg.id,
        "plan_id": reg.plan_id,
        "ticket_number": reg.ticket_number,
        "name": reg.candidate.name,
        "room_id": reg.room_id,
        "seat": reg.seat,
        "part": part,
        "kind": kind,
        "text": ANOMALY_NAMES[kind],
        "at": ms(at),
        "client_at": data.get("client_at"),
        "detail": data.get("detail", ""),
    }


def ms(moment: datetime) -> int:
    """A time as the protocol gives it: milliseconds since 1970."""
    return int(moment.timestamp() * 1000)


def commit() -> None:
    """Make the stored changes durable before an acknowledgement leaves the server."""
    db.session.commit()


def rollback() -> None:
    db.session.rollback()
