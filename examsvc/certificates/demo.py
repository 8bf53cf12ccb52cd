"""The demo's certificates: a signing key (when the key folder has none), the demo organization's
issuer settings and credit recommendations, and a certificate for every released pass.

Idempotent: an existing key, settings that staff changed and certificates already issued are
kept. Returns the lines ``examsvc demo load`` prints, with one verify URL to open.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from ..auth.models import User
from ..catalog.models import Organization
from ..errors import DomainError
from ..extensions import db
from ..plans.models import ExamPlan
from ..sites.models import Site
from .keystore import KeyStoreError
from .models import IssuedCertificate
from .services import issue_plan, key_store, verify_url
from .settings import (
    issuer_settings,
    level_settings,
    levels_of,
    save_issuer,
    save_level,
    save_site,
    site_settings,
)

# Made-up codes for the demo: body code 0001, Beijing (11); the demo site is in Jiangsu (32).
DEMO_ISSUER = {"body_type": "S", "body_code": "0001", "province": "11"}
DEMO_SITE_PROVINCE = "32"
DEMO_CREDITS = {"junior": "4", "intermediate": "6", "senior": "8"}


def _key_line() -> str | None:
    store = key_store()
    try:
        if store.keyset().active is None:
            key = store.generate(datetime.now(UTC))
            return f"证书签名密钥：已生成 {key.kid}（{store.folder}，请备份）"
    except KeyStoreError as exc:
        return f"证书签名密钥不可用：{exc}"
    return None


def load_demo_certificates(owner_code: str) -> list[str]:
    """Issue the demo organization's certificates; the lines to print."""
    org = db.session.scalar(select(Organization).where(Organization.code == owner_code))
    admin = db.session.scalar(select(User).where(User.username == "admin"))
    if org is None:
        return []
    lines = [line] if (line := _key_line()) else []
    if issuer_settings(org) is None:
        save_issuer(org, DEMO_ISSUER, None)
    for site in db.session.scalars(select(Site).where(Site.organization_id == org.id)):
        if site_settings(site) is None:
            save_site(site, {"province": DEMO_SITE_PROVINCE, "serial": ""}, None)
    for level in levels_of(org):
        if level_settings(level) is None and level.level in DEMO_CREDITS:
            save_level(level, {"credits": DEMO_CREDITS[level.level]}, None)
    plans = db.session.scalars(
        select(ExamPlan).where(ExamPlan.organization_id == org.id).order_by(ExamPlan.id)
    )
    for plan in plans:
        try:
            report = issue_plan(plan, admin, datetime.now(UTC))
        except DomainError as exc:
            lines.append(f"证书 {plan.title}：未签发（{exc.message}）")
            continue
        if report.issued:
            lines.append(f"证书 {plan.title}：新签发 {len(report.issued)} 张")
    sample = db.session.scalar(
        select(IssuedCertificate)
        .where(IssuedCertificate.organization_id == org.id, IssuedCertificate.revoked_at.is_(None))
        .order_by(IssuedCertificate.id)
    )
    if sample is not None:
        lines.append(f"演示证书验证（扫码后打开的页面）：{verify_url(sample)}")
        lines.append(f"  或在 /v/ 输入证书编号 {sample.number} 和校验码 {sample.check_code}")
    return lines
