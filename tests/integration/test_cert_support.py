"""Helpers shared by the certificate database and page tests (no tests here): a key folder in a
temporary directory, the issuer settings of the demo organization, and released passes written
straight into the grading tables (as grading's release leaves them)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from examsvc.auth.models import User
from examsvc.catalog.models import Organization
from examsvc.certificates.keystore import KeyStore
from examsvc.certificates.settings import save_issuer
from examsvc.extensions import db
from examsvc.grading.models import Result
from examsvc.plans.demo import BATCH, load_demo_plan
from examsvc.plans.models import ExamPlan
from examsvc.registration.models import Registration

ISSUER = {"body_type": "S", "body_code": "0001", "province": "32"}  # 江苏, the demo site's
KEY_FROM = datetime.now(UTC).replace(microsecond=0) - timedelta(days=30)


def key_folder(app: Flask, tmp_path: Path) -> KeyStore:
    """A key folder with one key, active since a month ago, used by ``app``."""
    folder = tmp_path / "cert-keys"
    app.config["CERT_KEYS_DIR"] = folder
    store = KeyStore(folder)
    store.generate(KEY_FROM)
    return store


def demo_plan(admin: User) -> ExamPlan:
    """The demo plan (30 candidates at site 1, draft: no bank needed), issuer configured."""
    assert load_demo_plan("miit-eec", "college")
    plan = db.session.scalar(select(ExamPlan).where(ExamPlan.batch == BATCH))
    assert plan is not None and len(plan.registrations) == 30
    org = db.session.scalar(select(Organization).where(Organization.code == "miit-eec"))
    assert org is not None
    save_issuer(org, ISSUER, admin)
    db.session.commit()
    return plan


def release(regs: Iterable[Registration], status: str = "passed", released: bool = True) -> None:
    """Overall results for ``regs``, released now unless told otherwise."""
    at = datetime.now(UTC) if released else None
    for reg in regs:
        db.session.add(Result(registration_id=reg.id, status=status, released_at=at))
    db.session.commit()
