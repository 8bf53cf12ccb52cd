"""A WSGI app for ``test_gunicorn_config``: ``/hold`` keeps the eventlet worker's event loop
busy for ``HOLD_SECONDS`` without yielding to another connection, as a worker is at the start of
an exam (thousands of requests at once); every other path answers ``ok`` at once."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

HOLD_SECONDS = 3.0  # longer than gunicorn's default keep-alive of 2 s


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    if environ["PATH_INFO"] == "/hold":
        end = time.monotonic() + HOLD_SECONDS
        while time.monotonic() < end:  # no I/O, so no other green thread runs meanwhile
            pass
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]
