"""Practical marking use cases (实操评卷): scripts under marking numbers, double marking,
arbitration by a senior rater, the practical part's score, the progress board and agreement.

Raters reach a script only by its id and see only its marking number, the task and the answer;
nothing here hands a rater the registration. The two raters of a script are dealt out balanced
(``marking.assign_raters``); senior raters (高级考评员) arbitrate and, when there are at least two
other raters, do not take first or second markings, so that any script can go to one of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from ..assembly.models import PaperItem
from ..auth.models import User
from ..bank.convert import version_data
from ..bank.model import Criterion
from ..bank.models import Attachment, ItemVersion
from ..delivery.models import Answer, AnswerFile, Sitting
from ..errors import Conflict, DomainError, NotFound
from ..extensions import db
from ..plans.models import ExamPlan
from ..registration.models import Registration
from . import services
from .marking import (
    CriterionMark,
    MarkingError,
    Resolution,
    Rubric,
    assign_arbiters,
    assign_raters,
    check_marking,
    final_score,
    needs_arbitration,
    new_marking_numbers,
    practical_on_hundred,
)
from .marking import Marking as PureMarking
from .models import Marking, Script, SeniorRater
from .results import PartResult, part_score
from .services import OVER, RunReport, audit, rules, settings_of
from .statistics import Agreement, rater_agreement

ROLE_NAMES = {"first": "一评", "second": "二评", "arbiter": "仲裁"}


# ---- raters ----------------------------------------------------------------------------------


def senior_ids(plan: ExamPlan) -> list[int]:
    return list(
        db.session.scalars(
            select(SeniorRater.user_id)
            .where(SeniorRater.plan_id == plan.id)
            .order_by(SeniorRater.id)
        )
    )


def markers(plan: ExamPlan) -> list[int]:
    """Who takes first and second markings: the raters who are not senior, when there are at
    least two of them; otherwise every rater of the plan."""
    raters = services.rater_ids(plan)
    seniors = set(senior_ids(plan))
    regular = [r for r in raters if r not in seniors]
    return regular if len(regular) >= 2 else raters


def set_senior(plan: ExamPlan, user_id: int, senior: bool, actor: User) -> None:
    """Make a rater of the plan a senior rater (who arbitrates), or no longer one."""
    if user_id not in services.rater_ids(plan):
        raise DomainError("只有本计划的考评员可以担任高级考评员：请先在考核计划中指派其为考评员")
    row = db.session.scalar(
        select(SeniorRater).where(SeniorRater.plan_id == plan.id, SeniorRater.user_id == user_id)
    )
    if senior and row is None:
        db.session.add(SeniorRater(plan_id=plan.id, user_id=user_id))
    elif not senior and row is not None:
        waiting = [s.marking_number for s in _arbitrations(plan) if s.arbiter_id == user_id]
        if waiting:
            raise Conflict(
                f"该高级考评员还有 {len(waiting)} 份仲裁答卷未评（密号 {'、'.join(waiting[:5])}）："
                "请先改派给其他高级考评员"
            )
        db.session.delete(row)
    else:
        return
    db.session.flush()
    audit(plan, "senior_rater", actor, user_id=user_id, senior=senior)
    if senior:
        for script in _arbitrations(plan):
            if script.arbiter_id is None:
                _choose_arbiter(script, plan)


def _arbitrations(plan: ExamPlan) -> list[Script]:
    """Scripts waiting for an arbiter's marking."""
    return list(
        db.session.scalars(
            select(Script)
            .where(Script.plan_id == plan.id, Script.arbitration.is_(True), Script.final.is_(None))
            .order_by(Script.marking_number)
        )
    )


# ---- scripts ---------------------------------------------------------------------------------


def rubric_of(version: ItemVersion, step: Decimal) -> Rubric:
    with rules():
        return Rubric.from_bank(version_data(version.item, version).rubric, step)


def prepare_marking(plan: ExamPlan, actor: User | None, now: datetime) -> RunReport:
    """Once the practical part is over: one script per practical answer, each under a new
    marking number with two raters; absent and voided parts recorded. Running it again adds
    only what is missing."""
    settings = services.lock(plan)
    services.require_unreleased(plan, "生成实操答卷")
    services.require_part_over(plan, "practical", now)
    raters = markers(plan)
    day = services.exam_day(plan, "practical")
    line = services.pass_line(plan, "practical")
    sittings = services.sittings_by_registration(plan, "practical")
    answers = services.answers_of([s.id for s in sittings.values() if s.state in OVER])
    uploaded = _uploaded([s.id for s in sittings.values() if s.state in OVER])
    existing = {
        (s.registration_id, s.position): s
        for s in db.session.scalars(select(Script).where(Script.plan_id == plan.id))
    }
    items: dict[int, list[PaperItem]] = {}
    for pi in db.session.scalars(
        select(PaperItem)
        .join(Registration, Registration.paper_id == PaperItem.paper_id)
        .where(Registration.plan_id == plan.id, PaperItem.part_kind == "practical")
        .order_by(PaperItem.position)
    ):
        items.setdefault(pi.paper_id, []).append(pi)
    for version in {pi.version for pis in items.values() for pi in pis}:
        rubric_of(version, services.rubric_step(settings))  # every rubric must be markable
    report = RunReport()
    new: list[Script] = []
    touched: list[Registration] = []
    for reg in plan.registrations:
        sitting = sittings.get(reg.id)
        state = sitting.state if sitting is not None else "registered"
        if state in OVER and sitting is not None and reg.paper_id is not None:
            for pi in items.get(reg.paper_id, []):
                if (reg.id, pi.position) in existing:
                    continue
                value = answers[sitting.id].get(pi.position)
                text = value.get("text", "") if isinstance(value, dict) else ""
                blank = not text.strip() and (sitting.id, pi.position) not in uploaded
                script = Script(
                    plan_id=plan.id,
                    registration_id=reg.id,
                    position=pi.position,
                    item_version_id=pi.item_version_id,
                    points=Decimal(pi.points),
                    marking_number="",
                    blank=blank,
                    final=Decimal(0) if blank else None,
                )
                new.append(script)
                report.blank += script.blank
            touched.append(reg)
        elif state == "voided" and sitting is not None:
            reason = services.void_reason(sitting)
            part = PartResult("practical", "voided", day, reason=reason, pass_line=line)
            report.changed += services.store_part(reg, part, actor, "生成实操答卷")
            report.voided += 1
        else:
            services.missed_part(reg, "practical", actor, "生成实操答卷")
            carried = services.part_scores(reg)["practical"].carried
            report.carried += carried
            report.absent += not carried
    to_mark = [s for s in new if not s.blank]
    if to_mark and len(raters) < 2:
        raise DomainError(
            f"双评需要至少两名考评员，本计划现有 {len(raters)} 名：请在考核计划中再指派考评员"
        )
    taken = {s.marking_number for s in existing.values()}
    for script, number in zip(new, new_marking_numbers(len(new), taken), strict=True):
        script.marking_number = number
    if to_mark:
        with rules():
            pairs = assign_raters(
                [s.marking_number for s in to_mark],
                [str(r) for r in raters],
                seed=f"{plan.id}-{len(existing)}",
            )
        for script in to_mark:
            first, second = pairs[script.marking_number]
            script.first_rater_id, script.second_rater_id = int(first), int(second)
    db.session.add_all(new)
    db.session.flush()
    for reg in touched:
        report.changed += update_practical(reg, actor, "生成实操答卷")
    report.scripts = len(new)
    audit(
        plan,
        "prepare_marking",
        actor,
        scripts=len(new),
        blank=report.blank,
        raters=len(raters),
        absent=report.absent,
        carried=report.carried,
        voided=report.voided,
    )
    return report


def _uploaded(sitting_ids: list[int]) -> set[tuple[int, int]]:
    """(sitting, position) pairs with at least one uploaded file."""
    return {
        (sitting_id, position)
        for sitting_id, position in db.session.execute(
            select(AnswerFile.sitting_id, AnswerFile.position)
            .where(AnswerFile.sitting_id.in_(sitting_ids))
            .distinct()
        )
    }


def scripts_of(reg: Registration) -> list[Script]:
    return list(
        db.session.scalars(
            select(Script).where(Script.registration_id == reg.id).order_by(Script.position)
        )
    )


def resolution(script: Script) -> Resolution | None:
    """The pure view of a script's markings (None until both first markings are in)."""
    first = _mark(script, script.first_rater_id)
    second = _mark(script, script.second_rater_id)
    if script.blank:
        zero = Decimal(0)
        return Resolution(
            script.marking_number, Decimal(script.points), zero, zero, None, False, zero
        )
    if first is None or second is None:
        return None
    arbiter = _arbiter_mark(script)
    return Resolution(
        script=script.marking_number,
        points=Decimal(script.points),
        first=Decimal(first.total),
        second=Decimal(second.total),
        arbiter=None if arbiter is None else Decimal(arbiter.total),
        needs_arbitration=script.arbitration,
        final=None if script.final is None else Decimal(script.final),
    )


def update_practical(reg: Registration, actor: User | None, reason: str) -> bool:
    """The practical part from the scripts' final scores (pending while any is open)."""
    scripts = scripts_of(reg)
    if not scripts:
        return False
    day = services.exam_day(reg.plan, "practical")
    line = services.pass_line(reg.plan, "practical")
    resolutions = [resolution(s) for s in scripts]
    if any(r is None or r.final is None for r in resolutions):
        return services.store_part(
            reg, PartResult("practical", "pending", day, pass_line=line), actor, reason
        )
    done = [r for r in resolutions if r is not None]
    with rules():
        on_hundred = practical_on_hundred(done)
        assert on_hundred is not None
        part = part_score("practical", on_hundred, day, line)
    raw = sum((r.final or Decimal(0) for r in done), Decimal(0))
    points = sum((r.points for r in done), Decimal(0))
    items = {str(s.position): services._plain(s.final) for s in scripts}
    return services.store_part(reg, part, actor, reason, raw=raw, paper_points=points, items=items)


# ---- marking ---------------------------------------------------------------------------------


def _mark(script: Script, rater_id: int | None) -> Marking | None:
    if rater_id is None:
        return None
    return next((m for m in script.markings if m.rater_id == rater_id), None)


def _arbiter_mark(script: Script) -> Marking | None:
    """The current arbiter's marking (an earlier arbiter's, before an appeal, no longer counts)."""
    mark = _mark(script, script.arbiter_id)
    return mark if mark is not None and mark.role == "arbiter" else None


def role_of(user: User, script: Script) -> str | None:
    """first, second or arbiter while the user has this script to mark or has marked it."""
    if script.first_rater_id == user.id:
        return "first"
    if script.second_rater_id == user.id:
        return "second"
    if script.arbiter_id == user.id or any(
        m.rater_id == user.id and m.role == "arbiter" for m in script.markings
    ):
        return "arbiter"
    return None


def script_for(user: User, script_id: int) -> tuple[Script, str]:
    """A script the user marks (or marked), with their role on it; 404 for any other."""
    script = db.session.get(Script, script_id)
    role = None if script is None else role_of(user, script)
    if script is None or role is None or script.blank:
        raise NotFound("该答卷不存在或不在您的评卷任务中")
    return script, role


def _practical_voided(script: Script) -> bool:
    sitting = services.sittings_by_registration(script.registration.plan, "practical").get(
        script.registration_id
    )
    return sitting is not None and sitting.state == "voided"


def parse_scores(rubric: Rubric, scores: Sequence[str], number: str) -> list[Decimal]:
    """The typed score of each criterion; every empty or non-numeric one named in one error."""
    problems: list[str] = []
    values: list[Decimal] = []
    if len(scores) != len(rubric.criteria):
        raise DomainError(
            f"密号 {number}：评分细则有 {len(rubric.criteria)} 个评分项，却提交了 {len(scores)} "
            "个得分：请为每个评分项各给一个得分"
        )
    for n, (criterion, text) in enumerate(zip(rubric.criteria, scores, strict=True), 1):
        where = f"第 {n} 项评分项“{criterion.name}”"
        if not text.strip():
            problems.append(f"{where}未评分：请填写 0 到 {criterion.points} 分")
            continue
        try:
            value = Decimal(text.strip())
        except InvalidOperation:
            problems.append(f"{where}的得分“{text.strip()}”不是数字")
            continue
        values.append(value)
    if problems:
        raise DomainError(f"密号 {number}：" + "；".join(problems), problems)
    return values


def record_marking(
    user: User, script_id: int, scores: Sequence[str], comments: Sequence[str], now: datetime
) -> Script:
    """Store a rater's marks on a script after checking every criterion; then resolve it.

    The script row is locked and re-read first, so two raters submitting at once are resolved
    one after the other and the second sees the first's marking.
    """
    script, role = script_for(user, script_id)
    db.session.refresh(script, with_for_update=True)
    db.session.expire(script, ["markings"])
    plan = script.registration.plan
    number = script.marking_number
    if _mark(script, user.id) is not None:
        raise Conflict(
            f"您已提交过密号 {number} 的评分：提交后不能修改；如有错误请联系管理员安排仲裁"
        )
    if role == "arbiter" and (not script.arbitration or script.arbiter_id != user.id):
        raise Conflict(f"密号 {number} 不在您的仲裁任务中")
    if role != "arbiter" and services.released(plan) is not None:
        raise Conflict(f"计划「{plan.batch}」的成绩已发布：密号 {number} 不能再评分")
    if _practical_voided(script):
        raise DomainError(
            f"密号 {number}：该答卷所属的实操考试已被取消成绩（违纪），不能评分：请联系管理员"
        )
    settings = settings_of(plan)
    rubric = rubric_of(script.version, services.rubric_step(settings))
    values = parse_scores(rubric, scores, number)
    notes = [c.strip() for c in comments] + [""] * (len(values) - len(comments))
    pure = PureMarking(
        str(user.id), tuple(CriterionMark(v, c) for v, c in zip(values, notes, strict=False))
    )
    with rules():
        total = check_marking(rubric, pure, number)
    script.markings.append(
        Marking(
            rater_id=user.id,
            role=role,
            scores=[services._plain(v) for v in values],
            comments=notes[: len(values)],
            total=total,
            submitted_at=now,
        )
    )
    db.session.flush()
    resolve(script, user)
    return script


def resolve(script: Script, actor: User | None) -> None:
    """The script's final score once it is known; arbitration (and an arbiter) when needed."""
    plan = script.registration.plan
    settings = settings_of(plan)
    policy = services.arbitration_policy(settings)
    first, second = _mark(script, script.first_rater_id), _mark(script, script.second_rater_id)
    if first is None or second is None:
        return
    points = Decimal(script.points)
    if needs_arbitration(Decimal(first.total), Decimal(second.total), points, policy):
        script.arbitration = True
    arbiter = _arbiter_mark(script)
    if script.arbitration and arbiter is None:
        script.final = None
        if script.arbiter_id is None:
            _choose_arbiter(script, plan)
    else:
        script.final = final_score(
            Decimal(first.total),
            Decimal(second.total),
            points,
            policy,
            None if arbiter is None else Decimal(arbiter.total),
        )
    db.session.flush()
    update_practical(script.registration, actor, "实操评分")


def _choose_arbiter(script: Script, plan: ExamPlan) -> bool:
    """Give the script to the least-loaded senior rater who has not marked it; False if none."""
    marked = {m.rater_id for m in script.markings}
    seniors = [s for s in senior_ids(plan) if s not in marked]
    load: dict[str, int] = {}
    for other in _arbitrations(plan):
        if other.arbiter_id is not None and other.id != script.id:
            load[str(other.arbiter_id)] = load.get(str(other.arbiter_id), 0) + 1
    try:
        chosen = assign_arbiters(
            {script.marking_number: (str(script.first_rater_id), str(script.second_rater_id))},
            [str(s) for s in seniors],
            load,
        )
    except MarkingError:
        script.arbiter_id = None
        return False
    script.arbiter_id = int(chosen[script.marking_number])
    db.session.flush()
    return True


def assign_arbiter(plan: ExamPlan, script_id: int, user_id: int, actor: User) -> Script:
    """Staff name the arbiter of a script waiting for arbitration (a senior rater who has not
    marked it: never one of its first two raters)."""
    script = db.session.get(Script, script_id)
    if script is None or script.plan_id != plan.id:
        raise NotFound("该答卷不在本计划中")
    number = script.marking_number
    if not script.arbitration or script.final is not None:
        raise Conflict(f"密号 {number} 不需要仲裁")
    if _arbiter_mark(script) is not None:
        raise Conflict(f"密号 {number} 的仲裁已完成")
    user = db.session.get(User, user_id)
    if user is None or user_id not in senior_ids(plan):
        raise DomainError("所选账号不是本计划的高级考评员：请先在成绩页把其设为高级考评员")
    if user_id in (script.first_rater_id, script.second_rater_id):
        role = "一评" if user_id == script.first_rater_id else "二评"
        raise DomainError(
            f"密号 {number}：仲裁考评员“{user.display_name}”已是这份答卷的{role}，第三评必须由另一名"
            "高级考评员担任：请改派"
        )
    if _mark(script, user_id) is not None:
        raise DomainError(
            f"密号 {number}：“{user.display_name}”已评过这份答卷，第三评必须由另一名高级考评员担任"
        )
    script.arbiter_id = user_id
    db.session.flush()
    audit(
        plan, "assign_arbiter", actor, script_id=script.id, marking_number=number, arbiter=user_id
    )
    return script


def send_to_arbitration(script: Script, actor: User | None, reason: str) -> None:
    """Send a fully marked script to (another) arbitration, e.g. after an appeal; its final
    score is open again until the new arbiter marks."""
    plan = script.registration.plan
    number = script.marking_number
    if script.blank:
        raise Conflict(f"密号 {number} 未作答，按 0 分计，无需仲裁")
    if (
        _mark(script, script.first_rater_id) is None
        or _mark(script, script.second_rater_id) is None
    ):
        raise Conflict(f"密号 {number} 还未完成双评，不能送仲裁")
    previous = script.arbiter_id
    script.arbitration, script.arbiter_id, script.final = True, None, None
    if not _choose_arbiter(script, plan):
        raise DomainError(
            f"密号 {number} 没有可用的仲裁考评员：本计划的高级考评员都已评过这份答卷，"
            "请再指定一名高级考评员"
        )
    audit(
        plan,
        "send_to_arbitration",
        actor,
        script_id=script.id,
        registration_id=script.registration_id,
        reason=reason,
        marking_number=number,
        previous_arbiter=previous,
        arbiter=script.arbiter_id,
    )
    update_practical(script.registration, actor, reason)


# ---- the rater's queue -----------------------------------------------------------------------


@dataclass
class Queue:
    to_mark: list[tuple[Script, str]] = field(default_factory=list)
    to_arbitrate: list[Script] = field(default_factory=list)
    done: list[tuple[Script, Marking]] = field(default_factory=list)


def queue(user: User, plan: ExamPlan) -> Queue:
    """The user's scripts in the plan by marking number: to mark, to arbitrate, and done."""
    out = Queue()
    scripts = db.session.scalars(
        select(Script)
        .where(
            Script.plan_id == plan.id,
            Script.blank.is_(False),
            (Script.first_rater_id == user.id)
            | (Script.second_rater_id == user.id)
            | (Script.arbiter_id == user.id)
            | Script.id.in_(select(Marking.script_id).where(Marking.rater_id == user.id)),
        )
        .order_by(Script.marking_number)
    )
    for script in scripts:
        mine = _mark(script, user.id)
        if mine is not None:
            out.done.append((script, mine))
        elif script.arbiter_id == user.id and script.arbitration:
            out.to_arbitrate.append(script)
        elif user.id in (script.first_rater_id, script.second_rater_id):
            out.to_mark.append((script, role_of(user, script) or ""))
    return out


# ---- the progress board and agreement --------------------------------------------------------


@dataclass
class RaterLoad:
    user: User
    senior: bool
    assigned: int = 0
    marked: int = 0
    arbitrations: int = 0
    arbitrated: int = 0

    @property
    def remaining(self) -> int:
        return self.assigned - self.marked + self.arbitrations - self.arbitrated


@dataclass
class Progress:
    scripts: int = 0
    blank: int = 0
    marked_once: int = 0
    marked_twice: int = 0
    arbitration: int = 0
    unassigned: list[Script] = field(default_factory=list)
    final: int = 0
    raters: list[RaterLoad] = field(default_factory=list)


def progress(plan: ExamPlan) -> Progress:
    """Scripts by stage and each rater's workload, for the marking board."""
    seniors = set(senior_ids(plan))
    users = {s.user_id: s.user for s in plan.staff if s.role == "rater"}
    loads = {uid: RaterLoad(user, uid in seniors) for uid, user in users.items()}
    out = Progress()
    for script in db.session.scalars(
        select(Script).where(Script.plan_id == plan.id).order_by(Script.marking_number)
    ):
        out.scripts += 1
        if script.blank:
            out.blank += 1
            out.final += 1
            continue
        done = {m.rater_id for m in script.markings}
        pair = [r for r in (script.first_rater_id, script.second_rater_id) if r is not None]
        count = sum(r in done for r in pair)
        out.marked_once += count == 1
        out.marked_twice += count == 2
        for rater in pair:
            load = loads.get(rater)
            if load is not None:
                load.assigned += 1
                load.marked += rater in done
        for mark in script.markings:
            if mark.role == "arbiter" and mark.rater_id in loads:
                loads[mark.rater_id].arbitrations += 1
                loads[mark.rater_id].arbitrated += 1
        if script.arbitration and script.final is None:
            out.arbitration += 1
            if script.arbiter_id is None:
                out.unassigned.append(script)
            elif script.arbiter_id in loads:
                loads[script.arbiter_id].arbitrations += 1
        if script.final is not None:
            out.final += 1
    out.raters = sorted(loads.values(), key=lambda r: (r.senior, r.user.display_name))
    return out


@dataclass(frozen=True)
class AgreementReport:
    overall: Agreement
    by_rater: list[tuple[User, Agreement]]
    by_item: list[tuple[str, Agreement]]


def agreement(plan: ExamPlan) -> AgreementReport:
    """Rater agreement over the double-marked scripts: overall, per rater and per item."""
    pairs: list[tuple[Script, Resolution]] = []
    for script in db.session.scalars(
        select(Script).where(Script.plan_id == plan.id, Script.blank.is_(False))
    ):
        r = resolution(script)
        if r is not None:
            pairs.append((script, r))
    users = {s.user_id: s.user for s in plan.staff if s.role == "rater"}
    by_rater = []
    for uid, user in sorted(users.items(), key=lambda kv: kv[1].display_name):
        mine = [r for s, r in pairs if uid in (s.first_rater_id, s.second_rater_id)]
        if mine:
            by_rater.append((user, rater_agreement(mine)))
    items: dict[str, list[Resolution]] = {}
    for script, r in pairs:
        items.setdefault(_item_title(script), []).append(r)
    return AgreementReport(
        rater_agreement([r for _, r in pairs]),
        by_rater,
        [(title, rater_agreement(rs)) for title, rs in sorted(items.items())],
    )


def _item_title(script: Script) -> str:
    title = (script.version.practical or {}).get("title", "")
    return f"{script.version.item.external_id} {title}".strip()


@dataclass(frozen=True)
class Task:
    """What a rater sees of a practical item: never anything about the candidate."""

    title: str
    stem: str
    materials: list[Attachment]
    images: dict[str, int]  # image name → attachment id
    rubric: tuple[Criterion, ...]
    editor: str  # html | css | javascript | text | none


def task_of(script: Script) -> Task:
    data = version_data(script.version.item, script.version)
    attachments = script.version.attachments
    return Task(
        title=data.title,
        stem=data.stem,
        materials=[a for a in attachments if a.kind == "material"],
        images={a.name: a.id for a in attachments if a.kind == "image"},
        rubric=data.rubric,
        editor=data.answer_form.editor if data.answer_form else "text",
    )


def answer_text(script: Script) -> str:
    """The candidate's answer to the script's item, as stored."""
    value = db.session.scalar(
        select(Answer.value)
        .join(Sitting, Answer.sitting_id == Sitting.id)
        .where(
            Sitting.registration_id == script.registration_id,
            Sitting.part_kind == "practical",
            Answer.position == script.position,
        )
    )
    return str(value.get("text", "")) if isinstance(value, dict) else ""


def answer_files(script: Script) -> list[AnswerFile]:
    """The files the candidate uploaded for the script's item (content loaded on access)."""
    return list(
        db.session.scalars(
            select(AnswerFile)
            .join(Sitting, AnswerFile.sitting_id == Sitting.id)
            .where(
                Sitting.registration_id == script.registration_id,
                Sitting.part_kind == "practical",
                AnswerFile.position == script.position,
            )
            .order_by(AnswerFile.name)
        )
    )


def shown_name(script: Script, number: int, name: str) -> str:
    """A file's name as raters see it: the marking number, its place and the extension, since
    a name the candidate chose could say who they are."""
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else "bin"
    return f"{script.marking_number}-{number}.{extension}"
