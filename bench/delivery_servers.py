"""Server processes for the delivery benchmark: ``gunicorn -k eventlet -w 1`` in a process
group of its own (so that stopping it ends master and worker), and the worker's CPU time."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from examsvc.config import ROOT

from .delivery_setup import SECRET

GUNICORN = Path(sys.executable).parent / "gunicorn"
TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far (0 if it is gone)."""
    with suppress(OSError, IndexError, ValueError):
        fields = _stat(pid)
        return (int(fields[11]) + int(fields[12])) / TICKS
    return 0.0


def tree_cpu_seconds(root: int, exclude: int | None = None) -> float:
    """CPU time of every live process under ``root`` (not ``root`` itself), leaving out the
    subtree of ``exclude``: what the browsers of this benchmark use, without its server."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with suppress(OSError, IndexError, ValueError):
                children.setdefault(int(_stat(int(entry.name))[1]), []).append(int(entry.name))
    total, todo = 0.0, list(children.get(root, []))
    while todo:
        pid = todo.pop()
        if pid == exclude:
            continue
        total += process_cpu_seconds(pid)
        todo += children.get(pid, [])
    return total


def configured(server: Server, args: Any, output: Path | None) -> Server:
    """The command line's settings: the worker timeout; with ``--gc-freeze`` the worker's
    garbage collector tuned, with ``output`` the worker under cProfile writing its statistics
    there (both through bench/delivery_gunicorn.py). Settings ``args`` lacks keep defaults."""
    server.timeout = getattr(args, "worker_timeout", server.timeout)
    gc_freeze, watch = getattr(args, "gc_freeze", False), getattr(args, "watch", False)
    if gc_freeze or watch or output is not None:
        server.options += ["-c", str(Path(__file__).with_name("delivery_gunicorn.py"))]
    if gc_freeze:
        server.env = server.env | {"DELIVERY_GC": "1"}
    if watch:
        server.env = server.env | {"DELIVERY_WATCH": "1"}
    if output is not None:
        server.env = server.env | {"DELIVERY_PROFILE": str(output)}
    return server


def product_env(database: Path, scheduler: bool = True) -> dict[str, str]:
    """The product's environment: the embedded SQLite default, scheduler on as deployed."""
    return {
        "DATABASE_URL": f"sqlite:///{database}",
        "SECRET_KEY": SECRET,
        # every simulated candidate signs in from 127.0.0.1: the per-IP sign-in limit would
        # refuse all but ten a minute
        "RATELIMIT_ENABLED": "0",
        "DELIVERY_SCHEDULER": "1" if scheduler else "0",
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """``app`` (a gunicorn app URI) served by one eventlet worker."""

    app: str
    env: dict[str, str]
    log: Path
    connections: int = 10_000  # gunicorn's default of 1,000 would cap the clients
    options: list[str] = field(default_factory=list)  # more gunicorn options
    timeout: int = 30  # gunicorn's --timeout: a worker silent this long is killed
    workers: int = 1
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, probe: str = "/", timeout: float = 60) -> Server:
        command = [str(GUNICORN), "-k", "eventlet", "-w", str(self.workers)]
        command += ["--bind", f"127.0.0.1:{self.port}"]
        command += ["--worker-connections", str(self.connections), "--backlog", "4096"]
        command += ["--timeout", str(self.timeout)]
        command += ["--graceful-timeout", "2", "--no-control-socket", *self.options, self.app]
        # a message queue only where this server's settings name one
        inherited = {k: v for k, v in os.environ.items() if k != "SOCKETIO_MESSAGE_QUEUE"}
        env = inherited | {"PYTHONUNBUFFERED": "1"} | self.env
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.app} exited:\n{self.tail()}")
            with suppress(requests.RequestException):
                requests.get(self.url + probe, timeout=5)
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.app} did not answer within {timeout} s:\n{self.tail()}")

    def worker_pids(self) -> list[int]:
        assert self.proc is not None
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        with suppress(OSError, ValueError):
            return [int(pid) for pid in children.read_text().split()]
        return []

    def worker_pid(self) -> int | None:
        pids = self.worker_pids()
        return pids[0] if pids else None

    def cpu_seconds(self) -> float:
        """User + system CPU time of the workers so far."""
        return sum(process_cpu_seconds(pid) for pid in self.worker_pids())

    def stop(self) -> None:
        """SIGKILL the whole group (master and worker): every acknowledgement was committed."""
        if self.proc is None:
            return
        with suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.proc = None

    def restarts(self) -> int:
        """Workers the master booted after the first: gunicorn kills a worker that does not
        check in within ``--timeout`` (30 s), dropping every connection it held."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return max(0, text.count("Booting worker") - self.workers)

    def stalls(self) -> dict[str, float]:
        """What ``--watch`` logged: full (generation 2) collections and event-loop stalls over
        50 ms, how many and the longest."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        gc2, late = [], []
        for line in text.splitlines():
            words = line.split()
            if len(words) >= 3 and words[0] == "DELIVERY-WATCH":
                if words[1] == "gc" and words[2] == "2":
                    gc2.append(float(words[3]))
                elif words[1] == "late":
                    late.append(float(words[2]))
        return {
            "full_gc": len(gc2),
            "full_gc_max_ms": max(gc2, default=0),
            "stalls_over_50ms": len(late),
            "stall_max_ms": max(late, default=0),
        }

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])
