"""Results after marking, on SQLite and PostgreSQL: retake carry-over into a later plan, appeals
within their window, key corrections (dry run, then confirm), statistics and exports, and the
demo's finished plan."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from examsvc.assembly.models import PaperItem
from examsvc.auth.models import User
from examsvc.auth.roles import Role
from examsvc.bank.models import Item, ItemVersion
from examsvc.delivery.models import Answer, Sitting
from examsvc.delivery.services import sittings_of
from examsvc.errors import Conflict, DomainError
from examsvc.extensions import db
from examsvc.grading import appeals, exports, practical, regrade, reports, services
from examsvc.grading.demo import BATCH, sit_practical, sit_theory
from examsvc.grading.models import GradingEvent, KeyCorrection, SeniorRater
from examsvc.grading.results import add_months
from examsvc.plans.models import ExamPlan
from examsvc.plans.services import PlanData, add_room, assign_staff, save_plan
from examsvc.registration.models import Registration
from examsvc.registration.roster_format import RosterRow
from examsvc.registration.services import RosterProblems, register
from tests.integration.test_grading_services import NOW, Exam, exam  # noqa: F401 (fixture)


def _events(action: str) -> list[GradingEvent]:
    return list(db.session.scalars(select(GradingEvent).where(GradingEvent.action == action)))


def _graded(exam: Exam, reg: Registration, theory: int, practical_share: str) -> None:  # noqa: F811
    sit_theory(reg, theory, NOW)
    sit_practical(reg, NOW)
    db.session.commit()
    exam.score()
    exam.prepare()
    exam.mark_all(reg, Decimal(practical_share))


# ---- retakes (补考) --------------------------------------------------------------------------


def _later_plan(exam: Exam, reg: Registration) -> tuple[ExamPlan, Registration]:  # noqa: F811
    """A second plan of the same level yesterday, with ``reg``'s candidate registered."""
    start = (exam.plan.sessions[0].starts_at + timedelta(days=100)).replace(hour=9, minute=0)
    plan = save_plan(
        exam.admin,
        PlanData(
            level_id=exam.plan.level_id,
            batch="补考批次",
            starts={"theory": start, "practical": start + timedelta(hours=3)},
            fees={"theory": "150", "practical": "230"},
        ),
    )
    add_room(plan, exam.plan.rooms[0].room_id)
    for rater in exam.raters:
        assign_staff(plan, rater.id, "rater", None)
    again = register(plan, reg.site, _row_of(exam, reg), exam.admin)
    db.session.commit()
    return plan, again


def _row_of(exam: Exam, reg: Registration) -> RosterRow:  # noqa: F811
    person = reg.candidate
    return RosterRow(
        row=2, name=person.name, id_number=person.id_number, gender=person.gender,
        institution=reg.institution, major=reg.major, class_name=reg.class_name, phone="",
        poor_family=False, level=exam.plan.level.name, certificates=(),
        years_in_trade=Decimal(0), education="高职", trained=True, graduating=True,
    )  # fmt: skip


def test_a_retake_registers_for_the_failed_part_only_and_pays_for_it(exam: Exam) -> None:  # noqa: F811
    for session in exam.plan.sessions:
        session.starts_at -= timedelta(days=101)
    failed_practical, passed_both = exam.regs[0], exam.regs[1]
    _graded(exam, failed_practical, 40, "0.4")
    _graded(exam, passed_both, 45, "0.9")
    services.release(exam.plan, exam.admin, NOW)
    db.session.commit()
    later, again = _later_plan(exam, failed_practical)
    assert again.parts == ["practical"] and again.fee == Decimal("230.00")  # not 380
    assert [s.part_kind for s in sittings_of(again)] == ["practical"]
    with pytest.raises(RosterProblems) as refused:
        register(later, passed_both.site, _row_of(exam, passed_both), exam.admin)
    assert "均在保留期内合格，本次无需报名" in refused.value.problems[0]
    assert (
        db.session.scalar(
            select(func.count()).select_from(Registration).where(Registration.plan_id == later.id)
        )
        == 1
    )


def test_a_passed_part_is_carried_into_a_later_plan_for_twelve_months(exam: Exam) -> None:  # noqa: F811
    for session in exam.plan.sessions:
        session.starts_at -= timedelta(days=101)  # the first plan was sat 100 days ago
    reg = exam.regs[0]
    _graded(exam, reg, 40, "0.4")  # theory 80 passes, practical about 40 fails
    later, again = _later_plan(exam, reg)
    assert services.parts_to_sit(reg.candidate, later) == ("theory", "practical")  # unreleased

    services.release(exam.plan, exam.admin, NOW)
    db.session.commit()
    assert services.candidate_result(reg).status == "failed"
    assert services.parts_to_sit(reg.candidate, later) == ("practical",)
    sat_on = services.exam_day(exam.plan, "theory")
    for day, expected in (
        (add_months(sat_on, 12), ("practical",)),
        (add_months(sat_on, 12) + timedelta(days=1), ("theory", "practical")),
    ):
        shift = day - services.exam_day(later)
        for session in later.sessions:
            session.starts_at += shift
        assert services.parts_to_sit(reg.candidate, later) == expected, day
        for session in later.sessions:
            session.starts_at -= shift  # fmt: skip

    # The later plan: the candidate sits only the practical part. (Publishing would seat them
    # in the room the first plan's candidates hold; the paper and the state are set directly.)
    later.state = "in_progress"
    again.paper_id = reg.paper_id
    sit_practical(again, NOW)
    db.session.commit()
    report = services.score_theory(later, exam.admin, NOW)
    assert (report.carried, report.absent, report.scored) == (1, 0, 0)
    practical.prepare_marking(later, exam.admin, NOW)
    db.session.commit()
    for script in exam.scripts(again):
        exam.mark(script, script.first_rater_id, script.points * Decimal("0.8"))
        exam.mark(script, script.second_rater_id, script.points * Decimal("0.8"))
    result = services.candidate_result(again)
    assert result.theory.carried and result.theory.score == Decimal("80.0")
    assert result.theory.taken_on == sat_on  # carrying does not renew the pass
    assert result.status == "passed"
    stats = reports.statistics(later).plan
    assert (stats.retakes, stats.passed, stats.theory.registered, stats.practical.sat) == (
        1,
        1,
        0,
        1,
    )


# ---- appeals (成绩复核) ------------------------------------------------------------------------


def test_an_appeal_within_the_window_re_marks_the_practical_and_audits_the_change(
    exam: Exam,  # noqa: F811
    make_user: Callable[..., User],
) -> None:
    reg = exam.regs[0]
    _graded(exam, reg, 45, "0.5")
    absent = exam.regs[5]
    with pytest.raises(Conflict, match="成绩尚未发布"):
        appeals.submit_appeal(reg, "practical", "第 2 题评分偏低", NOW)
    services.release(exam.plan, exam.admin, NOW)
    second_senior = make_user(Role.RATER, username="senior-2")
    assign_staff(exam.plan, second_senior.id, "rater", None)
    db.session.add(SeniorRater(plan_id=exam.plan.id, user_id=second_senior.id))
    db.session.commit()
    exam.users[second_senior.id] = second_senior
    before = exam.part(reg, "practical").score

    appeal = appeals.submit_appeal(reg, "practical", "第 2 题评分偏低", NOW + timedelta(days=1))
    db.session.commit()
    with pytest.raises(Conflict, match="正在处理中"):
        appeals.submit_appeal(reg, "practical", "再次申请复核", NOW + timedelta(days=2))
    with pytest.raises(DomainError, match="没有本次的分数"):
        appeals.submit_appeal(absent, "theory", "我参加了考试", NOW + timedelta(days=1))
    with pytest.raises(Conflict, match="截止"):
        appeals.submit_appeal(reg, "theory", "理论成绩有疑问", NOW + timedelta(days=7))
    with pytest.raises(Conflict, match="请先开始复核"):
        appeals.close(appeal, exam.admin, "维持", NOW)
    db.session.rollback()

    appeals.review(appeal, exam.admin)
    db.session.commit()
    scripts = exam.scripts(reg)
    assert all(s.arbitration and s.final is None and s.arbiter_id for s in scripts)
    assert exam.part(reg, "practical").status == "pending"
    with pytest.raises(Conflict, match="复评中"):
        appeals.close(appeal, exam.admin, "维持", NOW)
    db.session.rollback()
    for script in scripts:
        assert script.arbiter_id not in (script.first_rater_id, script.second_rater_id)
        exam.mark(script, script.arbiter_id, script.points * Decimal("0.7"))
    after = exam.part(reg, "practical").score
    assert after is not None and before is not None and after > before

    appeals.close(appeal, exam.admin, f"经复评，实操成绩更正为 {after}", NOW + timedelta(days=3))
    db.session.commit()
    assert (appeal.outcome, appeal.old_score, appeal.new_score) == ("changed", before, after)
    changes = [e for e in _events("score_change") if e.registration_id == reg.id]
    # Released 50 → pending while re-marked → the new score: each step is in the log.
    assert changes[0].data["old"] == {"status": "scored", "score": services._plain(before)}
    assert changes[0].data["new"] == {"status": "pending", "score": ""}
    assert changes[-1].data["new"] == {"status": "scored", "score": services._plain(after)}
    assert all(e.actor_id is not None for e in changes)
    assert [e.action for e in _events("appeal_closed")] == ["appeal_closed"]

    theory = appeals.submit_appeal(reg, "theory", "理论成绩有疑问", NOW + timedelta(days=4))
    appeals.review(theory, exam.admin)
    appeals.close(theory, exam.admin, "经核对，理论成绩无误", NOW + timedelta(days=4))
    assert theory.outcome == "upheld"


# ---- key corrections (更正答案) ----------------------------------------------------------------


def _single_item(reg: Registration) -> ItemVersion:
    """A single-choice item on the candidate's paper."""
    on_paper = select(PaperItem.item_version_id).where(PaperItem.paper_id == reg.paper_id)
    version = db.session.scalars(
        select(ItemVersion)
        .join(Item)
        .where(Item.type == "single", ItemVersion.id.in_(on_paper))
        .order_by(ItemVersion.id)
    ).first()
    assert version is not None
    return version


def test_a_key_correction_lists_exactly_the_changed_scores_before_it_is_stored(
    exam: Exam,  # noqa: F811
) -> None:
    for reg, correct in zip(exam.regs[:6], (50, 40, 31, 30, 20, 0), strict=True):
        sit_theory(reg, correct, NOW)
    db.session.commit()
    exam.score()
    version = _single_item(exam.regs[0])
    new_key = next(k for k, _ in version.options if k != version.answer)
    expected = {}
    for reg in exam.regs[:6]:
        value = db.session.scalar(
            select(Answer.value)
            .join(Sitting)
            .join(PaperItem, PaperItem.position == Answer.position)
            .where(
                Sitting.registration_id == reg.id,
                Sitting.part_kind == "theory",
                PaperItem.paper_id == reg.paper_id,
                PaperItem.item_version_id == version.id,
            )
        )
        if value in (version.answer, new_key):
            expected[reg.id] = Decimal(-2 if value == version.answer else 2)

    with pytest.raises(DomainError, match="不是它的选项"):
        regrade.parse_correction(exam.plan, version.id, "Z")
    with pytest.raises(DomainError, match="无需更正"):
        regrade.parse_correction(exam.plan, version.id, version.answer)
    correction = regrade.parse_correction(exam.plan, version.id, new_key.lower())
    preview = regrade.preview(exam.plan, [correction])
    assert {reg.id: c.new_score - c.old_score for reg, c in preview.changes} == expected
    assert any(c.pass_changed for _, c in preview.changes) == (preview.pass_changes > 0)
    before = {reg.id: exam.part(reg, "theory").score for reg in exam.regs[:6]}

    with pytest.raises(Conflict, match="重新试运行"):
        regrade.confirm(exam.plan, [correction], "stale", exam.admin, "答案有误")
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(KeyCorrection)) == 0

    regrade.confirm(exam.plan, [correction], preview.digest, exam.admin, "第 1 题原答案有误")
    db.session.commit()
    for reg in exam.regs[:6]:
        old = before[reg.id]
        assert old is not None
        assert exam.part(reg, "theory").score == old + expected.get(reg.id, 0)
    assert exam.score().changed == 0  # scoring again uses the corrected key
    event = _events("regrade")[-1]
    assert event.reason == "第 1 题原答案有误" and len(event.data["changed"]) == len(expected)
    assert services.corrections_of(exam.plan) == {version.id: new_key}


# ---- statistics, exports and the demo --------------------------------------------------------


def test_the_demo_plan_is_graded_released_and_counted(app: object, catalog: object) -> None:
    from examsvc.demo import load_demo

    lines = load_demo()
    assert any(BATCH in line and "已评分并发布成绩" in line for line in lines)
    plan = db.session.scalar(select(ExamPlan).where(ExamPlan.batch == BATCH))
    assert plan is not None and plan.state == "closed" and services.released(plan) is not None
    results = services.results_of(plan)
    statuses = {result.status for _, result, _ in results}
    assert {"passed", "failed", "absent", "voided"} <= statuses
    one_part = [
        r for _, r, _ in results if r.status == "failed" and (r.theory.passed or r.practical.passed)
    ]
    assert one_part, "some candidates fail one part only"
    assert practical.progress(plan).arbitration == 0
    assert practical.agreement(plan).overall.arbitration_rate not in (None, Decimal(0))

    stats = reports.statistics(plan)
    assert (stats.plan.registered, stats.plan.sat) == (24, 22)
    assert stats.plan.passed == sum(r.status == "passed" for _, r, _ in results)
    for _, _, groups in stats.groups:
        assert sum(s.registered for _, s in groups) == 24
    charts = reports.charts(plan, stats.plan)
    assert charts["theory"].startswith("<svg") and "<script" not in charts["practical"]

    rows = list(
        csv.reader(
            io.StringIO(exports.platform_results_csv(reports.result_rows(plan)).decode("utf-8-sig"))
        )
    )
    assert rows[0][:4] == ["证书名称", "等级", "考核批次", "姓名"] and len(rows) == 25
    assert any("缺考" in row for row in rows) and any("取消成绩" in row for row in rows)
    assert load_demo_again_changes_nothing()


def load_demo_again_changes_nothing() -> bool:
    from examsvc.demo import load_demo

    lines = load_demo()
    return any(f"考核计划 {BATCH}: 已有，未改动" == line for line in lines)
