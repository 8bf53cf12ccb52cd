"""examsvc: online exam and assessment delivery for 1+X vocational skill certificates."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from flask import Flask

from .config import ROOT, from_environment
from .static_files import App

__version__ = "0.1.0"


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Application factory: configure, bind extensions, register blueprints and commands."""
    instance = Path(ROOT / "instance")
    app = App(
        __name__,
        instance_path=str(instance),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_mapping(from_environment(instance))
    if test_config:
        app.config.from_mapping(test_config)
    _check_grace(app.config["DELIVERY_GRACE_SECONDS"])

    from . import db, i18n, socket_rooms, static_files
    from .auth import setup as auth_setup
    from .extensions import csrf, limiter, migrate, socketio
    from .extensions import db as sqla

    db.init_app(app)
    migrate.init_app(app, sqla, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    i18n.init_app(app)
    static_files.init_app(app)
    auth_setup.init_app(app)
    # eventlet only when the server entry point (gunicorn -k eventlet) has loaded it; the app
    # itself never imports eventlet, so tests and the development server run in threading mode.
    async_mode = app.config.get("SOCKETIO_ASYNC_MODE") or (
        "eventlet" if "eventlet" in sys.modules else "threading"
    )
    socketio.init_app(
        app,
        client_manager=socket_rooms.client_manager(
            app.config["SOCKETIO_MESSAGE_QUEUE"], app.config["SOCKETIO_CHANNEL"]
        ),
        async_mode=async_mode,
        max_http_buffer_size=app.config["SOCKETIO_MAX_MESSAGE_BYTES"],
    )
    from .delivery import scheduler, sockets
    from .proctoring import sockets as invigilation

    sockets.init_app(socketio)
    invigilation.init_app(socketio)
    if app.config["DELIVERY_SCHEDULER"]:
        scheduler.start(app)

    from .api.pages import bp as tokens_bp
    from .api.routes import bp as api_bp
    from .assembly.routes import bp as assembly_bp
    from .auth.routes import bp as auth_bp
    from .bank.routes import bp as bank_bp
    from .catalog.routes import bp as catalog_bp
    from .certificates.routes import bp as certificates_bp
    from .certificates.verify_routes import bp as verify_bp
    from .core.routes import bp as core_bp
    from .delivery.paper_routes import bp as exam_paper_bp
    from .delivery.routes import bp as exam_bp
    from .errors import bp as errors_bp
    from .grading.lookup_routes import bp as results_bp
    from .grading.marking_routes import bp as marking_bp
    from .grading.routes import bp as grading_bp
    from .plans.document_routes import bp as plan_docs_bp
    from .plans.routes import bp as plans_bp
    from .proctoring.routes import bp as invigilation_bp
    from .sites.routes import bp as sites_bp

    for blueprint in (
        core_bp,
        errors_bp,
        auth_bp,
        catalog_bp,
        bank_bp,
        assembly_bp,
        api_bp,
        tokens_bp,
        plan_docs_bp,
        plans_bp,
        sites_bp,
        exam_bp,
        exam_paper_bp,
        grading_bp,
        marking_bp,
        results_bp,
        invigilation_bp,
        certificates_bp,
        verify_bp,
    ):
        app.register_blueprint(blueprint)
    csrf.exempt(api_bp)  # token-only, see api.routes

    from .cli import register_commands

    register_commands(app)
    return app


def _check_grace(seconds: float) -> None:
    from .delivery.clock import MAX_GRACE

    if not 0 <= seconds <= MAX_GRACE.total_seconds():
        raise ValueError(
            f"DELIVERY_GRACE_SECONDS={seconds} is out of range: use 0 to "
            f"{MAX_GRACE.total_seconds():.0f} seconds (it covers network latency, not extra time)"
        )
