"""Benchmark: latency from a candidate's answer to the invigilators' board, beside the bare push.

Run ``python -m bench.invigilation``. The exam is bench.delivery's (one site, rooms of 38 seats,
N candidates in a published plan, on a fresh SQLite database) with one invigilator per room;
one board client per room signs in as its invigilator and ``watch``es the room. Every candidate
answers every ``--interval`` s (the next single-choice item, a random first moment); each
answer is timed from the emit to its acknowledgement (``ack``) and to the board client's
``progress`` push for it (``board``), all clients in one process on one clock.

Against the product (``gunicorn -k eventlet -w 1 wsgi:app``) and against the bare ceiling
(``bench/invigilation_bare.py`` under the same gunicorn settings: the answer is broadcast to
the board's room and acknowledged, nothing else): the bare ack is the bare echo round trip, the
bare board latency the bare cost of one push hop. ``--redis``: both again with the Socket.IO
message queue on Redis and two server processes, the boards on one and the candidates on the
other, so every push crosses the queue. One JSON line per run, one with the product/bare ratios
per mode, then a table. ``--stalls`` adds a line per server on where its worker stalled
(bench/invigilation_stalls.py), ``--gc-freeze`` tunes every worker's garbage collector as
bench.delivery's does, ``--samples FILE`` keeps every answer's timings. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path

from examsvc.config import ROOT

from .delivery import emit, percentile
from .delivery_servers import Server, configured, product_env
from .invigilation_clients import Plan, Result, run
from .invigilation_setup import build_with_invigilators


def _servers(kind: str, redis: str | None, work: Path, args: argparse.Namespace) -> list[Server]:
    """One server (boards and candidates), or two sharing the queue: [boards, candidates]."""
    tag = f"{kind}-redis" if redis else kind
    if kind == "product":
        database = work / f"{tag}.sqlite3"
        shutil.copy(work / "template.sqlite3", database)
        env = product_env(database, args.scheduler)
        app = "bench.invigilation_wsgi:app" if redis else "wsgi:app"
    else:
        env, app = {}, "bench.invigilation_bare:app"
    if redis:
        env = env | {"INVIGILATION_QUEUE": redis, "INVIGILATION_CHANNEL": args.channel}
    names = ["boards", "candidates"] if redis else ["server"]
    servers = []
    for name in names:
        server = Server(app, env, work / f"{tag}-{name}.log")
        stats = args.profile_server / f"{tag}-{name}.prof" if args.profile_server else None
        server = configured(server, args, stats)
        if args.stalls:  # the last -c is the one gunicorn reads; it runs configured()'s hooks
            server.options += ["-c", str(Path(__file__).with_name("invigilation_stalls.py"))]
            server.env = server.env | {"INVIGILATION_STALLS": str(stall_file(server))}
        servers.append(server)
    return servers


def stall_file(server: Server) -> Path:
    return server.log.with_suffix(".stalls.jsonl")


def stalls(server: Server, window: tuple[float, float]) -> dict:
    """What bench/invigilation_stalls.py saw in the measured window: the worker's stalls over
    100 ms, full garbage collections, and the frames most often on top of the stalled stack
    (the innermost of examsvc's own, and the innermost of all)."""
    lines = [json.loads(x) for x in stall_file(server).read_text().splitlines() if x]
    inside = [x for x in lines if "at" in x and window[0] <= x["at"] <= window[1]]
    stalled = [x for x in inside if "stall_ms" in x]
    full = [x for x in inside if x.get("gc") == 2]
    own, top = Counter(), Counter()
    for stall in stalled:
        for stack in stall["samples"]:
            mine = [f for f in stack if "/examsvc/" in f]
            own[_short(mine[-1]) if mine else "(no examsvc frame)"] += 1
            top[_short(stack[-1]) if stack else "?"] += 1
    return {
        "gc_settings": next((x["gc_settings"] for x in lines if "gc_settings" in x), None),
        "stalls": len(stalled),
        "stalled_ms": round(sum(x["stall_ms"] for x in stalled)),
        "longest_ms": max((x["stall_ms"] for x in stalled), default=0),
        "at_s": [round(x["at"] - window[0], 1) for x in stalled],
        "full_gc": len(full),
        "full_gc_ms": [x["gc_ms"] for x in full],
        "gc_objects": max((x.get("objects", 0) for x in full), default=None),
        "gc_count_ms": max((x.get("count_ms", 0) for x in full), default=None),
        "gc_ms_other": round(sum(x["gc_ms"] for x in inside if x.get("gc") in (0, 1))),
        "examsvc_frames": own.most_common(6),
        "innermost_frames": top.most_common(6),
    }


def _short(frame: str) -> str:
    path, line, name = frame.rsplit(":", 2)
    for root in ("/site-packages/", "/work/main/"):
        path = path.split(root, 1)[-1]
    return f"{path}:{line} {name}"


def run_one(kind: str, redis: str | None, setup: tuple, work: Path, args) -> dict:
    seats, watches, where = setup
    servers = _servers(kind, redis, work, args)
    try:
        for server in servers:
            server.start("/exam/login" if kind == "product" else "/")
        marks = {f"cpu_{k}": s.cpu_seconds for k, s in enumerate(servers)}
        plan = Plan(
            candidate_url=servers[-1].url,
            board_url=servers[0].url,
            product=kind == "product",
            seats=seats,
            watches=watches,
            where=where,
            schedule_warmup=args.warmup,
            duration=args.duration,
            interval=args.interval,
            grace=args.grace,
            seed=args.seed,
            marks=marks,
        )
        result = asyncio.run(run(plan))
        restarts = sum(s.restarts() for s in servers)
    finally:
        for server in servers:
            server.stop()
    window = (result.window_wall, result.window_wall + args.duration)
    for server in servers if args.stalls else []:
        emit({"stalls_of": server.log.stem} | stalls(server, window))
    if args.samples:
        write_samples(args.samples, kind, redis, result)
    return summary(kind, redis, result, restarts, args)


def write_samples(path: Path, kind: str, redis: str | None, result: Result) -> None:
    """Every answer as a JSON line: when it was sent (s from the window's start, negative in
    the warm-up), its ack and board latencies (null if missing), the candidate."""
    with path.open("a") as out:
        for s in result.tracker.sent:
            line = {"server": kind, "queue": "redis" if redis else "none", "reg": s.reg_id,
                    "seq": s.seq, "t": round(s.t0 - result.window_start, 4),
                    "ack_ms": s.ack_ms and round(s.ack_ms, 2),
                    "board_ms": s.board_ms and round(s.board_ms, 2)}  # fmt: skip
            out.write(json.dumps(line) + "\n")


def summary(kind: str, redis: str | None, result: Result, restarts: int, args) -> dict:
    tracker = result.tracker
    counted = [s for s in tracker.sent if s.counted]
    acked = [s for s in counted if s.ack_ms is not None]
    saved = [s for s in acked if s.saved]
    pushed = [s for s in saved if s.board_ms is not None]
    ack_ms = [s.ack_ms for s in acked if s.ack_ms is not None]
    board_ms = [s.board_ms for s in pushed if s.board_ms is not None]
    after_ack = [s.board_ms - s.ack_ms for s in pushed if s.board_ms and s.ack_ms]
    lost_all = sum(1 for s in tracker.sent if s.saved and s.board_ms is None)
    cpu = {k: round((b - a) / args.duration, 2) for k, (a, b) in result.samples.items()}
    return {
        "n": args.candidates,
        "server": kind,
        "queue": "redis" if redis else "none",
        "processes": len(result.samples),
        "connected": result.connected,
        "boards": result.boards,
        "board_seats": result.board_seats,
        "answers": len(counted),
        "answers_per_s": round(len(counted) / args.duration, 1),
        "ack_p50_ms": percentile(ack_ms, 0.50),
        "ack_p99_ms": percentile(ack_ms, 0.99),
        "ack_max_ms": percentile(ack_ms, 1.0),
        "board_p50_ms": percentile(board_ms, 0.50),
        "board_p99_ms": percentile(board_ms, 0.99),
        "board_max_ms": percentile(board_ms, 1.0),
        "board_after_ack_p50_ms": percentile(after_ack, 0.50),
        "board_after_ack_p99_ms": percentile(after_ack, 0.99),
        # acknowledged "saved" without a progress push within --grace s after the window
        "lost_pushes": len(saved) - len(pushed),
        "lost_pushes_all": lost_all,  # warm-up included
        "unmatched_pushes": tracker.unmatched,
        "mismatched": sum(1 for s in pushed if s.push_answered != s.ack_answered),
        "no_ack": len(counted) - len(acked),
        "errors": sum(tracker.errors.values()),
        "error_kinds": dict(tracker.errors),
        "overlapped": tracker.overlapped,
        # worker CPU share of one core in the window: [boards, candidates] with --redis
        "server_cpu": list(cpu.values()),
        "client_cpu": round(result.client_cpu_s / args.duration, 2),
        "client_lag_p99_ms": percentile(tracker.loop_lag_ms, 0.99),
        "worker_restarts": restarts,
        "loadavg": round(os.getloadavg()[0], 2),  # other work on the machine shows here
    }


def ratios(product: dict, bare: dict) -> dict:
    def ratio(a: float | None, b: float | None) -> float | None:
        return round(a / b, 2) if a is not None and b else None

    return {
        "n": product["n"],
        "queue": product["queue"],
        "ratio": "product/bare",
        "board_p50": ratio(product["board_p50_ms"], bare["board_p50_ms"]),
        "board_p99": ratio(product["board_p99_ms"], bare["board_p99_ms"]),
        "ack_p50": ratio(product["ack_p50_ms"], bare["ack_p50_ms"]),
        "ack_p99": ratio(product["ack_p99_ms"], bare["ack_p99_ms"]),
        # the product's answer→board against the bare echo round trip
        "board_vs_bare_echo_p50": ratio(product["board_p50_ms"], bare["ack_p50_ms"]),
        "board_vs_bare_echo_p99": ratio(product["board_p99_ms"], bare["ack_p99_ms"]),
    }


def table(lines: list[dict]) -> str:
    columns = ["N", "queue", "server", "answers/s", "ack p50/p99 ms", "board p50/p99/max ms"]
    columns += ["lost pushes", "errors", "server CPU", "client CPU", "client lag p99"]
    rows = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for x in lines:
        if "ratio" in x:
            rows.append(
                f"| {x['n']} | {x['queue']} | product/bare | | ×{x['ack_p50']}/×{x['ack_p99']} | "
                f"×{x['board_p50']}/×{x['board_p99']} (vs bare echo ×"
                f"{x['board_vs_bare_echo_p50']}/×{x['board_vs_bare_echo_p99']}) | | | | | |"
            )
            continue
        cpu = "+".join(str(c) for c in x["server_cpu"])
        rows.append(
            f"| {x['n']} | {x['queue']} | {x['server']} | {x['answers_per_s']} | "
            f"{x['ack_p50_ms']}/{x['ack_p99_ms']} | "
            f"{x['board_p50_ms']}/{x['board_p99_ms']}/{x['board_max_ms']} | "
            f"{x['lost_pushes']} | {x['errors']} | {cpu} | {x['client_cpu']} | "
            f"{x['client_lag_p99_ms']} |"
        )
    return "\n".join(rows)


def _redis_ready(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.ping()
    finally:
        client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=500, help="N candidates, one site")
    parser.add_argument("--duration", type=float, default=30, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=10, help="answering seconds not measured")
    parser.add_argument("--interval", type=float, default=5, help="seconds between answers")
    parser.add_argument(
        "--grace",
        type=float,
        default=10,
        help="seconds to wait after the window for the last acks and pushes",
    )
    parser.add_argument(
        "--redis",
        action="store_true",
        help="also: message queue on Redis, boards and candidates on two servers",
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument(
        "--channel",
        default=f"bench-invigilation-{os.getpid()}",
        help="the queue's pub/sub channel (global on a Redis server)",
    )
    parser.add_argument(
        "--only", choices=["product", "bare"], default=None, help="one server only (no ratios)"
    )
    parser.add_argument(
        "--no-scheduler",
        dest="scheduler",
        action="store_false",
        help="the product without its deadline scheduler (on by default)",
    )
    parser.add_argument(
        "--worker-timeout",
        type=int,
        default=30,
        help="gunicorn --timeout of every server (its default)",
    )
    parser.add_argument(
        "--stalls",
        action="store_true",
        help="record where each server's worker stalls (bench/invigilation_stalls.py)",
    )
    parser.add_argument(
        "--gc-freeze",
        action="store_true",
        help="every worker with gc.freeze() after loading and rare full collections, as "
        "bench.delivery --gc-freeze (the product has neither)",
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--samples",
        type=Path,
        default=None,
        metavar="FILE",
        help="append every answer's timings to FILE (JSON lines)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    parser.add_argument(
        "--profile-server",
        type=Path,
        default=None,
        metavar="DIR",
        help="each server's worker under cProfile, statistics in "
        "DIR/<server>[-redis]-<server|boards|candidates>.prof",
    )
    args = parser.parse_args()  # fmt: skip
    if args.redis:
        _redis_ready(args.redis_url)
    if args.profile_server:
        args.profile_server.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-invigilation-"))
    git = ["git", "rev-parse", "--short", "HEAD"]
    commit = subprocess.run(git, cwd=ROOT, capture_output=True, text=True).stdout.strip()
    commit = commit or os.environ.get("BENCH_COMMIT", "unknown")
    settings = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    emit({"commit": commit, "cpus": os.cpu_count(), "work": str(work), "args": settings})
    lines: list[dict] = []
    try:
        began = time.monotonic()
        seats, watches, where = build_with_invigilators(work / "template.sqlite3", args.candidates)
        emit({"setup_s": round(time.monotonic() - began, 1), "candidates": len(seats),
              "rooms": [{"plan_id": w.plan_id, "room_id": w.room_id, "candidates": w.candidates}
                        for w in watches]})  # fmt: skip
        kinds = [args.only] if args.only else ["product", "bare"]
        for redis in [None, args.redis_url] if args.redis else [None]:
            pair = {}
            for kind in kinds:
                pair[kind] = run_one(kind, redis, (seats, watches, where), work, args)
                emit(pair[kind])
                lines.append(pair[kind])
            if len(pair) == 2:
                lines.append(ratios(pair["product"], pair["bare"]))
                emit(lines[-1])
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    if lines:
        print(table(lines))


if __name__ == "__main__":
    main()
