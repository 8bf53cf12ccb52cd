"""Shared fixtures: an app on a migrated database (SQLite by default, PostgreSQL where asked),
staff users by role, and a signed-in client."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from werkzeug.test import TestResponse

from examsvc import create_app
from examsvc.auth.models import User
from examsvc.auth.roles import Role
from examsvc.auth.services import create_user
from examsvc.catalog.models import Organization
from examsvc.catalog.services import ensure_organization
from examsvc.config import ROOT
from examsvc.demo import OWNERS, load_catalog
from examsvc.extensions import db
from examsvc.plans.models import ExamPlan

POSTGRES_URL = os.environ.get(
    "EXAMSVC_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
PASSWORD = "correct horse battery staple"
_migrated: set[str] = set()


def _postgres_reachable() -> str | None:
    try:
        engine = sa.create_engine(POSTGRES_URL)
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
        return None
    except sa.exc.OperationalError as exc:
        return str(exc).splitlines()[0]


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


def database_url(backend: str, sqlite_url: str) -> str:
    if backend == "sqlite":
        return sqlite_url
    problem = _postgres_reachable()
    if problem:
        if os.environ.get("EXAMSVC_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL is required here but unreachable: {problem}")
        pytest.skip(
            f"PostgreSQL unreachable at {POSTGRES_URL} ({problem}); tests ran on SQLite only"
        )
    return POSTGRES_URL


@pytest.fixture
def backend() -> str:
    """The database backend; tests/integration runs every test on both."""
    return "sqlite"


def _reset_postgres() -> None:
    engine = sa.create_engine(POSTGRES_URL)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


def _empty_tables() -> None:
    tables = list(reversed(db.metadata.sorted_tables))
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(table.delete())
    db.session.commit()


class IsolatedClient(FlaskClient):
    """A test client whose every request gets a fresh app context, as in production.

    Tests hold an app context for their own database work; without this, requests would share
    its ``g`` (the signed-in user, the locale) and its session with each other and with the test.
    """

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def app(backend: str, sqlite_url: str, tmp_path: Path) -> Iterator[Flask]:
    url = database_url(backend, sqlite_url)
    instance = tmp_path / "instance"
    instance.mkdir()
    application = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "SQLALCHEMY_DATABASE_URI": url,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            # The demo and certificate tests make a signing key: never in the repo's instance/.
            "CERT_KEYS_DIR": str(tmp_path / "cert-keys"),
        }
    )
    application.test_client_class = IsolatedClient
    with application.app_context():
        if url not in _migrated:
            if backend == "postgresql":
                _reset_postgres()
            upgrade()
            _migrated.add(url)
        _empty_tables()
        yield application
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def catalog(app: Flask) -> dict[str, Organization]:
    """Organizations, every standard and scheme from question_banks/ (no items)."""
    orgs = {
        "miit-eec": ensure_organization("miit-eec", "工业和信息化部教育与考试中心"),
        "cflp": ensure_organization("cflp", "中国物流与采购联合会"),
        "college": ensure_organization("college", "示范职业技术学院", "institution"),
    }
    load_catalog(ROOT / "question_banks", OWNERS | {"*": "miit-eec"})
    db.session.commit()
    return orgs


@pytest.fixture
def make_user(app: Flask, catalog: dict[str, Organization]) -> Callable[..., User]:
    """Factory: a committed staff user with the given roles in an organization."""
    counter = iter(range(1, 10_000))

    def make(*roles: Role, org: str = "miit-eec", username: str | None = None) -> User:
        name = username or f"{'-'.join(sorted(roles)) or 'nobody'}{next(counter)}"
        user = create_user(name, PASSWORD, f"用户 {name}", set(roles), catalog[org].id)
        db.session.commit()
        return user

    return make


def sign_in(client: FlaskClient, user: User) -> None:
    response = client.post("/auth/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


@pytest.fixture
def client_as(app: Flask, make_user: Callable[..., User]) -> Callable[..., FlaskClient]:
    """Factory: a test client signed in as a new user with the given roles."""

    def make(*roles: Role, org: str = "miit-eec") -> FlaskClient:
        client = app.test_client()
        sign_in(client, make_user(*roles, org=org))
        return client

    return make


def open_demo_plan() -> ExamPlan:
    """The demo's published plan on the sample bank and blueprint, its sessions moved to
    yesterday so every part can start at once. Needs the catalog and an org admin ``admin``."""
    from examsvc.assembly.services import load_blueprint_file
    from examsvc.bank.services import import_bank
    from examsvc.bank.yaml_format import read_bank_dir
    from examsvc.plans.demo import BATCH, load_demo_plan

    banks = ROOT / "question_banks"
    data, _ = read_bank_dir(banks / "web-frontend-junior", banks)
    import_bank(data, None)
    load_blueprint_file(banks / "blueprints" / "web-frontend-junior.yaml")
    load_demo_plan("miit-eec", "college")
    plan = db.session.scalar(sa.select(ExamPlan).where(ExamPlan.batch == BATCH))
    assert plan is not None and plan.state == "published"
    for session in plan.sessions:
        session.starts_at -= timedelta(days=1)
    db.session.commit()
    return plan
