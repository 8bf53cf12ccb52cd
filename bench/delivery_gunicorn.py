"""A gunicorn configuration for the delivery benchmark's servers: ``gunicorn -c`` this file.

It starts from the project's own settings (``gunicorn.conf.py``, which ``-c`` would otherwise
replace), so a server measured with these hooks runs as a site runs it. Three hooks, each on
when its variable is set (``python -m bench.delivery`` sets them):

- ``DELIVERY_GC=1`` (``--gc-freeze``): after the worker has loaded the app, ``gc.freeze()`` moves
  every object there to the permanent generation and ``gc.set_threshold(10_000, 50, 1_000)``
  makes full collections rare. With 2,000 connections a full collection of the default settings
  stops the worker for 0.2–0.5 s every few seconds, and those pauses are the p99 of both servers.
- ``DELIVERY_WATCH=1`` (``--watch``): the worker logs every garbage collection longer than
  20 ms (``DELIVERY-WATCH gc <generation> <ms>``) and every time the event loop came back more
  than 50 ms late to a greenlet that sleeps 10 ms (``DELIVERY-WATCH late <ms>``): the stalls
  every connection of the worker waits through. The benchmark counts them from the log.
- ``DELIVERY_PROFILE=FILE`` (``--profile-server``): the worker runs under cProfile and writes its
  statistics to FILE every 5 s (the benchmark kills its servers: there is no clean exit to wait
  for); read them with ``python -m pstats``. Under eventlet every greenlet runs in the one
  thread, so cumulative times mix greenlets up, but each function's own time is right.
"""

from __future__ import annotations

import cProfile
import gc
import os
import runpy
import sys
import time
from pathlib import Path
from typing import Any

PROJECT_SETTINGS = Path(__file__).resolve().parents[1] / "gunicorn.conf.py"
globals().update(
    (name, value)
    for name, value in runpy.run_path(str(PROJECT_SETTINGS)).items()
    if not name.startswith("_")
)
GC_THRESHOLD = (10_000, 50, 1_000)


def post_worker_init(worker: Any) -> None:
    if os.environ.get("DELIVERY_GC") == "1":
        gc.collect()
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLD)
    if os.environ.get("DELIVERY_WATCH") == "1":
        _watch()
    if os.environ.get("DELIVERY_PROFILE"):
        _profile(os.environ["DELIVERY_PROFILE"])


def _say(what: str) -> None:
    print(f"DELIVERY-WATCH {what}", file=sys.stderr, flush=True)


def _watch() -> None:
    import eventlet

    started = [0.0]

    def collected(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
            return
        ms = (time.perf_counter() - started[0]) * 1000
        if ms > 20:
            _say(f"gc {info['generation']} {ms:.0f}")

    def lateness() -> None:
        while True:
            before = time.perf_counter()
            eventlet.sleep(0.01)
            late = (time.perf_counter() - before - 0.01) * 1000
            if late > 50:
                _say(f"late {late:.0f}")

    gc.callbacks.append(collected)
    eventlet.spawn(lateness)


def _profile(output: str) -> None:
    import eventlet  # the worker class has loaded it already

    profiler = cProfile.Profile()

    def dump() -> None:
        while True:
            eventlet.sleep(5)
            profiler.disable()
            profiler.dump_stats(output)
            profiler.enable()

    eventlet.spawn(dump)
    profiler.enable()
