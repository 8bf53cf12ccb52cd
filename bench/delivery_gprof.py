"""A gunicorn configuration that profiles the worker: ``gunicorn -c bench/delivery_gprof.py``.

``python -m bench.delivery --profile-server DIR`` starts its servers with it. The worker runs
under cProfile from its start and writes the statistics to ``$DELIVERY_PROFILE`` every 5 s (the
benchmark kills its servers, so there is no clean exit to wait for); read them with
``python -m pstats``. Under eventlet every greenlet runs in the one thread, so cumulative times
mix greenlets up, but each function's own time (``tottime``) is right.
"""

from __future__ import annotations

import cProfile
import os
from typing import Any


def post_worker_init(worker: Any) -> None:
    import eventlet  # the worker class has loaded it already

    profiler = cProfile.Profile()

    def dump() -> None:
        while True:
            eventlet.sleep(5)
            profiler.disable()
            profiler.dump_stats(os.environ["DELIVERY_PROFILE"])
            profiler.enable()

    eventlet.spawn(dump)
    profiler.enable()
