"""The invigilators' protocol (namespace ``/invigilation``) against a real gunicorn eventlet
server, on SQLite and PostgreSQL, with candidates on ``/exam`` at the same time: each action's
effect reaches the candidate's browser and the board; refusals change nothing and keep the
connection; two processes share the board through Redis."""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import socketio
from sqlalchemy import func, select

from examsvc.auth.roles import Role
from examsvc.auth.services import create_user
from examsvc.catalog.models import Organization
from examsvc.delivery.models import CandidateLogin
from examsvc.plans.models import ExamPlan, StaffAssignment
from examsvc.proctoring.models import ProctorAction
from tests.conftest import PASSWORD
from tests.integration.test_exam_scheduler import socketio_redis  # noqa: F401 (fixture)
from tests.integration.test_exam_socket import (
    Exam,
    ExamClient,
    Server,
    connect,
    prepare_exam,
    signed_in,
)

NS = "/invigilation"
REASON = {"category": "environment", "code": "network", "text": "交换机重启"}


def staff_session(server: Server, username: str) -> requests.Session:
    """Sign a staff user in over HTTP with the form's CSRF token, like the browser."""
    http = requests.Session()
    page = http.get(server.url + "/auth/login", timeout=10)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    assert token, page.text[:300]
    answer = http.post(
        server.url + "/auth/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token[1]},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302, answer.text[:300]
    return http


class Board:
    """A python-socketio client on ``/invigilation`` recording pushes."""

    def __init__(self, server: Server, http: requests.Session | None) -> None:
        self.sio = socketio.Client(reconnection=False, http_session=http)
        self.received: list[tuple[str, Any]] = []
        self.arrived = threading.Event()
        for name in ("seat", "progress", "anomaly", "action"):
            self.sio.on(name, self._recorder(name), namespace=NS)
        self.sio.connect(server.url, namespaces=[NS], transports=["websocket"], wait_timeout=10)

    def _recorder(self, name: str) -> Any:
        def record(data: Any) -> None:
            self.received.append((name, data))
            self.arrived.set()

        return record

    def call(self, event: str, payload: Any) -> Any:
        return self.sio.call(event, payload, NS, 10)

    def wait_for(self, name: str, timeout: float = 10, **fields: Any) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event, data in self.received:
                if event == name and all(data.get(k) == v for k, v in fields.items()):
                    return data
            self.arrived.wait(0.05)
            self.arrived.clear()
        raise AssertionError(f"no {name!r} with {fields} within {timeout} s; got {self.received}")

    def close(self) -> None:
        self.sio.disconnect()
        if self.sio.eio.http is not None:
            self.sio.eio.http.close()


class Room:
    """The exam with an invigilator for every room ("inv") and one with no room ("idle")."""

    def __init__(self, exam: Exam) -> None:
        self.exam = exam
        with exam.db() as session:
            plan = session.scalar(select(ExamPlan))
            assert plan is not None
            org = session.scalar(select(Organization).where(Organization.code == "miit-eec"))
            inv = create_user("inv", PASSWORD, "监考员 甲", {Role.INVIGILATOR}, org.id)
            create_user("idle", PASSWORD, "监考员 乙", {Role.INVIGILATOR}, org.id)
            for pr in plan.rooms:
                session.add(
                    StaffAssignment(plan_id=plan.id, user_id=inv.id, role="invigilator",
                                    room_id=pr.room_id)
                )  # fmt: skip
            self.plan_id = plan.id
            session.commit()

    def act(self, board: Board, room_id: int, action: str, targets: Any, **extra: Any) -> Any:
        payload = {"action": action, "plan_id": self.plan_id, "room_id": room_id}
        return board.call("act", payload | {"targets": targets, "reason": REASON} | extra)

    def audit_rows(self) -> int:
        with self.exam.db() as session:
            return session.scalar(select(func.count()).select_from(ProctorAction)) or 0


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def room(backend: str, sqlite_url: str) -> Iterator[Room]:
    exam = prepare_exam(backend, sqlite_url)
    yield Room(exam)
    exam.close()


@pytest.fixture(scope="module")
def server(room: Room, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = Server(room.exam.url, tmp_path_factory.mktemp("board") / "gunicorn.log").start()
    yield running
    running.stop()


@pytest.fixture
def opened() -> Iterator[list[Any]]:
    clients: list[Any] = []
    yield clients
    for client in clients:
        client.close()


def watching(server: Server, room: Room, room_id: int, opened: list[Any]) -> Board:
    board = Board(server, staff_session(server, "inv"))
    opened.append(board)
    ack = board.call("watch", {"plan_id": room.plan_id, "room_id": room_id})
    assert ack["ok"] and ack["access"] == "act", ack
    return board


def test_a_board_needs_a_staff_sign_in_and_its_own_room(
    server: Server, room: Room, opened: list[Any]
) -> None:
    with pytest.raises(socketio.exceptions.ConnectionError):
        Board(server, None)
    (cand,) = room.exam.take()
    assert cand.room_id is not None
    idle = Board(server, staff_session(server, "idle"))
    opened.append(idle)
    refused = idle.call("watch", {"plan_id": room.plan_id, "room_id": cand.room_id})
    assert refused["ok"] is False and refused["error"] == "forbidden"
    acted = room.act(idle, cand.room_id, "broadcast", "room", message="考试开始")
    assert acted["error"] == "forbidden" and room.audit_rows() == 0
    for bad in (None, [], {"plan_id": "1"}, {"plan_id": room.plan_id, "room_id": 10**9}):
        ack = idle.call("watch", bad)
        assert ack["ok"] is False and ack["message"], (bad, ack)
    board = watching(server, room, cand.room_id, opened)
    assert board.call("act", {"action": "pause"})["error"] == "refused"
    seats = board.call("watch", {"plan_id": room.plan_id, "room_id": cand.room_id})["board"]
    assert any(s["registration_id"] == cand.reg_id for s in seats["seats"])  # still healthy


def test_pause_resume_and_extend_reach_the_candidate_and_the_board(
    server: Server, room: Room, opened: list[Any]
) -> None:
    (cand,) = room.exam.take()
    assert cand.room_id is not None
    board = watching(server, room, cand.room_id, opened)
    client = connect(server, cand)
    opened.append(client)
    assert board.wait_for("seat", registration_id=cand.reg_id, presence="online")
    started = client.call("start", {"part": "theory"})
    deadline = next(p for p in started["parts"] if p["part"] == "theory")["deadline"]
    paused = room.act(board, cand.room_id, "pause", [cand.reg_id], part="theory")
    assert paused["applied"] == [cand.reg_id], paused
    assert client.wait_for("state", state="paused")["paused"] is True
    assert board.wait_for("action", action="pause")["reason"] == "环境 · 网络故障：交换机重启"
    refused = client.call("answer", {"part": "theory", "seq": 1, "position": cand.first("single"),
                                     "value": "A"})  # fmt: skip
    assert refused["error"] == "not_in_progress"
    board_deadline = time.monotonic() + 10
    while not any(e == "seat" and d["parts"][0]["paused"] for e, d in board.received):
        assert time.monotonic() < board_deadline, board.received
        board.arrived.wait(0.05)
    time.sleep(1.2)
    room.act(board, cand.room_id, "resume", [cand.reg_id], part="theory")
    resumed = later_state(
        client, lambda p: p["state"] == "in_progress" and p["deadline"] > deadline
    )
    assert resumed["deadline"] >= deadline + 1000  # the paused second is credited back
    room.act(board, cand.room_id, "extend", [cand.reg_id], part="theory", minutes=10)
    extended = later_state(client, lambda p: p["deadline"] >= resumed["deadline"] + 600_000)
    assert extended["deadline"] - resumed["deadline"] == 600_000


def later_state(client: ExamClient, wanted: Any, timeout: float = 10) -> Any:
    """The first ``state`` push that ``wanted`` accepts (earlier pushes are left alone)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [p for p in client.events("state") if wanted(p)]
        if found:
            return found[0]
        client.arrived.wait(0.05)
        client.arrived.clear()
    raise AssertionError(f"no such state push within {timeout} s: {client.events('state')}")


def test_answers_anomalies_and_notices_flow_both_ways(
    server: Server, room: Room, opened: list[Any]
) -> None:
    (cand,) = room.exam.take()
    assert cand.room_id is not None
    board = watching(server, room, cand.room_id, opened)
    client = connect(server, cand)
    opened.append(client)
    client.call("start", {"part": "theory"})
    change = {"part": "theory", "seq": 1, "position": cand.first("single"), "value": "A"}
    assert client.call("answer", change)["answered"] == 1
    assert board.wait_for("progress", registration_id=cand.reg_id) == {
        "registration_id": cand.reg_id,
        "part": "theory",
        "answered": 1,
    }
    over_http = client.sio.eio.http  # the same sign-in, through the HTTP fallback
    change = {"seq": 2, "position": cand.first("multiple"), "value": ["A", "B"]}
    sent = over_http.post(f"{server.url}/exam/api/theory/answers", json=change, timeout=10)
    assert sent.json()["answered"] == 2
    assert board.wait_for("progress", registration_id=cand.reg_id, answered=2)
    assert client.call("anomaly", {"kind": "paste"})["ok"]
    assert board.wait_for("anomaly", registration_id=cand.reg_id)["text"] == "尝试粘贴"
    room.act(board, cand.room_id, "broadcast", [cand.reg_id], message="请调整坐姿")
    assert client.wait_for("notice")["text"] == "请调整坐姿"
    client.close()
    assert board.wait_for("seat", registration_id=cand.reg_id, presence="offline")


def test_an_approved_pc_switch_cuts_the_old_pc_off(
    server: Server, room: Room, opened: list[Any]
) -> None:
    (cand,) = room.exam.take()
    assert cand.room_id is not None
    board = watching(server, room, cand.room_id, opened)
    old = connect(server, cand)
    opened.append(old)
    new_pc = signed_in(server, cand)
    second = board.wait_for("anomaly", registration_id=cand.reg_id, kind="second_sign_in")
    assert second["text"] == "在另一台电脑登录"
    pending = board.wait_for("seat", registration_id=cand.reg_id)
    deadline = time.monotonic() + 10
    while pending["pending_switch"] is None and time.monotonic() < deadline:
        board.arrived.wait(0.1)
        pending = [d for e, d in board.received if e == "seat"][-1]
    assert pending["pending_switch"] is not None
    reason = {"category": "technical", "code": "pc_failure", "text": "键盘失灵"}
    ack = room.act(board, cand.room_id, "approve_switch", [cand.reg_id], reason=reason)
    assert ack["applied"] == [cand.reg_id]
    assert old.wait_for("signed_out")["reason"] == "replaced"
    assert old.call("hello", {})["error"] == "unauthenticated"
    moved = ExamClient(server, new_pc)
    opened.append(moved)
    assert moved.call("hello", {})["ok"]
    with room.exam.db() as session:
        states = session.scalars(
            select(CandidateLogin.state)
            .where(CandidateLogin.registration_id == cand.reg_id)
            .order_by(CandidateLogin.id)
        ).all()
    assert states == ["replaced", "live"]


def test_two_processes_share_the_board_through_redis(
    socketio_redis: str,  # noqa: F811
    sqlite_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The board is on server A, the candidate on server B: each hears the other."""
    exam = prepare_exam("postgresql", sqlite_url)
    shared = Room(exam)
    logs = tmp_path_factory.mktemp("boards")
    # a channel of this run's own: other runs on this Redis server must not hear these pushes
    queue = {"SOCKETIO_MESSAGE_QUEUE": socketio_redis, "SOCKETIO_CHANNEL": f"test-{os.getpid()}"}
    a, b = Server(exam.url, logs / "a.log", queue), Server(exam.url, logs / "b.log", queue)
    opened: list[Any] = []
    try:
        a.spawn(), b.spawn()
        a.ready(), b.ready()
        (cand,) = exam.take()
        assert cand.room_id is not None
        board = watching(a, shared, cand.room_id, opened)
        client = connect(b, cand)
        opened.append(client)
        client.call("start", {"part": "theory"})
        change = {"part": "theory", "seq": 1, "position": cand.first("single"), "value": "B"}
        assert client.call("answer", change)["ok"]
        assert board.wait_for("progress", registration_id=cand.reg_id)["answered"] == 1
        shared.act(board, cand.room_id, "pause", "room", part="theory")
        assert client.wait_for("state", state="paused")["part"] == "theory"
    finally:
        for client in opened:
            client.close()
        a.stop(), b.stop()
        exam.close()
