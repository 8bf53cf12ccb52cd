"""Fixtures for page tests: a Web 初级 bank and app variants with other settings."""

from __future__ import annotations

import pytest
from flask import Flask

from examsvc import create_app
from examsvc.bank.services import ensure_bank
from examsvc.catalog.services import find_level
from examsvc.extensions import db


@pytest.fixture
def bank_id(app: Flask, catalog: object) -> int:
    """An empty Web 前端开发 初级 bank of the first organization."""
    bank = ensure_bank("wf", "Web 初级", find_level("web-frontend", "junior"))
    db.session.commit()
    return int(bank.id)


def variant(app: Flask, **overrides: object) -> Flask:
    """Another app on the same database, e.g. with CSRF or rate limits switched on."""
    config: dict[str, object] = {
        "TESTING": True,
        "SECRET_KEY": "test",
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "RATELIMIT_ENABLED": False,
    }
    return create_app(config | overrides)
