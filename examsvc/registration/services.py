"""Registration use cases: candidates one by one, rosters from Excel, eligibility and fees.

A roster is imported whole or not at all: every problem of every row is reported together, and
nothing is stored until all rows pass. Services flush; the caller commits once or rolls back.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import yaml
from sqlalchemy import select

from ..auth.models import User
from ..auth.roles import Role
from ..catalog.models import Certificate
from ..catalog.scheme_rules import Part
from ..errors import DomainError, NotFound
from ..extensions import db
from ..plans.models import ExamPlan
from ..plans.services import plan_fees, plan_scheme, require_state
from ..sites.models import Site
from ..yaml_text import safe_load
from .eligibility import EligibilityError, RuleSet, evaluate, parse_rules
from .fees import InstitutionFees, quote, summarize
from .models import Candidate, EligibilityRules, Registration
from .photo import PhotoError, normalize_photo
from .roster_format import RosterRow, parse_roster

SEPARATOR = "、"


class RosterProblems(DomainError):
    """Rows that cannot be registered; one line per problem, naming row and column."""

    def __init__(self, message: str, problems: list[str]) -> None:
        super().__init__(message, problems)
        self.problems = problems


# ---- who sees what ---------------------------------------------------------------------------


def sites_in(plan: ExamPlan, user: User) -> list[Site]:
    """Sites of the plan's rooms that the user registers for: all (admin) or one's own."""
    sites = {pr.room.site_id: pr.room.site for pr in plan.rooms}
    if Role.ORG_ADMIN not in user.role_set:
        sites = {k: v for k, v in sites.items() if k == user.site_id}
    return sorted(sites.values(), key=lambda s: s.number)


def registrations_of(plan: ExamPlan, user: User) -> list[Registration]:
    if Role.ORG_ADMIN in user.role_set:
        return list(plan.registrations)
    return [r for r in plan.registrations if r.site_id == user.site_id]


def site_for(plan: ExamPlan, user: User, site_id: int | None) -> Site:
    sites = sites_in(plan, user)
    if site_id is None and len(sites) == 1:
        return sites[0]
    site = next((s for s in sites if s.id == site_id), None)
    if site is None:
        raise NotFound("请选择本计划中由您负责的考点")
    return site


# ---- eligibility rules -----------------------------------------------------------------------


def rules_for(certificate_id: int) -> RuleSet | None:
    row = db.session.scalar(
        select(EligibilityRules).where(EligibilityRules.certificate_id == certificate_id)
    )
    if row is None:
        return None
    return parse_rules(safe_load(row.document), "报考条件")


def save_rules(
    certificate: Certificate, document: str, origin: str = "报考条件"
) -> EligibilityRules:
    """Store a certificate's eligibility rules after they parse; bad YAML changes nothing."""
    try:
        parse_rules(safe_load(document), origin)
    except yaml.YAMLError as exc:
        raise DomainError(f"{origin}：YAML 语法错误：{exc}") from exc
    except EligibilityError as exc:
        raise DomainError(f"{origin}有误", exc.problems) from exc
    row = db.session.scalar(
        select(EligibilityRules).where(EligibilityRules.certificate_id == certificate.id)
    )
    if row is None:
        row = EligibilityRules(certificate_id=certificate.id, document=document)
        db.session.add(row)
    row.document = document
    db.session.flush()
    return row


def load_rules_file(path: Path) -> EligibilityRules:
    """Load ``question_banks/eligibility/<name>.yaml`` for the certificate it names."""
    document = path.read_text(encoding="utf-8")
    rules = parse_rules(safe_load(document), path.name)
    certificate = db.session.scalar(
        select(Certificate).where(Certificate.code == rules.certificate)
    )
    if certificate is None:
        raise DomainError(f"{path.name}：证书「{rules.certificate}」尚未导入")
    return save_rules(certificate, document, path.name)


# ---- registering -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Terms:
    """What every registration of a plan is checked and charged against, read once."""

    rules: RuleSet | None
    parts: tuple[Part, ...]
    fees: dict[str, Decimal]


def _terms(plan: ExamPlan) -> _Terms:
    return _Terms(rules_for(plan.level.certificate_id), plan_scheme(plan).parts, plan_fees(plan))


@dataclass(frozen=True)
class _Checked:
    """One row after the plan's rules: its problems, the person on record, the route met."""

    row: RosterRow
    known: Candidate | None
    route: str
    problems: list[str]
    parts: tuple[str, ...] | None = None  # a retake's parts; None is every part


def _check(plan: ExamPlan, row: RosterRow, terms: _Terms) -> _Checked:
    problems = []
    if row.level and row.level != plan.level.name:
        problems.append(f"报考等级「{row.level}」与计划的等级「{plan.level.name}」不符")
    known = db.session.scalar(select(Candidate).where(Candidate.id_number == row.id_number))
    if known is not None and known.name != row.name:
        problems.append(
            f"身份证号 {row.id_number} 已登记为「{known.name}」，与「{row.name}」不符：请核对"
        )
    if known is not None:
        earlier = next((r for r in plan.registrations if r.candidate_id == known.id), None)
        if earlier is not None:
            problems.append(f"{row.name}（{row.id_number}）已在本计划报名，不能重复报名")
    route = ""
    if terms.rules is not None:
        verdict = evaluate(terms.rules, plan.level.level, row.applicant())
        if not verdict.eligible:
            problems.append(f"不符合{plan.level.title}报考条件：" + "；".join(verdict.reasons))
        route = verdict.route or ""
    parts = _retake_parts(plan, known, terms, problems)
    return _Checked(row, known, route, problems, parts)


def _retake_parts(
    plan: ExamPlan, known: Candidate | None, terms: _Terms, problems: list[str]
) -> tuple[str, ...] | None:
    """A candidate who passed a part within the retake period sits only the other (补考)."""
    from ..grading.services import parts_to_sit

    if known is None:
        return None
    parts = parts_to_sit(known, plan)
    if not parts:
        problems.append(f"{known.name} 的各部分均在保留期内合格，本次无需报名")
        return None
    return None if set(parts) >= {p.kind for p in terms.parts} else parts


def _seats_left(plan: ExamPlan, site: Site) -> int:
    seats = sum(
        len(pr.room.seatmap.assignable()) for pr in plan.rooms if pr.room.site_id == site.id
    )
    return seats - sum(1 for r in plan.registrations if r.site_id == site.id)


def register(plan: ExamPlan, site: Site, row: RosterRow, actor: User | None) -> Registration:
    """Register one candidate; any broken rule raises and nothing is stored."""
    require_state(plan, "draft")
    terms = _terms(plan)
    checked = _check(plan, row, terms)
    problems = list(checked.problems)
    if _seats_left(plan, site) <= 0:
        problems.append(f"考点「{site.name}」本计划的考场已坐满：请先为计划增加考场")
    if problems:
        raise RosterProblems(f"{row.name} 不能报名", problems)
    return _store(plan, site, checked, terms, actor)


def _store(
    plan: ExamPlan, site: Site, checked: _Checked, terms: _Terms, actor: User | None
) -> Registration:
    row = checked.row
    candidate = checked.known
    if candidate is None:
        candidate = Candidate(id_number=row.id_number, name=row.name, gender=row.gender)
        db.session.add(candidate)
    if row.phone:
        candidate.phone = row.phone
    registration = Registration(
        candidate=candidate,
        site_id=site.id,
        institution=row.institution,
        major=row.major,
        class_name=row.class_name,
        education=row.education,
        certificates=SEPARATOR.join(row.certificates),
        years_in_trade=row.years_in_trade,
        trained=row.trained,
        graduating=row.graduating,
        poor_family=row.poor_family,
        eligibility_route=checked.route,
        fee=quote(terms.parts, terms.fees, row.poor_family, checked.parts).total,
        parts=list(checked.parts) if checked.parts is not None else None,
        registered_by_id=actor.id if actor is not None else None,
    )
    plan.registrations.append(registration)
    db.session.flush()
    return registration


def import_roster(
    plan: ExamPlan, site: Site, data: bytes, filename: str, actor: User | None
) -> list[Registration]:
    """Register every row of an Excel roster, or none: all problems are raised together."""
    require_state(plan, "draft")
    parsed = parse_roster(data, filename)
    problems = [str(e) for e in parsed.errors]
    terms = _terms(plan)
    checked = [_check(plan, row, terms) for row in parsed.rows]
    for c in checked:
        problems += [f"第 {c.row.row} 行：{p}" for p in c.problems]
    free = _seats_left(plan, site)
    if len(parsed.rows) > free:
        problems.append(
            f"报名表有 {len(parsed.rows)} 名考生，考点「{site.name}」本计划只剩 {free} 个座位："
            "请先为计划增加考场"
        )
    if not parsed.rows and not problems:
        problems.append(f"{filename} 中没有考生：请从第 2 行起按模板填写")
    if problems:
        raise RosterProblems(f"{filename} 有 {len(problems)} 处问题，未导入任何考生", problems)
    return [_store(plan, site, c, terms, actor) for c in checked]


def withdraw(plan: ExamPlan, registration_id: int, user: User) -> None:
    require_state(plan, "draft")
    reg = next((r for r in registrations_of(plan, user) if r.id == registration_id), None)
    if reg is None:
        raise NotFound("该考生不在本计划中或不由您管理")
    plan.registrations.remove(reg)
    db.session.flush()


def set_photo(plan: ExamPlan, registration_id: int, user: User, data: bytes) -> Registration:
    """Store the candidate's photograph (for tickets and the door); allowed until the exam."""
    require_state(plan, "draft", "published")
    reg = next((r for r in registrations_of(plan, user) if r.id == registration_id), None)
    if reg is None:
        raise NotFound("该考生不在本计划中或不由您管理")
    try:
        reg.candidate.photo = normalize_photo(data)
    except PhotoError as exc:
        raise DomainError(f"{reg.candidate.name} 的照片未保存：{exc}") from exc
    db.session.flush()
    return reg


def fee_summary(plan: ExamPlan, user: User) -> list[InstitutionFees]:
    parts = plan_scheme(plan).parts
    fees = plan_fees(plan)
    return summarize(
        (r.institution, quote(parts, fees, r.poor_family, r.parts))
        for r in registrations_of(plan, user)
    )
