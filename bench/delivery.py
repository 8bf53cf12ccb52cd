"""Benchmark: answers over Socket.IO against the product and against the bare ceiling of its stack.

Run ``python -m bench.delivery``. For each N, the product (``gunicorn -k eventlet -w 1 wsgi:app``
on a fresh SQLite database with N registrations) and then a bare Flask-SocketIO server that
commits each answer to SQLite and acknowledges (``bench/delivery_bare.py``, the same gunicorn
settings) get the same load from the same client code: N python-socketio AsyncClients, each
saving an answer every 5 s (after a warm-up, latencies are measured), then the first 200 of them
answering as fast as their acknowledgements come back (the sustained maximum acks/s). Every
acknowledged answer is then looked up in the database. One JSON line per N and server, one with
the product/bare ratios per N, then a table. ``--storm N`` and ``--browsers N`` add the start
storm (``bench/delivery_storm.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from examsvc.config import ROOT

from .delivery_clients import (
    Candidate,
    Outcome,
    Saturation,
    Steady,
    client_process,
    shared_session,
    sign_in,
)
from .delivery_servers import Server, configured, product_env
from .delivery_setup import Seat, bare_answers, build, product_answers

TARGET_P99_RATIO = 1.5
TARGET_ACKS_RATIO = 0.6


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


async def _sign_in_all(url: str, seats: list[Seat], concurrency: int) -> list[str]:
    gate = asyncio.Semaphore(concurrency)
    async with shared_session() as http:

        async def one(seat: Seat) -> str:
            async with gate:
                return await sign_in(http, url, seat.ticket, seat.id_number)

        return await asyncio.gather(*(one(s) for s in seats))


def lost_answers(acked: dict[tuple[int, int], tuple[int, Any]], stored: dict[Any, Any]) -> int:
    """Acknowledged answers the database does not hold: per item, the newest acknowledged seq
    must be stored, or a newer one (whose acknowledgement did not arrive)."""
    lost = 0
    for key, (seq, value) in acked.items():
        kept_seq, kept_value = stored.get(key, (0, None))
        if kept_seq < seq or (kept_seq == seq and kept_value != value):
            lost += 1
    return lost


def _steady(args: argparse.Namespace) -> Steady:
    start = time.time() + 1
    measure = start + args.warmup
    return Steady(start, measure, measure + args.duration, args.interval)


def _saturation(args: argparse.Namespace) -> Saturation:
    start = time.time() + 1
    measure = start + args.saturation_warmup
    clients = max(1, args.saturation_clients // args.client_procs)
    return Saturation(start, measure, measure + args.saturation, clients)


def _cpu_between(server: Server, start: float, end: float) -> float | None:
    """The server worker's CPU seconds from ``start`` to ``end`` (waits until then); None if
    the worker was replaced meanwhile."""
    time.sleep(max(0.0, start - time.time()))
    worker, before = server.worker_pid(), server.cpu_seconds()
    time.sleep(max(0.0, end - time.time()))
    after = server.cpu_seconds()
    return after - before if server.worker_pid() == worker else None


def _share(seconds: float | None, window: float) -> float | None:
    return None if seconds is None else round(seconds / window, 2)


def drive(server: Server, cands: list[Candidate], start: bool, args: argparse.Namespace) -> dict:
    """Run the client processes against ``server``: connect, steady load, saturation. The
    merged outcome, and the CPU share (of one core) of server and clients in each window."""
    ctx = multiprocessing.get_context("spawn")
    procs, pipes = [], []
    for k in range(args.client_procs):
        parent, child = ctx.Pipe()
        share = cands[k :: args.client_procs]
        proc = ctx.Process(
            target=client_process, args=(child, server.url, share, start, args.seed + k)
        )
        proc.start()
        procs.append(proc)
        pipes.append(parent)

    def everyone(message: Any = None) -> list[Any]:
        if message is not None:
            for pipe in pipes:
                pipe.send(message)
        return [pipe.recv() for pipe in pipes]

    try:
        merged = Outcome()
        for _, count, errs in everyone():
            merged.connected += count
            merged.errors.update(errs)
        steady = _steady(args)
        for pipe in pipes:
            pipe.send(steady)
        server_steady = _cpu_between(server, steady.measure, steady.end)
        everyone()  # drained
        saturation = _saturation(args)
        for pipe in pipes:
            pipe.send(saturation)
        server_saturated = _cpu_between(server, saturation.measure, saturation.end)
        outs: list[Outcome] = [done for _, done in everyone()]
    finally:
        for proc in procs:
            proc.join(timeout=60)
            if proc.is_alive():
                proc.kill()
    for out in outs:
        merged.errors.update(out.errors)
        merged.steady_ms += out.steady_ms
        merged.saturation_ms += out.saturation_ms
        merged.saturation_acks += out.saturation_acks
        merged.acked |= out.acked
    steady_s, saturation_s = args.duration, args.saturation
    client_steady = sum(o.cpu["steady_end"] - o.cpu["steady_measure"] for o in outs)
    client_saturated = sum(o.cpu["saturation_end"] - o.cpu["saturation_measure"] for o in outs)
    return {
        "outcome": merged,
        "server_cpu": _share(server_steady, steady_s),
        "server_cpu_saturated": _share(server_saturated, saturation_s),
        "client_cpu": _share(client_steady, steady_s),
        "client_cpu_saturated": _share(client_saturated, saturation_s),
    }


def run_one(kind: str, n: int, seats: list[Seat], work: Path, args: argparse.Namespace) -> dict:
    log = work / f"{kind}-{n}.log"
    stats = args.profile_server / f"{kind}-{n}.prof" if args.profile_server else None
    if kind == "product":
        database = work / f"product-{n}.sqlite3"
        shutil.copy(work / f"template-{n}.sqlite3", database)
        server = Server("wsgi:app", product_env(database, args.scheduler), log)
        configured(server, args, stats).start("/exam/login")
    else:
        database = work / f"bare-{n}.sqlite3"
        server = Server("bench.delivery_bare:app", {"BARE_DATABASE": str(database)}, log)
        configured(server, args, stats).start()
    try:
        if kind == "product":
            cookies = asyncio.run(_sign_in_all(server.url, seats, 16))
        else:
            cookies = [""] * len(seats)
        cands = [Candidate(s.reg_id, c, s.singles) for s, c in zip(seats, cookies, strict=True)]
        result = drive(server, cands, kind == "product", args)
        restarts, stalls = server.restarts(), server.stalls()
    finally:
        server.stop()
    out: Outcome = result["outcome"]
    if kind == "product":
        stored = product_answers(f"sqlite:///{database}")
    else:
        stored = bare_answers(database)
    errors = sum(out.errors.values())
    return {
        "n": n,
        "server": kind,
        "connected": out.connected,
        "p50_ms": percentile(out.steady_ms, 0.50),
        "p99_ms": percentile(out.steady_ms, 0.99),
        "max_ms": percentile(out.steady_ms, 1.0),
        "acks_per_s": round(len(out.steady_ms) / args.duration, 1),
        "errors": errors,
        "error_kinds": dict(out.errors),
        "lost": lost_answers(out.acked, stored),
        "worker_restarts": restarts,
        "acked_items": len(out.acked),
        "max_acks_per_s": round(out.saturation_acks / args.saturation, 1),
        "saturated_p50_ms": percentile(out.saturation_ms, 0.50),
        "saturated_p99_ms": percentile(out.saturation_ms, 0.99),
        "server_cpu": result["server_cpu"],
        "server_cpu_saturated": result["server_cpu_saturated"],
        "client_cpu": result["client_cpu"],
        "client_cpu_saturated": result["client_cpu_saturated"],
        "client_procs": args.client_procs,
        # other work on the machine shows here (1-minute load average, 2 cores)
        "loadavg": round(os.getloadavg()[0], 2),
    } | (stalls if args.watch else {})


def ratios(product: dict, bare: dict) -> dict:
    def ratio(a: float | None, b: float | None) -> float | None:
        return round(a / b, 2) if a is not None and b else None

    p99 = ratio(product["p99_ms"], bare["p99_ms"])
    acks = ratio(product["max_acks_per_s"], bare["max_acks_per_s"])
    return {
        "n": product["n"],
        "p99_ratio": p99,
        "max_acks_ratio": acks,
        "p99_target_met": p99 is not None and p99 <= TARGET_P99_RATIO,
        "max_acks_target_met": acks is not None and acks >= TARGET_ACKS_RATIO,
        "zero_loss": product["lost"] == 0 and bare["lost"] == 0,
    }


def table(lines: list[dict]) -> str:
    columns = ["N", "server", "p50 ms", "p99 ms", "errors", "lost", "acks/s", "max acks/s"]
    columns += ["server CPU", "client CPU"]
    rows = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for line in lines:
        if "server" not in line:
            rows.append(
                f"| {line['n']} | product/bare | | ×{line['p99_ratio']} | | | | "
                f"×{line['max_acks_ratio']} | | |"
            )
            continue
        rows.append(
            f"| {line['n']} | {line['server']} | {line['p50_ms']} | {line['p99_ms']} | "
            f"{line['errors']} | {line['lost']} | {line['acks_per_s']} | "
            f"{line['max_acks_per_s']} | {line['server_cpu']}/{line['server_cpu_saturated']} | "
            f"{line['client_cpu']}/{line['client_cpu_saturated']} |"
        )
    return "\n".join(rows)


def emit(line: dict) -> None:
    print(json.dumps(line, ensure_ascii=False), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="500,1000,2000,3000", help="N, comma-separated; '' for none"
    )
    parser.add_argument(
        "--duration", type=float, default=30, help="measured seconds of steady load"
    )
    parser.add_argument("--warmup", type=float, default=10, help="steady seconds not measured")
    parser.add_argument(
        "--interval", type=float, default=5, help="seconds between a client's answers"
    )
    parser.add_argument(
        "--saturation", type=float, default=10, help="measured seconds of closed loop"
    )
    parser.add_argument("--saturation-warmup", type=float, default=3)
    parser.add_argument("--saturation-clients", type=int, default=200)
    parser.add_argument("--client-procs", type=int, default=1, help="client processes")
    parser.add_argument(
        "--no-scheduler",
        dest="scheduler",
        action="store_false",
        help="the product without its deadline scheduler (on under gunicorn by default)",
    )
    parser.add_argument(
        "--worker-timeout",
        type=int,
        default=30,
        help="gunicorn --timeout (its default, 30): a worker that cannot check in is killed",
    )
    parser.add_argument("--storm", type=int, default=0, help="start storm of N candidates")
    parser.add_argument("--browsers", type=int, default=0, help="start storm of N Chromium pages")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="the storm's gunicorn workers (both servers; the product's through Redis if > 1)",
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    parser.add_argument(
        "--gc-freeze",
        action="store_true",
        help="both servers: gc.freeze() after loading and rare full collections",
    )
    parser.add_argument(
        "--watch",
        action="store_true",
        help="log the workers' full collections and event-loop stalls; count them per run",
    )
    parser.add_argument(
        "--profile-server",
        type=Path,
        default=None,
        metavar="DIR",
        help="profile each server's worker (cProfile), statistics in DIR/<server>-<N>.prof",
    )
    args = parser.parse_args()  # fmt: skip
    work = Path(tempfile.mkdtemp(prefix="bench-delivery-"))
    git = ["git", "rev-parse", "--short", "HEAD"]
    commit = subprocess.run(git, cwd=ROOT, capture_output=True, text=True).stdout.strip()
    # a copy of the tree without .git (a clean export of a commit) says which in BENCH_COMMIT
    commit = commit or os.environ.get("BENCH_COMMIT", "unknown")
    settings = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    emit({"commit": commit, "cpus": os.cpu_count(), "work": str(work), "args": settings})
    lines: list[dict] = []
    try:
        for n in (int(s) for s in args.sizes.split(",") if s):
            seats = build(work / f"template-{n}.sqlite3", n)
            pair = {}
            for kind in ("product", "bare"):
                pair[kind] = run_one(kind, n, seats, work, args)
                emit(pair[kind])
                lines.append(pair[kind])
            lines.append(ratios(pair["product"], pair["bare"]))
            emit(lines[-1])
        if args.storm or args.browsers:
            from .delivery_storm import run_storms

            for line in run_storms(args, work):
                emit(line)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    if lines:
        print(table(lines))


if __name__ == "__main__":
    main()
