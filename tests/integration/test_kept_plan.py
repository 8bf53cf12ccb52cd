"""The plan a candidate sits, kept by the process between candidate requests
(``delivery/kept_plan.py``): read once, seen at once when this process changes it, never kept
from a rolled-back change, and late by at most ``KEEP_SECONDS`` when another process does."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event, update

from examsvc.auth.models import User
from examsvc.auth.roles import Role
from examsvc.catalog.models import Organization
from examsvc.delivery import kept_plan
from examsvc.delivery.services import DeliveryError, commit, live_registration, sign_in
from examsvc.extensions import db
from examsvc.plans.models import ExamPlan
from examsvc.registration.models import Registration
from tests.conftest import open_demo_plan

HELD_TABLES = ("exam_plan", "plan_session", "certificate_level", "certificate", "exam_room")


@pytest.fixture
def regs(catalog: dict[str, Organization], make_user: Callable[..., User]) -> list[int]:
    make_user(Role.ORG_ADMIN, username="admin")
    plan = open_demo_plan()
    ids = [r.id for r in plan.registrations[:3]]
    db.session.remove()
    return ids


@contextmanager
def statements() -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn, cursor, statement, params, context, executemany) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def _held_reads(seen: list[str]) -> list[str]:
    return [s for s in seen if any(f"FROM {table}" in s for table in HELD_TABLES)]


def _sign_in(reg_id: int) -> int:
    """A candidate's sign-in, committed; the session is gone afterwards, as after a request."""
    reg = db.session.get(Registration, reg_id)
    assert reg is not None
    ticket, number = reg.ticket_number or "", reg.candidate.id_number
    login_id = sign_in(ticket, number, "10.0.0.5", "Chromium").id
    commit()
    db.session.remove()
    return login_id


Seen = tuple[str, str, list[str], str, str]


def _plan_as_seen(reg: Registration | None) -> Seen:
    assert reg is not None and reg.room is not None
    plan = reg.plan
    return (
        plan.state,
        plan.batch,
        [s.part_name for s in plan.sessions],
        plan.level.title,
        reg.room.title,
    )


def _seen_by_candidate(login_id: int) -> Seen:
    """What a candidate request reads of the plan, in a session of its own."""
    seen = _plan_as_seen(live_registration(login_id))
    db.session.remove()
    return seen


def test_candidate_requests_read_the_plan_rows_once_and_see_them_as_stored(
    regs: list[int],
) -> None:
    with statements() as seen:
        login_id = _sign_in(regs[0])  # makes the copy
        assert _held_reads(seen)
    with statements() as seen:
        first = _seen_by_candidate(login_id)
        again = _seen_by_candidate(login_id)
        assert _held_reads(seen) == []
    assert first == again == _plan_as_seen(db.session.get(Registration, regs[0]))


def test_a_change_this_process_commits_reaches_the_next_candidate_request_at_once(
    regs: list[int],
) -> None:
    login_id = _sign_in(regs[0])
    assert _seen_by_candidate(login_id)[1] != "改期后的批次"
    plan = db.session.get(Registration, regs[0]).plan  # type: ignore[union-attr]
    plan.batch = "改期后的批次"
    db.session.commit()
    db.session.remove()
    assert _seen_by_candidate(login_id)[1] == "改期后的批次"
    plan = db.session.get(Registration, regs[0]).plan  # type: ignore[union-attr]
    plan.state = "closed"
    db.session.commit()
    db.session.remove()
    with pytest.raises(DeliveryError) as closed:
        _sign_in(regs[1])
    assert closed.value.code == "not_open"


def test_a_rolled_back_change_is_not_kept(regs: list[int]) -> None:
    login_id = _sign_in(regs[0])
    original = _seen_by_candidate(login_id)[1]
    plan = db.session.get(Registration, regs[0]).plan  # type: ignore[union-attr]
    plan.batch = "未提交的批次"
    db.session.flush()
    # A candidate request inside the changing transaction sees its change (and copies it)…
    assert live_registration(login_id).plan.batch == "未提交的批次"  # type: ignore[union-attr]
    db.session.rollback()
    db.session.remove()
    # …but the rollback drops that copy.
    assert _seen_by_candidate(login_id)[1] == original


def test_a_change_by_another_process_is_late_by_at_most_the_keeping_time(
    regs: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    login_id = _sign_in(regs[0])
    original = _seen_by_candidate(login_id)[1]
    with db.engine.begin() as elsewhere:  # no flush of this process's sessions: no signal
        elsewhere.execute(update(ExamPlan).values(batch="另一进程改的批次"))
    assert _seen_by_candidate(login_id)[1] == original
    monkeypatch.setattr(kept_plan, "KEEP_SECONDS", 0.0)  # the keeping time has passed
    assert _seen_by_candidate(login_id)[1] == "另一进程改的批次"
