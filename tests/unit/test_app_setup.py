"""The factory: configuration from the environment, threading Socket.IO, no eventlet import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from examsvc.config import from_environment


def test_configuration_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://db.example/exams")
    monkeypatch.setenv("SOCKETIO_MESSAGE_QUEUE", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("SECRET_KEY", "from-env")
    config = from_environment(tmp_path)
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql://db.example/exams"
    assert config["SOCKETIO_MESSAGE_QUEUE"] == "redis://127.0.0.1:6379/0"
    assert config["SECRET_KEY"] == "from-env"


def test_safe_defaults_without_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("DATABASE_URL", "SOCKETIO_MESSAGE_QUEUE", "SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    config = from_environment(tmp_path)
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'examsvc.sqlite3'}"
    assert config["SOCKETIO_MESSAGE_QUEUE"] is None
    # a random key, kept in the instance folder (owner-only) so sessions survive restarts
    assert len(config["SECRET_KEY"]) == 64
    assert from_environment(tmp_path)["SECRET_KEY"] == config["SECRET_KEY"]
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("grace", [-1, 61])
def test_a_grace_beyond_network_latency_is_refused_at_start(grace: float) -> None:
    from examsvc import create_app

    with pytest.raises(ValueError, match="DELIVERY_GRACE_SECONDS"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "DELIVERY_GRACE_SECONDS": grace})


def test_app_never_imports_eventlet_and_runs_socketio_threaded() -> None:
    code = (
        "import sys; from examsvc import create_app; from examsvc.extensions import socketio;"
        "app = create_app({'SQLALCHEMY_DATABASE_URI': 'sqlite://', 'SECRET_KEY': 'x'});"
        "client = socketio.test_client(app);"
        "print('eventlet' in sys.modules, socketio.async_mode, client.is_connected())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "threading", "True"]


def test_the_pure_core_imports_no_flask_and_no_database() -> None:
    """Every module in the Makefile's PURE list stays free of Flask, extensions and models."""
    import ast
    import re

    root = Path(__file__).resolve().parents[2]
    listed = re.search(r"PURE := (.*?)\n\n", (root / "Makefile").read_text(), re.S)
    assert listed is not None
    modules = listed.group(1).replace("\\", " ").split()
    assert "examsvc/assembly/engine.py" in modules
    for module in modules:
        tree = ast.parse((root / module).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                assert not re.match(r"(flask|sqlalchemy|.*extensions|.*models|.*db)\b", name), (
                    f"{module} imports {name}"
                )
