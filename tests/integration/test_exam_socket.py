"""The exam protocol over Socket.IO against a real server process (gunicorn, eventlet worker),
on SQLite and on PostgreSQL: python-socketio clients sign in over HTTP like a browser, connect
to ``/exam`` with the session cookie, and check every acknowledgement against the database.

The helpers here (data, server processes, clients) are shared with test_exam_crash.py and
test_exam_scheduler.py.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio
from flask import Flask
from flask_migrate import upgrade
from requests.adapters import HTTPAdapter
from sqlalchemy import select

from examsvc import create_app
from examsvc.auth.roles import Role
from examsvc.auth.services import create_user
from examsvc.catalog.services import ensure_organization
from examsvc.config import ROOT
from examsvc.delivery.models import Answer, Sitting, SittingEvent
from examsvc.delivery.services import paper_items
from examsvc.demo import OWNERS, load_catalog
from examsvc.extensions import db
from tests.conftest import (
    PASSWORD,
    _empty_tables,
    _migrated,
    _reset_postgres,
    database_url,
    open_demo_plan,
)

BANKS = ROOT / "question_banks"
GUNICORN = Path(os.environ.get("VIRTUAL_ENV", ROOT / ".venv")) / "bin" / "gunicorn"
SECRET = "socket-tests"
NS = "/exam"


# ---- data ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    reg_id: int
    ticket: str
    id_number: str
    room_id: int | None
    positions: dict[str, list[int]]  # item type → positions in this candidate's paper

    def first(self, item_type: str) -> int:
        return self.positions[item_type][0]


@dataclass
class Exam:
    """A migrated database with the published demo plan (sessions began yesterday)."""

    app: Flask
    url: str
    candidates: list[Candidate]
    handed_out: int = 0

    def take(self, n: int = 1) -> list[Candidate]:
        """Candidates no other test of the module has used."""
        out = self.candidates[self.handed_out : self.handed_out + n]
        assert len(out) == n, "the demo plan has 30 candidates: fewer tests per module, please"
        self.handed_out += n
        return out

    @contextmanager
    def db(self) -> Iterator[Any]:
        """A fresh session (it sees what the server committed), removed afterwards."""
        with self.app.app_context():
            try:
                yield db.session
            finally:
                db.session.remove()

    def answers(self, reg_id: int) -> dict[int, tuple[int, Any, bool]]:
        """position → (seq, stored value, flagged) over every part of the registration."""
        with self.db() as session:
            rows = session.execute(
                select(Answer).join(Sitting).where(Sitting.registration_id == reg_id)
            ).scalars()
            return {a.position: (a.seq, a.value, a.flagged) for a in rows}

    def states(self, reg_id: int) -> dict[str, str]:
        with self.db() as session:
            rows = session.scalars(select(Sitting).where(Sitting.registration_id == reg_id))
            return {s.part_kind: s.state for s in rows}

    def events(self, reg_id: int) -> list[tuple[str, str]]:
        with self.db() as session:
            rows = session.scalars(
                select(SittingEvent)
                .join(Sitting)
                .where(Sitting.registration_id == reg_id)
                .order_by(SittingEvent.id)
            )
            return [(e.kind, e.actor_kind) for e in rows]

    def close(self) -> None:
        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()


def prepare_exam(backend: str, sqlite_url: str) -> Exam:
    """Migrate and empty the test database, then load the published demo plan and move its
    sessions to yesterday, committed, so that a server process started afterwards sees it."""
    url = database_url(backend, sqlite_url)
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": SECRET,
            "SQLALCHEMY_DATABASE_URI": url,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        if url not in _migrated:
            if backend == "postgresql":
                _reset_postgres()
            upgrade()
            _migrated.add(url)
        _empty_tables()
        owner = ensure_organization("miit-eec", "工业和信息化部教育与考试中心")
        ensure_organization("cflp", "中国物流与采购联合会")
        ensure_organization("college", "示范职业技术学院", "institution")
        load_catalog(BANKS, OWNERS | {"*": "miit-eec"})
        create_user("admin", PASSWORD, "管理员", {Role.ORG_ADMIN}, owner.id)
        plan = open_demo_plan()
        candidates = []
        for reg in plan.registrations:
            positions: dict[str, list[int]] = {}
            for shown in paper_items(reg):
                positions.setdefault(shown.view.item_type, []).append(shown.view.position)
            candidates.append(
                Candidate(
                    reg.id,
                    reg.ticket_number or "",
                    reg.candidate.id_number,
                    reg.room_id,
                    positions,
                )
            )
        db.session.remove()
    return Exam(app, url, candidates)


# ---- server processes -----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """``gunicorn -k eventlet -w 1 wsgi:app`` in its own process group."""

    database_url: str
    log: Path
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20) -> Server:
        return self.spawn().ready(timeout)

    def spawn(self) -> Server:
        self.port = self.port or free_port()
        env = os.environ | {
            "DATABASE_URL": self.database_url,
            "SECRET_KEY": SECRET,
            "RATELIMIT_ENABLED": "0",
            "DELIVERY_SCHEDULER": "0",
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("SOCKETIO_MESSAGE_QUEUE", None)
        env |= self.env
        command = [str(GUNICORN), "-k", "eventlet", "-w", "1", "--bind", f"127.0.0.1:{self.port}"]
        command += ["--graceful-timeout", "2", "--no-control-socket", "wsgi:app"]
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        return self

    def ready(self, timeout: float = 20) -> Server:
        """Wait until the worker answers HTTP; a server that does not is killed."""
        try:
            return self._wait(timeout)
        except BaseException:
            self.stop()
            raise

    def _wait(self, timeout: float) -> Server:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"the server exited ({self.proc.returncode}):\n{self.tail()}")
            try:
                if requests.get(self.url + "/exam/login", timeout=5).status_code == 200:
                    return self
            except requests.RequestException:  # not listening yet, or the worker still loading
                pass
            time.sleep(0.1)
        pytest.fail(f"the server did not answer within {timeout} s:\n{self.tail()}")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the whole group (master and worker); wait for the master."""
        if self.proc is None:
            return
        with suppress(ProcessLookupError):  # also a worker whose master is gone already
            os.killpg(self.proc.pid, sig)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        """End the test server at once: every acknowledged change is committed already."""
        self.kill(signal.SIGKILL)

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


# ---- clients ------------------------------------------------------------------------------------


class FromAddress(HTTPAdapter):
    """Connect from another loopback address, as a candidate's PC with another IP would."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs, source_address=(self.address, 0))


def signed_in(
    server: Server, cand: Candidate, status: int = 302, from_address: str = ""
) -> requests.Session:
    """Sign in over HTTP like the browser (with the page's CSRF token); returns the session,
    its CSRF token in ``headers["X-CSRFToken"]`` for the HTTP fallback."""
    http = requests.Session()
    if from_address:
        http.mount("http://", FromAddress(from_address))
    page = http.get(server.url + "/exam/login", timeout=10)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text[:300]
    answer = http.post(
        server.url + "/exam/login",
        data={"ticket_number": cand.ticket, "id_number": cand.id_number, "csrf_token": match[1]},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == status, answer.text[:300]
    http.headers["X-CSRFToken"] = match[1]
    return http


class ExamClient:
    """A python-socketio client on ``/exam``, websocket transport, recording server events."""

    def __init__(self, server: Server, http: requests.Session | None) -> None:
        self.sio = socketio.Client(reconnection=False, http_session=http)
        self.received: list[tuple[str, Any]] = []
        self.refused: list[Any] = []
        self.arrived = threading.Event()
        self.lost = threading.Event()  # the connection ended (a killed server)
        self.sio.on("disconnect", lambda *_: self.lost.set(), namespace=NS)
        for name in ("state", "time_up", "signed_out", "notice"):
            self.sio.on(name, self._recorder(name), namespace=NS)
        self.sio.on("connect_error", self.refused.append, namespace=NS)
        self.sio.connect(server.url, namespaces=[NS], transports=["websocket"], wait_timeout=10)

    def _recorder(self, name: str) -> Any:
        def record(data: Any) -> None:
            self.received.append((name, data))
            self.arrived.set()

        return record

    def call(self, event: str, *payload: Any, timeout: float = 10) -> Any:
        return self.sio.call(event, payload[0] if len(payload) == 1 else payload, NS, timeout)

    def events(self, name: str) -> list[Any]:
        return [data for event, data in self.received if event == name]

    def wait_for(self, name: str, timeout: float = 10, **fields: Any) -> Any:
        """The first ``name`` event whose payload has ``fields``, waiting for it if need be."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for data in self.events(name):
                if all(data.get(k) == v for k, v in fields.items()):
                    return data
            self.arrived.wait(0.05)
            self.arrived.clear()
        raise AssertionError(f"no {name!r} event within {timeout} s; got {self.received}")

    def close(self) -> None:
        self.sio.disconnect()
        # after a lost connection (a killed server) engineio leaves the websocket open
        if getattr(self.sio.eio, "ws", None) is not None:
            with suppress(Exception):
                self.sio.eio.ws.close()
        if self.sio.eio.http is not None:
            self.sio.eio.http.close()  # its pooled sockets; the session stays usable


def connect(server: Server, cand: Candidate) -> ExamClient:
    return ExamClient(server, signed_in(server, cand))


# ---- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    """Module-wide here: one server per backend serves every test of the module."""
    return str(request.param)


@pytest.fixture(scope="module")
def exam(backend: str, sqlite_url: str) -> Iterator[Exam]:
    prepared = prepare_exam(backend, sqlite_url)
    yield prepared
    prepared.close()


@pytest.fixture(scope="module")
def server(exam: Exam, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = Server(exam.url, tmp_path_factory.mktemp("server") / "gunicorn.log").start()
    yield running
    running.stop()


@pytest.fixture
def clients() -> Iterator[list[ExamClient]]:
    """Clients a test opened, disconnected at its end."""
    opened: list[ExamClient] = []
    yield opened
    for client in opened:
        client.close()


def started(server: Server, exam: Exam, clients: list[ExamClient]) -> tuple[Candidate, ExamClient]:
    (cand,) = exam.take()
    client = connect(server, cand)
    clients.append(client)
    ack = client.call("start", {"part": "theory"})
    assert ack["ok"], ack
    return cand, client


# ---- tests --------------------------------------------------------------------------------------


def test_a_connection_without_a_live_sign_in_is_refused_with_the_code(server: Server) -> None:
    for cookie in (None, "forged"):
        http = requests.Session()
        if cookie:
            http.cookies.set("session", cookie)
        client = socketio.Client(reconnection=False, http_session=http)
        refused: list[Any] = []
        client.on("connect_error", refused.append, namespace=NS)
        with pytest.raises(socketio.exceptions.ConnectionError):
            client.connect(server.url, namespaces=[NS], transports=["websocket"], wait_timeout=10)
        (error,) = refused
        assert error["message"] == "unauthenticated" and error["data"]["error"] == "unauthenticated"
        client.disconnect()


def test_a_second_pc_waits_for_the_invigilator(server: Server, exam: Exam) -> None:
    (cand,) = exam.take()
    first = signed_in(server, cand)
    second = signed_in(server, cand)  # pending: 请等待监考员确认
    waiting = second.get(server.url + "/exam/pending", allow_redirects=False, timeout=10)
    assert waiting.status_code == 202 and "监考员" in waiting.text
    for http, outcome in ((second, "pending"), (first, None)):
        client = socketio.Client(reconnection=False, http_session=http)
        refused: list[Any] = []
        client.on("connect_error", refused.append, namespace=NS)
        if outcome:
            with pytest.raises(socketio.exceptions.ConnectionError):
                client.connect(server.url, namespaces=[NS], transports=["websocket"])
            assert refused[0]["data"]["error"] == outcome
        else:
            client.connect(server.url, namespaces=[NS], transports=["websocket"])
            assert client.call("hello", {}, NS, 10)["ok"]
        client.disconnect()
        http.close()
    assert ("second_sign_in", "candidate") in exam.events(cand.reg_id)


def test_hello_returns_the_state_and_ping_the_server_time(
    server: Server, exam: Exam, clients: list[ExamClient]
) -> None:
    (cand,) = exam.take()
    client = connect(server, cand)
    clients.append(client)
    hello = client.call("hello", {})
    assert hello["ok"] and [p["part"] for p in hello["parts"]] == ["theory", "practical"]
    assert all(p["state"] in ("registered", "waiting") for p in hello["parts"])
    assert abs(hello["server_time"] - time.time() * 1000) < 5000
    pong = client.call("ping", {"client_sent": 123})
    assert pong["ok"] and pong["client_sent"] == 123 and pong["server_time"] >= hello["server_time"]
    assert client.call("ping", {})["error"] == "malformed"
    assert client.call("ping", {"client_sent": float("nan")})["error"] == "malformed"


def test_start_acks_the_state_and_pushes_it(
    server: Server, exam: Exam, clients: list[ExamClient]
) -> None:
    cand, client = started(server, exam, clients)
    pushed = client.wait_for("state", part="theory")
    assert pushed["state"] == "in_progress" and pushed["deadline"]
    assert exam.states(cand.reg_id)["theory"] == "in_progress"
    again = client.call("start", {"part": "theory"})
    assert not again["ok"] and again["error"] == "bad_state"


def test_answers_ack_saved_duplicate_stale_and_are_stored(
    server: Server, exam: Exam, clients: list[ExamClient]
) -> None:
    cand, client = started(server, exam, clients)
    single = cand.first("single")
    change = {"part": "theory", "seq": 2, "position": single, "value": "B", "flagged": True}
    outcomes = [
        client.call("answer", change)["outcome"],
        client.call("answer", change)["outcome"],
        client.call("answer", change | {"seq": 1, "value": "A"})["outcome"],
    ]
    assert outcomes == ["saved", "duplicate", "stale"]
    conflict = client.call("answer", change | {"value": "C"})
    assert conflict["ok"] is False and conflict["error"] == "seq_conflict" and conflict["message"]
    seq, _value, flagged = exam.answers(cand.reg_id)[single]
    assert (seq, flagged) == (2, True)
    (theory, _) = client.call("hello", {})["parts"]
    assert theory["last_seq"] == 2 and theory["answers"][0]["value"] == "B"


def test_bad_payloads_are_refused_store_nothing_and_the_connection_keeps_working(
    server: Server, exam: Exam, clients: list[ExamClient]
) -> None:
    cand, client = started(server, exam, clients)
    single, practical = cand.first("single"), cand.first("practical")
    base = {"part": "theory", "seq": 1, "position": single, "value": "A"}
    bad: list[tuple[Any, str]] = [
        ("not an object", "malformed"),
        ([1, 2, 3], "malformed"),
        (base | {"seq": "one"}, "malformed"),
        (base | {"extra": 1}, "malformed"),
        ({"seq": 1, "position": single, "value": "A"}, "malformed"),  # no part
        (base | {"part": ["theory"]}, "malformed"),
        (base | {"part": "music"}, "unknown_part"),
        (base | {"position": 9999}, "unknown_item"),
        (base | {"value": "Z"}, "unknown_option"),
        (base | {"value": ["A"]}, "bad_value"),
        (base | {"position": practical, "value": {"text": "x"}}, "wrong_part"),
        (base | {"part": "practical", "position": practical}, "not_in_progress"),
    ]
    for payload, code in bad:
        ack = client.call("answer", payload)
        assert (ack["ok"], ack["error"]) == (False, code), (payload, ack)
        assert ack["message"]
    assert client.call("answer")["error"] == "malformed"  # no argument at all
    assert client.call("answer", "a", "b")["error"] == "malformed"  # two arguments
    for event in ("hello", "start", "submit", "anomaly"):
        assert client.call(event, 42)["error"] == "malformed"
    assert exam.answers(cand.reg_id) == {}
    assert client.call("answer", base)["outcome"] == "saved"  # the same connection still works
    assert exam.answers(cand.reg_id)[single][0] == 1


def test_an_oversized_practical_answer_is_refused(
    server: Server, exam: Exam, clients: list[ExamClient]
) -> None:
    cand, client = started(server, exam, clients)
    assert client.call("submit", {"part": "theory"}) == {"ok": True, "state": "submitted"}
    assert client.call("start", {"part": "practical"})["ok"]
    practical = cand.first("practical")
    change = {"part": "practical", "seq": 1, "position": practical}
    big = client.call("answer", change | {"value": {"text": "x" * 200_001}})
    assert big["error"] == "too_large"
    # JSON-escaped by this client (\uXXXX), 200,001 Chinese characters are a 1.2 MB message:
    # still an answer, not a dropped connection
    bigger = client.call("answer", change | {"value": {"text": "汉" * 200_001}})
    assert bigger["error"] == "too_large"
    assert exam.answers(cand.reg_id) == {}
    ok = client.call("answer", change | {"value": {"text": "x" * 200_000}})
    assert ok["outcome"] == "saved"
    assert len(exam.answers(cand.reg_id)[practical][1]["text"]) == 200_000


def test_reordered_and_duplicated_changes_end_with_the_highest_seq(
    server: Server, exam: Exam, clients: list[ExamClient]
) -> None:
    cand, client = started(server, exam, clients)
    singles = cand.positions["single"][:3]
    labels = "ABCD"
    sent: list[dict[str, Any]] = []
    seq = 0
    for round_ in range(4):
        for position in singles:
            seq += 1
            sent.append(
                {"part": "theory", "seq": seq, "position": position, "value": labels[round_]}
            )
    # the network delivers them out of order, some twice
    shuffled = sent[::-1] + sent[::3] + sent[1::2]
    outcomes = [client.call("answer", change)["outcome"] for change in shuffled]
    assert set(outcomes) <= {"saved", "duplicate", "stale"} and "stale" in outcomes
    stored = exam.answers(cand.reg_id)
    for position in singles:
        last = max((c for c in sent if c["position"] == position), key=lambda c: c["seq"])
        assert stored[position][0] == last["seq"]
    (theory, _) = client.call("hello", {})["parts"]
    assert {a["position"]: a["value"] for a in theory["answers"]} == dict.fromkeys(singles, "D")
    assert theory["last_seq"] == seq


def test_reconnect_shows_every_acknowledged_answer_then_submit_locks(
    server: Server, exam: Exam, clients: list[ExamClient]
) -> None:
    cand, client = started(server, exam, clients)
    acked = {}
    values: dict[str, Any] = {"single": "A", "multiple": ["A", "C"], "truefalse": False}
    seq = 0
    for item_type, value in values.items():
        for position in cand.positions[item_type][:3]:
            seq += 1
            change = {"part": "theory", "seq": seq, "position": position, "value": value}
            assert client.call("answer", change)["outcome"] == "saved"
            acked[position] = value
    http = client.sio.eio.http
    client.close()
    again = ExamClient(server, http)  # the same sign-in, a new connection
    clients.append(again)
    (theory, _) = again.call("hello", {})["parts"]
    assert {a["position"]: a["value"] for a in theory["answers"]} == acked
    assert theory["last_seq"] == seq and theory["state"] == "in_progress"
    assert again.call("submit", {"part": "theory"}) == {"ok": True, "state": "submitted"}
    assert again.wait_for("state", state="submitted")["part"] == "theory"
    late = again.call("answer", {"part": "theory", "seq": seq + 1, "position": 1, "value": "A"})
    assert late["error"] == "not_in_progress"
    assert again.call("submit", {"part": "theory"})["error"] == "bad_state"
    assert exam.states(cand.reg_id)["theory"] == "submitted"
    assert len(exam.answers(cand.reg_id)) == len(acked)


def test_anomalies_are_stored_and_bad_kinds_refused(
    server: Server, exam: Exam, clients: list[ExamClient]
) -> None:
    cand, client = started(server, exam, clients)
    ack = client.call(
        "anomaly", {"kind": "focus_lost", "at": 1_795_400_000_000, "detail": "alt-tab"}
    )
    assert ack == {"ok": True}
    assert client.call("anomaly", {"kind": "paste"}) == {"ok": True}
    for payload in (
        {"kind": "ip_change"},  # the server observes this one itself
        {"kind": "teleport"},
        {"kind": "copy", "at": "yesterday"},
        {"kind": "copy", "at": float("inf")},
        {"kind": "copy", "detail": "x" * 501},
        {"kind": "copy", "extra": 1},
    ):
        assert client.call("anomaly", payload)["error"] == "malformed", payload
    http = client.sio.eio.http  # the HTTP fallback, with the page's CSRF token
    fallback = http.post(server.url + "/exam/api/anomaly", json={"kind": "fullscreen_exit"})
    assert fallback.status_code == 200 and fallback.json() == {"ok": True}
    refused = http.post(server.url + "/exam/api/anomaly", json={"kind": "ip_change"})
    assert refused.status_code == 422 and refused.json()["error"] == "malformed"
    kinds = ("focus_lost", "paste", "fullscreen_exit")
    anomalies = [e for e in exam.events(cand.reg_id) if e[0] in kinds]
    assert anomalies == [(kind, "candidate") for kind in kinds]
    assert client.call("ping", {"client_sent": 1})["ok"]


def test_a_connection_from_another_ip_than_the_sign_in_is_recorded(
    server: Server, exam: Exam, clients: list[ExamClient]
) -> None:
    (cand,) = exam.take()
    http = signed_in(server, cand, from_address="127.0.0.2")  # the socket comes from 127.0.0.1
    clients.append(ExamClient(server, http))
    assert clients[0].call("hello", {})["ok"]
    assert ("ip_change", "system") in exam.events(cand.reg_id)
    (same,) = exam.take()
    clients.append(connect(server, same))
    assert not any(kind == "ip_change" for kind, _ in exam.events(same.reg_id))
