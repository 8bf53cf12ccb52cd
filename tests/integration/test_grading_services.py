"""Grading against a real database: theory scoring (absent, voided, idempotent), the plan's
multiple-choice policy, double marking with balanced raters, arbitration by a senior rater,
the practical part, release and lookup. Every refusal changes nothing."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import func, select

from examsvc.auth.models import User
from examsvc.auth.roles import Role
from examsvc.catalog.models import Organization
from examsvc.delivery.models import Answer, Sitting
from examsvc.errors import Conflict, DomainError, NotFound
from examsvc.extensions import db
from examsvc.grading import practical, services
from examsvc.grading.demo import sit_practical, sit_theory, void_part
from examsvc.grading.models import GradingEvent, Marking, PartScore, Script, SeniorRater
from examsvc.grading.practical import rubric_of
from examsvc.plans.models import ExamPlan
from examsvc.plans.services import advance, assign_staff
from examsvc.registration.models import Registration
from tests.conftest import open_demo_plan

NOW = services.now_utc()


class Exam:
    """The demo plan, started yesterday, with two raters and a senior rater (arbiter)."""

    def __init__(self, plan: ExamPlan, admin: User, raters: list[User], senior: User) -> None:
        self.plan, self.admin, self.raters, self.senior = plan, admin, raters, senior
        self.regs = sorted(plan.registrations, key=lambda r: r.ticket_number or "")
        self.users = {u.id: u for u in [admin, *raters, senior]}

    def score(self) -> services.RunReport:
        report = services.score_theory(self.plan, self.admin, services.now_utc())
        db.session.commit()
        return report

    def prepare(self) -> services.RunReport:
        report = practical.prepare_marking(self.plan, self.admin, services.now_utc())
        db.session.commit()
        return report

    def scripts(self, reg: Registration | None = None) -> list[Script]:
        query = select(Script).order_by(Script.id)
        if reg is not None:
            query = query.where(Script.registration_id == reg.id)
        else:
            query = query.where(Script.plan_id == self.plan.id)
        return list(db.session.scalars(query))

    def mark(self, script: Script, rater_id: int | None, total: Decimal | str) -> Script:
        assert rater_id is not None
        scores = totalling(script, Decimal(total))
        done = practical.record_marking(self.users[rater_id], script.id, scores, [], NOW)
        db.session.commit()
        return done

    def mark_all(self, reg: Registration, share: Decimal) -> None:
        """Both raters give ``share`` of every script's points (no arbitration)."""
        for script in self.scripts(reg):
            if not script.blank:
                total = (script.points * share * 2).to_integral_value() / 2
                self.mark(script, script.first_rater_id, total)
                self.mark(script, script.second_rater_id, total)

    def part(self, reg: Registration, kind: str) -> PartScore:
        return services.part_scores(reg)[kind]


def totalling(script: Script, total: Decimal) -> list[str]:
    """Criterion scores adding up to ``total``, each criterion filled in turn."""
    left, out = total, []
    for criterion in rubric_of(script.version, Decimal("0.5")).criteria:
        give = min(left, criterion.points)
        out.append(str(give))
        left -= give
    assert left == 0, f"{total} is more than the item's points"
    return out


@pytest.fixture
def exam(catalog: dict[str, Organization], make_user: Callable[..., User]) -> Exam:
    admin = make_user(Role.ORG_ADMIN, username="admin")
    raters = [make_user(Role.RATER, username=f"marker-{n}") for n in (1, 2)]
    senior = make_user(Role.RATER, username="senior")
    plan = open_demo_plan()
    for user in [*raters, senior]:
        assign_staff(plan, user.id, "rater", None)
    db.session.add(SeniorRater(plan_id=plan.id, user_id=senior.id))
    advance(plan, "in_progress")
    db.session.commit()
    return Exam(plan, admin, raters, senior)


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


# ---- theory ----------------------------------------------------------------------------------


def test_theory_is_scored_on_100_with_absent_and_voided_parts_and_again_changes_nothing(
    exam: Exam,
) -> None:
    full, sixty, fifty_eight, absent, voided = exam.regs[:5]
    sit_theory(full, 50, NOW)
    sit_theory(sixty, 30, NOW)
    sit_theory(fifty_eight, 29, NOW)
    void_part(voided, "theory", NOW, "夹带资料")
    db.session.commit()

    report = exam.score()
    assert (report.scored, report.voided, report.absent) == (3, 1, len(exam.regs) - 4)
    assert exam.part(full, "theory").score == Decimal("100.0")
    assert len(exam.part(full, "theory").items) == 50
    assert exam.part(sixty, "theory").score == Decimal("60.0")  # passes at exactly 60
    assert services.candidate_result(sixty).theory.passed
    assert exam.part(fifty_eight, "theory").score == Decimal("58.0")
    assert not services.candidate_result(fifty_eight).theory.passed
    assert exam.part(absent, "theory").status == "absent"
    assert exam.part(voided, "theory").status == "voided"
    assert exam.part(voided, "theory").reason == "违纪：夹带资料"
    assert services.candidate_result(voided).status == "voided"
    assert services.candidate_result(full).status == "pending"  # practical not marked yet

    again = exam.score()
    assert again.changed == 0 and again.scored == 3
    events = db.session.scalars(
        select(GradingEvent).where(GradingEvent.action == "score_theory")
    ).all()
    assert [e.data["changed"] for e in events] == [len(exam.regs), 0]


def test_scoring_waits_until_the_part_is_over_and_nobody_is_answering(exam: Exam) -> None:
    reg = exam.regs[0]
    sitting = sit_theory(reg, 40, NOW)
    sitting.state = "in_progress"
    db.session.commit()
    with pytest.raises(Conflict, match=str(reg.ticket_number)):
        exam.score()
    db.session.rollback()
    assert _count(PartScore) == 0

    sitting.state = "submitted"
    session = services.session_of(exam.plan, "theory")
    session.starts_at += timedelta(days=2)
    db.session.commit()
    with pytest.raises(Conflict, match="考试结束后再评分"):
        exam.score()
    db.session.rollback()
    assert _count(PartScore) == 0


def test_the_plans_multiple_choice_policy_scores_a_correct_subset_and_is_then_locked(
    exam: Exam,
) -> None:
    reg = exam.regs[0]
    sitting = sit_theory(reg, 50, NOW)
    answer = next(
        a for a in db.session.scalars(select(Answer).where(Answer.sitting_id == sitting.id))
        if isinstance(a.value, list)
    )  # fmt: skip
    answer.value = answer.value[:1]  # one correct option of a multiple-choice key: 少选
    services.update_settings(exam.plan, {"mc_policy": "partial"}, exam.admin)
    db.session.commit()

    exam.score()
    assert exam.part(reg, "theory").score == Decimal("99.0")  # 2 points → 1 for 少选
    with pytest.raises(Conflict, match="多选评分规则不能再改"):
        services.update_settings(exam.plan, {"mc_policy": "all_or_nothing"}, exam.admin)
    db.session.rollback()
    assert services.settings_of(exam.plan).mc_policy == "partial"


def test_settings_refuse_bad_values_naming_each(exam: Exam) -> None:
    with pytest.raises(DomainError) as caught:
        services.update_settings(
            exam.plan,
            {"threshold_percent": "abc", "retake_months": "-1", "appeal_days": "2.5"},
            exam.admin,
        )
    assert len(caught.value.details) == 3
    assert "仲裁阈值“abc”不是数字" in caught.value.details[0]
    with pytest.raises(DomainError, match="整数倍"):
        services.update_settings(exam.plan, {"rubric_step": "0.3"}, exam.admin)
    db.session.rollback()
    settings = services.settings_of(exam.plan)
    assert (settings.threshold_ratio, settings.rubric_step) == (Decimal("0.15"), Decimal("0.5"))


# ---- practical marking -----------------------------------------------------------------------


def test_scripts_get_marking_numbers_and_two_different_raters_with_balanced_loads(
    exam: Exam,
) -> None:
    sat = exam.regs[:6]
    for reg in sat:
        sit_practical(reg, NOW)
    sit_practical(exam.regs[6], NOW, texts=[""] * 5)  # handed in with nothing written
    void_part(exam.regs[7], "practical", NOW, "代考")
    db.session.commit()

    report = exam.prepare()
    scripts = exam.scripts()
    assert report.scripts == len(scripts) and report.voided == 1
    assert report.blank == len(exam.scripts(exam.regs[6])) == report.blank
    assert len({s.marking_number for s in scripts}) == len(scripts)
    marked = [s for s in scripts if not s.blank]
    regular = {u.id for u in exam.raters}
    for script in marked:
        assert script.first_rater_id != script.second_rater_id
        assert {script.first_rater_id, script.second_rater_id} <= regular  # the senior arbitrates
    loads = [load.assigned for load in practical.progress(exam.plan).raters if not load.senior]
    assert max(loads) - min(loads) <= 1
    blank_reg = exam.regs[6]
    assert exam.part(blank_reg, "practical").score == Decimal("0.0")
    assert exam.part(exam.regs[7], "practical").status == "voided"
    assert exam.part(exam.regs[8], "practical").status == "absent"

    again = exam.prepare()
    assert again.scripts == 0 and len(exam.scripts()) == len(scripts)


def test_two_close_markings_average_and_a_big_gap_goes_to_the_senior_rater(exam: Exam) -> None:
    reg = exam.regs[0]
    sit_theory(reg, 40, NOW)
    sit_practical(reg, NOW)
    db.session.commit()
    exam.score()
    exam.prepare()
    close, far, *rest = exam.scripts(reg)
    points = close.points

    exam.mark(close, close.first_rater_id, points * Decimal("0.8"))
    assert services.candidate_result(reg).practical.status == "pending"
    gap = (points * Decimal("0.15") * 2).to_integral_value() / 2  # within the threshold
    exam.mark(close, close.second_rater_id, points * Decimal("0.8") - gap)
    assert not close.arbitration
    assert close.final == points * Decimal("0.8") - gap / 2

    exam.mark(far, far.first_rater_id, far.points)
    exam.mark(far, far.second_rater_id, far.points / 2)
    assert far.arbitration and far.final is None
    assert far.arbiter_id == exam.senior.id
    senior_queue = practical.queue(exam.senior, exam.plan)
    assert [s.id for s in senior_queue.to_arbitrate] == [far.id]
    assert practical.queue(exam.users[far.first_rater_id], exam.plan).to_arbitrate == []

    exam.mark(far, exam.senior.id, far.points * Decimal("0.7"))
    assert far.final == far.points * Decimal("0.7")  # the arbiter's score (default rule)

    for script in rest:
        exam.mark(script, script.first_rater_id, script.points)
        exam.mark(script, script.second_rater_id, script.points)
    scripts = exam.scripts(reg)
    raw = sum((s.final or Decimal(0) for s in scripts), Decimal(0))
    total = sum((s.points for s in scripts), Decimal(0))
    expected = (raw * 100 / total).quantize(Decimal("0.1"), rounding="ROUND_HALF_UP")
    assert exam.part(reg, "practical").score == expected
    assert services.candidate_result(reg).status == ("passed" if expected >= 60 else "failed")
    agreement = practical.agreement(exam.plan).overall
    assert agreement.scripts == len(scripts) and agreement.arbitration_rate is not None


def test_bad_marks_are_refused_naming_the_criterion_and_store_nothing(exam: Exam) -> None:
    reg = exam.regs[0]
    sit_practical(reg, NOW)
    db.session.commit()
    exam.prepare()
    script = exam.scripts(reg)[0]
    rater = exam.users[script.first_rater_id or 0]
    criteria = rubric_of(script.version, Decimal("0.5")).criteria
    scores = [str(c.points) for c in criteria]
    scores[0] = str(criteria[0].points + 1)
    scores[1] = "0.3"
    with pytest.raises(DomainError) as caught:
        practical.record_marking(rater, script.id, scores, [], NOW)
    assert script.marking_number in caught.value.message
    assert f"第 1 项评分项“{criteria[0].name}”" in caught.value.details[0]
    assert "0.5 的整数倍" in caught.value.details[1]
    db.session.rollback()
    with pytest.raises(DomainError, match="未评分"):
        practical.record_marking(rater, script.id, ["", *scores[1:]], [], NOW)
    db.session.rollback()
    with pytest.raises(DomainError, match="不是数字"):
        practical.record_marking(rater, script.id, ["五", *scores[1:]], [], NOW)
    db.session.rollback()
    with pytest.raises(NotFound):
        practical.record_marking(exam.senior, script.id, [str(c.points) for c in criteria], [], NOW)
    db.session.rollback()
    assert _count(Marking) == 0

    exam.mark(script, rater.id, script.points)
    with pytest.raises(Conflict, match="不能修改"):
        exam.mark(script, rater.id, Decimal(0))
    db.session.rollback()
    mark = db.session.scalar(select(Marking))
    assert mark is not None
    mark.total = Decimal(0)
    with pytest.raises(PermissionError, match="不能修改"):
        db.session.flush()
    db.session.rollback()
    assert _count(Marking) == 1


def test_the_arbiter_may_not_be_one_of_the_first_two_raters(exam: Exam) -> None:
    reg = exam.regs[0]
    sit_practical(reg, NOW)
    db.session.commit()
    exam.prepare()
    script = exam.scripts(reg)[0]
    first = exam.users[script.first_rater_id or 0]
    db.session.add(SeniorRater(plan_id=exam.plan.id, user_id=first.id))
    db.session.delete(
        db.session.scalar(select(SeniorRater).where(SeniorRater.user_id == exam.senior.id))
    )
    db.session.commit()
    exam.mark(script, script.first_rater_id, script.points)
    exam.mark(script, script.second_rater_id, Decimal(0))
    assert script.arbitration and script.arbiter_id is None  # the only senior marked it first
    assert [s.id for s in practical.progress(exam.plan).unassigned] == [script.id]
    with pytest.raises(DomainError, match="第三评必须由另一名高级考评员担任"):
        practical.assign_arbiter(exam.plan, script.id, first.id, exam.admin)
    db.session.rollback()
    with pytest.raises(DomainError, match="不是本计划的高级考评员"):
        practical.assign_arbiter(exam.plan, script.id, exam.senior.id, exam.admin)
    db.session.rollback()
    assert script.arbiter_id is None

    practical.set_senior(exam.plan, exam.senior.id, True, exam.admin)  # picks up the script
    db.session.commit()
    assert script.arbiter_id == exam.senior.id


def test_a_voided_sitting_cannot_be_marked(exam: Exam) -> None:
    reg = exam.regs[0]
    sit_practical(reg, NOW)
    db.session.commit()
    exam.prepare()
    script = exam.scripts(reg)[0]
    sitting = db.session.scalar(
        select(Sitting).where(Sitting.registration_id == reg.id, Sitting.part_kind == "practical")
    )
    assert sitting is not None
    sitting.state = "voided"  # voided by the invigilator after the scripts were made
    db.session.commit()
    with pytest.raises(DomainError, match="取消成绩"):
        exam.mark(script, script.first_rater_id, script.points)
    db.session.rollback()
    assert _count(Marking) == 0


# ---- release and lookup ----------------------------------------------------------------------


def test_release_is_refused_while_scripts_are_unmarked_then_results_can_be_looked_up(
    exam: Exam,
) -> None:
    passing, failing = exam.regs[:2]
    for reg, correct in ((passing, 45), (failing, 45)):
        sit_theory(reg, correct, NOW)
        sit_practical(reg, NOW)
    db.session.commit()
    exam.score()
    exam.prepare()
    exam.mark_all(passing, Decimal("0.7"))
    with pytest.raises(Conflict) as caught:
        services.release(exam.plan, exam.admin, NOW)
    unmarked = [s.marking_number for s in exam.scripts(failing)]
    assert any(unmarked[0] in p for p in caught.value.details)
    db.session.rollback()
    assert services.released(exam.plan) is None
    with pytest.raises(services.NotReleased):
        services.lookup(passing.ticket_number or "", passing.candidate.id_number)

    exam.mark_all(failing, Decimal("0.5"))
    assert services.release(exam.plan, exam.admin, NOW) == len(exam.regs)
    db.session.commit()
    assert services.candidate_result(passing).status == "passed"
    assert services.candidate_result(failing).status == "failed"  # theory passed, practical not
    assert services.lookup(f" {passing.ticket_number} ", passing.candidate.id_number) == passing
    with pytest.raises(services.LookupRefused):
        services.lookup(passing.ticket_number or "", failing.candidate.id_number)
    with pytest.raises(DomainError, match="准考证号有误"):
        services.lookup("123", passing.candidate.id_number)
    with pytest.raises(Conflict, match="已于"):
        services.release(exam.plan, exam.admin, NOW)
    db.session.rollback()
    with pytest.raises(Conflict, match="不能再重新计算理论成绩"):
        exam.score()


# Row locks are PostgreSQL's; SQLite has a single writer, so there is no race to lose there.
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_two_raters_submitting_at_once_are_resolved_one_after_the_other(
    app: Flask,
    exam: Exam,
    backend: str,
) -> None:
    reg = exam.regs[0]
    sit_practical(reg, NOW)
    db.session.commit()
    exam.prepare()
    script = exam.scripts(reg)[0]
    script_id, points = script.id, script.points
    pairs = [(script.first_rater_id, points), (script.second_rater_id, Decimal(0))]
    scores = {rater: totalling(script, total) for rater, total in pairs}
    stored, go, errors = threading.Event(), threading.Event(), []

    def first() -> None:
        with app.app_context():
            try:
                rater = db.session.get(User, pairs[0][0])
                practical.record_marking(rater, script_id, scores[pairs[0][0]], [], NOW)
                stored.set()
                go.wait(10)  # hold the lock while the second rater submits
                db.session.commit()
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)
                stored.set()

    def second() -> None:
        with app.app_context():
            try:
                rater = db.session.get(User, pairs[1][0])
                practical.record_marking(rater, script_id, scores[pairs[1][0]], [], NOW)
                db.session.commit()
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

    a = threading.Thread(target=first)
    a.start()
    assert stored.wait(10)
    b = threading.Thread(target=second)
    b.start()
    b.join(0.5)
    assert b.is_alive(), "the second rater waits for the first one's lock"
    go.set()
    a.join(10)
    b.join(10)
    assert errors == []
    db.session.expire_all()
    resolved = db.session.get(Script, script_id)
    assert resolved is not None and len(resolved.markings) == 2
    assert resolved.arbitration and resolved.arbiter_id == exam.senior.id  # gap: full vs 0
