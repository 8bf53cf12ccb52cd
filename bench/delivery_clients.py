"""The delivery benchmark's candidates: python-socketio AsyncClients over one shared aiohttp
session per process, websocket transport, answering on the schedules the parent process sends.

A client process (``client_process``) connects its share of the candidates (and, on the
product, starts their theory part), says so, then runs two phases, each when the parent sends
it and each followed by waiting for the last acknowledgements (at most ``GRACE`` s): ``Steady``
— every candidate saves an answer every ``interval`` seconds, the first at a random moment of
the first interval — and ``Saturation`` — the first clients answer as soon as their previous
answer is acknowledged. It sends back every latency, every error, the newest acknowledged
answer per item and its CPU time. Times in a schedule are ``time.time()`` values, the one
clock every process shares; a latency is a ``perf_counter`` difference inside one process,
from just before the emit to the acknowledgement's callback.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import socketio

NS = "/exam"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class Candidate:
    """What a client needs: the registration, the session cookie and the single-choice items
    of the theory part (position, labels shown)."""

    reg_id: int
    cookie: str
    singles: list[tuple[int, str]]


@dataclass(frozen=True)
class Steady:
    """Every client answers every ``interval`` s, its first answer at a random moment of the
    first interval after ``start``; latencies of answers sent from ``measure`` on count."""

    start: float
    measure: float
    end: float  # no answer is sent after this
    interval: float


@dataclass(frozen=True)
class Saturation:
    """The first ``clients`` clients answer as soon as their last answer is acknowledged;
    acknowledgements that arrive between ``measure`` and ``end`` count."""

    start: float
    measure: float
    end: float
    clients: int


@dataclass
class Outcome:
    """What one client process sends back."""

    connected: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    steady_ms: list[float] = field(default_factory=list)
    saturation_ms: list[float] = field(default_factory=list)
    saturation_acks: int = 0
    acked: dict[tuple[int, int], tuple[int, Any]] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)  # process CPU seconds at each mark


GRACE = 30.0  # an acknowledgement later than this after the phase counts as missing


def shared_session(force_close: bool = False) -> aiohttp.ClientSession:
    """One session for every client of the process: no connection limit (each websocket holds
    one), no cookie jar (each client sends its own cookie). With ``force_close`` every request
    has a connection of its own, as each browser does, instead of one another client left
    idle in the pool, which the server closes after its keep-alive of 2 s."""
    connector = aiohttp.TCPConnector(limit=0, force_close=force_close)
    return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())


async def sign_in(http: aiohttp.ClientSession, base: str, ticket: str, id_number: str) -> str:
    """Sign in like the browser (the page's CSRF token, then the form); the session cookie."""
    async with http.get(base + "/exam/login") as page:
        text = await page.text()
        cookie = page.cookies["session"].value
    match = CSRF.search(text)
    assert match, text[:300]
    form = {"ticket_number": ticket, "id_number": id_number, "csrf_token": match[1]}
    headers = {"Cookie": f"session={cookie}"}
    async with http.post(
        base + "/exam/login", data=form, headers=headers, allow_redirects=False
    ) as answer:
        if answer.status != 302:
            raise RuntimeError(f"sign-in {ticket}: HTTP {answer.status}")
        return answer.cookies["session"].value


def socket_client(http: aiohttp.ClientSession, cookie: str) -> socketio.AsyncClient:
    # engineio moves a Cookie given to connect() into the session's (shared) jar; the
    # websocket's own headers keep it with this client
    options = {"headers": {"Cookie": f"session={cookie}"}}
    return socketio.AsyncClient(
        reconnection=False, http_session=http, websocket_extra_options=options
    )


class Answerer:
    """One candidate's connection and the answers it has sent and had acknowledged."""

    def __init__(self, cand: Candidate, sio: socketio.AsyncClient, out: Outcome) -> None:
        self.cand, self.sio, self.out = cand, sio, out
        self.seq = 0
        self.in_flight: dict[int, float] = {}  # seq → perf_counter at emit
        self.lost = False
        sio.on("disconnect", self._disconnected, namespace=NS)

    def _disconnected(self, *_: Any) -> None:
        if not self.lost:
            self.lost = True
            self.out.errors["disconnected"] += 1

    async def connect(self, url: str, start: bool) -> bool:
        try:
            await self.sio.connect(
                url, namespaces=[NS], transports=["websocket"], auth={"reg": self.cand.reg_id},
                wait_timeout=60,
            )  # fmt: skip
            if start:
                ack = await self.sio.call("start", {"part": "theory"}, NS, timeout=60)
                if not ack.get("ok") and ack.get("error") != "bad_state":
                    self.out.errors[f"start:{ack.get('error')}"] += 1
                    return False
        except Exception as exc:
            self.out.errors[f"connect:{type(exc).__name__}"] += 1
            return False
        return True

    async def send(self, into: list[float], done: asyncio.Event | None = None) -> None:
        """Emit the next change; the acknowledgement's latency goes into ``into``."""
        self.seq += 1
        seq = self.seq
        position, labels = self.cand.singles[seq % len(self.cand.singles)]
        value = labels[(seq * 7) % len(labels)]
        change = {"part": "theory", "seq": seq, "position": position, "value": value}

        def on_ack(ack: dict[str, Any]) -> None:
            into.append((time.perf_counter() - self.in_flight.pop(seq)) * 1000)
            if ack.get("ok") and ack.get("outcome") in ("saved", "duplicate"):
                key = (self.cand.reg_id, position)
                if seq > self.out.acked.get(key, (0, None))[0]:
                    self.out.acked[key] = (seq, value)
            else:
                self.out.errors[f"ack:{ack.get('error') or ack.get('outcome')}"] += 1
            if done is not None:
                done.set()

        self.in_flight[seq] = time.perf_counter()
        try:
            await self.sio.emit("answer", change, namespace=NS, callback=on_ack)
        except Exception as exc:
            self.in_flight.pop(seq, None)
            self.out.errors[f"emit:{type(exc).__name__}"] += 1
            if done is not None:
                done.set()

    async def steady(self, plan: Steady, offset: float, counted: list[float]) -> None:
        """An answer every interval from ``plan.start + offset`` until ``plan.end``."""
        ignored: list[float] = []
        when = plan.start + offset
        while when < plan.end and not self.lost:
            await asyncio.sleep(max(0.0, when - time.time()))
            await self.send(counted if when >= plan.measure else ignored)
            when += plan.interval

    async def closed_loop(self, plan: Saturation, counted: list[float]) -> int:
        """Answer as soon as the last answer is acknowledged; acks counted in the window."""
        await asyncio.sleep(max(0.0, plan.start - time.time()))
        acks = 0
        ignored: list[float] = []
        while time.time() < plan.end and not self.lost:
            done = asyncio.Event()
            measuring = time.time() >= plan.measure
            await self.send(counted if measuring else ignored, done)
            try:
                await asyncio.wait_for(done.wait(), GRACE)
            except TimeoutError:
                return acks
            if measuring and time.time() <= plan.end:
                acks += 1
        return acks


async def _connect_all(
    url: str, cands: list[Candidate], start: bool, concurrency: int, out: Outcome
) -> tuple[aiohttp.ClientSession, list[Answerer]]:
    http = shared_session()
    gate = asyncio.Semaphore(concurrency)
    answerers = [Answerer(c, socket_client(http, c.cookie), out) for c in cands]

    async def one(a: Answerer) -> bool:
        async with gate:
            return await a.connect(url, start)

    ok = await asyncio.gather(*(one(a) for a in answerers))
    live = [a for a, good in zip(answerers, ok, strict=True) if good]
    out.connected = len(live)
    return http, live


async def _drain(live: list[Answerer]) -> None:
    deadline = time.time() + GRACE
    while any(a.in_flight for a in live) and time.time() < deadline:
        await asyncio.sleep(0.1)


async def _mark(out: Outcome, name: str, at: float) -> None:
    await asyncio.sleep(max(0.0, at - time.time()))
    out.cpu[name] = time.process_time()


async def _run(conn: Any, url: str, cands: list[Candidate], start: bool, seed: int) -> Outcome:
    """Connect, then run the phases the parent sends, telling it when each is over."""
    loop = asyncio.get_running_loop()
    out = Outcome()
    http, live = await _connect_all(url, cands, start, 50, out)
    conn.send(("connected", out.connected, dict(out.errors)))
    steady: Steady = await loop.run_in_executor(None, conn.recv)
    rng = random.Random(seed)
    marks = [_mark(out, "steady_measure", steady.measure), _mark(out, "steady_end", steady.end)]
    runs = (a.steady(steady, rng.uniform(0, steady.interval), out.steady_ms) for a in live)
    await asyncio.gather(*runs, *marks)
    await _drain(live)
    conn.send(("drained",))
    saturation: Saturation = await loop.run_in_executor(None, conn.recv)
    marks = [
        _mark(out, "saturation_measure", saturation.measure),
        _mark(out, "saturation_end", saturation.end),
    ]
    loops = (a.closed_loop(saturation, out.saturation_ms) for a in live[: saturation.clients])
    counts = await asyncio.gather(*loops, *marks)
    out.saturation_acks = sum(c for c in counts if c)
    await _drain(live)
    out.errors["no_ack"] += sum(len(a.in_flight) for a in live)
    for a in live:
        a.lost = True  # our own disconnect is not an error
    await asyncio.gather(*(a.sio.disconnect() for a in live), return_exceptions=True)
    await http.close()
    return out


def client_process(conn: Any, url: str, cands: list[Candidate], start: bool, seed: int) -> None:
    """The body of one client process (multiprocessing, spawn): results go back over ``conn``."""
    out = asyncio.run(_run(conn, url, cands, start, seed))
    conn.send(("done", out))
    conn.close()
