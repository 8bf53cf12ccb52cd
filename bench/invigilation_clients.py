"""The invigilation benchmark's clients, all in one asyncio process so that one clock
(``perf_counter``) times an answer from the candidate's emit to the board's ``progress`` push.

Candidates are python-socketio AsyncClients on ``/exam`` (bench.delivery's session helpers),
each answering the next single-choice item of its theory part every ``interval`` seconds, so the
answered count rises by one with every answer. Boards are AsyncClients on ``/invigilation``,
one per room, signed in as the room's invigilator, that ``watch`` the room.

Matching a push to its answer: every answer acknowledged ``saved`` is followed by exactly one
``progress`` push for its registration (the server pushes after the commit, before the
acknowledgement), and a candidate has one answer in flight (acknowledgements come back well
within the 5 s interval), so a registration's pushes are matched in order to its answers that
have not had one yet; an answer refused or not saved leaves that queue. The push's ``answered``
is checked against the acknowledgement's (``mismatched``).
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from .delivery_clients import Steady, shared_session, sign_in, socket_client
from .delivery_setup import Seat
from .invigilation_setup import PASSWORD, Watch

EXAM, BOARD = "/exam", "/invigilation"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@dataclass(eq=False)
class Sent:
    """One answer: when it was emitted and what came back."""

    reg_id: int
    seq: int
    t0: float  # perf_counter at the emit
    counted: bool  # sent inside the measured window
    ack_ms: float | None = None
    saved: bool = False
    ack_answered: int | None = None
    board_ms: float | None = None
    push_answered: int | None = None


@dataclass
class Tracker:
    """Every answer sent, the pushes still expected per registration, and what went wrong."""

    sent: list[Sent] = field(default_factory=list)
    waiting: dict[int, deque[Sent]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    unmatched: int = 0  # progress pushes with no answer waiting for one
    overlapped: int = 0  # answers emitted while the candidate's previous one was unanswered
    loop_lag_ms: list[float] = field(default_factory=list)

    def emitted(self, reg_id: int, seq: int, counted: bool) -> Sent:
        queue = self.waiting.setdefault(reg_id, deque())
        if any(s.ack_ms is None for s in queue):
            self.overlapped += 1
        sent = Sent(reg_id, seq, time.perf_counter(), counted)
        self.sent.append(sent)
        queue.append(sent)
        return sent

    def acked(self, sent: Sent, ack: dict[str, Any]) -> None:
        sent.ack_ms = (time.perf_counter() - sent.t0) * 1000
        sent.saved = bool(ack.get("ok")) and ack.get("outcome") == "saved"
        sent.ack_answered = ack.get("answered")
        if not sent.saved:
            self.errors[f"ack:{ack.get('error') or ack.get('outcome')}"] += 1
            self._forget(sent)

    def failed(self, sent: Sent, kind: str) -> None:
        self.errors[kind] += 1
        self._forget(sent)

    def _forget(self, sent: Sent) -> None:
        queue = self.waiting.get(sent.reg_id)
        if queue and sent in queue and sent.board_ms is None:
            queue.remove(sent)

    def pushed(self, data: dict[str, Any]) -> None:
        t1 = time.perf_counter()
        queue = self.waiting.get(data.get("registration_id"))  # type: ignore[arg-type]
        if not queue:
            self.unmatched += 1
            return
        sent = queue.popleft()
        sent.board_ms = (t1 - sent.t0) * 1000
        sent.push_answered = data.get("answered")

    def pending(self) -> int:
        """Answers whose acknowledgement, or whose push after a ``saved`` one, is missing."""
        return sum(
            1 for s in self.sent if s.ack_ms is None or (s.saved and s.board_ms is None)
        )  # fmt: skip


class Candidate:
    """One candidate's connection; answers the single-choice items in paper order."""

    def __init__(self, seat: Seat, cookie: str, where: tuple[int, int], http: Any,
                 tracker: Tracker) -> None:  # fmt: skip
        self.seat, self.where, self.tracker = seat, where, tracker
        self.sio = socket_client(http, cookie)
        self.seq = 0
        self.gone = False
        self.sio.on("disconnect", self._disconnected, namespace=EXAM)

    def _disconnected(self, *_: Any) -> None:
        if not self.gone:
            self.gone = True
            self.tracker.errors["disconnected"] += 1

    async def connect(self, url: str, start: bool) -> bool:
        plan_id, room_id = self.where
        auth = {"reg": self.seat.reg_id, "plan": plan_id, "room": room_id}
        try:
            await self.sio.connect(url, namespaces=[EXAM], transports=["websocket"], auth=auth,
                                   wait_timeout=60)  # fmt: skip
            if start:
                ack = await self.sio.call("start", {"part": "theory"}, EXAM, timeout=60)
                if not ack.get("ok") and ack.get("error") != "bad_state":
                    self.tracker.errors[f"start:{ack.get('error')}"] += 1
                    return False
        except Exception as exc:
            self.tracker.errors[f"connect:{type(exc).__name__}"] += 1
            return False
        return True

    async def send(self, counted: bool) -> None:
        self.seq += 1
        singles = self.seat.singles
        position, labels = singles[(self.seq - 1) % len(singles)]
        value = labels[(self.seq * 7) % len(labels)]
        change = {"part": "theory", "seq": self.seq, "position": position, "value": value}
        sent = self.tracker.emitted(self.seat.reg_id, self.seq, counted)
        try:
            await self.sio.emit("answer", change, namespace=EXAM,
                                callback=lambda ack: self.tracker.acked(sent, ack))  # fmt: skip
        except Exception as exc:
            self.tracker.failed(sent, f"emit:{type(exc).__name__}")

    async def steady(self, plan: Steady, offset: float) -> None:
        when = plan.start + offset
        while when < plan.end and not self.gone:
            await asyncio.sleep(max(0.0, when - time.time()))
            await self.send(when >= plan.measure)
            when += plan.interval


async def staff_sign_in(http: aiohttp.ClientSession, base: str, username: str) -> str:
    """Sign a staff user in like the browser (the form's CSRF token); the session cookie."""
    async with http.get(base + "/auth/login") as page:
        text = await page.text()
        cookie = page.cookies["session"].value
    match = CSRF.search(text)
    assert match, text[:300]
    form = {"username": username, "password": PASSWORD, "csrf_token": match[1]}
    async with http.post(base + "/auth/login", data=form, allow_redirects=False,
                         headers={"Cookie": f"session={cookie}"}) as answer:  # fmt: skip
        if answer.status != 302:
            raise RuntimeError(f"staff sign-in {username}: HTTP {answer.status}")
        return answer.cookies["session"].value


class Board:
    """A room's board: an invigilator's connection that watches the room."""

    def __init__(self, watch: Watch, cookie: str, http: Any, tracker: Tracker) -> None:
        self.watch, self.tracker = watch, tracker
        self.sio = socket_client(http, cookie)
        self.seats = 0
        self.sio.on("progress", tracker.pushed, namespace=BOARD)

    async def connect(self, url: str) -> None:
        await self.sio.connect(url, namespaces=[BOARD], transports=["websocket"], wait_timeout=60)
        ack = await self.sio.call(
            "watch", {"plan_id": self.watch.plan_id, "room_id": self.watch.room_id}, BOARD,
            timeout=60,
        )  # fmt: skip
        if not ack.get("ok") or ack.get("access") != "act":
            raise RuntimeError(f"watch {self.watch}: {ack}")
        self.seats = len(ack.get("board", {}).get("seats", []))


@dataclass
class Plan:
    """What one run needs: where candidates and boards connect, who, and the schedule."""

    candidate_url: str
    board_url: str
    product: bool  # sign in over HTTP and start the part (the bare server needs neither)
    seats: list[Seat]
    watches: list[Watch]
    where: dict[int, tuple[int, int]]
    schedule_warmup: float
    duration: float
    interval: float
    grace: float
    seed: int
    marks: dict[str, Callable[[], Any]]  # name → sampled at the start and end of the window


@dataclass
class Result:
    tracker: Tracker
    connected: int
    boards: int
    board_seats: int
    client_cpu_s: float
    samples: dict[str, tuple[Any, Any]]  # mark name → (at the start, at the end of the window)
    window_start: float  # perf_counter when the measured window began
    window_wall: float  # time.time() then


async def _loop_lag(tracker: Tracker, until: float) -> None:
    """How late the client's own event loop wakes up (a busy client delays every figure)."""
    while time.time() < until:
        asked = time.perf_counter()
        await asyncio.sleep(0.05)
        tracker.loop_lag_ms.append((time.perf_counter() - asked - 0.05) * 1000)


async def run(plan: Plan) -> Result:
    tracker = Tracker()
    http = shared_session()
    gate = asyncio.Semaphore(50)
    # sign-ins on connections of their own: a pooled one the server has closed after its
    # keep-alive of 2 s is reset under the next request
    forms = shared_session(force_close=True)
    try:
        if plan.product:

            async def cand_cookie(seat: Seat) -> str:
                async with gate:
                    return await sign_in(forms, plan.candidate_url, seat.ticket, seat.id_number)

            async def staff_cookie(watch: Watch) -> str:
                return await staff_sign_in(forms, plan.board_url, watch.username)

            cookies = await asyncio.gather(*(cand_cookie(s) for s in plan.seats))
            staff = await asyncio.gather(*(staff_cookie(w) for w in plan.watches))
        else:
            cookies, staff = [""] * len(plan.seats), [""] * len(plan.watches)
        boards = [Board(w, c, http, tracker) for w, c in zip(plan.watches, staff, strict=True)]
        await asyncio.gather(*(b.connect(plan.board_url) for b in boards))
        cands = [
            Candidate(s, c, plan.where[s.reg_id], http, tracker)
            for s, c in zip(plan.seats, cookies, strict=True)
        ]

        async def connect(c: Candidate) -> bool:
            async with gate:
                return await c.connect(plan.candidate_url, plan.product)

        ok = await asyncio.gather(*(connect(c) for c in cands))
        live = [c for c, good in zip(cands, ok, strict=True) if good]
        start = time.time() + 1
        measure = start + plan.schedule_warmup
        steady = Steady(start, measure, measure + plan.duration, plan.interval)
        samples: dict[str, list[Any]] = {name: [] for name in plan.marks}
        cpu: list[float] = []

        perf: list[float] = []
        wall: list[float] = []

        async def mark(at: float) -> None:
            await asyncio.sleep(max(0.0, at - time.time()))
            cpu.append(time.process_time())
            perf.append(time.perf_counter())
            wall.append(time.time())
            for name, sample in plan.marks.items():
                samples[name].append(sample())

        rng = random.Random(plan.seed)
        await asyncio.gather(
            *(c.steady(steady, rng.uniform(0, plan.interval)) for c in live),
            mark(steady.measure), mark(steady.end), _loop_lag(tracker, steady.end),
        )  # fmt: skip
        deadline = time.time() + plan.grace
        while tracker.pending() and time.time() < deadline:
            await asyncio.sleep(0.1)
        for c in live:
            c.gone = True  # our own disconnect is not an error
        await asyncio.gather(*(c.sio.disconnect() for c in live), return_exceptions=True)
        await asyncio.gather(*(b.sio.disconnect() for b in boards), return_exceptions=True)
        return Result(
            tracker,
            len(live),
            len(boards),
            sum(b.seats for b in boards),
            cpu[1] - cpu[0],
            {name: (v[0], v[1]) for name, v in samples.items()},
            perf[0],
            wall[0],
        )
    finally:
        await http.close()
        await forms.close()
