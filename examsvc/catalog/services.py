"""Catalog use cases: organizations, certificates, standards and schemes into the database."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from sqlalchemy import select

from ..errors import DomainError, NotFound
from ..extensions import db
from ..yaml_text import safe_load
from .models import (
    Certificate,
    CertificateLevel,
    ExamScheme,
    Organization,
    SchemePart,
    SchemeSection,
    SkillStandard,
    StandardNode,
)
from .scheme_rules import Part, Scheme, SchemeError, Section, parse_scheme, validate_scheme
from .standards import LEVELS, Standard, StandardError, parse_standard

LEVEL_RANK = {level: n for n, level in enumerate(LEVELS, 1)}


def ensure_organization(code: str, name: str, kind: str = "evaluation") -> Organization:
    org = db.session.scalar(select(Organization).where(Organization.code == code))
    if org is None:
        org = Organization(code=code, name=name, kind=kind)
        db.session.add(org)
        db.session.flush()
    return org


def ensure_level(org: Organization, certificate: str, name: str, level: str) -> CertificateLevel:
    """The level row of a certificate, creating the certificate and level when missing."""
    cert = db.session.scalar(select(Certificate).where(Certificate.code == certificate))
    if cert is None:
        cert = Certificate(organization_id=org.id, code=certificate, name=name)
        db.session.add(cert)
        db.session.flush()
    row = db.session.scalar(
        select(CertificateLevel).where(
            CertificateLevel.certificate_id == cert.id, CertificateLevel.level == level
        )
    )
    if row is None:
        row = CertificateLevel(
            certificate_id=cert.id, level=level, rank=LEVEL_RANK[level], name=LEVELS[level]
        )
        db.session.add(row)
        db.session.flush()
    return row


def find_level(certificate: str, level: str) -> CertificateLevel:
    row = db.session.scalar(
        select(CertificateLevel)
        .join(Certificate)
        .where(Certificate.code == certificate, CertificateLevel.level == level)
    )
    if row is None:
        raise NotFound(
            f"没有证书“{certificate}”的“{LEVELS.get(level, level)}”等级；请先导入技能标准"
        )
    return row


def load_standard_file(org: Organization, path: Path) -> SkillStandard:
    """Load (or reload) one standard file and its tree for the certificate level it names."""
    document = path.read_text(encoding="utf-8")
    try:
        standard = parse_standard(safe_load(document), str(path))
    except (StandardError, yaml.YAMLError) as exc:
        raise DomainError(f"技能标准文件有误：{exc}") from exc
    level = ensure_level(org, standard.certificate, standard.certificate_name, standard.level)
    row = level.standard or SkillStandard(level_id=level.id, document=document)
    if row.id is not None and row.document == document:
        return row
    if row.nodes:
        # Old nodes go first: the new ones reuse their codes under the same unique key.
        row.nodes.clear()
        db.session.flush()
    row.document, row.source, row.notes = document, standard.source, standard.notes
    row.nodes = list(_nodes(standard))
    db.session.add(row)
    db.session.flush()
    return row


def _nodes(standard: Standard) -> list[StandardNode]:
    out: list[StandardNode] = []

    def add(kind: str, code: str, text: str, depth: int) -> None:
        out.append(StandardNode(position=len(out), kind=kind, code=code, text=text, depth=depth))

    for n, wf in enumerate(standard.fields, 1):
        add("field", f"F{n}", wf.name, 0)
        for task in wf.tasks:
            add("task", task.code, task.name, 1)
            for skill in task.skills:
                add("skill", skill.code, skill.name, 2)
                for r in skill.requirements:
                    add("requirement", r.code, r.text, 3)
            for k in task.knowledge:
                add("knowledge", k.code, k.text, 2)
    return out


@lru_cache(maxsize=64)
def _parse_cached(document: str) -> Standard:
    return parse_standard(safe_load(document))


def standard_of(level: CertificateLevel) -> Standard | None:
    """The parsed standard of a level (cached by its text), or None when none is loaded."""
    return _parse_cached(level.standard.document) if level.standard else None


def load_scheme_file(path: Path) -> list[ExamScheme]:
    """Load a scheme file for every level it names; replaces those levels' schemes."""
    try:
        spec = parse_scheme(safe_load(path.read_text(encoding="utf-8")), str(path))
    except (SchemeError, yaml.YAMLError) as exc:
        raise DomainError(f"考核方案文件有误：{exc}") from exc
    return [store_scheme(find_level(spec.certificate, level), spec) for level in spec.levels]


def store_scheme(level: CertificateLevel, spec: Scheme) -> ExamScheme:
    """Write a validated scheme to a level, replacing its parts and sections."""
    problems = validate_scheme(spec)
    if problems:
        raise DomainError("考核方案不符合规则", problems)
    row = level.scheme or ExamScheme(level_id=level.id)
    if row.parts:
        row.parts.clear()
        db.session.flush()
    row.name, row.notes = spec.name, spec.notes
    row.mc_policy, row.mc_partial_ratio = spec.mc_policy, spec.mc_partial_ratio
    row.parts = [
        SchemePart(
            position=n,
            kind=p.kind,
            name=p.name,
            duration_minutes=p.duration_minutes,
            total_points=p.total_points,
            pass_line=p.pass_line,
            exam_form=p.exam_form,
            sections=[
                SchemeSection(
                    position=m,
                    item_type=s.item_type,
                    count_min=s.count_min,
                    count_max=s.count_max,
                    points_each=s.points_each,
                )
                for m, s in enumerate(p.sections)
            ],
        )
        for n, p in enumerate(spec.parts)
    ]
    db.session.add(row)
    db.session.flush()
    return row


def scheme_spec(row: ExamScheme) -> Scheme:
    """The pure Scheme of a stored scheme, for validation, fees and coverage."""
    level = row.level_ref
    return Scheme(
        name=row.name,
        certificate=level.certificate.code,
        levels=(level.level,),
        mc_policy=row.mc_policy,
        mc_partial_ratio=row.mc_partial_ratio,
        notes=row.notes,
        parts=tuple(
            Part(
                kind=p.kind,
                name=p.name,
                duration_minutes=p.duration_minutes,
                total_points=p.total_points,
                pass_line=p.pass_line,
                exam_form=p.exam_form,
                sections=tuple(
                    Section(s.item_type, s.count_min, s.count_max, s.points_each)
                    for s in p.sections
                ),
            )
            for p in row.parts
        ),
    )


def all_levels() -> list[CertificateLevel]:
    return list(
        db.session.scalars(
            select(CertificateLevel)
            .join(Certificate)
            .order_by(Certificate.id, CertificateLevel.rank)
        )
    )
