"""The kill -9 test: no acknowledged answer is ever lost.

Twenty candidates answer as fast as their acknowledgements come back, each over its own
Socket.IO connection to a real ``gunicorn -k eventlet`` server; mid-stream the whole server
(master and worker) is killed with SIGKILL. A new server is started on the same database, and
every change that was acknowledged must be there with its value — on SQLite (WAL,
``synchronous=NORMAL``) and on PostgreSQL.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.test_exam_socket import (
    NS,
    Candidate,
    Exam,
    ExamClient,
    Server,
    connect,
    prepare_exam,
)

CLIENTS = 20
MIN_ACKS = 150  # kill once at least this many changes have been acknowledged
VALUES = ("A", "B", "C", None)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def exam(backend: str, sqlite_url: str) -> Iterator[Exam]:
    prepared = prepare_exam(backend, sqlite_url)
    yield prepared
    prepared.close()


class Answerer(threading.Thread):
    """One candidate answering single-choice items in a loop; remembers every ack it got."""

    def __init__(self, cand: Candidate, client: ExamClient, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.cand, self.client, self.stop = cand, client, stop
        self.sent: dict[int, dict[str, Any]] = {}  # seq → change
        self.acked: dict[int, dict[str, Any]] = {}
        self.error: BaseException | None = None
        self.refused: dict[str, Any] | None = None  # an ack other than "saved": a bug

    def run(self) -> None:
        positions = self.cand.positions["single"]
        seq = 0
        while not self.stop.is_set():
            seq += 1
            change = {
                "part": "theory",
                "seq": seq,
                "position": positions[seq % len(positions)],
                "value": VALUES[seq % len(VALUES)],
                "flagged": seq % 3 == 0,
            }
            self.sent[seq] = change
            ack = self._send(change)
            if ack is None:  # the server is gone: nothing after this counts
                return
            if ack.get("outcome") != "saved":
                self.refused = ack
                return
            self.acked[seq] = change

    def _send(self, change: dict[str, Any]) -> dict[str, Any] | None:
        """The acknowledgement, or None once the connection is lost without one. Packets the
        client had received are all handled before its disconnect event, so an ack that made it
        out of the server before the kill is never missed."""
        got: list[dict[str, Any]] = []
        answered = threading.Event()

        def on_ack(ack: dict[str, Any]) -> None:
            got.append(ack)
            answered.set()

        try:
            self.client.sio.emit("answer", change, namespace=NS, callback=on_ack)
        except Exception as exc:
            self.error = exc
            return None
        while not answered.wait(0.01):
            if self.client.lost.is_set() and not answered.is_set():
                self.error = ConnectionError("connection lost before the acknowledgement")
                return None
        return got[0]


def test_every_acknowledged_answer_survives_kill_9(
    exam: Exam, tmp_path_factory: pytest.TempPathFactory
) -> None:
    log = tmp_path_factory.mktemp("crash") / "gunicorn.log"
    server = Server(exam.url, log).start()
    candidates = exam.take(CLIENTS)
    stop = threading.Event()
    answerers = []
    try:
        for cand in candidates:
            client = connect(server, cand)
            assert client.call("start", {"part": "theory"})["ok"]
            answerers.append(Answerer(cand, client, stop))
        for answerer in answerers:
            answerer.start()
        deadline = time.monotonic() + 20
        while sum(len(a.acked) for a in answerers) < MIN_ACKS:
            assert time.monotonic() < deadline, f"too few acks:\n{server.tail()}"
            time.sleep(0.02)
        server.kill(signal.SIGKILL)  # master and worker, mid-stream
        killed_at = sum(len(a.acked) for a in answerers)
        for answerer in answerers:
            answerer.join(timeout=15)
        stop.set()
        assert all(not a.is_alive() for a in answerers)
        assert [a.refused for a in answerers if a.refused] == []
        assert all(a.error is not None for a in answerers), "every client saw the server die"
        for answerer in answerers:
            answerer.client.close()

        restarted = Server(exam.url, log, port=server.port).start()
        try:
            _check(exam, restarted, answerers)
        finally:
            restarted.stop()
    finally:
        stop.set()
        server.stop()
    assert killed_at >= MIN_ACKS


def _check(exam: Exam, server: Server, answerers: list[Answerer]) -> None:
    for answerer in answerers:
        stored = exam.answers(answerer.cand.reg_id)
        latest: dict[int, int] = {}  # position → highest acknowledged seq
        for seq, change in answerer.acked.items():
            latest[change["position"]] = max(latest.get(change["position"], 0), seq)
        assert latest, "each client had at least one acknowledgement"
        # the database holds the acknowledged change, or a later one the client sent whose
        # acknowledgement the kill swallowed — never an older one
        for position, seq in latest.items():
            kept = stored.get(position, (0, None, False))[0]
            assert kept >= seq, (
                f"reg {answerer.cand.reg_id} item {position}: ack {seq}, kept {kept}"
            )
        # the restarted server hands every one of them back with its value and flag
        client = ExamClient(server, answerer.client.sio.eio.http)
        try:
            (theory, _) = client.call("hello", {})["parts"]
        finally:
            client.close()
        shown = {a["position"]: a for a in theory["answers"]}
        for position in latest:
            change = answerer.sent[shown[position]["seq"]]
            assert change["position"] == position
            assert shown[position]["value"] == change["value"]
            assert shown[position]["flagged"] == change["flagged"]
        assert theory["state"] == "in_progress"
        assert theory["last_seq"] >= max(answerer.acked)
