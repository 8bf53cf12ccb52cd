"""Plan documents: the seating board, admission tickets (准考证), exports and door check-in.

Builds the plain rows of the pure renderers (``admission_ticket``, ``exports``) from the models,
scoped as ``registration.services.registrations_of`` scopes candidates: an organization admin
sees the whole plan, a site admin only the candidates and rooms of their own site.

The QR code of a ticket holds an absolute check-in URL ``<base>/plans/checkin/<ticket>?s=<sig>``;
``sig`` is the first 16 hex digits of HMAC-SHA256(SECRET_KEY, ticket number), so a ticket printed
from an altered file, or a QR code made up by hand, is told apart at the door.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select

from ..auth.models import User
from ..errors import Conflict, DomainError, NotFound
from ..extensions import db
from ..registration.models import Registration
from ..registration.services import registrations_of
from ..sites.models import Room
from .admission_ticket import FontMissing, TicketData, TicketSession, find_cjk_font, render_pdf
from .admission_ticket import render_png as _render_png
from .exports import CandidateRow, RoomSheet, SignInRow
from .models import ExamPlan
from .seating import RoomSeats, adjacent_same_group
from .seats import auto_seat, move_seat, seating_quality
from .services import get_plan, is_manager

SIGNATURE_LENGTH = 16  # hex digits: 64 bits, far beyond guessing at a door
NOTES = (
    "请于开考前 30 分钟到达考点，凭本准考证和本人有效居民身份证入场，两证缺一不得入场。",
    "开考 15 分钟后不得入场；开考 30 分钟内不得交卷离场。",
    "按准考证上的考场和座位号就座，将准考证和身份证放在桌面左上角，以备监考员核验。",
    "除必要的文具外，不得携带手机、智能手表等电子设备及书籍、笔记、资料进入考场。",
    "考试中计算机出现故障，请举手示意监考员，不得自行重启或操作他人的计算机。",
    "遵守考场纪律，服从监考员安排；违纪、作弊者按有关规定处理。",
)


class FontUnavailable(DomainError):
    """No CJK font to print with: the message names the package to install or the setting."""

    status = 503
    code = "font_missing"


class InvalidCheckin(DomainError):
    status = 422
    code = "invalid_ticket"


# ---- fonts ---------------------------------------------------------------------------------


def cjk_font(configured: str | None) -> Path:
    """The font of ``find_cjk_font``; a missing one is a 503 saying what to install."""
    try:
        return find_cjk_font(configured)
    except FontMissing as exc:
        raise FontUnavailable(str(exc)) from exc


# ---- scope ---------------------------------------------------------------------------------


def rooms_of(plan: ExamPlan, user: User) -> list[Room]:
    """The plan's rooms the user looks after: all (organization admin) or their site's."""
    rooms = [pr.room for pr in plan.rooms]
    if not is_manager(user, plan):
        rooms = [r for r in rooms if r.site_id == user.site_id]
    return sorted(rooms, key=lambda r: (r.site.number, r.number))


def room_of(plan: ExamPlan, user: User, room_id: int) -> Room:
    room = next((r for r in rooms_of(plan, user) if r.id == room_id), None)
    if room is None:
        raise NotFound("该考场不在本计划中或不由您负责")
    return room


def registration_of(plan: ExamPlan, user: User, registration_id: int) -> Registration:
    reg = next((r for r in registrations_of(plan, user) if r.id == registration_id), None)
    if reg is None:
        raise NotFound("该考生不在本计划中或不由您管理")
    return reg


def _by_seat(regs: list[Registration]) -> list[Registration]:
    return sorted(regs, key=lambda r: (r.ticket_number or "~", r.id))


def ticketed(plan: ExamPlan, user: User, room_id: int | None = None) -> list[Registration]:
    """The user's candidates that have a ticket number, in ticket number order."""
    regs = [r for r in registrations_of(plan, user) if r.ticket_number]
    if room_id is not None:
        room = room_of(plan, user, room_id)
        regs = [r for r in regs if r.room_id == room.id]
    if not regs:
        raise Conflict("还没有考生有准考证号：请先在座位安排页安排座位")
    return _by_seat(regs)


# ---- seating board -------------------------------------------------------------------------


def _group(reg: Registration) -> str:
    # As plans.seats groups candidates: classmates of one institution.
    return f"{reg.institution}/{reg.class_name}"


@dataclass(frozen=True)
class SeatCell:
    seat: int
    label: str
    kind: str  # taken | free | spare | blocked
    registration: Registration | None = None
    classmate_next: bool = False  # a classmate side by side or one behind/in front


@dataclass(frozen=True)
class SeatGrid:
    room: Room
    rows: list[list[SeatCell]]  # row 1 (the front, by the 讲台) first; column 1 on the left
    seated: int
    adjacent_same_class: int


def seat_grid(plan: ExamPlan, room: Room) -> SeatGrid:
    """The room as rows of seats, front first, with who sits where and classmates side by side."""
    seatmap = room.seatmap
    here = {r.seat: r for r in plan.registrations if r.room_id == room.id and r.seat}
    assignment = {r.id: (room.id, seat) for seat, r in here.items()}
    groups = {r.id: _group(r) for r in here.values()}
    rooms = [RoomSeats(room.id, room.name, seatmap)]

    def next_to_classmate(seat: int) -> bool:
        row, column = seatmap.position(seat)
        for dr, dc in ((0, 1), (0, -1), (1, 0), (-1, 0)):
            r, c = row + dr, column + dc
            if 1 <= r <= seatmap.rows and 1 <= c <= seatmap.columns:
                other = here.get(seatmap.seat_at(r, c))
                if other is not None and _group(other) == _group(here[seat]):
                    return True
        return False

    grid = []
    for row in range(1, seatmap.rows + 1):
        cells = []
        for column in range(1, seatmap.columns + 1):
            seat = seatmap.seat_at(row, column)
            label = seatmap.label(seat)
            if seat in here:
                cells.append(SeatCell(seat, label, "taken", here[seat], next_to_classmate(seat)))
            elif seat in seatmap.blocked:
                cells.append(SeatCell(seat, label, "blocked"))
            elif seat in seatmap.spare:
                cells.append(SeatCell(seat, label, "spare"))
            else:
                cells.append(SeatCell(seat, label, "free"))
        grid.append(cells)
    adjacent = adjacent_same_group(assignment, groups, rooms) if assignment else 0
    return SeatGrid(room, grid, len(here), adjacent)


@dataclass(frozen=True)
class BoardSummary:
    seated: int
    unseated: int
    adjacent_same_class: int


def board_summary(plan: ExamPlan, user: User, grids: list[SeatGrid]) -> BoardSummary:
    """``seating_quality`` of the plan for its admin; a site admin's own rooms otherwise."""
    if is_manager(user, plan):
        quality = seating_quality(plan)
        return BoardSummary(quality.seated, quality.unseated, quality.adjacent_same_class)
    mine = registrations_of(plan, user)
    seated = sum(1 for r in mine if r.seat is not None)
    return BoardSummary(seated, len(mine) - seated, sum(g.adjacent_same_class for g in grids))


def seat_unseated(plan: ExamPlan, user: User) -> int:
    """Seat the user's unseated candidates: the plan's (admin) or those of one's site."""
    return auto_seat(plan, None if is_manager(user, plan) else user.site_id)


def move(plan: ExamPlan, user: User, registration_id: int, room_id: int, seat: int) -> Registration:
    """Move one of the user's candidates to a free seat of one of the user's rooms."""
    reg = registration_of(plan, user, registration_id)
    room_of(plan, user, room_id)
    return move_seat(plan, reg.id, room_id, seat)


# ---- admission tickets ---------------------------------------------------------------------


def checkin_signature(ticket_number: str, secret: str) -> str:
    digest = hmac.new(secret.encode(), ticket_number.encode(), hashlib.sha256).hexdigest()
    return digest[:SIGNATURE_LENGTH]


def verify_checkin(ticket_number: str, signature: str, secret: str) -> bool:
    expected = checkin_signature(ticket_number, secret)
    return hmac.compare_digest(expected.encode(), signature.strip().lower().encode())


def checkin_url(base_url: str, ticket_number: str, secret: str) -> str:
    signature = checkin_signature(ticket_number, secret)
    return f"{base_url.rstrip('/')}/plans/checkin/{ticket_number}?s={signature}"


def ticket_data(reg: Registration, base_url: str, secret: str) -> TicketData:
    """What the ticket of a seated candidate shows; its QR code is the signed check-in URL."""
    if not reg.ticket_number or reg.room is None or reg.seat is None:
        raise Conflict(f"{reg.candidate.name} 还没有座位和准考证号：请先安排座位")
    plan = reg.plan
    return TicketData(
        ticket_number=reg.ticket_number,
        name=reg.candidate.name,
        id_number=reg.candidate.id_number,
        gender=reg.candidate.gender,
        institution=reg.institution,
        certificate=plan.level.certificate.name,
        level=plan.level.name,
        batch=plan.batch,
        sessions=tuple(
            TicketSession(s.part_name, s.starts_at.date(), s.starts_at.time(), s.ends_at.time())
            for s in plan.sessions
        ),
        site=reg.site.name,
        address=reg.site.address,
        room=reg.room.name,
        seat=reg.room.seatmap.label(reg.seat),
        qr_payload=checkin_url(base_url, reg.ticket_number, secret),
        photo=reg.candidate.photo,
        notes=NOTES,
    )


def tickets_pdf(regs: list[Registration], base_url: str, secret: str, font: Path) -> bytes:
    tickets = [ticket_data(r, base_url, secret) for r in regs]
    try:
        return render_pdf(tickets, font)
    except ValueError as exc:  # an unreadable photograph names its ticket
        raise DomainError(str(exc)) from exc


def ticket_png(reg: Registration, base_url: str, secret: str, font: Path) -> bytes:
    try:
        return _render_png(ticket_data(reg, base_url, secret), font)
    except ValueError as exc:
        raise DomainError(str(exc)) from exc


# ---- exports -------------------------------------------------------------------------------


def _session_line(plan: ExamPlan) -> list[str]:
    return [
        f"{s.part_name} {s.starts_at:%Y-%m-%d %H:%M}–{s.ends_at:%H:%M}" for s in plan.sessions
    ] or [""]


def room_sheets(plan: ExamPlan, user: User, room_id: int | None = None) -> list[RoomSheet]:
    """Sign-in sheets: one per room and session, the room's candidates in seat order."""
    rooms = [room_of(plan, user, room_id)] if room_id is not None else rooms_of(plan, user)
    sheets = []
    for room in rooms:
        seated = sorted(
            (r for r in plan.registrations if r.room_id == room.id and r.seat is not None),
            key=lambda r: r.seat or 0,
        )
        rows = tuple(
            SignInRow(
                seat=room.seatmap.label(r.seat or 0),
                ticket_number=r.ticket_number or "",
                name=r.candidate.name,
                id_number=r.candidate.id_number,
                institution=r.institution,
            )
            for r in seated
        )
        for session in _session_line(plan):
            sheets.append(RoomSheet(plan.title, session, room.site.name, room.name, rows))
    return sheets


def seat_plan(plan: ExamPlan, room: Room) -> dict[int, str]:
    """Seat → candidate name, for ``exports.seat_plan_xlsx``."""
    return {
        r.seat: r.candidate.name
        for r in plan.registrations
        if r.room_id == room.id and r.seat is not None
    }


def candidate_rows(plan: ExamPlan, user: User) -> list[CandidateRow]:
    """The user's candidates in ticket number order (unseated last, in registration order)."""
    return [
        CandidateRow(
            ticket_number=r.ticket_number or "",
            name=r.candidate.name,
            id_number=r.candidate.id_number,
            gender=r.candidate.gender,
            institution=r.institution,
            major=r.major,
            class_name=r.class_name,
            phone=r.candidate.phone,
            certificate=plan.level.certificate.name,
            level=plan.level.name,
            batch=plan.batch,
            site=r.site.name,
            room=r.room.name if r.room else "",
            seat=r.room.seatmap.label(r.seat) if r.room and r.seat else "",
            fee=r.fee,
            exempt=r.poor_family,
        )
        for r in _by_seat(registrations_of(plan, user))
    ]


def file_name(plan: ExamPlan, what: str, suffix: str, room: Room | None = None) -> str:
    """A download name such as 准考证-演示批次-机房 101.pdf, without path separators."""
    parts = [what, plan.batch, *([room.name] if room else [])]
    name = "-".join(parts)
    return "".join("_" if ch in '/\\:*?"<>|' else ch for ch in name) + suffix


# ---- door check-in -------------------------------------------------------------------------


def mask_id(id_number: str) -> str:
    """The first six and last four characters: enough to compare with the ID card shown."""
    if len(id_number) <= 10:
        return id_number
    return id_number[:6] + "*" * (len(id_number) - 10) + id_number[-4:]


def photo_data_uri(photo: bytes | None) -> str | None:
    """The candidate's photograph as a small JPEG data: URI, None without a readable one."""
    if not photo:
        return None
    try:
        with Image.open(io.BytesIO(photo)) as raw:
            image = ImageOps.exif_transpose(raw).convert("RGB")
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError):
        return None
    image.thumbnail((480, 640))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode()


def checkin(user: User, ticket_number: str, signature: str, secret: str) -> Registration:
    """The candidate of a scanned ticket, if the signature holds and the user looks after them.

    Nothing is recorded: attendance (到考/缺考) is kept by invigilation, not by this page.
    """
    if not verify_checkin(ticket_number, signature, secret):
        raise InvalidCheckin("准考证二维码无效或被篡改")
    reg = db.session.scalar(select(Registration).where(Registration.ticket_number == ticket_number))
    if reg is None:
        raise NotFound(f"准考证号 {ticket_number} 不存在：请核对准考证")
    plan = get_plan(user, reg.plan_id)
    staffed = any(s.user_id == user.id for s in plan.staff)
    if not is_manager(user, plan) and not staffed and reg.site_id != user.site_id:
        raise NotFound(f"准考证号 {ticket_number} 不属于您负责的考点")
    return reg
