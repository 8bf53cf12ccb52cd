"""The start storm: N candidates sign in and load their paper at the same moment the room
starts, against the product (``gunicorn -k eventlet -w 1 wsgi:app``, fresh SQLite database).

At the protocol level each candidate, at the same instant T0, does what the browser does:
GET and POST ``/exam/login`` (sign-in with the page's CSRF token), GET ``/exam/`` (the waiting
room: check-in), POST ``/exam/api/theory/start``, GET ``/exam/paper/theory`` (the page holds the
first question: *shown*), then connects the Socket.IO client and waits for ``hello``'s
acknowledgement (*online*: answers are saved over the socket from here). Times are from T0.

With ``--browsers`` real Chromium pages do it: each page has the sign-in page open before T0,
then fills it in, ticks the instructions, presses start and waits until the first question is
visible.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import re
import shutil
import sqlite3
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from .delivery_clients import CSRF, NS, shared_session, socket_client
from .delivery_servers import Server, configured, product_env, tree_cpu_seconds
from .delivery_setup import SECRET, Seat, build

WAITING_CSRF = re.compile(r'data-csrf="([^"]+)"')
PHASES = ("signed_in", "started", "shown", "online")
TARGET_P99_S = 10.0
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/0")
STEP_TIMEOUT_MS = 180_000  # one browser step under the storm (Playwright's default is 30 s)


# What a page that never showed its first question was doing (printed with what it logged).
STUCK_PAGE = """() => ({
  url: location.href,
  ready: document.readyState,
  client: Boolean(window.examClient),
  journal: window.examClient ? window.examClient.journal() : null,
  io: Boolean(window.io),
  editor: Boolean(window.ExamEditor),
  shown: document.querySelectorAll("article.q:not([hidden])").length,
  connection: (document.getElementById("connection") || {}).dataset,
})"""


class Refused(Exception):
    pass


async def _candidate(
    http: aiohttp.ClientSession, base: str, seat: Seat, t0: float, times: dict[str, float]
) -> None:
    cookie = ""

    async def request(method: str, path: str, expect: int, **kw: Any) -> str:
        nonlocal cookie
        headers = kw.pop("headers", {}) | ({"Cookie": f"session={cookie}"} if cookie else {})
        async with http.request(
            method, base + path, headers=headers, allow_redirects=False, **kw
        ) as response:
            text = await response.text()
            if "session" in response.cookies:
                cookie = response.cookies["session"].value
            if response.status != expect:
                raise Refused(f"{method} {path}: HTTP {response.status}")
            return text

    await asyncio.sleep(max(0.0, t0 - time.time()))
    page = await request("GET", "/exam/login", 200)
    form = {"ticket_number": seat.ticket, "id_number": seat.id_number}
    form["csrf_token"] = CSRF.search(page)[1]  # type: ignore[index]
    await request("POST", "/exam/login", 302, data=form)
    times["signed_in"] = time.time() - t0
    room = await request("GET", "/exam/", 200)
    token = WAITING_CSRF.search(room)[1]  # type: ignore[index]
    headers = {"X-CSRFToken": token, "Content-Type": "application/json"}
    await request("POST", "/exam/api/theory/start", 200, data="{}", headers=headers)
    times["started"] = time.time() - t0
    paper = await request("GET", "/exam/paper/theory", 200)
    if f'id="q-{seat.singles[0][0]}"' not in paper:
        raise Refused("the paper page has no first question")
    times["shown"] = time.time() - t0
    sio = socket_client(http, cookie)
    try:
        await sio.connect(base, namespaces=[NS], transports=["websocket"], wait_timeout=120)
        hello = await sio.call("hello", {}, NS, timeout=120)
        if not hello.get("ok"):
            raise Refused(f"hello: {hello.get('error')}")
        times["online"] = time.time() - t0
    finally:
        await sio.disconnect()


async def _storm(conn: Any, base: str, seats: list[Seat]) -> tuple[list, Counter[str], float]:
    async with shared_session(force_close=True) as http:
        conn.send("ready")
        t0 = await asyncio.get_running_loop().run_in_executor(None, conn.recv)
        cpu = time.process_time()
        times: list[dict[str, float]] = [{} for _ in seats]
        done = await asyncio.gather(
            *(_candidate(http, base, s, t0, t) for s, t in zip(seats, times, strict=True)),
            return_exceptions=True,
        )
        cpu = time.process_time() - cpu
    return times, _errors(done), cpu


def _errors(done: list[Any]) -> Counter[str]:
    return Counter(f"{type(e).__name__}: {e}"[:80] for e in done if isinstance(e, BaseException))


def storm_process(conn: Any, base: str, seats: list[Seat]) -> None:
    conn.send(asyncio.run(_storm(conn, base, seats)))
    conn.close()


def summary(kind: str, n: int, times: list[dict[str, float]], errors: Counter[str]) -> dict:
    line: dict[str, Any] = {"storm": kind, "n": n}
    for phase in PHASES:
        values = sorted(t[phase] for t in times if phase in t)
        if not values:
            continue
        line[f"{phase}_p50_s"] = round(values[len(values) // 2], 2)
        line[f"{phase}_p99_s"] = round(values[min(len(values) - 1, int(0.99 * len(values)))], 2)
        line[f"{phase}_max_s"] = round(values[-1], 2)
    line["all_shown"] = sum(1 for t in times if "shown" in t)
    line["errors"] = sum(errors.values())
    line["error_kinds"] = dict(errors)
    p99 = line.get("shown_p99_s")
    line["target_met"] = line["all_shown"] == n and p99 is not None and p99 < TARGET_P99_S
    return line


def protocol_storm(
    server: Server, seats: list[Seat], procs: int
) -> tuple[list, Counter[str], float]:
    """The storm from ``procs`` client processes; times, errors and the clients' CPU seconds."""
    ctx = multiprocessing.get_context("spawn")
    workers, pipes = [], []
    for k in range(procs):
        parent, child = ctx.Pipe()
        worker = ctx.Process(target=storm_process, args=(child, server.url, seats[k::procs]))
        worker.start()
        workers.append(worker)
        pipes.append(parent)
    try:
        for pipe in pipes:
            pipe.recv()
        t0 = time.time() + 1
        for pipe in pipes:
            pipe.send(t0)
        times, errors, cpu = [], Counter[str](), 0.0
        for pipe in pipes:
            got, errs, used = pipe.recv()
            times += got
            errors.update(errs)
            cpu += used
    finally:
        for worker in workers:
            worker.join(timeout=60)
            if worker.is_alive():
                worker.kill()
    return times, errors, cpu


async def browser_storm(
    base: str, seats: list[Seat], server: Server
) -> tuple[list, Counter[str], float, Counter[str]]:
    """Real Chromium pages: open the sign-in page, then all at once sign in, start, and wait
    for the first question to be visible; the browsers' CPU seconds meanwhile, and the requests
    that failed by Chromium's reason and path (a reset script costs its page a reload)."""
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=shutil.which("chromium"),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        pages, said = [], []
        failed = Counter[str]()  # requests the browsers saw fail, by Chromium's reason
        for _ in seats:
            context = await browser.new_context(viewport={"width": 1366, "height": 768})
            context.set_default_timeout(STEP_TIMEOUT_MS)
            page = await context.new_page()
            heard: list[str] = []  # what the page said, for a page that never shows its question
            page.on("console", lambda m, h=heard: h.append(f"console {m.type}: {m.text}"[:300]))
            page.on("pageerror", lambda e, h=heard: h.append(f"page error: {e}"[:300]))
            page.on("requestfailed", lambda r: failed.update([_failure(r)]))
            await page.goto(base + "/exam/login")
            pages.append(page)
            said.append(heard)
        t0 = time.time() + 1
        times: list[dict[str, float]] = [{} for _ in seats]
        cpu = tree_cpu_seconds(os.getpid(), server.proc.pid if server.proc else None)

        async def one(page: Any, seat: Seat, t: dict[str, float], heard: list[str]) -> None:
            await asyncio.sleep(max(0.0, t0 - time.time()))
            await page.fill("input[name=ticket_number]", seat.ticket)
            await page.fill("input[name=id_number]", seat.id_number)
            await page.click("button[type=submit]")
            await page.wait_for_url(base + "/exam/")
            t["signed_in"] = time.time() - t0
            await page.check("#ready")
            await page.click("button[data-start='/exam/api/theory/start']")
            await page.wait_for_url(base + "/exam/paper/theory*")
            t["started"] = time.time() - t0
            first = seat.singles[0][0]
            try:
                await page.wait_for_selector(f"#q-{first}", state="visible")
            except Exception:
                state = await page.evaluate(STUCK_PAGE)
                print(f"stuck page {seat.ticket}: {state} {heard[-10:]}", file=sys.stderr)
                raise
            t["shown"] = time.time() - t0
            await page.wait_for_function(
                "document.getElementById('connection').dataset.state === 'online'"
            )
            t["online"] = time.time() - t0

        done = await asyncio.gather(
            *(one(*each) for each in zip(pages, seats, times, said, strict=True)),
            return_exceptions=True,
        )
        cpu = tree_cpu_seconds(os.getpid(), server.proc.pid if server.proc else None) - cpu
        await browser.close()
    return times, _errors(done), cpu, failed


def _failure(request: Any) -> str:
    """A failed request by reason and path: which of a page's requests the server dropped."""
    return f"{request.failure} {urlsplit(request.url).path}"


def _run(kind: str, server: Server, seats: list[Seat], args: Any) -> dict:
    """One storm against a started server: the summary line with the server's CPU seconds."""
    try:
        workers, cpu = server.worker_pids(), server.cpu_seconds()
        failed = None
        if kind == "chromium":
            times, errors, clients, failed = asyncio.run(browser_storm(server.url, seats, server))
        else:
            times, errors, clients = protocol_storm(server, seats, args.client_procs)
        # a replaced worker's CPU time is gone with it
        cpu = server.cpu_seconds() - cpu if server.worker_pids() == workers else None
        restarts = server.restarts()
    finally:
        server.stop()
    line = summary(kind, len(seats), times, errors)
    line["server_cpu_s"] = None if cpu is None else round(cpu, 1)
    line["client_cpu_s"] = round(clients, 1)
    if failed is not None:
        line["requests_failed"] = dict(failed)
    return line | {
        "workers": server.workers,
        "worker_restarts": restarts,
        "loadavg": round(os.getloadavg()[0], 2),
    }


def run_storms(args: Any, work: Path) -> list[dict]:
    """The protocol storm against the product and then the bare server (each on its own copy
    of one database), with their ratio; the Chromium storm against the product."""
    lines = []
    for kind, n in (("protocol", args.storm), ("chromium", args.browsers)):
        if not n:
            continue
        database = work / f"storm-{kind}-{n}.sqlite3"
        seats = build(database, n)
        if kind == "protocol":  # the bare server's own copy, before the product writes to it
            bare_copy = work / f"storm-bare-{n}.sqlite3"
            with sqlite3.connect(database) as source, sqlite3.connect(bare_copy) as copy:
                source.backup(copy)  # with what is still in the write-ahead log
        env = product_env(database, args.scheduler)
        if args.workers > 1:  # as sites run several: pushes through Redis, on a channel of its own
            channel = f"bench-storm-{os.getpid()}"
            env |= {"SOCKETIO_MESSAGE_QUEUE": REDIS, "SOCKETIO_CHANNEL": channel}
        server = Server("wsgi:app", env, work / f"{kind}.log", workers=args.workers)
        stats = args.profile_server / f"storm-{kind}-{n}.prof" if args.profile_server else None
        configured(server, args, stats).start("/exam/login")
        lines.append(_run(kind, server, seats, args))
        if kind != "protocol":
            continue
        bare_env = {"BARE_DATABASE": str(bare_copy), "SECRET_KEY": SECRET}
        bare = Server(
            "bench.delivery_storm_bare:app", bare_env, work / "storm-bare.log", workers=args.workers
        )
        stats = args.profile_server / f"storm-bare-{n}.prof" if args.profile_server else None
        configured(bare, args, stats).start("/exam/login")
        lines.append(_run("protocol-bare", bare, seats, args))
        lines.append(storm_ratios(lines[-2], lines[-1]))
    return lines


def storm_ratios(product: dict, bare: dict) -> dict:
    """Product ÷ bare for the storm's times and the server's CPU."""
    line: dict[str, Any] = {"storm": "product/bare", "n": product["n"]}
    for key in ("signed_in_p99_s", "started_p99_s", "shown_p50_s", "shown_p99_s", "server_cpu_s"):
        if product.get(key) and bare.get(key):
            line[key.removesuffix("_s") + "_ratio"] = round(product[key] / bare[key], 2)
    line["bare_target_met"] = bare["target_met"]
    return line
