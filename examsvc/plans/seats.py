"""Seating use cases: automatic seats per site, manual moves, ticket numbers (准考证号).

Seats and ticket numbers change only while a plan is a draft: once published, tickets are
printed and a candidate whose PC fails moves to a spare seat during the exam instead.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from ..errors import Conflict, DomainError, NotFound
from ..extensions import db
from ..registration.models import Registration
from .models import ExamPlan
from .seating import (
    RoomSeats,
    SeatCandidate,
    SeatingError,
    adjacent_same_group,
    assign_seats,
    check_move,
)
from .services import require_state
from .ticket_number import TicketParts, make_ticket_number


def _group(reg: Registration) -> str:
    return f"{reg.institution}/{reg.class_name}"


def _site_rooms(plan: ExamPlan) -> dict[int, list[RoomSeats]]:
    rooms: dict[int, list[RoomSeats]] = defaultdict(list)
    for pr in sorted(plan.rooms, key=lambda pr: (pr.room.site.number, pr.room.number)):
        rooms[pr.room.site_id].append(RoomSeats(pr.room.id, pr.room.name, pr.room.seatmap))
    return rooms


def auto_seat(plan: ExamPlan, site_id: int | None = None) -> int:
    """Seat every unseated candidate (of one site when given) in the rooms of their site.

    Sites are seated independently of each other. Returns how many were seated.
    """
    require_state(plan, "draft")
    rooms = _site_rooms(plan)
    by_site: dict[int, list[Registration]] = defaultdict(list)
    for reg in plan.registrations:
        if site_id is None or reg.site_id == site_id:
            by_site[reg.site_id].append(reg)
    seated = 0
    for site_id, regs in by_site.items():
        waiting = [r for r in regs if r.seat is None]
        if not waiting:
            continue
        site_name = regs[0].site.name
        if site_id not in rooms:
            raise DomainError(f"考点「{site_name}」有 {len(regs)} 名考生，但计划中没有它的考场")
        taken = {r.id: (r.room_id, r.seat) for r in regs if r.room_id and r.seat}
        try:
            placed = assign_seats(
                [SeatCandidate(r.id, _group(r)) for r in regs], rooms[site_id], taken
            )
        except SeatingError as exc:
            raise DomainError(f"考点「{site_name}」：{exc}") from exc
        for reg in waiting:
            reg.room_id, reg.seat = placed[reg.id]
            seated += 1
    _number(plan)
    db.session.flush()
    return seated


def move_seat(plan: ExamPlan, registration_id: int, room_id: int, seat: int) -> Registration:
    """Move one candidate to a free seat of a room of their site (spare seats stay free)."""
    require_state(plan, "draft")
    reg = next((r for r in plan.registrations if r.id == registration_id), None)
    if reg is None:
        raise NotFound("该考生不在本计划中")
    rooms = _site_rooms(plan).get(reg.site_id, [])
    assignment = {r.id: (r.room_id, r.seat) for r in plan.registrations if r.room_id and r.seat}
    try:
        check_move(reg.id, room_id, seat, assignment, rooms)
    except SeatingError as exc:
        raise Conflict(str(exc)) from exc
    # The unique (room, seat) constraint would see the old and new rows at once otherwise.
    reg.room_id, reg.seat = room_id, seat
    _number(plan)
    db.session.flush()
    return reg


def _number(plan: ExamPlan) -> None:
    """Ticket numbers follow the seat; see docs/administration.md for the structure."""
    year = min((s.starts_at for s in plan.sessions), default=plan.created_at).year % 100
    rooms = {pr.room_id: pr.room for pr in plan.rooms}
    for reg in plan.registrations:
        if reg.room_id is None or reg.seat is None:
            reg.ticket_number = None
            continue
        room = rooms[reg.room_id]
        reg.ticket_number = make_ticket_number(
            TicketParts(
                year=year, plan=plan.id, site=room.site.number, room=room.number, seat=reg.seat
            )
        )


@dataclass(frozen=True)
class SeatingQuality:
    seated: int
    unseated: int
    adjacent_same_class: int


def seating_quality(plan: ExamPlan) -> SeatingQuality:
    rooms = [rs for site in _site_rooms(plan).values() for rs in site]
    assignment = {r.id: (r.room_id, r.seat) for r in plan.registrations if r.room_id and r.seat}
    groups = {r.id: _group(r) for r in plan.registrations}
    return SeatingQuality(
        seated=len(assignment),
        unseated=len(plan.registrations) - len(assignment),
        adjacent_same_class=adjacent_same_group(assignment, groups, rooms) if assignment else 0,
    )
