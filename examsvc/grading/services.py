"""Grading use cases: settings, the audit log, theory scoring, results, retakes and release.

The rules are decided in the pure modules (``scoring``, ``marking``, ``results``); this module
loads what they need from the database, stores what they decide and audits it. Practical marking
is in ``practical.py``, appeals in ``appeals.py``, key corrections in ``regrade.py``.

A part's result is a ``PartScore`` row; a registration's overall result a ``Result`` row, kept
up to date whenever one of its parts changes. Once a plan's results are released every change of
a part's score or state is written to the audit log with its old and new value. Services flush;
the request (or the command) commits once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select

from ..assembly.models import PaperItem
from ..auth.models import User
from ..bank.models import Item, ItemVersion
from ..catalog.scheme_rules import MC_POLICIES
from ..delivery.models import Sitting, SittingEvent
from ..delivery.services import aware
from ..errors import Conflict, DomainError, NotFound
from ..extensions import db
from ..plans.models import SITE_TZ, ExamPlan, PlanSession
from ..plans.services import managed_plan, plan_scheme
from ..plans.ticket_number import TicketNumberError, parse_ticket_number
from ..registration.models import Candidate, Registration
from .marking import (
    ARBITRATED_RULES,
    DEFAULT_STEP,
    DEFAULT_THRESHOLD,
    ArbitrationPolicy,
    RubricCriterion,
)
from .models import GradingEvent, GradingSettings, KeyCorrection, PartScore, Result, Script
from .results import (
    DEFAULT_VALIDITY_MONTHS,
    PART_KINDS,
    PART_NAMES,
    AppealWindow,
    CandidateResult,
    PartResult,
    carried_parts,
    part_score,
    pass_line_on_hundred,
)
from .results import parts_to_sit as pure_parts_to_sit
from .scoring import GradingError, McPolicy, ObjectiveKey, round_score, score_objective

OVER = ("submitted", "auto_submitted")  # a sitting that was answered and handed in
RUNNING = ("in_progress", "paused")
GRADABLE_PLAN_STATES = ("in_progress", "closed")
DEFAULT_APPEAL_DAYS = 7


@contextmanager
def rules() -> Iterator[None]:
    """Re-raise a broken rule of the pure core as a DomainError the web layer answers."""
    try:
        yield
    except GradingError as exc:
        raise DomainError(exc.message, exc.details) from exc


def now_utc() -> datetime:
    from ..auth.models import utcnow

    return utcnow()


# ---- access ----------------------------------------------------------------------------------


def graded_plan(user: User, plan_id: int) -> ExamPlan:
    """A plan the user's organization runs (org admin only): 404 otherwise."""
    return managed_plan(user, plan_id)


def rater_ids(plan: ExamPlan) -> list[int]:
    """The plan's raters (考评员) in assignment order, each once."""
    return list(dict.fromkeys(s.user_id for s in plan.staff if s.role == "rater"))


def rated_plan(user: User, plan_id: int) -> ExamPlan:
    """A plan the user rates; 404 for any other, so plan ids reveal nothing."""
    plan = db.session.get(ExamPlan, plan_id)
    if plan is None or user.id not in rater_ids(plan):
        raise NotFound("考核计划不存在，或您不是它的考评员")
    return plan


def plans_rated_by(user: User) -> list[ExamPlan]:
    from ..plans.models import StaffAssignment

    return list(
        db.session.scalars(
            select(ExamPlan)
            .where(
                ExamPlan.id.in_(
                    select(StaffAssignment.plan_id).where(
                        StaffAssignment.user_id == user.id, StaffAssignment.role == "rater"
                    )
                )
            )
            .order_by(ExamPlan.id.desc())
        )
    )


# ---- settings --------------------------------------------------------------------------------


def settings_of(plan: ExamPlan) -> GradingSettings:
    """The plan's grading settings, made with the defaults on first use."""
    row = _settings_row(plan)
    if row is None:
        scheme = plan_scheme(plan)
        row = GradingSettings(
            plan_id=plan.id,
            mc_policy=scheme.mc_policy,
            mc_partial_ratio=scheme.mc_partial_ratio,
            threshold_ratio=DEFAULT_THRESHOLD,
            arbitrated_rule="arbiter",
            rubric_step=DEFAULT_STEP,
            retake_months=DEFAULT_VALIDITY_MONTHS,
            appeal_days=DEFAULT_APPEAL_DAYS,
        )
        db.session.add(row)
        db.session.flush()
    return row


def lock(plan: ExamPlan) -> GradingSettings:
    """The plan's settings row, locked until commit: scoring runs, release and rule changes of
    one plan then take turns (on PostgreSQL; SQLite has one writer anyway)."""
    row = settings_of(plan)
    db.session.refresh(row, with_for_update=True)
    return row


def mc_policy(settings: GradingSettings) -> McPolicy:
    with rules():
        return McPolicy(settings.mc_policy, Decimal(settings.mc_partial_ratio))


def rubric_step(settings: GradingSettings) -> Decimal:
    """The step rater scores move in, as written (0.5, not the stored 0.50)."""
    return Decimal(_plain(settings.rubric_step))


def arbitration_policy(settings: GradingSettings) -> ArbitrationPolicy:
    with rules():
        return ArbitrationPolicy(
            Decimal(_plain(settings.threshold_ratio)), settings.arbitrated_rule
        )


def _settings_row(plan: ExamPlan) -> GradingSettings | None:
    return db.session.scalar(select(GradingSettings).where(GradingSettings.plan_id == plan.id))


def released(plan: ExamPlan) -> datetime | None:
    """When the plan's results were released (None before)."""
    row = _settings_row(plan)
    return None if row is None else aware(row.released_at)


def require_unreleased(plan: ExamPlan, what: str) -> None:
    moment = released(plan)
    if moment is not None:
        raise Conflict(
            f"计划「{plan.batch}」的成绩已于 {moment.astimezone(SITE_TZ):%Y-%m-%d %H:%M} 发布，"
            f"不能再{what}：成绩如需更正，请通过“更正答案”或成绩复核进行"
        )


def _number(text: str, what: str, problems: list[str]) -> Decimal | None:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        problems.append(f"{what}“{text}”不是数字")
        return None
    if not value.is_finite():
        problems.append(f"{what}“{text}”不是数字")
        return None
    return value


def _whole(text: str, what: str, low: int, high: int, problems: list[str]) -> int | None:
    value = _number(text, what, problems)
    if value is None:
        return None
    if value != value.to_integral_value() or not low <= value <= high:
        problems.append(f"{what} {text} 无效：应为 {low} 到 {high} 之间的整数")
        return None
    return int(value)


def update_settings(plan: ExamPlan, form: dict[str, str], actor: User) -> GradingSettings:
    """Change the plan's grading rules; each is locked once the work it governs has begun.

    Form fields: mc_policy, mc_partial_ratio, threshold_percent (15 = 15 % of an item's
    points), arbitrated_rule, rubric_step, retake_months, appeal_days.
    """
    row = lock(plan)
    require_unreleased(plan, "修改评分规则")
    problems: list[str] = []
    policy = form.get("mc_policy", row.mc_policy).strip()
    if policy not in MC_POLICIES:
        problems.append(f"多选评分规则“{policy}”无效：应为 {'、'.join(MC_POLICIES)} 之一")
    ratio = _number(
        form.get("mc_partial_ratio", str(row.mc_partial_ratio)), "少选得分比例", problems
    )
    percent = _number(
        form.get("threshold_percent", str(Decimal(row.threshold_ratio) * 100)), "仲裁阈值", problems
    )
    rule = form.get("arbitrated_rule", row.arbitrated_rule).strip()
    if rule not in ARBITRATED_RULES:
        problems.append(f"仲裁后的计分规则“{rule}”无效：应为 {'、'.join(ARBITRATED_RULES)} 之一")
    step = _number(form.get("rubric_step", str(row.rubric_step)), "评分步长", problems)
    months = _whole(
        form.get("retake_months", str(row.retake_months)), "成绩保留期（月）", 0, 60, problems
    )
    days = _whole(
        form.get("appeal_days", str(row.appeal_days)), "复核申请期（天）", 1, 90, problems
    )
    if problems:
        raise DomainError("评分规则未保存", problems)
    assert ratio is not None and percent is not None and step is not None
    assert months is not None and days is not None
    threshold = (percent / 100).normalize()
    with rules():
        McPolicy(policy, ratio)
        ArbitrationPolicy(threshold, rule)
    if step <= 0 or step > 10:
        raise DomainError(f"评分步长 {step} 无效：应大于 0 且不超过 10，如 0.5")
    _check_step(plan, step)
    before = _settings_dict(row)
    theory_scored = _theory_scored(plan)
    marked = _marking_started(plan)
    if theory_scored and (policy != row.mc_policy or ratio != Decimal(row.mc_partial_ratio)):
        raise Conflict(
            "理论成绩已计算，多选评分规则不能再改：如确需调整，请用“更正答案”逐题处理并核对变化"
        )
    if marked and (
        threshold != Decimal(row.threshold_ratio)
        or rule != row.arbitrated_rule
        or step != Decimal(row.rubric_step)
    ):
        raise Conflict("实操评分已经开始，仲裁阈值、仲裁计分规则和评分步长不能再改")
    row.mc_policy, row.mc_partial_ratio = policy, ratio
    row.threshold_ratio, row.arbitrated_rule, row.rubric_step = threshold, rule, step
    row.retake_months, row.appeal_days = months, days
    db.session.flush()
    after = _settings_dict(row)
    if after != before:
        audit(plan, "settings", actor, before=before, after=after)
    return row


def _settings_dict(row: GradingSettings) -> dict[str, str]:
    return {
        "mc_policy": row.mc_policy,
        "mc_partial_ratio": _plain(row.mc_partial_ratio),
        "threshold_ratio": _plain(row.threshold_ratio),
        "arbitrated_rule": row.arbitrated_rule,
        "rubric_step": _plain(row.rubric_step),
        "retake_months": str(row.retake_months),
        "appeal_days": str(row.appeal_days),
    }


def _plain(value: Decimal | None) -> str:
    if value is None:
        return ""
    text = f"{Decimal(value):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _check_step(plan: ExamPlan, step: Decimal) -> None:
    """Every criterion of every practical item on the plan's papers must take full marks."""
    from ..bank.convert import version_data

    used = (
        select(PaperItem.item_version_id)
        .join(Registration, Registration.paper_id == PaperItem.paper_id)
        .where(Registration.plan_id == plan.id, PaperItem.part_kind == "practical")
    )
    versions = db.session.scalars(select(ItemVersion).where(ItemVersion.id.in_(used))).all()
    for version in versions:
        for criterion in version_data(version.item, version).rubric:
            with rules():
                RubricCriterion(criterion.criterion, criterion.points, step)


def _theory_scored(plan: ExamPlan) -> bool:
    return (
        db.session.scalar(
            select(PartScore.id)
            .join(Registration)
            .where(
                Registration.plan_id == plan.id,
                PartScore.part_kind == "theory",
                PartScore.carried.is_(False),
            )
            .limit(1)
        )
        is not None
    )


def _marking_started(plan: ExamPlan) -> bool:
    from .models import Marking

    return (
        db.session.scalar(select(Marking.id).join(Script).where(Script.plan_id == plan.id).limit(1))
        is not None
    )


# ---- the audit log ---------------------------------------------------------------------------


def _json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return _plain(value)
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def audit(
    plan: ExamPlan,
    action: str,
    actor: User | None,
    *,
    registration_id: int | None = None,
    script_id: int | None = None,
    reason: str = "",
    **data: Any,
) -> GradingEvent:
    """Append one entry to the plan's grading log."""
    row = GradingEvent(
        plan_id=plan.id,
        actor_id=actor.id if actor else None,
        action=action,
        registration_id=registration_id,
        script_id=script_id,
        reason=reason,
        data=_json(data),
    )
    db.session.add(row)
    db.session.flush()
    return row


def audit_log(plan: ExamPlan, limit: int = 200) -> list[GradingEvent]:
    return list(
        db.session.scalars(
            select(GradingEvent)
            .where(GradingEvent.plan_id == plan.id)
            .order_by(GradingEvent.id.desc())
            .limit(limit)
        )
    )


# ---- sessions and pass lines -----------------------------------------------------------------


def session_of(plan: ExamPlan, kind: str) -> PlanSession:
    session = next((s for s in plan.sessions if s.part_kind == kind), None)
    if session is None:
        raise DomainError(f"计划「{plan.batch}」没有{PART_NAMES[kind]}场次")
    return session


def exam_day(plan: ExamPlan, kind: str | None = None) -> date:
    """The (site-local) day a part was sat; the plan's first day without a part."""
    sessions = [s for s in plan.sessions if kind is None or s.part_kind == kind]
    if not sessions:
        return plan.created_at.date()
    return min(s.starts_at for s in sessions).date()


def pass_line(plan: ExamPlan, kind: str) -> Decimal:
    """The part's pass line on 100 (60 of 100 → 60; 90 of 150 → 60)."""
    part = next((p for p in plan_scheme(plan).parts if p.kind == kind), None)
    if part is None:
        return Decimal(60)
    with rules():
        return round_score(pass_line_on_hundred(part.pass_line, part.total_points))


def require_part_over(plan: ExamPlan, kind: str, now: datetime) -> PlanSession:
    """The part's session has ended and nobody is still answering it."""
    if plan.state not in GRADABLE_PLAN_STATES:
        raise Conflict(f"计划「{plan.batch}」尚未开考：考试开始并结束后才能评分")
    session = session_of(plan, kind)
    if now < session.opens_at + timedelta(minutes=session.duration_minutes):
        raise Conflict(
            f"{session.part_name}到 {session.ends_at:%Y-%m-%d %H:%M} 才结束：请在考试结束后再评分"
        )
    running = db.session.scalar(
        select(Registration.ticket_number)
        .join(Sitting, Sitting.registration_id == Registration.id)
        .where(
            Registration.plan_id == plan.id,
            Sitting.part_kind == kind,
            Sitting.state.in_(RUNNING),
        )
        .limit(1)
    )
    if running is not None:
        raise Conflict(
            f"{session.part_name}还有考生（准考证号 {running}）在作答或暂停中：请待其交卷或由监考员"
            "强制交卷后再评分"
        )
    return session


def sittings_by_registration(plan: ExamPlan, kind: str) -> dict[int, Sitting]:
    return {
        s.registration_id: s
        for s in db.session.scalars(
            select(Sitting)
            .join(Registration)
            .where(Registration.plan_id == plan.id, Sitting.part_kind == kind)
        )
    }


def void_reason(sitting: Sitting) -> str:
    reason = db.session.scalar(
        select(SittingEvent.reason)
        .where(SittingEvent.sitting_id == sitting.id, SittingEvent.kind == "void")
        .order_by(SittingEvent.id.desc())
        .limit(1)
    )
    return f"违纪：{reason.strip()}" if reason and reason.strip() else "违纪（监考员取消成绩）"


# ---- part scores and results -----------------------------------------------------------------


def part_scores(reg: Registration) -> dict[str, PartScore]:
    return {
        p.part_kind: p
        for p in db.session.scalars(select(PartScore).where(PartScore.registration_id == reg.id))
    }


def as_part(row: PartScore) -> PartResult:
    with rules():
        return PartResult(
            kind=row.part_kind,
            status=row.status,
            taken_on=row.taken_on,
            score=None if row.score is None else Decimal(row.score),
            pass_line=Decimal(row.pass_line),
            reason=row.reason,
            carried=row.carried,
        )


def candidate_result(
    reg: Registration, rows: dict[str, PartScore] | None = None
) -> CandidateResult:
    """The registration's result as the pure core sees it; a part not yet graded is pending."""
    rows = part_scores(reg) if rows is None else rows
    parts = {
        kind: as_part(rows[kind])
        if kind in rows
        else PartResult(kind, "pending", exam_day(reg.plan, kind))
        for kind in PART_KINDS
    }
    with rules():
        return CandidateResult(str(reg.id), parts["theory"], parts["practical"])


def store_part(
    reg: Registration,
    part: PartResult,
    actor: User | None,
    reason: str = "",
    *,
    raw: Decimal | None = None,
    paper_points: Decimal | None = None,
    items: dict[str, str] | None = None,
    carried_from: PartScore | None = None,
) -> bool:
    """Store one part's result and refresh the overall one; True when it changed.

    After release, every change is audited with the old and the new value.
    """
    row = db.session.scalar(
        select(PartScore).where(
            PartScore.registration_id == reg.id, PartScore.part_kind == part.kind
        )
    )
    old = None if row is None else (row.status, _plain(row.score), row.carried)
    if row is None:
        row = PartScore(registration_id=reg.id, part_kind=part.kind)
        db.session.add(row)
    row.status, row.score, row.reason = part.status, part.score, part.reason
    row.pass_line, row.taken_on, row.carried = part.pass_line, part.taken_on, part.carried
    row.raw, row.paper_points = raw, paper_points
    row.items = items or {}
    row.carried_from_id = carried_from.id if carried_from else None
    db.session.flush()
    new = (row.status, _plain(row.score), row.carried)
    changed = old != new
    if changed and old is not None and released(reg.plan) is not None:
        audit(
            reg.plan,
            "score_change",
            actor,
            registration_id=reg.id,
            reason=reason,
            part=part.kind,
            old={"status": old[0], "score": old[1]},
            new={"status": new[0], "score": new[1]},
        )
    refresh_result(reg)
    return changed


def refresh_result(reg: Registration) -> Result:
    """Recompute the overall result (总评) from the parts."""
    status = candidate_result(reg).status
    row = db.session.scalar(select(Result).where(Result.registration_id == reg.id))
    if row is None:
        row = Result(registration_id=reg.id, status=status)
        db.session.add(row)
    row.status = status
    if row.released_at is None:
        row.released_at = released(reg.plan)
    db.session.flush()
    return row


def results_of(plan: ExamPlan) -> list[tuple[Registration, CandidateResult, dict[str, PartScore]]]:
    """Every registration of the plan with its result, in ticket number order."""
    rows: dict[int, dict[str, PartScore]] = {}
    for part in db.session.scalars(
        select(PartScore).join(Registration).where(Registration.plan_id == plan.id)
    ):
        rows.setdefault(part.registration_id, {})[part.part_kind] = part
    regs = sorted(plan.registrations, key=lambda r: (r.ticket_number or "~", r.id))
    return [(r, candidate_result(r, rows.get(r.id, {})), rows.get(r.id, {})) for r in regs]


# ---- retakes (补考) --------------------------------------------------------------------------


def history(candidate: Candidate, plan: ExamPlan) -> list[tuple[PartScore, PartResult]]:
    """The candidate's released, scored parts of other plans of the same level, sat before
    this plan (a carried part is not a new pass: its source is in the list already)."""
    day = exam_day(plan)
    rows = db.session.scalars(
        select(PartScore)
        .join(Registration, PartScore.registration_id == Registration.id)
        .join(ExamPlan, Registration.plan_id == ExamPlan.id)
        .join(Result, Result.registration_id == Registration.id)
        .where(
            Registration.candidate_id == candidate.id,
            ExamPlan.level_id == plan.level_id,
            ExamPlan.id != plan.id,
            Result.released_at.is_not(None),
            PartScore.status == "scored",
            PartScore.carried.is_(False),
            PartScore.taken_on < day,
        )
    ).all()
    return [(row, as_part(row)) for row in rows]


def _months(plan: ExamPlan) -> int:
    return settings_of(plan).retake_months


def parts_to_sit(candidate: Candidate, plan: ExamPlan) -> tuple[str, ...]:
    """The parts the candidate must sit in ``plan``: those without a valid earlier pass (a part
    passed in a released plan of the same level within the retake period, 12 months by default).
    Empty when both parts are still valid: the candidate need not register."""
    passes = [part for _, part in history(candidate, plan)]
    with rules():
        return pure_parts_to_sit(passes, exam_day(plan), _months(plan))


def carried_part(reg: Registration, kind: str) -> tuple[PartResult, PartScore] | None:
    """A valid earlier pass of ``kind`` to keep in place of a part not sat now, if any."""
    found = history(reg.candidate, reg.plan)
    with rules():
        kept = carried_parts([p for _, p in found], exam_day(reg.plan), _months(reg.plan))
    part = kept.get(kind)
    if part is None:
        return None
    source = next(row for row, p in found if p.kind == kind and p.taken_on == part.taken_on)
    return part, source


def missed_part(reg: Registration, kind: str, actor: User | None, reason: str) -> None:
    """A part the candidate did not sit: carried from an earlier pass, else absent (缺考)."""
    kept = carried_part(reg, kind)
    if kept is not None:
        part, source = kept
        store_part(reg, part, actor, reason, carried_from=source)
    else:
        store_part(reg, PartResult(kind, "absent", exam_day(reg.plan, kind)), actor, reason)


# ---- theory (objective) scoring --------------------------------------------------------------


@dataclass
class RunReport:
    """What a scoring run did; ``changed`` counts parts whose stored result changed."""

    scored: int = 0
    absent: int = 0
    carried: int = 0
    voided: int = 0
    changed: int = 0
    scripts: int = 0
    blank: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PaperKeys:
    """The objective items of one paper: position → key (item id = the version id)."""

    keys: tuple[tuple[int, ObjectiveKey], ...]

    def answers(self, by_position: dict[int, Any]) -> dict[str, Any]:
        return {k.item: by_position.get(pos) for pos, k in self.keys if pos in by_position}


def corrections_of(plan: ExamPlan) -> dict[int, str]:
    return {
        c.item_version_id: c.answer
        for c in db.session.scalars(select(KeyCorrection).where(KeyCorrection.plan_id == plan.id))
    }


def objective_keys(plan: ExamPlan, extra: dict[int, str] | None = None) -> dict[int, PaperKeys]:
    """Every theory paper of the plan with its keys (corrected keys applied; ``extra`` on top)."""
    corrected = corrections_of(plan) | (extra or {})
    paper_ids = {r.paper_id for r in plan.registrations if r.paper_id is not None}
    rows = db.session.execute(
        select(PaperItem.paper_id, PaperItem.position, PaperItem.points, ItemVersion, Item.type)
        .join(ItemVersion, PaperItem.item_version_id == ItemVersion.id)
        .join(Item, ItemVersion.item_id == Item.id)
        .where(PaperItem.paper_id.in_(paper_ids), PaperItem.part_kind == "theory")
        .order_by(PaperItem.paper_id, PaperItem.position)
    ).all()
    out: dict[int, list[tuple[int, ObjectiveKey]]] = {p: [] for p in paper_ids}
    with rules():
        for paper_id, position, points, version, kind in rows:
            answer = corrected.get(version.id, version.answer)
            out[paper_id].append(
                (position, ObjectiveKey(str(version.id), kind, answer, Decimal(points)))
            )
    return {p: PaperKeys(tuple(keys)) for p, keys in out.items()}


def answers_of(sitting_ids: Sequence[int]) -> dict[int, dict[int, Any]]:
    """Stored answers by sitting id and position."""
    from ..delivery.models import Answer

    out: dict[int, dict[int, Any]] = {s: {} for s in sitting_ids}
    for sitting_id, position, value in db.session.execute(
        select(Answer.sitting_id, Answer.position, Answer.value).where(
            Answer.sitting_id.in_(sitting_ids)
        )
    ):
        out[sitting_id][position] = value
    return out


def score_theory(plan: ExamPlan, actor: User | None, now: datetime) -> RunReport:
    """Score every theory sitting of the plan against the keys; running it again changes only
    what changed. Absent (缺考) when never started, voided (取消成绩) when the sitting was voided."""
    policy = mc_policy(lock(plan))
    require_unreleased(plan, "重新计算理论成绩")
    require_part_over(plan, "theory", now)
    line = pass_line(plan, "theory")
    day = exam_day(plan, "theory")
    sittings = sittings_by_registration(plan, "theory")
    papers = objective_keys(plan)
    answers = answers_of([s.id for s in sittings.values() if s.state in OVER])
    report = RunReport()
    for reg in plan.registrations:
        sitting = sittings.get(reg.id)
        state = sitting.state if sitting is not None else "registered"
        if state in OVER and sitting is not None and reg.paper_id is not None:
            keys = papers[reg.paper_id]
            by_position = answers[sitting.id]
            with rules():
                scored = score_objective(
                    [k for _, k in keys.keys], keys.answers(by_position), policy
                )
                part = part_score("theory", scored.on_hundred, day, line)
            items = {
                str(pos): _plain(points)
                for (pos, _), (_, points) in zip(keys.keys, scored.items, strict=True)
            }
            changed = store_part(
                reg, part, actor, "计算理论成绩", raw=scored.raw,
                paper_points=scored.paper_points, items=items,
            )  # fmt: skip
            report.scored += 1
        elif state == "voided" and sitting is not None:
            part = PartResult("theory", "voided", day, reason=void_reason(sitting), pass_line=line)
            changed = store_part(reg, part, actor, "计算理论成绩")
            report.voided += 1
        else:
            before = part_scores(reg).get("theory")
            missed_part(reg, "theory", actor, "计算理论成绩")
            after = part_scores(reg)["theory"]
            changed = before is None or before.status != after.status
            if after.carried:
                report.carried += 1
            else:
                report.absent += 1
        report.changed += changed
    audit(
        plan,
        "score_theory",
        actor,
        scored=report.scored,
        absent=report.absent,
        carried=report.carried,
        voided=report.voided,
        changed=report.changed,
    )
    return report


# ---- release ---------------------------------------------------------------------------------


def release_problems(plan: ExamPlan) -> list[str]:
    """Why the plan's results cannot be released yet (empty when they can)."""
    problems = []
    rows = results_of(plan)
    missing = {kind: sum(kind not in parts for _, _, parts in rows) for kind in PART_KINDS}
    if missing["theory"]:
        problems.append(f"{missing['theory']} 名考生的理论成绩尚未计算：请先“计算理论成绩”")
    if missing["practical"]:
        problems.append(
            f"{missing['practical']} 名考生的实操评卷尚未开始：请先“生成实操答卷并分配考评员”"
        )
    open_scripts = db.session.scalars(
        select(Script.marking_number)
        .where(Script.plan_id == plan.id, Script.final.is_(None))
        .order_by(Script.marking_number)
    ).all()
    if open_scripts:
        shown = "、".join(open_scripts[:10]) + ("等" if len(open_scripts) > 10 else "")
        problems.append(
            f"还有 {len(open_scripts)} 份实操答卷未评完（密号 {shown}）：请待双评和仲裁完成"
        )
    pending = sum(
        result.status == "pending" for _, result, parts in rows if len(parts) == len(PART_KINDS)
    )
    if pending and not open_scripts:
        problems.append(f"{pending} 名考生的成绩仍为待定：请检查评卷进度")
    if not rows:
        problems.append("本计划没有考生")
    return problems


def release(plan: ExamPlan, actor: User | None, now: datetime) -> int:
    """Release the plan's results to candidates; refused while any result is not final.
    Returns the number of results released."""
    row = lock(plan)
    require_unreleased(plan, "发布")
    problems = release_problems(plan)
    if problems:
        raise Conflict(f"计划「{plan.batch}」的成绩还不能发布", problems)
    row.released_at, row.released_by_id = now, actor.id if actor else None
    count = 0
    for reg in plan.registrations:
        result = refresh_result(reg)
        result.released_at = now
        count += 1
    db.session.flush()
    window = AppealWindow(now, timedelta(days=row.appeal_days))
    audit(plan, "release", actor, results=count, appeals_close=window.closes_at)
    return count


# ---- the candidate's result lookup -----------------------------------------------------------


class LookupRefused(DomainError):
    status = 401
    code = "bad_credentials"


class NotReleased(DomainError):
    status = 404
    code = "not_released"


def lookup(ticket_number: str, id_number: str) -> Registration:
    """The registration behind a ticket and ID number whose results are released.

    One message for an unknown ticket and a wrong ID number, so the form does not reveal which
    ticket numbers exist.
    """
    ticket = ticket_number.strip().upper()
    try:
        parse_ticket_number(ticket)
    except TicketNumberError as exc:
        raise DomainError(f"准考证号有误：{exc}") from exc
    reg = db.session.scalar(select(Registration).where(Registration.ticket_number == ticket))
    if reg is None or reg.candidate.id_number != id_number.strip().upper():
        raise LookupRefused("准考证号或身份证号不正确：请核对准考证")
    result = db.session.scalar(select(Result).where(Result.registration_id == reg.id))
    if result is None or result.released_at is None:
        raise NotReleased(f"「{reg.plan.title}」的成绩尚未发布：请在评价组织公布后再查询")
    return reg


def appeal_window(plan: ExamPlan) -> AppealWindow | None:
    """The window for appeals (成绩复核), once the results are released."""
    row = _settings_row(plan)
    moment = None if row is None else aware(row.released_at)
    if row is None or moment is None:
        return None
    return AppealWindow(moment, timedelta(days=row.appeal_days))
