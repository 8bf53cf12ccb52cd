"""Assembly use cases: blueprints into the database, pools from the banks, frozen paper sets.

Thin over the pure core (blueprint, pool, engine, feasibility, verify). Services flush; the
caller (request or CLI command) commits once or rolls back.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import case, select, update
from sqlalchemy.orm import contains_eager, load_only, selectinload

from ..auth.models import User
from ..bank.convert import version_data
from ..bank.models import Attachment, Item, ItemVersion, QuestionBank
from ..catalog.models import Certificate, CertificateLevel, ExamScheme
from ..catalog.services import find_level, scheme_spec, standard_of
from ..errors import DomainError, NotFound
from ..extensions import db
from ..yaml_text import safe_load
from . import engine
from .blueprint import Blueprint as BlueprintSpec
from .blueprint import BlueprintError, blueprint_from_scheme, parse_blueprint, validate_blueprint
from .feasibility import Feasibility, check_feasibility
from .models import Blueprint, Paper, PaperItem, PaperSet
from .pool import Candidate, candidate, pool_digest
from .verify import plan_violations

MAX_PAPERS = 2000


class AssemblyProblems(DomainError):
    """A blueprint or a plan breaks rules; the message is every problem, one per line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


# ---- blueprints -----------------------------------------------------------------------------


def _own_schemes(query: Any, user: User) -> Any:
    """``query`` (which selects or joins ExamScheme) limited to the user's organization."""
    return (
        query.join(CertificateLevel, ExamScheme.level_id == CertificateLevel.id)
        .join(Certificate, CertificateLevel.certificate_id == Certificate.id)
        .where(Certificate.organization_id == user.organization_id)
        .order_by(Certificate.id, CertificateLevel.rank)
    )


def schemes_of(user: User) -> list[ExamScheme]:
    """Exam schemes of the user's organization, certificate by certificate, level by level."""
    return list(db.session.scalars(_own_schemes(select(ExamScheme), user)))


def get_scheme(user: User, scheme_id: int) -> ExamScheme:
    scheme = db.session.get(ExamScheme, scheme_id)
    if scheme is None or scheme.level_ref.certificate.organization_id != user.organization_id:
        raise NotFound("考核方案不存在或不属于您的机构")
    return scheme


def blueprints_of(user: User, scheme_id: int | None = None) -> list[Blueprint]:
    """Blueprints of the user's organization (of one scheme when given)."""
    query = _own_schemes(
        select(Blueprint).join(ExamScheme, Blueprint.scheme_id == ExamScheme.id), user
    ).order_by(Blueprint.name)
    if scheme_id is not None:
        query = query.where(Blueprint.scheme_id == scheme_id)
    return list(db.session.scalars(query))


def get_blueprint(user: User, blueprint_id: int) -> Blueprint:
    """A blueprint whose scheme's certificate belongs to the user's organization."""
    row = db.session.get(Blueprint, blueprint_id)
    if row is None or row.scheme.level_ref.certificate.organization_id != user.organization_id:
        raise NotFound("细目表不存在或不属于您的机构")
    return row


def get_paper_set(user: User, paper_set_id: int) -> PaperSet:
    row = db.session.get(PaperSet, paper_set_id)
    owner = row.blueprint.scheme.level_ref.certificate.organization_id if row else None
    if row is None or owner != user.organization_id:
        raise NotFound("试卷批次不存在或不属于您的机构")
    return row


def _yaml(text: str) -> Any:
    try:
        return safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        where = f"第 {mark.line + 1} 行第 {mark.column + 1} 列：" if mark else ""
        raise AssemblyProblems([f"YAML 语法错误：{where}{problem}"]) from exc


def parse_document(text: str, scheme: ExamScheme, origin: str = "细目表") -> BlueprintSpec:
    """Parse blueprint YAML and check it against the scheme and the level's standard."""
    try:
        spec = parse_blueprint(_yaml(text), origin)
    except BlueprintError as exc:
        raise AssemblyProblems(exc.problems) from exc
    problems = validate_blueprint(spec, scheme_spec(scheme), standard_of(scheme.level_ref))
    if problems:
        raise AssemblyProblems(problems)
    return spec


def save_blueprint(
    scheme: ExamScheme,
    name: str,
    yaml_text: str,
    actor: User | None,
    blueprint: Blueprint | None = None,
) -> Blueprint:
    """Create (or, given ``blueprint``, replace) a blueprint of ``scheme`` from its YAML.

    ``name`` empty takes the name written in the YAML. Every rule is checked first; on any
    problem AssemblyProblems (a DomainError, 422) lists them all and nothing is stored.
    """
    spec = parse_document(yaml_text, scheme)
    name = (name or spec.name).strip()[:200]
    clash = db.session.scalar(
        select(Blueprint).where(Blueprint.scheme_id == scheme.id, Blueprint.name == name)
    )
    if clash is not None and clash is not blueprint:
        raise AssemblyProblems([f"本考核方案已有名为“{name}”的细目表，请换一个名称"])
    row = blueprint or Blueprint(scheme_id=scheme.id)
    row.name, row.document = name, yaml_text
    row.updated_by_id = actor.id if actor is not None else None
    db.session.add(row)
    db.session.flush()
    return row


def blueprint_spec(row: Blueprint) -> BlueprintSpec:
    """The parsed blueprint, checked against its scheme as the scheme is now."""
    return parse_document(row.document, row.scheme)


def loose_spec(document: str) -> BlueprintSpec | None:
    """The blueprint by its own rules only (to show it even when it no longer fits the scheme)."""
    try:
        return parse_blueprint(safe_load(document))
    except (BlueprintError, yaml.YAMLError):
        return None


def starting_document(scheme: ExamScheme) -> str:
    """YAML for a new blueprint: the scheme's sections, no coverage yet."""
    data = blueprint_from_scheme(scheme_spec(scheme), scheme.level_ref.level)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def load_blueprint_file(path: Path, actor: User | None = None) -> tuple[Blueprint | None, bool]:
    """Store a blueprint file for the scheme of the level it names, unless one of that name
    exists already (staff edits are never overwritten). Returns (row, created); (None, False)
    when the level has no scheme."""
    text = path.read_text(encoding="utf-8")
    data = _yaml(text)
    if not isinstance(data, dict) or not data.get("certificate") or not data.get("level"):
        raise AssemblyProblems([f"{path.name}：缺少 certificate 或 level"])
    scheme = find_level(str(data["certificate"]), str(data["level"])).scheme
    if scheme is None:
        return None, False
    name = str(data.get("name") or "").strip()
    existing = db.session.scalar(
        select(Blueprint).where(Blueprint.scheme_id == scheme.id, Blueprint.name == name)
    )
    if existing is not None:
        return existing, False
    return save_blueprint(scheme, name, text, actor), True


# ---- pool -----------------------------------------------------------------------------------


def pool_for(level: CertificateLevel) -> tuple[list[Candidate], dict[str, ItemVersion]]:
    """The newest approved version of every item in the level's banks, as engine candidates
    sorted by item code (the order fixes the papers a seed gives), and code → version."""
    query = (
        select(ItemVersion)
        .join(ItemVersion.item)
        .join(QuestionBank, Item.bank_id == QuestionBank.id)
        .where(
            QuestionBank.level_id == level.id,
            QuestionBank.organization_id == level.certificate.organization_id,
            ItemVersion.status == "approved",
        )
        .options(contains_eager(ItemVersion.item))
        .order_by(Item.id, ItemVersion.number)
    )
    newest: dict[int, ItemVersion] = {}
    for version in db.session.scalars(query).unique():
        newest[version.item_id] = version  # ascending numbers: the last one wins
    versions: dict[str, ItemVersion] = {}
    for version in newest.values():
        code = version.item.external_id
        if code in versions:
            raise DomainError(
                f"同一等级的两个题库都有编号为“{code}”的已审核试题；组卷要求编号在等级内唯一"
            )
        versions[code] = version
    return _candidates(level, [versions[c] for c in sorted(versions)]), versions


def _candidates(level: CertificateLevel, versions: list[ItemVersion]) -> list[Candidate]:
    standard = standard_of(level)
    return [candidate(version_data(v.item, v), v.number, standard) for v in versions]


# ---- plans ----------------------------------------------------------------------------------


def check_count(count: int) -> int:
    if not 1 <= count <= MAX_PAPERS:
        raise DomainError(f"试卷份数应在 1 到 {MAX_PAPERS} 之间")
    return count


def check_seed(seed: str) -> str:
    seed = seed.strip()
    if not seed or len(seed) > 100:
        raise DomainError("随机种子不能为空，且不超过 100 个字符")
    return seed


@dataclass
class Report:
    """What the blueprint page shows: the feasibility of a plan and the pool it used."""

    spec: BlueprintSpec
    feasibility: Feasibility
    pool: list[Candidate]
    versions: dict[str, ItemVersion]
    count: int
    seed: str


def feasibility_of(row: Blueprint, count: int, seed: str) -> Report:
    """Can ``count`` papers be assembled from the current pool? With a trial plan if so."""
    count, seed = check_count(count), check_seed(seed)
    spec = blueprint_spec(row)
    pool, versions = pool_for(row.scheme.level_ref)
    return Report(spec, check_feasibility(spec, pool, count, seed), pool, versions, count, seed)


def plan(row: Blueprint, count: int, seed: str) -> tuple[engine.PlanResult, dict[str, ItemVersion]]:
    """The plan of ``count`` papers for ``seed``: the same papers freezing would store."""
    report = feasibility_of(row, count, seed)
    if report.feasibility.trial is None:
        raise AssemblyProblems(report.feasibility.problems)
    return report.feasibility.trial, report.versions


@dataclass(frozen=True)
class Exposure:
    """How often items of one part appear across a plan."""

    kind: str
    name: str
    histogram: list[tuple[int, int]]  # (papers an item appears in, how many items), 0 included
    top: list[tuple[str, int]]  # the ten most used items and their paper counts


def exposure(spec: BlueprintSpec, result: engine.PlanResult) -> list[Exposure]:
    """Per part: a histogram of uses over the pool and the ten most used items."""
    out = []
    for k, part in enumerate(spec.parts):
        uses = Counter(i.item for p in result.papers for i in p.parts[k].items)
        size = result.parts[k].pool
        counts = Counter(uses.values())
        counts[0] = max(0, size - len(uses))
        histogram = sorted((n, m) for n, m in counts.items() if m)
        top = sorted(uses.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
        out.append(Exposure(part.kind, part.name, histogram, top))
    return out


def _stats(result: engine.PlanResult, warnings: list[str]) -> dict[str, Any]:
    return {
        "duplicates": result.duplicates,
        "warnings": warnings,
        "parts": [
            {
                "kind": s.kind,
                "name": p.name,
                "difficulty_min": round(s.difficulty_min, 4),
                "difficulty_max": round(s.difficulty_max, 4),
                "max_exposure": round(s.max_exposure, 4),
                "exposure_cap": s.exposure_cap,
                "items_used": s.items_used,
                "pool": s.pool,
            }
            for s, p in zip(result.parts, result.papers[0].parts, strict=True)
        ],
    }


def freeze_papers(row: Blueprint, count: int, seed: str, actor: User | None) -> PaperSet:
    """Assemble ``count`` papers and store them for good; every used version counts the use.

    Refused (AssemblyProblems) when the pool cannot meet the blueprint, or when the
    independent checker finds any paper breaking it.
    """
    report = feasibility_of(row, count, seed)
    result = report.feasibility.trial
    if result is None:
        raise AssemblyProblems(report.feasibility.problems)
    pool = [report.versions[c.item] for c in report.pool]
    broken = plan_violations(report.spec, report.pool, result.papers)
    if broken:
        raise AssemblyProblems([f"第 {n} 份试卷：{p}" if n else p for n, p in broken])
    paper_set = PaperSet(
        blueprint_id=row.id,
        blueprint_document=row.document,
        seed=report.seed,
        count=report.count,
        engine_version=result.engine_version,
        pool_digest=pool_digest(report.pool),
        pool=[v.id for v in pool],
        stats=_stats(result, report.feasibility.warnings),
        created_by_id=actor.id if actor is not None else None,
    )
    papers = [Paper(number=p.number) for p in result.papers]
    paper_set.papers = papers
    db.session.add(paper_set)
    db.session.flush()
    rows: list[dict[str, Any]] = []
    uses: Counter[int] = Counter()
    for stored, made in zip(papers, result.papers, strict=True):
        position = 0
        for part in made.parts:
            for i in part.items:
                version = report.versions[i.item]
                position += 1
                rows.append(
                    {
                        "paper_id": stored.id,
                        "part_kind": part.kind,
                        "position": position,
                        "item_version_id": version.id,
                        "points": i.points,
                        "option_order": i.options,
                    }
                )
                uses[version.id] += 1
    db.session.execute(PaperItem.__table__.insert(), rows)
    # One statement, relative to the stored value, so concurrent freezes never lose a use.
    db.session.execute(
        update(ItemVersion)
        .where(ItemVersion.id.in_(list(uses)))
        .values(used_count=ItemVersion.used_count + case(dict(uses), value=ItemVersion.id, else_=0))
        .execution_options(synchronize_session=False)
    )
    for version in pool:
        if version.id in uses:
            db.session.expire(version, ["used_count"])
    db.session.flush()
    return paper_set


# ---- stored papers and the audit ------------------------------------------------------------


@dataclass
class StoredPlan:
    """A frozen set read back as the engine's types, with the versions its items use."""

    papers: list[engine.Paper]
    versions: dict[str, ItemVersion]  # item code → version used


def stored_papers(paper_set: PaperSet, number: int | None = None) -> StoredPlan:
    """The papers of a set (or only paper ``number``) as engine Papers, parts in blueprint
    order, items in stored order."""
    query = (
        select(Paper.number, PaperItem.part_kind, PaperItem.item_version_id)
        .add_columns(PaperItem.points, PaperItem.option_order)
        .join(PaperItem, PaperItem.paper_id == Paper.id)
        .where(Paper.paper_set_id == paper_set.id)
        .order_by(Paper.number, PaperItem.position)
    )
    if number is not None:
        query = query.where(Paper.number == number)
    rows = db.session.execute(query).all()
    ids = sorted({r.item_version_id for r in rows})
    loaded = db.session.scalars(
        select(ItemVersion).where(ItemVersion.id.in_(ids)).options(selectinload(ItemVersion.item))
    )
    by_id = {v.id: v for v in loaded}
    kinds = _part_names(paper_set)
    grouped: dict[int, dict[str, list[engine.PaperItem]]] = {}
    for r in rows:
        v = by_id[r.item_version_id]
        item = engine.PaperItem(
            v.item.external_id, v.number, v.item.type, r.points, v.difficulty, r.option_order
        )
        grouped.setdefault(r.number, {}).setdefault(r.part_kind, []).append(item)
    papers = [
        engine.Paper(
            n,
            tuple(engine.PaperPart(kind, name, tuple(parts.get(kind, ()))) for kind, name in kinds),
        )
        for n, parts in grouped.items()
    ]
    return StoredPlan(papers, {v.item.external_id: v for v in by_id.values()})


def attachments_of(versions: list[ItemVersion]) -> dict[int, list[Attachment]]:
    """Name and kind (not the bytes) of the attachments of some versions, by version id."""
    out: dict[int, list[Attachment]] = {v.id: [] for v in versions}
    query = (
        select(Attachment)
        .where(Attachment.version_id.in_(list(out)))
        .options(load_only(Attachment.id, Attachment.version_id, Attachment.name, Attachment.kind))
        .order_by(Attachment.name)
    )
    for a in db.session.scalars(query):
        out[a.version_id].append(a)
    return out


def _part_names(paper_set: PaperSet) -> list[tuple[str, str]]:
    spec = loose_spec(paper_set.blueprint_document)
    if spec is not None:
        return [(p.kind, p.name) for p in spec.parts]
    return [(p["kind"], p["name"]) for p in paper_set.stats.get("parts", [])]


def audit_paper_set(paper_set: PaperSet, stored: StoredPlan | None = None) -> list[str]:
    """Regenerate the set from what it stored (blueprint text, pool, seed, count) and compare
    paper by paper with the stored rows; also re-check every stored paper against the blueprint.
    An empty list means the stored papers are exactly what the engine makes and meet every rule.
    """
    problems: list[str] = []
    if paper_set.engine_version != engine.ENGINE_VERSION:
        problems.append(
            f"组卷引擎版本已从 {paper_set.engine_version} 变为 {engine.ENGINE_VERSION}，"
            "重新生成的试卷可能不同"
        )
    try:
        spec = parse_blueprint(safe_load(paper_set.blueprint_document), "细目表快照")
    except (BlueprintError, yaml.YAMLError) as exc:
        return [*problems, f"细目表快照无法解析：{exc}"]
    versions = db.session.scalars(
        select(ItemVersion)
        .where(ItemVersion.id.in_(paper_set.pool))
        .options(selectinload(ItemVersion.item))
    )
    by_id = {v.id: v for v in versions}
    missing = [i for i in paper_set.pool if i not in by_id]
    if missing:
        return [*problems, f"题库中找不到组卷时的 {len(missing)} 个试题版本（ID {missing[:5]}）"]
    level = paper_set.blueprint.scheme.level_ref
    pool = _candidates(level, [by_id[i] for i in paper_set.pool])
    if pool_digest(pool) != paper_set.pool_digest:
        problems.append("题库快照的摘要与组卷时不同（技能标准或试题版本已改变）")
    papers = (stored or stored_papers(paper_set)).papers
    if len(papers) != paper_set.count:
        problems.append(f"应有 {paper_set.count} 份试卷，存储的是 {len(papers)} 份")
    try:
        again = engine.assemble(spec, pool, paper_set.count, paper_set.seed).papers
    except engine.AssemblyError as exc:
        problems.append("按快照重新组卷失败：" + "；".join(exc.problems))
        again = ()
    for old, new in zip(papers, again, strict=False):
        if old != new:
            problems.append(f"第 {old.number} 份试卷：{_difference(old, new)}")
    problems += [f"第 {n} 份试卷：{p}" if n else p for n, p in plan_violations(spec, pool, papers)]
    return problems


def _difference(old: engine.Paper, new: engine.Paper) -> str:
    for a, b in zip(old.parts, new.parts, strict=False):
        for n, (x, y) in enumerate(zip(a.items, b.items, strict=False), 1):
            if x != y:
                return f"{a.name}第 {n} 题存储为 {_label(x)}，重新生成为 {_label(y)}"
        if len(a.items) != len(b.items):
            return f"{a.name}存储了 {len(a.items)} 题，重新生成为 {len(b.items)} 题"
    return "试卷的部分与重新生成的不同"


def _label(i: engine.PaperItem) -> str:
    options = f"，选项 {i.options}" if i.options else ""
    return f"{i.item} v{i.version}（{i.points.normalize():f} 分{options}）"
