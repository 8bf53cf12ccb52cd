"""Deadlines without a browser: the scheduler submits overdue parts from the database alone, in
exactly one process (the lease holder), and its pushes reach a candidate connected to another
server process through the Redis message queue."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
import redis
from flask import Flask
from sqlalchemy import select

from examsvc.auth.models import User
from examsvc.auth.roles import Role
from examsvc.catalog.models import Organization
from examsvc.config import ROOT
from examsvc.delivery import scheduler
from examsvc.delivery.models import Sitting
from examsvc.delivery.services import commit, sitting_of, start
from examsvc.extensions import db
from examsvc.proctoring.seat_feed import SeatFeed
from examsvc.registration.models import Registration
from tests.conftest import open_demo_plan
from tests.e2e.conftest import variant
from tests.integration.test_exam_socket import ExamClient, Server, connect, prepare_exam

BANKS = ROOT / "question_banks"
REDIS_URL = os.environ.get("EXAMSVC_TEST_SOCKETIO_REDIS_URL", "redis://127.0.0.1:6379/14")
OVER = timedelta(minutes=90, seconds=6)  # the theory part's 90 minutes and the 5 s grace


@pytest.fixture
def regs(catalog: dict[str, Organization], make_user: Callable[..., User]) -> list[Registration]:
    """Candidates of the published demo plan whose sessions began yesterday."""
    make_user(Role.ORG_ADMIN, username="admin")
    plan = open_demo_plan()
    return list(plan.registrations)


@pytest.fixture
def apps(app: Flask) -> Iterator[list[Flask]]:
    """Apps whose scheduler lease is given up at the end, so no test holds it for the next."""
    made = [app]
    yield made
    for each in made:
        scheduler.release(each)


def _state(sitting_id: int) -> str:
    db.session.expire_all()
    sitting = db.session.get(Sitting, sitting_id)
    assert sitting is not None
    return sitting.state


def test_run_once_submits_an_overdue_part_with_no_client_connected(
    app: Flask, apps: list[Flask], regs: list[Registration]
) -> None:
    now = datetime.now(UTC)
    late, on_time = (sitting_of(reg, "theory") for reg in regs[:2])
    start(late, now - OVER)
    start(on_time, now - timedelta(minutes=30))
    commit()
    late_id, on_time_id = late.id, on_time.id
    assert scheduler.run_once(app, now) == [late_id]
    assert _state(late_id) == "auto_submitted" and _state(on_time_id) == "in_progress"
    event = db.session.get(Sitting, late_id).events[-1]
    assert (event.kind, event.actor_kind, event.to_state) == (
        "auto_submit",
        "system",
        "auto_submitted",
    )
    assert scheduler.run_once(app, now) == []  # nothing twice
    # within the grace an answer still counts: no submission yet
    assert scheduler.run_once(app, now + timedelta(minutes=59)) == []
    assert scheduler.run_once(app, now + timedelta(minutes=61)) == [on_time_id]


def test_only_the_lease_holder_submits(
    app: Flask, apps: list[Flask], regs: list[Registration], backend: str
) -> None:
    """Two app instances (as two processes would be) on one database: one leader at a time."""
    sitting = sitting_of(regs[0], "theory")
    start(sitting, datetime.now(UTC) - OVER)
    commit()
    sitting_id = sitting.id
    other = variant(app)
    apps.append(other)
    with other.app_context():
        assert scheduler.lease_of(other).held()  # the other process took the lease first
    assert scheduler.run_once(app, datetime.now(UTC)) == []
    assert _state(sitting_id) == "in_progress"
    scheduler.release(other)  # the leader goes away (on PostgreSQL: its connection ends)
    assert scheduler.run_once(app, datetime.now(UTC)) == [sitting_id]
    assert _state(sitting_id) == "auto_submitted"
    with other.app_context():
        assert not scheduler.lease_of(other).held()  # now this one leads
    with other.app_context():
        db.engine.dispose()


# ---- two server processes sharing Redis --------------------------------------------------------


@pytest.fixture
def socketio_redis() -> str:
    try:
        client = redis.Redis.from_url(REDIS_URL)
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        if os.environ.get("EXAMSVC_REQUIRE_REDIS") == "1":
            pytest.fail(f"Redis is required here but unreachable: {exc}")
        pytest.skip(f"Redis unreachable at {REDIS_URL}: {exc}")
    client.flushdb()  # database 14 belongs to these tests
    client.close()
    return REDIS_URL


def test_two_processes_share_pushes_through_redis(
    socketio_redis: str, sqlite_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A candidate on server A hears what server B did: B's state push, B's scheduler."""
    exam = prepare_exam("postgresql", sqlite_url)
    logs = tmp_path_factory.mktemp("two")
    # a channel of this run's own: other runs on this Redis server must not hear these pushes
    queue = {"SOCKETIO_MESSAGE_QUEUE": socketio_redis, "SOCKETIO_CHANNEL": f"test-{os.getpid()}"}
    a = Server(exam.url, logs / "a.log", queue | {"DELIVERY_SCHEDULER": "0"})
    b = Server(
        exam.url,
        logs / "b.log",
        queue | {"DELIVERY_SCHEDULER": "1", "DELIVERY_SCHEDULER_INTERVAL": "0.2"},
    )
    clients: list[ExamClient] = []
    try:
        a.spawn(), b.spawn()
        a.ready(), b.ready()
        (cand,) = exam.take()
        on_a = connect(a, cand)
        clients.append(on_a)
        on_b = ExamClient(b, on_a.sio.eio.http)  # the same sign-in, a tab on server B
        clients.append(on_b)
        assert on_b.call("start", {"part": "theory"})["ok"]  # B emits state …
        assert on_a.wait_for("state", state="in_progress")["part"] == "theory"  # … A hears it
        change = {"part": "theory", "seq": 1, "position": cand.first("single"), "value": "A"}
        assert on_a.call("answer", change)["outcome"] == "saved"  # the ack comes from A
        with exam.db() as session:  # time runs out (the clock is the database's)
            sitting = session.scalar(
                select(Sitting).where(
                    Sitting.registration_id == cand.reg_id, Sitting.part_kind == "theory"
                )
            )
            sitting.started_at -= OVER
            session.commit()
        assert on_a.wait_for("time_up") == {"part": "theory"}  # B's scheduler, through Redis
        assert on_a.wait_for("state", state="auto_submitted")["part"] == "theory"
        assert exam.states(cand.reg_id)["theory"] == "auto_submitted"
    finally:
        for client in clients:
            client.close()
        a.stop(), b.stop()
        exam.close()


def test_an_auto_submission_reaches_the_board(
    app: Flask, apps: list[Flask], regs: list[Registration], monkeypatch: pytest.MonkeyPatch
) -> None:
    marked: list[tuple[int, int, int]] = []
    monkeypatch.setattr(SeatFeed, "mark", lambda _, *seat: marked.append(seat))
    now = datetime.now(UTC)
    late = sitting_of(regs[0], "theory")
    start(late, now - OVER)
    commit()
    late_id, reg = late.id, regs[0]
    assert scheduler.run_once(app, now) == [late_id]
    assert marked == [(reg.id, reg.plan_id, reg.room_id)]
