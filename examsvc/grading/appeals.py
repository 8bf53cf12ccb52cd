"""Appeals (成绩复核): a candidate asks within the window, staff review, the outcome is recorded.

A theory appeal is a re-check against the keys in force (a wrong key is corrected for everyone
through ``regrade``); a practical appeal sends the candidate's scripts to a new arbitration by a
senior rater who has not marked them. Closing an appeal records the part's score before and
after; any change of a released score is in the audit log (``services.store_part``).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select

from ..auth.models import User
from ..errors import Conflict, DomainError, NotFound
from ..extensions import db
from ..plans.models import ExamPlan
from ..registration.models import Registration
from . import practical, services
from .models import Appeal
from .results import PART_KINDS, PART_NAMES, AppealClosed, PartResult, part_score
from .scoring import score_objective

STATE_NAMES = {"open": "待处理", "reviewing": "复核中", "closed": "已办结"}
OUTCOME_NAMES = {"upheld": "维持原成绩", "changed": "成绩已更正"}
MAX_REASON = 1000


def appeals_of(reg: Registration) -> list[Appeal]:
    return list(
        db.session.scalars(
            select(Appeal).where(Appeal.registration_id == reg.id).order_by(Appeal.id)
        )
    )


def plan_appeals(plan: ExamPlan) -> list[Appeal]:
    return list(
        db.session.scalars(
            select(Appeal)
            .join(Registration)
            .where(Registration.plan_id == plan.id)
            .order_by(Appeal.state == "closed", Appeal.id)
        )
    )


def submit_appeal(reg: Registration, part: str, reason: str, now: datetime) -> Appeal:
    """A candidate's request to review one part, within the window after release."""
    if part not in PART_KINDS:
        raise DomainError("请选择要复核的部分：理论考试或实操考试")
    window = services.appeal_window(reg.plan)
    if window is None:
        raise Conflict("成绩尚未发布，发布后才能申请复核")
    try:
        window.check(now)
    except AppealClosed as exc:
        raise Conflict(exc.message) from exc
    name = PART_NAMES[part]
    row = services.part_scores(reg).get(part)
    if row is None or row.status != "scored" or row.carried:
        why = "沿用以前的成绩" if row is not None and row.carried else "没有本次的分数"
        raise DomainError(f"{name}{why}，不能申请复核：如对缺考或取消成绩有异议，请联系考点")
    text = reason.strip()
    if not 5 <= len(text) <= MAX_REASON:
        raise DomainError(f"请写明复核理由（5 到 {MAX_REASON} 个字），例如对哪道题的评分有疑问")
    if any(a.part_kind == part and a.state != "closed" for a in appeals_of(reg)):
        raise Conflict(f"您对{name}的复核申请正在处理中，请勿重复提交")
    appeal = Appeal(
        registration_id=reg.id, part_kind=part, reason=text, old_score=row.score, created_at=now
    )
    db.session.add(appeal)
    db.session.flush()
    services.audit(
        reg.plan, "appeal", None, registration_id=reg.id, reason=text, part=part, appeal=appeal.id
    )
    return appeal


def appeal_of(plan: ExamPlan, appeal_id: int) -> Appeal:
    appeal = db.session.get(Appeal, appeal_id)
    if appeal is None or appeal.registration.plan_id != plan.id:
        raise NotFound("该复核申请不存在")
    return appeal


def managed_appeal(user: User, appeal_id: int) -> Appeal:
    appeal = db.session.get(Appeal, appeal_id)
    if appeal is None:
        raise NotFound("该复核申请不存在")
    services.graded_plan(user, appeal.registration.plan_id)
    return appeal


def review(appeal: Appeal, actor: User) -> str:
    """Start the review: re-check the theory now, or send the practical scripts to arbitration.
    Returns what was done, for the page."""
    if appeal.state != "open":
        raise Conflict(f"该复核申请{STATE_NAMES[appeal.state]}，不能再次开始复核")
    reg = appeal.registration
    appeal.state = "reviewing"
    if appeal.part_kind == "theory":
        recheck_theory(reg, actor, f"成绩复核 #{appeal.id}")
        done = "理论成绩已按现行答案重新核算"
    else:
        scripts = [s for s in practical.scripts_of(reg) if not s.blank]
        if not scripts:
            raise DomainError("该考生的实操答卷均未作答（按 0 分计），没有可复评的答卷")
        for script in scripts:
            practical.send_to_arbitration(script, actor, f"成绩复核 #{appeal.id}")
        done = f"{len(scripts)} 份实操答卷已送高级考评员复评"
    db.session.flush()
    services.audit(
        reg.plan, "appeal_review", actor, registration_id=reg.id, appeal=appeal.id, done=done
    )
    return done


def recheck_theory(reg: Registration, actor: User, reason: str) -> None:
    """Score the candidate's theory again against the keys in force."""
    plan = reg.plan
    row = services.part_scores(reg).get("theory")
    sitting = services.sittings_by_registration(plan, "theory").get(reg.id)
    if row is None or row.status != "scored" or sitting is None or reg.paper_id is None:
        raise DomainError("该考生没有可复核的理论成绩")
    keys = services.objective_keys(plan)[reg.paper_id]
    answers = services.answers_of([sitting.id])[sitting.id]
    policy = services.mc_policy(services.settings_of(plan))
    with services.rules():
        scored = score_objective([k for _, k in keys.keys], keys.answers(answers), policy)
        part: PartResult = part_score(
            "theory", scored.on_hundred, row.taken_on, Decimal(row.pass_line)
        )
    items = {
        str(pos): services._plain(points)
        for (pos, _), (_, points) in zip(keys.keys, scored.items, strict=True)
    }
    services.store_part(
        reg, part, actor, reason, raw=scored.raw, paper_points=scored.paper_points, items=items
    )


def close(appeal: Appeal, actor: User, note: str, now: datetime) -> Appeal:
    """Record the outcome once the review is done: the score before and after, and the reply."""
    if appeal.state != "reviewing":
        raise Conflict("请先开始复核，复核完成后再办结")
    reg = appeal.registration
    waiting = [
        s.marking_number
        for s in practical.scripts_of(reg)
        if appeal.part_kind == "practical" and s.final is None
    ]
    if waiting:
        raise Conflict(
            f"还有 {len(waiting)} 份答卷在复评中（密号 {'、'.join(waiting)}）：请待高级考评员评完后再办结"
        )
    text = note.strip()
    if not text:
        raise DomainError("请填写给考生的复核答复，例如“经复评，实操成绩维持 58.5 分”")
    row = services.part_scores(reg)[appeal.part_kind]
    appeal.new_score = row.score
    appeal.outcome = "upheld" if appeal.new_score == appeal.old_score else "changed"
    appeal.state, appeal.note = "closed", text
    appeal.decided_at, appeal.decided_by_id = now, actor.id
    db.session.flush()
    services.audit(
        reg.plan,
        "appeal_closed",
        actor,
        registration_id=reg.id,
        reason=text,
        appeal=appeal.id,
        part=appeal.part_kind,
        outcome=appeal.outcome,
        old=appeal.old_score,
        new=appeal.new_score,
    )
    return appeal
