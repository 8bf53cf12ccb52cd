"""The seat feed: a change marks its seat after its commit, and a background round reads the
marked seats of each room together and emits them as ``services.seat`` computes them."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event

from examsvc.auth.models import User
from examsvc.auth.roles import Role
from examsvc.catalog.models import Organization
from examsvc.delivery import services as delivery
from examsvc.extensions import db, socketio
from examsvc.plans.models import ExamPlan
from examsvc.proctoring import pushes, seat_feed
from examsvc.proctoring import services as board
from examsvc.registration.models import Registration
from tests.conftest import open_demo_plan
from tests.e2e.test_exam_http import _signed_in

Emitted = list[tuple[str, dict[str, Any], int, int | None]]


@pytest.fixture
def plan(catalog: dict[str, Organization], make_user: Callable[..., User]) -> ExamPlan:
    make_user(Role.ORG_ADMIN, username="admin")
    return open_demo_plan()


@pytest.fixture
def emitted(monkeypatch: pytest.MonkeyPatch) -> Emitted:
    heard: Emitted = []
    lock = threading.Lock()

    def emit(event: str, data: dict[str, Any], plan_id: int, room_id: int | None) -> None:
        with lock:
            heard.append((event, data, plan_id, room_id))

    monkeypatch.setattr(pushes, "emit", emit)
    return heard


def _room_regs(plan: ExamPlan) -> list[Registration]:
    return board.registrations_in(plan, plan.rooms[0].room.id)


def _wait(heard: Emitted, count: int) -> None:
    deadline = time.monotonic() + 10
    while len(heard) < count and time.monotonic() < deadline:
        time.sleep(0.01)


def _without_clock(seat: dict[str, Any]) -> dict[str, Any]:
    """A seat without what moves with the moment it is read."""
    parts = [{k: v for k, v in p.items() if k != "remaining_ms"} for p in seat["parts"]]
    return seat | {"parts": parts}


def test_marked_seats_are_emitted_once_committed_as_the_board_computes_them(
    app: Flask, plan: ExamPlan, emitted: Emitted
) -> None:
    regs = _room_regs(plan)[:3]
    delivery.start(delivery.sitting_of(regs[0], "theory"), datetime.now(UTC))
    delivery.commit()
    for reg in regs:
        pushes.seat_push(reg)()
    pushes.seat_push(regs[0])()  # marked again: one seat, whichever round reads it
    _wait(emitted, len(regs))
    assert {d["registration_id"] for _, d, _, _ in emitted} == {r.id for r in regs}
    assert {(e, p, r) for e, _, p, r in emitted} == {("seat", plan.id, plan.rooms[0].room.id)}
    now = datetime.now(UTC)
    for _, seat, _, _ in emitted:
        reg = next(r for r in regs if r.id == seat["registration_id"])
        assert _without_clock(seat) == _without_clock(board.seat(reg, now))
    first = next(d for _, d, _, _ in emitted if d["registration_id"] == regs[0].id)
    assert first["parts"][0]["state"] == "in_progress"


def test_a_round_reads_a_rooms_seats_together(app: Flask, plan: ExamPlan, emitted: Emitted) -> None:
    regs = _room_regs(plan)
    for reg in regs:  # their sittings exist, as after sign-in
        delivery.sittings_of(reg)
    delivery.commit()
    batch = {(plan.id, plan.rooms[0].room.id): {r.id for r in regs}}
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        feed = seat_feed.seat_feed()
        feed.emit(batch)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(emitted) == len(regs) > 10
    # a handful of queries for the whole room, not several per seat
    assert len(statements) <= 10, [s[:70] for s in statements]


def test_a_failed_round_is_logged_and_the_next_mark_is_served(
    app: Flask, plan: ExamPlan, emitted: Emitted, monkeypatch: pytest.MonkeyPatch
) -> None:
    reg = _room_regs(plan)[0]
    calls = {"n": 0}
    real = board.seats

    def fail_once(*args: Any) -> list[dict[str, Any]]:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("database gone")
        return real(*args)

    monkeypatch.setattr(board, "seats", fail_once)
    pushes.seat_push(reg)()
    deadline = time.monotonic() + 10
    while seat_feed.seat_feed().running and time.monotonic() < deadline:
        time.sleep(0.01)
    assert calls["n"] == 1 and emitted == []
    pushes.seat_push(reg)()
    _wait(emitted, 1)
    assert [d["registration_id"] for _, d, _, _ in emitted] == [reg.id]


def test_a_seat_outside_any_room_is_not_marked(app: Flask, plan: ExamPlan) -> None:
    reg = _room_regs(plan)[0]
    reg.room_id = None
    pushes.seat_push(reg)()
    assert seat_feed.FEED not in app.extensions


def test_sign_in_and_the_waiting_room_reach_the_board(
    app: Flask, plan: ExamPlan, emitted: Emitted
) -> None:
    reg = _room_regs(plan)[0]
    client = _signed_in(app, reg)
    _wait(emitted, 1)
    assert [d["parts"][0]["state"] for _, d, _, _ in emitted] == ["registered"]
    assert client.get("/exam/").status_code == 200  # checked in and admitted
    _wait(emitted, 2)
    assert [d["parts"][0]["state"] for _, d, _, _ in emitted] == ["registered", "waiting"]
    client.get("/exam/")  # nothing changes: nothing pushed
    time.sleep(0.2)
    assert len(emitted) == 2


def test_a_task_that_cannot_start_does_not_stop_later_marks(
    app: Flask, plan: ExamPlan, emitted: Emitted, monkeypatch: pytest.MonkeyPatch
) -> None:
    reg = _room_regs(plan)[0]
    real = socketio.start_background_task

    def refuse(*args: Any) -> None:
        raise RuntimeError("no server")

    monkeypatch.setattr(socketio, "start_background_task", refuse)
    with pytest.raises(RuntimeError):
        pushes.seat_push(reg)()
    monkeypatch.setattr(socketio, "start_background_task", real)
    pushes.seat_push(reg)()
    _wait(emitted, 1)
    assert [d["registration_id"] for _, d, _, _ in emitted] == [reg.id]
