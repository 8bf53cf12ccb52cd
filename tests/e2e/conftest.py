"""Fixtures for page tests: a Web 初级 bank, the demo plan seated, and app variants with other
settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from examsvc import create_app
from examsvc.auth.models import User
from examsvc.auth.roles import Role
from examsvc.bank.services import ensure_bank
from examsvc.catalog.models import Organization
from examsvc.catalog.services import find_level
from examsvc.extensions import db
from examsvc.plans.demo import BATCH, load_demo_plan
from examsvc.plans.models import ExamPlan
from examsvc.plans.seats import auto_seat
from examsvc.registration.models import Registration
from examsvc.sites.models import Room
from tests.conftest import sign_in


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


@dataclass
class Demo:
    plan_id: int
    admin: User
    site_admin: User
    invigilator: User

    @property
    def plan(self) -> ExamPlan:
        plan = db.session.get(ExamPlan, self.plan_id)
        assert plan is not None
        return plan

    def regs(self, room: Room | None = None) -> list[Registration]:
        return [r for r in self.plan.registrations if room is None or r.room_id == room.id]

    def room(self, number: int) -> Room:
        return next(pr.room for pr in self.plan.rooms if pr.room.number == number)


@pytest.fixture
def demo(app: Flask, catalog: dict[str, Organization], make_user: Callable[..., User]) -> Demo:
    admin = make_user(Role.ORG_ADMIN, username="admin")
    site_admin = make_user(Role.SITE_ADMIN, org="college", username="siteadmin")
    invigilator = make_user(Role.INVIGILATOR, org="college", username="invigilator")
    assert load_demo_plan("miit-eec", "college")
    plan = db.session.scalar(select(ExamPlan).where(ExamPlan.batch == BATCH))
    assert plan is not None and plan.state == "draft" and len(plan.registrations) == 30
    auto_seat(plan)
    db.session.commit()
    return Demo(plan.id, admin, site_admin, invigilator)


def client_of(app: Flask, user: User) -> FlaskClient:
    client = app.test_client()
    sign_in(client, user)
    return client
