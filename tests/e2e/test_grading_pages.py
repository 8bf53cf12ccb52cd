"""Grading pages through the test client: raters see marking numbers and never a name, ticket or
ID number; the marking form refuses bad scores; the results page releases only when everything
is marked; exports; key corrections; the public lookup shows a candidate their own result only,
and takes appeals."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from examsvc.auth.models import User
from examsvc.extensions import db
from examsvc.grading import regrade, services
from examsvc.grading.demo import sit_practical, sit_theory
from examsvc.grading.models import Appeal, GradingEvent, Marking, Script
from examsvc.grading.practical import rubric_of
from examsvc.registration.models import Registration
from tests.conftest import sign_in
from tests.integration.test_grading_services import NOW, Exam, exam  # noqa: F401 (fixture)


def client_of(app: Flask, user: User) -> FlaskClient:
    client = app.test_client()
    sign_in(client, user)
    return client


def _ready(exam: Exam, regs: list[Registration]) -> None:  # noqa: F811
    for n, reg in enumerate(regs):
        sit_theory(reg, 45 - 10 * n, NOW)
        sit_practical(reg, NOW, texts=[f"<h1>答案 {n}-{i}</h1>" for i in range(5)])
    db.session.commit()
    exam.score()
    exam.prepare()


def _secrets(reg: Registration) -> list[str]:
    return [reg.candidate.name, reg.ticket_number or "", reg.candidate.id_number]


def test_raters_see_marking_numbers_and_never_who_wrote_the_answer(
    app: Flask,
    exam: Exam,  # noqa: F811
) -> None:
    regs = exam.regs[:2]
    _ready(exam, regs)
    rater = exam.raters[0]
    client = client_of(app, rater)
    plans = client.get("/marking/").get_data(as_text=True)
    assert f"/marking/plans/{exam.plan.id}" in plans
    queue = client.get(f"/marking/plans/{exam.plan.id}").get_data(as_text=True)
    mine = [s for s in exam.scripts() if rater.id in (s.first_rater_id, s.second_rater_id)]
    assert mine and all(s.marking_number in queue for s in mine)
    script = mine[0]
    page = client.get(f"/marking/scripts/{script.id}").get_data(as_text=True)
    assert script.marking_number in page and "答案 " in page
    for text in (queue, page):
        for reg in exam.regs:
            assert not any(secret in text for secret in _secrets(reg))
    # The senior rater has nothing to arbitrate yet; the admin is not a rater at all.
    assert client_of(app, exam.senior).get(f"/marking/scripts/{script.id}").status_code == 404
    assert client_of(app, exam.admin).get("/marking/").status_code == 403


def test_the_marking_form_names_a_bad_score_and_a_good_one_is_final(
    app: Flask,
    exam: Exam,  # noqa: F811
) -> None:
    _ready(exam, exam.regs[:1])
    script = exam.scripts()[0]
    rater = exam.users[script.first_rater_id or 0]
    client = client_of(app, rater)
    criteria = rubric_of(script.version, Decimal("0.5")).criteria
    form = {f"score_{n}": str(c.points) for n, c in enumerate(criteria, 1)}
    form["score_1"] = str(criteria[0].points + 1)
    refused = client.post(f"/marking/scripts/{script.id}", data=form)
    assert refused.status_code == 422
    assert f"评分项“{criteria[0].name}”的得分" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Marking)) == 0

    form["score_1"] = "0"
    form["comment_1"] = "缺少文档类型声明"
    done = client.post(f"/marking/scripts/{script.id}", data=form)
    assert done.status_code == 302 and done.location.endswith(f"/marking/plans/{exam.plan.id}")
    page = client.get(f"/marking/scripts/{script.id}").get_data(as_text=True)
    assert "缺少文档类型声明" in page and 'name="score_1"' not in page
    assert client.post(f"/marking/scripts/{script.id}", data=form).status_code == 409


def test_the_results_page_releases_only_when_everything_is_marked(
    app: Flask,
    exam: Exam,  # noqa: F811
) -> None:
    regs = exam.regs[:2]
    _ready(exam, regs)
    admin = client_of(app, exam.admin)
    page = admin.get(f"/grading/plans/{exam.plan.id}").get_data(as_text=True)
    assert regs[0].candidate.name in page and "theory-scored" in page
    refused = admin.post(f"/grading/plans/{exam.plan.id}/release")
    assert refused.status_code == 409
    first_open = db.session.scalars(select(Script.marking_number).order_by(Script.marking_number))
    assert next(iter(first_open)) in refused.get_data(as_text=True)
    assert admin.get(f"/grading/plans/{exam.plan.id}/platform-results.csv").status_code == 409

    for reg in regs:
        exam.mark_all(reg, Decimal("0.75"))
    assert admin.post(f"/grading/plans/{exam.plan.id}/release").status_code == 302
    data = admin.get(f"/grading/plans/{exam.plan.id}/platform-results.csv").data
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert len(rows) == 1 + len(exam.regs)
    by_ticket = {row[9]: row for row in rows[1:]}
    assert by_ticket[regs[0].ticket_number or ""][11] == "90.0"  # 45 of 50 right
    assert by_ticket[exam.regs[5].ticket_number or ""][11] == "缺考"
    for path in ("statistics", "statistics.xlsx", "results.xlsx", "appeals", "regrade"):
        assert admin.get(f"/grading/plans/{exam.plan.id}/{path}").status_code == 200, path
    stats = admin.get(f"/grading/plans/{exam.plan.id}/statistics").get_data(as_text=True)
    assert stats.count("<svg") == 2 and "<script" not in stats


def test_a_key_correction_runs_dry_first_then_confirms(
    app: Flask,
    exam: Exam,  # noqa: F811
) -> None:
    _ready(exam, exam.regs[:2])
    item = next(i for i in regrade.objective_items(exam.plan) if i.type == "single")
    new_key = next(k for k in "ABCD" if k != item.key)
    admin = client_of(app, exam.admin)
    url = f"/grading/plans/{exam.plan.id}/regrade"
    form = {"item_1": str(item.version_id), "answer_1": new_key, "action": "preview"}
    dry = admin.post(url, data=form)
    assert dry.status_code == 200 and 'name="digest"' in dry.get_data(as_text=True)
    assert services.corrections_of(exam.plan) == {}
    tried = db.session.scalars(select(GradingEvent.action).order_by(GradingEvent.id)).all()
    assert tried[-1] == "regrade_dry_run"
    digest = regrade.preview(exam.plan, [(item.version_id, new_key)]).digest
    done = admin.post(
        url, data=form | {"action": "confirm", "digest": digest, "reason": "原答案有误"}
    )
    assert done.status_code == 302
    assert services.corrections_of(exam.plan) == {item.version_id: new_key}
    assert db.session.scalars(select(GradingEvent.action)).all()[-2:] == [
        "regrade_dry_run",
        "regrade",
    ]
    bad = admin.post(url, data={"item_1": str(item.version_id), "answer_1": "Q"})
    assert bad.status_code == 422


def test_a_candidate_looks_up_their_own_result_and_asks_for_a_review(
    app: Flask,
    exam: Exam,  # noqa: F811
) -> None:
    mine, other = exam.regs[:2]
    _ready(exam, [mine, other])
    public = app.test_client()
    ask = {"ticket_number": mine.ticket_number, "id_number": mine.candidate.id_number}
    early = public.post("/results/", data=ask)
    assert early.status_code == 404 and "尚未发布" in early.get_data(as_text=True)

    for reg in (mine, other):
        exam.mark_all(reg, Decimal("0.5"))
    services.release(exam.plan, exam.admin, services.now_utc())
    db.session.commit()
    wrong = public.post("/results/", data=ask | {"id_number": other.candidate.id_number})
    assert wrong.status_code == 401 and mine.candidate.name not in wrong.get_data(as_text=True)
    page = public.post("/results/", data=ask).get_data(as_text=True)
    assert mine.candidate.name in page and "90.0" in page
    number = mine.candidate.id_number
    assert f"{number[:6]}********{number[-4:]}" in page  # shown masked (the form resends it)
    assert not any(secret in page for secret in _secrets(other))

    appeal = public.post(
        "/results/appeal", data=ask | {"part": "practical", "reason": "第 3 题评分偏低"}
    )
    assert appeal.status_code == 200
    row = db.session.scalar(select(Appeal))
    assert row is not None and row.registration_id == mine.id and row.state == "open"
    admin = client_of(app, exam.admin)
    listed = admin.get(f"/grading/plans/{exam.plan.id}/appeals").get_data(as_text=True)
    assert "第 3 题评分偏低" in listed
    assert admin.post(f"/grading/appeals/{row.id}/close", data={"note": "x"}).status_code == 409
