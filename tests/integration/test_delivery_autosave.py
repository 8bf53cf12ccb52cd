"""The answer path of the socket (delivery/autosave.py) against the services' own save_answer:
the same acknowledgements, refusals and stored answers, change by change."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from examsvc.auth.models import User
from examsvc.auth.roles import Role
from examsvc.catalog.models import Organization
from examsvc.delivery import autosave
from examsvc.delivery.models import Answer, Sitting
from examsvc.delivery.services import (
    DeliveryError,
    commit,
    paper_items,
    rollback,
    save_answer,
    sign_in,
    sitting_of,
    snapshot,
    start,
)
from examsvc.extensions import db
from examsvc.registration.models import Registration
from tests.conftest import open_demo_plan

Outcome = dict[str, Any]


@pytest.fixture
def pair(
    catalog: dict[str, Organization], make_user: Callable[..., User]
) -> tuple[Registration, Registration]:
    """Two candidates of the demo plan on the same paper, both signed in, theory started."""
    make_user(Role.ORG_ADMIN, username="admin")
    plan = open_demo_plan()
    fast, slow = plan.registrations[:2]
    slow.paper_id = fast.paper_id
    now = datetime.now(UTC)
    for reg in (fast, slow):
        sign_in(reg.ticket_number or "", reg.candidate.id_number, "10.0.0.5", "Chromium")
        start(sitting_of(reg, "theory"), now)
    commit()
    return fast, slow


def _login(reg: Registration) -> int:
    from examsvc.delivery.models import CandidateLogin

    login = db.session.scalar(
        select(CandidateLogin).where(CandidateLogin.registration_id == reg.id)
    )
    assert login is not None
    return login.id


def _position(reg: Registration, item_type: str) -> int:
    return next(i.view.position for i in paper_items(reg) if i.view.item_type == item_type)


def _outcome(run: Callable[[], dict[str, Any]]) -> Outcome:
    try:
        ack = run()
        commit()
        return ack
    except DeliveryError as exc:
        rollback()
        return {"error": exc.code, "message": exc.message}


def test_the_socket_path_answers_as_the_services_do(
    pair: tuple[Registration, Registration], monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, slow = pair
    single, multiple = _position(fast, "single"), _position(fast, "multiple")
    truefalse, practical = _position(fast, "truefalse"), _position(fast, "practical")
    changes: list[object] = [
        {"seq": 1, "position": single, "value": "B"},
        {"seq": 1, "position": single, "value": "B"},  # duplicate
        {"seq": 2, "position": multiple, "value": ["C", "A"], "flagged": True},
        {"seq": 1, "position": multiple, "value": ["B"]},  # stale
        {"seq": 2, "position": multiple, "value": ["D"]},  # seq_conflict
        {"seq": 3, "position": single, "value": None},  # cleared: answered goes down
        {"seq": 4, "position": truefalse, "value": False},
        {"seq": 5, "position": single, "value": "Z"},  # unknown_option
        {"seq": 5, "position": 999, "value": "A"},  # unknown_item
        {"seq": 5, "position": practical, "value": {"text": "x"}},  # wrong_part
        {"seq": 0, "position": single, "value": "A"},  # malformed seq
        {"seq": 5, "position": single, "value": "A", "extra": 1},  # unknown field
        {"seq": 6, "position": single, "value": "D"},
    ]
    long_ways = []
    real = autosave.save_answer

    def counted(*args: Any) -> dict[str, Any]:
        long_ways.append(args)
        return real(*args)

    monkeypatch.setattr(autosave, "save_answer", counted)
    now = datetime.now(UTC)
    login = _login(fast)
    for change in changes:
        by_socket = _outcome(lambda c=change: autosave.save_change(login, "theory", c, now)[0])
        by_services = _outcome(lambda c=change: save_answer(slow, "theory", c, now))
        assert by_socket == by_services, change
    assert long_ways == []  # every one of these was judged by the one read
    shown = [snapshot(reg, now)["parts"][0] for reg in (fast, slow)]
    assert shown[0]["answers"] == shown[1]["answers"] and shown[0]["answers"]
    assert shown[0]["last_seq"] == shown[1]["last_seq"] == 6
    counts = [sitting_of(reg, "theory").answered for reg in (fast, slow)]
    assert counts == [3, 3]


def test_the_progress_push_names_the_candidates_seat(
    pair: tuple[Registration, Registration],
) -> None:
    fast, _ = pair
    change = {"seq": 1, "position": _position(fast, "single"), "value": "A"}
    ack, seat = autosave.save_change(_login(fast), "theory", change, datetime.now(UTC))
    assert ack["outcome"] == "saved" and ack["answered"] == 1
    assert seat == autosave.Seat(fast.id, fast.plan_id, fast.room_id)
    commit()
    _, again = autosave.save_change(_login(fast), "theory", change, datetime.now(UTC))
    assert again is None  # a duplicate changes nothing on the board


@pytest.mark.parametrize("case", ["time_up", "paused", "signed_out", "no_deadline"])
def test_what_the_one_read_cannot_judge_goes_the_long_way(
    pair: tuple[Registration, Registration], case: str
) -> None:
    fast, _ = pair
    login = _login(fast)
    sitting = sitting_of(fast, "theory")
    now = datetime.now(UTC)
    change = {"seq": 1, "position": _position(fast, "single"), "value": "A"}
    expected = {"time_up": "time_up", "paused": "not_in_progress", "signed_out": "unauthenticated"}
    if case == "time_up":
        now += timedelta(minutes=sitting.duration_minutes, seconds=6)
    elif case == "paused":
        sitting.state = "paused"
    elif case == "signed_out":
        from examsvc.delivery.models import CandidateLogin

        db.session.get(CandidateLogin, login).state = "replaced"
    else:  # a sitting started before deadlines were stored: the clock decides
        db.session.execute(Sitting.__table__.update().values(deadline_at=None))
    commit()
    outcome = _outcome(lambda: autosave.save_change(login, "theory", change, now)[0])
    if case == "no_deadline":
        assert outcome["outcome"] == "saved"
        assert db.session.scalars(select(Answer.value)).all() == ["A"]
    else:
        assert outcome["error"] == expected[case]
        assert db.session.scalars(select(Answer)).all() == []


def test_the_database_itself_never_lets_an_older_change_overwrite_a_newer_one(
    pair: tuple[Registration, Registration],
) -> None:
    """Should two writers ever race (two processes on SQLite), the upsert still keeps the
    highest seq: its own WHERE, not only the read before it, decides."""
    fast, _ = pair
    sitting_id = sitting_of(fast, "theory").id
    position = _position(fast, "single")
    now = datetime.now(UTC)
    with db.engine.begin() as conn:
        for seq, value in ((5, "C"), (4, "A")):
            values = {"sitting_id": sitting_id, "position": position, "value": value}
            conn.execute(autosave.UPSERT, values | {"flagged": False, "seq": seq, "saved_at": now})
    stored = db.session.execute(select(Answer.seq, Answer.value)).all()
    assert [tuple(row) for row in stored] == [(5, "C")]
