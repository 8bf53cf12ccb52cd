"""What one candidate's browser asks of the server from the sign-in page to the first question.

Run ``python -m bench.delivery_requests``: a fresh database of ``--candidates`` registrations,
the product under gunicorn with its access log, and one real Chromium page per candidate doing
what the Chromium storm's pages do (``delivery_storm.browser_storm``: sign-in page, sign-in,
waiting room, start, exam page). It prints the requests per candidate by path and status; the
socket's websocket is not among them (gunicorn logs no upgraded connection). Static files are
sent with sendfile, which the access log counts as no bytes, so sizes are the files' own.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import tempfile
from collections import Counter
from pathlib import Path

from .delivery_servers import Server, product_env
from .delivery_setup import build
from .delivery_storm import browser_storm

ACCESS = "ACCESS %(m)s %(U)s %(s)s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-delivery-requests-"))
    try:
        seats = build(work / "requests.sqlite3", args.candidates)
        log = work / "gunicorn.log"
        options = ["--access-logfile", "-", "--access-logformat", ACCESS]
        server = Server("wsgi:app", product_env(work / "requests.sqlite3"), log, options=options)
        server.start("/exam/login")
        probes = log.read_text().count("ACCESS")  # the start's own requests
        try:
            asyncio.run(browser_storm(server.url, seats, server))
        finally:
            server.stop()
        lines = [x for x in log.read_text().splitlines() if x.startswith("ACCESS")][probes:]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    seen = Counter[tuple[str, str]]()
    for line in lines:
        _, _, path, status = line.split()
        seen[re.sub(r"/\d+", "/N", path), status] += 1
    n = len(seats)
    print(f"requests per candidate: {len(lines) / n:.1f}")
    for (path, status), count in sorted(seen.items()):
        print(f"{count / n:5.1f}  {status}  {path}")


if __name__ == "__main__":
    main()
