"""Delivery against a real database: sign-in, the server clock, idempotent autosave, submission
and resume — every refusal changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from examsvc.auth.models import User
from examsvc.auth.roles import Role
from examsvc.catalog.models import Organization
from examsvc.config import ROOT
from examsvc.delivery import arrival, signed
from examsvc.delivery.models import Answer, CandidateLogin, SittingEvent, aware
from examsvc.delivery.services import (
    DeliveryError,
    commit,
    live_registration,
    paper_items,
    save_answer,
    sign_in,
    sitting_of,
    snapshot,
    start,
    submit,
    submit_overdue,
)
from examsvc.extensions import db
from examsvc.registration.models import Registration
from tests.conftest import open_demo_plan

BANKS = ROOT / "question_banks"


@pytest.fixture
def reg(catalog: dict[str, Organization], make_user: Callable[..., User]) -> Registration:
    """A candidate of the published demo plan whose theory part began ten minutes ago."""
    make_user(Role.ORG_ADMIN, username="admin")
    plan = open_demo_plan()
    return plan.registrations[0]


def _now() -> datetime:
    return datetime.now(UTC)


def _started(reg: Registration) -> datetime:
    now = _now()
    start(sitting_of(reg, "theory"), now)
    commit()
    return now


def _position(reg: Registration, item_type: str) -> int:
    return next(i.view.position for i in paper_items(reg) if i.view.item_type == item_type)


def test_sign_in_needs_the_matching_id_and_a_second_pc_waits(reg: Registration) -> None:
    ticket, number = reg.ticket_number or "", reg.candidate.id_number
    with pytest.raises(DeliveryError) as wrong:
        sign_in(ticket, "11010519491231002X", "10.0.0.5", "Chromium")
    assert wrong.value.code == "bad_credentials"
    with pytest.raises(DeliveryError) as typo:
        sign_in(ticket[:-1] + ("0" if ticket[-1] != "0" else "1"), number, "", "")
    assert typo.value.code == "bad_ticket" and "校验位" in typo.value.message
    first = sign_in(ticket.lower(), number.lower(), "10.0.0.5", "Chromium")
    second = sign_in(ticket, number, "10.0.0.6", "Edge")
    commit()
    assert (first.state, second.state) == ("live", "pending")
    assert live_registration(first.id) is reg and live_registration(second.id) is None
    kinds = [e.kind for e in sitting_of(reg, "theory").events]
    assert kinds == ["sign_in", "second_sign_in"]
    assert db.session.get(CandidateLogin, second.id).ip == "10.0.0.6"


def test_a_part_cannot_start_before_its_time(reg: Registration) -> None:
    session = reg.plan.sessions[0]
    session.starts_at += timedelta(days=2)
    with pytest.raises(DeliveryError) as early:
        start(sitting_of(reg, "theory"), _now())
    assert early.value.code == "not_yet"


def test_autosave_is_idempotent_and_the_highest_change_wins(reg: Registration) -> None:
    _started(reg)
    single = _position(reg, "single")
    now = _now()
    acks = [
        save_answer(reg, "theory", {"seq": 2, "position": single, "value": "B"}, now),
        save_answer(reg, "theory", {"seq": 2, "position": single, "value": "B"}, now),
        save_answer(reg, "theory", {"seq": 1, "position": single, "value": "A"}, now),
    ]
    commit()
    assert [a["outcome"] for a in acks] == ["saved", "duplicate", "stale"]
    with pytest.raises(DeliveryError) as conflict:
        save_answer(reg, "theory", {"seq": 2, "position": single, "value": "C"}, now)
    assert conflict.value.code == "seq_conflict"
    (part, _practical) = snapshot(reg, _now())["parts"]
    assert part["state"] == "in_progress" and part["last_seq"] == 2
    assert [(a["position"], a["value"]) for a in part["answers"]] == [(single, "B")]


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"seq": 1, "position": 999, "value": "A"}, "unknown_item"),
        ({"seq": 1, "position": "single", "value": "Z"}, "unknown_option"),
        ({"seq": 1, "position": "practical", "value": {"text": "x"}}, "wrong_part"),
        ({"seq": "one", "position": 1, "value": "A"}, "malformed"),
        ("not an object", "malformed"),
    ],
)
def test_bad_changes_are_refused_with_a_code_and_store_nothing(
    reg: Registration, payload: object, code: str
) -> None:
    _started(reg)
    if isinstance(payload, dict) and isinstance(payload["position"], str):
        payload = payload | {"position": _position(reg, payload["position"])}
    with pytest.raises(DeliveryError) as refused:
        save_answer(reg, "theory", payload, _now())
    assert refused.value.code == code
    db.session.rollback()
    assert db.session.scalars(select(Answer)).all() == []


def test_after_the_deadline_answers_are_refused_and_the_scheduler_submits(
    reg: Registration,
) -> None:
    started = _started(reg)
    single = _position(reg, "single")
    save_answer(reg, "theory", {"seq": 1, "position": single, "value": "A"}, started)
    commit()
    late = started + timedelta(minutes=90, seconds=6)  # past the deadline and the 5 s grace
    with pytest.raises(DeliveryError) as refused:
        save_answer(reg, "theory", {"seq": 2, "position": single, "value": "B"}, late)
    assert refused.value.code == "time_up"
    assert submit_overdue(started + timedelta(minutes=89)) == []
    (done,) = submit_overdue(late)
    commit()
    sitting = sitting_of(reg, "theory")
    assert sitting.id == done and sitting.state == "auto_submitted"
    assert [a.value for a in sitting.answers] == [sitting.answers[0].value] and sitting.answers


def test_the_grace_after_the_deadline_is_configured(reg: Registration) -> None:
    from flask import current_app

    started = _started(reg)
    single = _position(reg, "single")
    just_late = started + timedelta(minutes=90, seconds=2)
    change = {"seq": 1, "position": single, "value": "A"}
    current_app.config["DELIVERY_GRACE_SECONDS"] = 0
    with pytest.raises(DeliveryError) as refused:
        save_answer(reg, "theory", change, just_late)
    assert refused.value.code == "time_up"
    assert submit_overdue(just_late - timedelta(seconds=3)) == []
    current_app.config["DELIVERY_GRACE_SECONDS"] = 5
    assert save_answer(reg, "theory", change, just_late)["outcome"] == "saved"
    assert submit_overdue(just_late) == []  # still inside the 5 s grace


def test_a_submitted_part_takes_no_more_answers(reg: Registration) -> None:
    _started(reg)
    submit(sitting_of(reg, "theory"), _now())
    commit()
    with pytest.raises(DeliveryError) as refused:
        save_answer(reg, "theory", {"seq": 1, "position": 1, "value": "A"}, _now())
    assert refused.value.code == "not_in_progress" and "已交卷" in refused.value.message
    with pytest.raises(DeliveryError) as again:
        submit(sitting_of(reg, "theory"), _now())
    assert again.value.code == "bad_state"


def test_a_start_from_a_stale_read_is_refused_and_stores_nothing(reg: Registration) -> None:
    """The Core start moves a sitting only from the state it was read in: a start that another
    tab (or the invigilator) made after this request's read is not written over."""
    login = sign_in(reg.ticket_number or "", reg.candidate.id_number, "10.0.0.5", "Chromium")
    commit()
    read = signed.by_login(login.id)
    assert read is not None
    arrival.enter(read)
    commit()
    stale = signed.by_login(login.id)
    fresh = signed.by_login(login.id)
    assert stale is not None and fresh is not None
    first = _now()
    arrival.start(fresh, "theory", first)
    commit()
    events = db.session.scalar(select(func.count()).select_from(SittingEvent))
    with pytest.raises(DeliveryError) as refused:
        arrival.start(stale, "theory", first + timedelta(seconds=5))
    assert refused.value.code == "bad_state"
    db.session.rollback()
    db.session.expire_all()
    theory = sitting_of(reg, "theory")
    assert theory.state == "in_progress"
    assert aware(theory.started_at) == first
    assert db.session.scalar(select(func.count()).select_from(SittingEvent)) == events
