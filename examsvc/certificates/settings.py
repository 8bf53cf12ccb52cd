"""What organization admins configure for certificates: the issuer parts of the number (per
organization, and per site where the province or the site serial differ), the credit
recommendation and validity of each level, and the printed layout of each certificate.

Every change is audited with its old and new values. Forms are checked whole: every problem is
listed, nothing is stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, fields
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select

from ..auth.models import User
from ..catalog.models import Certificate, CertificateLevel, Organization
from ..errors import DomainError, NotFound
from ..extensions import db
from ..registration.identity import PROVINCES
from ..sites.models import Site
from .models import IssuerSettings, LayoutSettings, LevelSettings, SiteSettings, audit
from .number import BODY_TYPES, CertificateNumberError, Issuer
from .render import CertificateLayout

MAX_CREDITS = Decimal("99.9")
MAX_VALIDITY_YEARS = 50
LAYOUT_TEXT = ("title", "subtitle", "statement", "qr_caption", "seal_label")
LAYOUT_NUMBERS = ("margin", "title_size", "text_size", "qr_size")
LAYOUT_FLAGS = ("frame", "show_id_number")


class SettingsProblems(DomainError):
    """A settings form with problems; ``details`` lists each, naming its field."""


# ---- reading -----------------------------------------------------------------------------------


def issuer_settings(org: Organization) -> IssuerSettings | None:
    return db.session.scalar(select(IssuerSettings).where(IssuerSettings.organization_id == org.id))


def site_settings(site: Site) -> SiteSettings | None:
    return db.session.scalar(select(SiteSettings).where(SiteSettings.site_id == site.id))


def level_settings(level: CertificateLevel) -> LevelSettings | None:
    return db.session.scalar(select(LevelSettings).where(LevelSettings.level_id == level.id))


def issuer_for(org: Organization, site: Site) -> Issuer:
    """Positions 1–13 of the numbers ``org`` issues for candidates of ``site``.
    :raises DomainError: the organization has no issuer settings yet."""
    row = issuer_settings(org)
    if row is None:
        raise DomainError(
            f"「{org.name}」还没有设置证书编号的发证机构信息（评价机构类别、代码和省份）："
            "请先在“证书 → 发证设置”中填写"
        )
    extra = site_settings(site)
    province = (extra.province if extra else None) or row.province
    serial = extra.serial if extra and extra.serial is not None else site.number
    try:
        return Issuer(row.body_type, row.body_code, province, serial)
    except CertificateNumberError as exc:
        raise DomainError(f"考点「{site.name}」的证书编号设置无效：{exc}") from exc


def sites_of(org: Organization) -> list[Site]:
    return list(
        db.session.scalars(select(Site).where(Site.organization_id == org.id).order_by(Site.number))
    )


def levels_of(org: Organization) -> list[CertificateLevel]:
    return list(
        db.session.scalars(
            select(CertificateLevel)
            .join(Certificate)
            .where(Certificate.organization_id == org.id)
            .order_by(Certificate.name, CertificateLevel.rank)
        )
    )


def certificates_of(org: Organization) -> list[Certificate]:
    return list(
        db.session.scalars(
            select(Certificate)
            .where(Certificate.organization_id == org.id)
            .order_by(Certificate.name)
        )
    )


def managed_certificate_type(user: User, certificate_id: int) -> Certificate:
    row = db.session.get(Certificate, certificate_id)
    if row is None or row.organization_id != user.organization_id:
        raise NotFound("证书不存在或不属于您的机构")
    return row


def layout_for(certificate: Certificate) -> CertificateLayout:
    """The certificate's layout: the stored changes over the defaults."""
    row = db.session.scalar(
        select(LayoutSettings).where(LayoutSettings.certificate_id == certificate.id)
    )
    known = {f.name for f in fields(CertificateLayout)}
    stored = {k: v for k, v in (row.settings if row else {}).items() if k in known}
    try:
        return CertificateLayout(**stored)
    except (TypeError, ValueError):  # stored by an older version: print with the defaults
        return CertificateLayout()


# ---- forms -------------------------------------------------------------------------------------


def _int(text: str, label: str, low: int, high: int, problems: list[str]) -> int | None:
    text = text.strip()
    if not text.isdigit() or not low <= int(text) <= high:
        problems.append(f"{label}“{text}”无效：应为 {low}–{high} 的整数")
        return None
    return int(text)


def save_issuer(org: Organization, form: Mapping[str, str], actor: User | None) -> IssuerSettings:
    """Store positions 1–7 of the organization's numbers: body type, body code, province."""
    problems: list[str] = []
    body_type = form.get("body_type", "").strip().upper()
    if body_type not in BODY_TYPES:
        problems.append(
            "评价机构类别应为 S（社会培训评价组织，1+X 培训评价组织均为 S）或 Y（用人单位）"
        )
    body_code = _int(form.get("body_code", ""), "评价机构代码", 0, 9999, problems)
    province = form.get("province", "").strip()
    if province not in PROVINCES:
        problems.append(f"省份代码“{province}”无效：应为 GB/T 2260 的两位省级代码，如 37 山东")
    if problems or body_code is None:
        raise SettingsProblems("发证机构设置有误，未保存", problems)
    row = issuer_settings(org)
    old = None if row is None else _issuer_dict(row)
    if row is None:
        row = IssuerSettings(organization_id=org.id)
        db.session.add(row)
    row.body_type, row.body_code, row.province = body_type, body_code, province
    audit(org.id, "issuer", actor, old=old, new=_issuer_dict(row))
    db.session.flush()
    return row


def _issuer_dict(row: IssuerSettings) -> dict[str, Any]:
    return {"body_type": row.body_type, "body_code": row.body_code, "province": row.province}


def save_site(site: Site, form: Mapping[str, str], actor: User | None) -> SiteSettings | None:
    """Store the site's province and serial where they differ from the defaults (empty
    fields: the organization's province, the site's number)."""
    problems: list[str] = []
    province = form.get("province", "").strip() or None
    if province is not None and province not in PROVINCES:
        problems.append(f"考点「{site.name}」的省份代码“{province}”无效：应为两位省级代码，或留空")
    serial_text = form.get("serial", "").strip()
    label = f"考点「{site.name}」的机构（站点）序号"
    serial = _int(serial_text, label, 0, 999_999, problems) if serial_text else None
    if problems:
        raise SettingsProblems("考点设置有误，未保存", problems)
    row = site_settings(site)
    old = None if row is None else {"province": row.province, "serial": row.serial}
    if row is None:
        row = SiteSettings(site_id=site.id)
        db.session.add(row)
    row.province, row.serial = province, serial
    new = {"province": province, "serial": serial, "site": site.name}
    audit(site.organization_id, "site", actor, old=old, new=new)
    db.session.flush()
    return row


def save_level(
    level: CertificateLevel, form: Mapping[str, str], actor: User | None
) -> LevelSettings:
    """Store the credit recommendation (学分, one decimal) and the validity in years (empty:
    for life) of a level; both apply to certificates issued from now on."""
    problems: list[str] = []
    credits: Decimal | None = None
    text = form.get("credits", "").strip()
    if text:
        try:
            credits = Decimal(text)
        except InvalidOperation:
            credits = None
        if credits is None or not credits.is_finite() or not 0 <= credits <= MAX_CREDITS:
            problems.append(f"{level.title} 的学分建议“{text}”无效：应为 0–{MAX_CREDITS} 的数")
            credits = None
        elif credits != credits.quantize(Decimal("0.1")):
            problems.append(f"{level.title} 的学分建议“{text}”最多保留一位小数")
    years_text = form.get("validity_years", "").strip()
    label = f"{level.title} 的有效期（年）"
    years = _int(years_text, label, 1, MAX_VALIDITY_YEARS, problems) if years_text else None
    if problems:
        raise SettingsProblems("等级设置有误，未保存", problems)
    row = level_settings(level)
    old = None if row is None else {"credits": _plain(row.credits), "years": row.validity_years}
    if row is None:
        row = LevelSettings(level_id=level.id)
        db.session.add(row)
    row.credits, row.validity_years = credits, years
    new = {"credits": _plain(credits), "years": years, "level": level.title}
    audit(level.certificate.organization_id, "level", actor, old=old, new=new)
    db.session.flush()
    return row


def _plain(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def save_layout(
    certificate: Certificate, form: Mapping[str, str], actor: User | None
) -> CertificateLayout:
    """Store the printed layout of ``certificate``; only what differs from the defaults."""
    defaults = CertificateLayout()
    values: dict[str, Any] = {}
    problems: list[str] = []
    for name in LAYOUT_TEXT:
        text = form.get(name, "").strip()
        if len(text) > 300:
            problems.append(f"{name} 过长：最多 300 个字符")
        values[name] = text
    for name in LAYOUT_NUMBERS:
        text = form.get(name, "").strip()
        try:
            values[name] = float(text) if text else getattr(defaults, name)
        except ValueError:
            problems.append(f"{name}“{text}”应为数字")
    for name in LAYOUT_FLAGS:
        values[name] = form.get(name) in ("1", "on", "yes", "true")
    if not values["title"]:
        problems.append("证书标题不能为空")
    layout = defaults
    if not problems:
        try:
            layout = CertificateLayout(**values)
        except ValueError as exc:
            problems.append(str(exc))
    if problems:
        raise SettingsProblems("证书版式设置有误，未保存", problems)
    changed = {k: v for k, v in asdict(layout).items() if v != getattr(defaults, k)}
    row = db.session.scalar(
        select(LayoutSettings).where(LayoutSettings.certificate_id == certificate.id)
    )
    old = None if row is None else dict(row.settings)
    if row is None:
        row = LayoutSettings(certificate_id=certificate.id)
        db.session.add(row)
    row.settings = changed
    audit(certificate.organization_id, "layout", actor, old=old, new=changed, code=certificate.code)
    db.session.flush()
    return layout
