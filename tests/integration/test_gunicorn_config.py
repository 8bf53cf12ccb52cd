"""The project's gunicorn settings (``gunicorn.conf.py``, read by every ``gunicorn`` started in
the project's folder) against a real eventlet worker.

A browser sends its next request on a connection kept alive from the last one. The eventlet
worker waits for it with a timer of its event loop, and the loop fires due timers before it
reads the sockets: when the worker has been busy for longer than the keep-alive, it closes the
connection with the request that came in meanwhile unread, and the browser gets a reset. In the
50-page Chromium storm that was a candidate's exam.js (bench/README.md).
"""

from __future__ import annotations

import runpy
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from examsvc.config import ROOT

from .held_worker_app import HOLD_SECONDS
from .test_exam_socket import GUNICORN, free_port

pytestmark = pytest.mark.timeout(60)


@contextmanager
def held_worker_server(log: Path, *options: str) -> Iterator[int]:
    """``gunicorn`` run as a site runs it (in the project's folder, so with its settings) on
    ``held_worker_app``; its port."""
    port = free_port()
    command = [str(GUNICORN), "--bind", f"127.0.0.1:{port}", *options]
    command += ["--graceful-timeout", "2", "--no-control-socket"]
    command += ["tests.integration.held_worker_app:app"]
    with log.open("ab") as out:
        proc = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                requests.get(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except requests.RequestException:
                assert time.monotonic() < deadline, log.read_text()[-2000:]
                time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


def _get(conn: socket.socket, path: str) -> None:
    conn.sendall(f"GET {path} HTTP/1.1\r\nHost: exam\r\n\r\n".encode())


def _response(conn: socket.socket) -> bytes:
    """One whole response (the app's are ``ok``), or what came before the server closed."""
    data = b""
    while not data.endswith(b"\r\n\r\nok"):
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def next_request_while_held(port: int) -> bytes:
    """A request on a connection kept alive, sent while another request holds the worker for
    longer than gunicorn's default keep-alive: the response, or how the connection ended."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as kept:
        _get(kept, "/")
        assert _response(kept).startswith(b"HTTP/1.1 200"), "the first request is answered"
        holder = socket.create_connection(("127.0.0.1", port), timeout=20)
        time.sleep(0.1)
        _get(holder, "/hold")  # the worker is held from here for HOLD_SECONDS
        time.sleep(0.5)
        _get(kept, "/")  # arrives well within any keep-alive
        try:
            return _response(kept)
        except ConnectionResetError:
            return b"reset"
        finally:
            holder.close()


def test_a_request_on_a_kept_connection_is_answered_after_the_worker_was_held(
    tmp_path: Path,
) -> None:
    with held_worker_server(tmp_path / "gunicorn.log") as port:
        assert next_request_while_held(port).startswith(b"HTTP/1.1 200 OK")


def test_with_gunicorns_default_keep_alive_the_same_request_is_reset(tmp_path: Path) -> None:
    # What the setting prevents, so the test above can fail: gunicorn's own 2 s.
    with held_worker_server(tmp_path / "gunicorn.log", "--keep-alive", "2") as port:
        assert next_request_while_held(port) in (b"reset", b"")


def test_the_keep_alive_outlasts_the_worker_timeout() -> None:
    # A worker busy for longer than its timeout is killed and replaced: with a longer keep-alive,
    # a live worker never closes a kept connection under a request that arrived in time.
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert settings["worker_class"] == "eventlet"
    assert settings["keepalive"] > settings["timeout"] > HOLD_SECONDS
    # every candidate of a 2,000-seat hall holds a websocket and keeps a connection or two alive
    assert settings["worker_connections"] >= 3 * 2000
