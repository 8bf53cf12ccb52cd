"""Static files (styles, scripts) under addresses that name their content, kept by browsers.

Flask serves static files with ``Cache-Control: no-cache``: a browser asks again, with the
file's ETag, every time a page uses one. At the start of an exam that is every candidate's
waiting room and exam page asking for the same four files at once, each a request for the one
worker to parse and answer with 304. Instead, every ``url_for('static', ...)`` carries ``v``,
a digest of the file's content, and a request whose ``v`` is the file's current digest is
answered with a year's ``max-age``: a changed file gets a new address, so no browser keeps an
old one. Requests without ``v``, or with another one, are served as Flask serves them.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from flask import Flask, current_app, request
from werkzeug.security import safe_join

from .kept import keep, per_app

YEAR = 365 * 24 * 3600
VERSIONS = "examsvc.static_versions"
KEPT_VERSIONS = 256  # the static folder holds a dozen files


def version(filename: str) -> str | None:
    """A short digest of the static file's content, or None if there is no such file. Kept
    by the file's size and modification time, so an edited file gets a new one at once."""
    folder = current_app.static_folder
    joined = safe_join(folder, filename) if folder is not None else None
    if joined is None:  # no static folder, or a name reaching out of it
        return None
    path = Path(joined)
    try:
        stat = path.stat()
    except OSError:
        return None
    key = (filename, stat.st_size, stat.st_mtime_ns)
    kept: dict[tuple[str, int, int], str] = per_app(VERSIONS)
    if key not in kept:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        keep(kept, key, digest, KEPT_VERSIONS)
    return kept[key]


def _add_version(endpoint: str, values: dict[str, Any]) -> None:
    if endpoint == "static" and "filename" in values and "v" not in values:
        found = version(values["filename"])
        if found is not None:
            values["v"] = found


class App(Flask):
    """examsvc's Flask: static files under their current version are kept for a year."""

    def get_send_file_max_age(self, filename: str | None) -> int | None:
        # Flask asks this for static files and for every send_file without a max_age;
        # only a static file asked for by its current version is kept.
        # (Asked twice for a static file: by its name, and by its path when not kept.)
        wanted = request.args.get("v")
        if wanted and filename and request.endpoint == "static" and wanted == version(filename):
            return YEAR
        return super().get_send_file_max_age(filename)


def init_app(app: Flask) -> None:
    app.url_defaults(_add_version)
