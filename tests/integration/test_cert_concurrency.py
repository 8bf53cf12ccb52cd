"""Numbers and status indexes stay unique and gap-free when several workers issue at once: each
thread has its own connection and transaction, as separate server processes would (SQLite and
PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from examsvc.auth.models import User
from examsvc.auth.roles import Role
from examsvc.certificates import services
from examsvc.certificates.models import IssuedCertificate
from examsvc.extensions import db
from examsvc.plans.models import ExamPlan

from .test_cert_support import demo_plan, key_folder, release

WORKERS = 6


def run_together(app: Flask, work: Callable[[int], None]) -> list[BaseException]:
    """``work(n)`` in WORKERS threads started at the same moment, each in its own app context
    (its own session and connection); the exceptions they raised."""
    start = threading.Barrier(WORKERS)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        with app.app_context():
            try:
                start.wait()
                work(n)
            except BaseException as exc:
                errors.append(exc)
                db.session.rollback()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def test_concurrent_counters_never_share_or_skip_a_value(app: Flask) -> None:
    committed: list[int] = []
    lock = threading.Lock()

    def work(n: int) -> None:
        for step in range(10):
            first = services.allocate("test:race", 2)
            if (n + step) % 3 == 0:
                db.session.rollback()  # an issuance that failed: its values come back
                continue
            db.session.commit()
            with lock:
                committed.extend([first, first + 1])

    assert run_together(app, work) == []
    assert sorted(committed) == list(range(1, len(committed) + 1))


@pytest.fixture
def plan(app: Flask, make_user: Callable[..., User], tmp_path: Path) -> ExamPlan:
    key_folder(app, tmp_path)
    return demo_plan(make_user(Role.ORG_ADMIN, username="admin"))


def test_issuing_one_plan_from_several_workers_at_once(app: Flask, plan: ExamPlan) -> None:
    release(plan.registrations[:20])
    plan_id = plan.id
    issued: list[int] = []

    def work(_n: int) -> None:
        row = db.session.get(ExamPlan, plan_id)
        assert row is not None
        report = services.issue_plan(row, None, datetime.now(UTC))
        db.session.commit()
        issued.append(len(report.issued))

    assert run_together(app, work) == []
    assert sorted(issued) == [0] * (WORKERS - 1) + [20]  # one run issued all, the rest none
    certs = list(db.session.scalars(select(IssuedCertificate).order_by(IssuedCertificate.number)))
    assert [int(c.number[-6:]) for c in certs] == list(range(1, 21))
    assert sorted(c.status_index for c in certs) == list(range(20))


def test_two_plans_issuing_at_once_share_one_serial_sequence(
    app: Flask, plan: ExamPlan, make_user: Callable[..., User]
) -> None:
    """Two plans of the same site and year draw serials from the same counter: interleaved,
    never the same, never a gap."""
    from examsvc.plans.services import PlanData, add_room, save_plan
    from examsvc.registration.roster_format import RosterRow
    from examsvc.registration.services import register

    admin = db.session.scalar(select(User).where(User.username == "admin"))
    assert admin is not None
    first = plan.sessions[0].starts_at
    second = save_plan(
        admin,
        PlanData(
            level_id=plan.level_id,
            batch="并发批次",
            starts={
                "theory": first.replace(year=first.year + 1),
                "practical": first.replace(year=first.year + 1, hour=(first.hour + 3) % 24),
            },
            fees={"theory": "150", "practical": "230"},
        ),
    )
    for pr in plan.rooms:
        add_room(second, pr.room_id)
    site = plan.registrations[0].site
    for reg in plan.registrations[:12]:
        c = reg.candidate
        register(
            second,
            site,
            RosterRow(
                row=2, name=c.name, id_number=c.id_number, gender=c.gender,
                institution=reg.institution, major=reg.major, class_name=reg.class_name,
                phone=c.phone, poor_family=False, level=plan.level.name, certificates=(),
                years_in_trade=reg.years_in_trade, education=reg.education, trained=True,
                graduating=True,
            ),
            admin,
        )  # fmt: skip
    db.session.commit()
    release(plan.registrations[:12])
    release(second.registrations)
    ids = [plan.id, second.id]

    def work(n: int) -> None:
        row = db.session.get(ExamPlan, ids[n % 2])
        assert row is not None
        services.issue_plan(row, None, datetime.now(UTC))
        db.session.commit()

    assert run_together(app, work) == []
    certs = list(db.session.scalars(select(IssuedCertificate)))
    assert len(certs) == 24 and {c.plan_id for c in certs} == set(ids)
    assert sorted(int(c.number[-6:]) for c in certs) == list(range(1, 25))
    assert sorted(c.status_index for c in certs) == list(range(24))
