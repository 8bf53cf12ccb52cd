"""A gunicorn configuration that records where the eventlet worker stalls:
``gunicorn -c bench/invigilation_stalls.py`` with ``INVIGILATION_STALLS=/path/file.jsonl``.

Every greenlet of the worker runs in one thread, so code that does not yield holds every
connection: an acknowledgement or push waiting behind it is late by as much. A greenlet marks
the time every 20 ms; a real OS thread (eventlet leaves it alone) checks the mark and, while it
is older than 100 ms, samples the stack of the worker's thread every 20 ms. Each stall is one
JSON line: its start (``time.time()``), length, and the sampled stacks (innermost frames last).
Each garbage collection of the oldest generation, and any longer than 20 ms, is a line too: a
full collection of a large heap stops everything as well. ``python -m bench.invigilation
--stalls`` uses it and summarizes the lines per server. Gunicorn reads one ``-c`` file, so
this one also runs bench/delivery_gunicorn.py's hooks (``--gc-freeze``, ``--profile-server``).
"""

from __future__ import annotations

import gc
import json
import os
import sys
import traceback
from typing import Any

STALL_S = 0.1
TICK_S = 0.02


def post_worker_init(worker: Any) -> None:
    import eventlet  # the worker class has loaded it already
    from eventlet.patcher import original

    from bench.delivery_gunicorn import post_worker_init as delivery_hooks

    delivery_hooks(worker)  # --gc-freeze and --profile-server, whose -c this one replaces

    real_thread, real_time = original("_thread"), original("time")
    out = open(os.environ["INVIGILATION_STALLS"], "a", buffering=1)  # noqa: SIM115
    worker_thread = real_thread.get_ident()
    mark = [real_time.monotonic()]

    def beat() -> None:
        while True:
            mark[0] = real_time.monotonic()
            eventlet.sleep(TICK_S)

    def watch() -> None:
        samples: list[list[str]] = []
        began = 0.0
        while True:
            real_time.sleep(TICK_S)
            late = real_time.monotonic() - mark[0]
            if late > STALL_S:
                if not samples:
                    began = real_time.time() - late
                frame = sys._current_frames().get(worker_thread)
                stack = traceback.extract_stack(frame)[-40:] if frame is not None else []
                samples.append([f"{f.filename}:{f.lineno}:{f.name}" for f in stack])
            elif samples:
                line = {"stall_ms": round((real_time.time() - began) * 1000 - late * 1000, 1),
                        "at": round(began, 3), "samples": samples[:50]}  # fmt: skip
                out.write(json.dumps(line) + "\n")
                samples = []

    started = [0.0, 0.0]

    def collected(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started[:] = [real_time.perf_counter(), real_time.time()]
            return
        ms = (real_time.perf_counter() - started[0]) * 1000
        if info["generation"] == 2 or ms > 20:
            line = {"gc": info["generation"], "gc_ms": round(ms, 1), "at": round(started[1], 3),
                    "collected": info["collected"]}  # fmt: skip
            if info["generation"] == 2:  # the heap a full collection walks (counting it
                counted = real_time.perf_counter()  # stops the worker too: count_ms)
                line["objects"] = len(gc.get_objects(2))
                line["count_ms"] = round((real_time.perf_counter() - counted) * 1000, 1)
            out.write(json.dumps(line) + "\n")

    settings = {"threshold": gc.get_threshold(), "frozen": gc.get_freeze_count()}
    out.write(json.dumps({"gc_settings": settings}) + "\n")
    eventlet.spawn(beat)
    real_thread.start_new_thread(watch, ())
    gc.callbacks.append(collected)
