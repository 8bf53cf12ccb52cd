"""Configuration from the environment, with safe defaults for the embedded (SQLite) setup."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _secret_key(instance_path: Path) -> str:
    """Use SECRET_KEY, else a random key kept in the instance folder so sessions survive restarts."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = instance_path / "secret_key"
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def from_environment(instance_path: Path) -> dict[str, Any]:
    """Build the configuration mapping; every value can be overridden by an environment variable."""
    env = os.environ.get
    sqlite_path = instance_path / "examsvc.sqlite3"
    return {
        "SECRET_KEY": _secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": env("DATABASE_URL", f"sqlite:///{sqlite_path}"),
        # FULL adds an fsync per commit: it survives a power cut, NORMAL survives a killed process.
        "SQLITE_SYNCHRONOUS": env("SQLITE_SYNCHRONOUS", "NORMAL"),
        "SQLITE_BUSY_TIMEOUT_MS": int(env("SQLITE_BUSY_TIMEOUT_MS", "5000")),
        "SOCKETIO_MESSAGE_QUEUE": env("SOCKETIO_MESSAGE_QUEUE") or None,
        # Redis pub/sub ignores the database number: deployments sharing one Redis server need
        # channels of their own, or a board would show another deployment's candidates.
        "SOCKETIO_CHANNEL": env("SOCKETIO_CHANNEL", "examsvc"),
        # A bigger Socket.IO message closes the connection. Above any answer the protocol allows
        # (200,000 characters: ≤ 0.8 MB from a browser, 1.2 MB even \u-escaped), so those get
        # a too_large acknowledgement instead.
        "SOCKETIO_MAX_MESSAGE_BYTES": int(env("SOCKETIO_MAX_MESSAGE_BYTES", str(2_000_000))),
        # The deadline scheduler (delivery/scheduler.py): on by default only under the server
        # entry (wsgi.py); one leader however many processes serve. Interval in seconds.
        "DELIVERY_SCHEDULER": env("DELIVERY_SCHEDULER", "0") == "1",
        "DELIVERY_SCHEDULER_INTERVAL": float(env("DELIVERY_SCHEDULER_INTERVAL", "1")),
        # Seconds after a part's deadline that an answer is still stored and the part is not
        # yet submitted: for answers sent just before it and still on the network (0–60).
        "DELIVERY_GRACE_SECONDS": float(env("DELIVERY_GRACE_SECONDS", "5")),
        "RATELIMIT_STORAGE_URI": env("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        # Explicit: Flask-Limiter otherwise inherits the previous app's setting in one process.
        "RATELIMIT_ENABLED": env("RATELIMIT_ENABLED", "1") == "1",
        "LOGIN_RATE_LIMIT": env("LOGIN_RATE_LIMIT", "10 per minute"),
        # Public certificate checks: verifying a scanned QR, and looking up number + check code
        # (lower: it is the one a guesser would hammer).
        "CERT_VERIFY_RATE_LIMIT": env("CERT_VERIFY_RATE_LIMIT", "60 per minute"),
        "CERT_LOOKUP_RATE_LIMIT": env("CERT_LOOKUP_RATE_LIMIT", "10 per minute"),
        "BABEL_DEFAULT_LOCALE": env("BABEL_DEFAULT_LOCALE", "zh"),
        "BABEL_DEFAULT_TIMEZONE": env("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai"),
        "LANGUAGES": ["zh", "en"],
        "MAX_CONTENT_LENGTH": int(env("MAX_UPLOAD_BYTES", str(16 * 1024 * 1024))),
        "ATTACHMENT_MAX_BYTES": int(env("ATTACHMENT_MAX_BYTES", str(5 * 1024 * 1024))),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env("SESSION_COOKIE_SECURE", "0") == "1",
        "QUESTION_BANKS_DIR": Path(env("QUESTION_BANKS_DIR", str(ROOT / "question_banks"))),
        # A CJK TrueType font for tickets and sign-in sheets; unset: the first Debian font found.
        "EXAMSVC_CJK_FONT": env("EXAMSVC_CJK_FONT") or None,
        # Certificate signing keys (examsvc keys …): a folder outside the database and the
        # repository; back it up. The QR of a certificate holds <CERT_VERIFY_BASE_URL>/v/<token>:
        # set it to the public address verifiers reach (unset: the address of the request, or
        # http://127.0.0.1:8000 on the command line).
        "CERT_KEYS_DIR": Path(env("CERT_KEYS_DIR") or instance_path / "cert-keys"),
        "CERT_VERIFY_BASE_URL": env("CERT_VERIFY_BASE_URL") or None,
    }
