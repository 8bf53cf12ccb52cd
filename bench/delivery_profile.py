"""Where the product's time goes, per step of a candidate, in one quiet process.

Run ``python -m bench.delivery_profile``. It builds the benchmark's database (``--candidates``
registrations) and drives the product in-process — Flask's test client and Flask-SocketIO's
test client, threading mode: no network, no eventlet, no other clients — through what each
candidate does: sign-in page, sign-in, waiting room, start, paper page, Socket.IO connect,
hello, and ``--answers`` answer changes. It prints the CPU milliseconds of each step per
candidate (per change for ``answer``); for comparison the bare server's answer in the same
harness (``bare_answer``) and its SQL alone (``bare_answer_sql``: one upsert and a commit), and
the storm's bare server (``bench/delivery_storm_bare.py``) through the same steps on a copy of
the same database (``storm_bare_cpu_ms``). ``--profile STEP`` runs that step under cProfile and
prints its top functions (``--sort tottime`` or ``cumtime``); ``--pages`` adds the exam page and
the waiting room of the last candidate, loaded 5 × 100 times (the least of the five means). Its
figures are one process's CPU time, steadier than the benchmark's latencies, though on a busy
machine a step still moves by a fifth or more between runs: compare interleaved runs. CPU is the
whole process's, threads included: the board's seats, read by a background round after a
change (``proctoring/seat_feed.py``), count in whichever step is running when the round runs.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import re
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from .delivery_bare import UPSERT, open_database
from .delivery_bare import create_app as bare_app
from .delivery_setup import Seat, build, make_app
from .delivery_storm_bare import create_app as storm_bare_app

STEPS = ("login_page", "sign_in", "waiting_room", "start", "paper", "connect", "hello", "answer")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
WAITING_CSRF = re.compile(r'data-csrf="([^"]+)"')


class Steps:
    """CPU seconds per step; the chosen step runs under the profiler."""

    def __init__(self, profiled: str | None) -> None:
        self.cpu = dict.fromkeys(STEPS, 0.0)
        self.profiled = profiled
        self.profiler = cProfile.Profile()

    def run(self, step: str, action: Callable[[], Any]) -> Any:
        if step == self.profiled:
            self.profiler.enable()
        start = time.process_time()
        try:
            return action()
        finally:
            self.cpu[step] += time.process_time() - start
            if step == self.profiled:
                self.profiler.disable()


def sit(app: Flask, seat: Seat, answers: int, steps: Steps) -> FlaskClient:
    """One candidate from the sign-in page to ``answers`` acknowledged changes; their client."""
    http: FlaskClient = app.test_client()
    page = steps.run("login_page", lambda: http.get("/exam/login"))
    form = {"ticket_number": seat.ticket, "id_number": seat.id_number}
    form["csrf_token"] = CSRF.search(page.text)[1]  # type: ignore[index]
    signed = steps.run("sign_in", lambda: http.post("/exam/login", data=form))
    assert signed.status_code == 302, signed.text[:300]
    room = steps.run("waiting_room", lambda: http.get("/exam/"))
    headers = {"X-CSRFToken": WAITING_CSRF.search(room.text)[1]}  # type: ignore[index]
    started = steps.run(
        "start", lambda: http.post("/exam/api/theory/start", json={}, headers=headers)
    )
    assert started.status_code == 200, started.text[:300]
    paper = steps.run("paper", lambda: http.get("/exam/paper/theory"))
    assert paper.status_code == 200
    sio = app.extensions["socketio"]
    client = steps.run("connect", lambda: sio.test_client(app, "/exam", flask_test_client=http))
    assert client.is_connected("/exam")
    hello = steps.run("hello", lambda: client.emit("hello", {}, namespace="/exam", callback=True))
    assert hello["ok"], hello
    for seq in range(1, answers + 1):
        position, labels = seat.singles[seq % len(seat.singles)]
        change = {"part": "theory", "seq": seq, "position": position, "value": labels[seq % 4]}
        ack = steps.run(
            "answer", lambda c=change: client.emit("answer", c, namespace="/exam", callback=True)
        )
        assert ack["outcome"] == "saved", ack
    client.disconnect("/exam")
    return http


def page_ms(http: FlaskClient, url: str, rounds: int = 5, count: int = 100) -> float:
    """CPU ms of one page for a candidate sitting (``http`` holds their sign-in): the least of
    ``rounds`` means of ``count`` loads, the steadiest figure on a busy machine."""
    http.get(url)
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        for _ in range(count):
            http.get(url)
        best = min(best, 1000 * (time.process_time() - start) / count)
    return best


def bare_steps(path: Path, seats: list[Seat]) -> dict[str, float]:
    """CPU ms per step of the storm's bare server (``delivery_storm_bare``) in this harness,
    on a copy of the product's database as it was built."""
    os.environ["BARE_DATABASE"] = str(path)
    app = storm_bare_app()
    steps = Steps(None)
    for seat in seats:
        sit(app, seat, 0, steps)
    return {step: round(1000 * cpu / len(seats), 2) for step, cpu in steps.cpu.items()}


def bare_answer_ms(path: Path, count: int = 2000) -> tuple[float, float]:
    """CPU ms per answer of the bare server, in the same harness (its Flask-SocketIO handler
    through the test client), and of its SQL alone (one upsert and a commit)."""
    os.environ["BARE_DATABASE"] = str(path)
    app = bare_app()
    client = app.extensions["socketio"].test_client(app, "/exam", auth={"reg": 1})
    start = time.process_time()
    for k in range(1, count + 1):
        change = {"part": "theory", "seq": k, "position": k % 30, "value": "A"}
        client.emit("answer", change, namespace="/exam", callback=True)
    handler = 1000 * (time.process_time() - start) / count
    conn = open_database(str(path))
    start = time.process_time()
    for k in range(count):
        conn.execute(UPSERT, (k % 300, k % 30, k, json.dumps("A"), False, "now"))
        conn.commit()
    conn.close()
    return handler, 1000 * (time.process_time() - start) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=200)
    parser.add_argument("--answers", type=int, default=10, help="answer changes per candidate")
    parser.add_argument("--profile", choices=STEPS, default=None, help="profile this step")
    parser.add_argument("--sort", default="tottime")
    parser.add_argument(
        "--pages",
        action="store_true",
        help="also the exam and waiting-room pages of one sitting candidate, loaded 5 x 100 times",
    )
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-delivery-profile-"))
    steps = Steps(args.profile)
    try:
        seats = build(work / "product.sqlite3", args.candidates)
        with (
            sqlite3.connect(work / "product.sqlite3") as source,
            sqlite3.connect(work / "storm-bare.sqlite3") as copy,
        ):
            source.backup(copy)
        app = make_app(f"sqlite:///{work / 'product.sqlite3'}")
        for seat in seats:
            http = sit(app, seat, args.answers, steps)
        pages = {}
        if args.pages:  # the last candidate's, signed in and sitting
            for name, url in (("paper_page", "/exam/paper/theory"), ("waiting_page", "/exam/")):
                pages[name] = round(page_ms(http, url), 2)
        bare_ms, bare_sql_ms = bare_answer_ms(work / "bare.sqlite3")
        bare = bare_steps(work / "storm-bare.sqlite3", seats)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    per = {
        step: round(1000 * cpu / len(seats) / (args.answers if step == "answer" else 1), 2)
        for step, cpu in steps.cpu.items()
    }
    per["bare_answer"] = round(bare_ms, 3)
    per["bare_answer_sql"] = round(bare_sql_ms, 3)
    bare = {step: ms for step, ms in bare.items() if step != "answer"}
    line = {"candidates": len(seats), "cpu_ms": per, "storm_bare_cpu_ms": bare} | pages
    print(json.dumps(line, ensure_ascii=False), flush=True)
    if args.profile:
        pstats.Stats(steps.profiler).sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
