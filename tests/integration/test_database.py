"""The migrations build exactly the models' schema, and SQLite runs with the promised pragmas."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import text

from examsvc import create_app
from examsvc.extensions import db


def test_migrations_match_the_models(app: Flask) -> None:
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == []


def test_sqlite_pragmas(app: Flask, backend: str) -> None:
    if backend != "sqlite":
        return  # PostgreSQL has no pragmas; the same test body still checks its schema above
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL


def test_healthz_reports_the_database(app: Flask) -> None:
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ok"
    assert response.get_json()["database"] == "ok"


def test_the_deadline_migration_stores_the_deadline_of_parts_in_progress(tmp_path: Path) -> None:
    """Upgrading during an exam: a running part gets its deadline, the others none."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.db'}",
        }
    )
    with app.app_context():
        upgrade(revision="0008_retakes")
        with db.engine.begin() as conn:
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")  # a sitting alone, no registration
            for id_, state, pauses in (
                (1, "in_progress", '[["2026-06-01T09:30:00+00:00", "2026-06-01T09:40:00+00:00"]]'),
                (2, "paused", '[["2026-06-01T09:30:00+00:00", null]]'),
                (3, "submitted", "[]"),
            ):
                conn.exec_driver_sql(
                    "INSERT INTO sitting (id, registration_id, part_kind, state, duration_minutes,"
                    " extra_ratio, extensions, pauses, started_at, last_seq, answered)"
                    " VALUES (?, ?, 'theory', ?, 90, 0.5, '[300]', ?, '2026-06-01 09:00:00', 0, 0)",
                    (id_, id_, state, pauses),
                )
        upgrade()
        stored = dict(db.session.execute(text("SELECT id, deadline_at FROM sitting")).all())
        db.engine.dispose()
    # 09:00 + 90 min × 1.5 + 5 min + the 10 min pause
    assert str(stored[1]).startswith("2026-06-01 11:30:00")
    assert stored[2] is None and stored[3] is None
