"""Real Chromium: two raters mark the same script far apart and a senior rater resolves the gap.

The demo plan's first candidate has handed in the practical part and the scripts are made. The
first rater opens the marking page from the navigation, finds the script under its marking
number and gives full marks; the second gives almost nothing. The gap is over 15 % of the item's
points, so the script waits for arbitration: the senior rater finds it in their own queue, sees
both markings with their comments, and marks it. The arbiter's score is the script's final
score (the default rule), and no page showed any of them who wrote the answer.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from examsvc.auth.models import User
from examsvc.auth.roles import Role
from examsvc.catalog.models import Organization
from examsvc.extensions import db
from examsvc.grading import practical, services
from examsvc.grading.demo import sit_practical
from examsvc.grading.models import Script, SeniorRater
from examsvc.plans.services import advance, assign_staff
from tests.conftest import open_demo_plan
from tests.e2e.test_browser import _sign_in, browser, live_server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


def _mark(page, base: str, number: str, scores: list[Decimal], comment: str = "") -> None:  # type: ignore[no-untyped-def]
    page.click("nav a[href='/marking/']")
    page.wait_for_url(f"{base}/marking/")
    page.click("table.marking-plans a")
    page.click(f"text={number}")
    page.wait_for_selector("#marking-number")
    assert page.inner_text("#marking-number") == number
    for n, score in enumerate(scores, 1):
        page.fill(f"input[name=score_{n}]", str(score))
    if comment:
        page.fill("textarea[name=comment_1]", comment)
    page.click(".marking-form button[type=submit]")
    page.wait_for_selector("#to-mark")


def test_two_raters_mark_and_the_arbiter_resolves_the_gap(
    live_server: str,  # noqa: F811
    browser: object,  # noqa: F811
    catalog: dict[str, Organization],
    make_user: Callable[..., User],
    tmp_path: Path,
) -> None:
    make_user(Role.ORG_ADMIN, username="admin")
    first, second = (make_user(Role.RATER, username=f"marker-{n}") for n in (1, 2))
    senior = make_user(Role.RATER, username="senior")
    plan = open_demo_plan()
    for user in (first, second, senior):
        assign_staff(plan, user.id, "rater", None)
    db.session.add(SeniorRater(plan_id=plan.id, user_id=senior.id))
    advance(plan, "in_progress")
    reg = min(plan.registrations, key=lambda r: r.ticket_number or "")
    sit_practical(reg, services.now_utc(), texts=["<h1>校园新闻</h1>"] * 5)
    db.session.commit()
    practical.prepare_marking(plan, None, services.now_utc())
    db.session.commit()
    script = db.session.scalars(select(Script).order_by(Script.id)).first()
    assert script is not None
    criteria = practical.rubric_of(script.version, Decimal("0.5")).criteria
    raters = {first.id: first, second.id: second}
    one, two = raters[script.first_rater_id or 0], raters[script.second_rater_id or 0]
    secrets = (reg.candidate.name, reg.ticket_number or "", reg.candidate.id_number)

    page = _sign_in(browser, live_server, one)
    _mark(page, live_server, script.marking_number, [c.points for c in criteria])
    page.context.close()

    page = _sign_in(browser, live_server, two)
    low = [Decimal(0)] * len(criteria)
    _mark(page, live_server, script.marking_number, low, "页面结构缺失")
    page.context.close()

    db.session.expire_all()
    script = db.session.get(Script, script.id)
    assert script is not None and script.arbitration and script.final is None
    assert script.arbiter_id == senior.id

    page = _sign_in(browser, live_server, senior)
    page.click("nav a[href='/marking/']")
    page.click("table.marking-plans a")
    assert script.marking_number in page.inner_text("#to-arbitrate")
    page.click(f"#to-arbitrate >> text={script.marking_number}")
    page.wait_for_selector("#first-markings")
    both = page.inner_text("#first-markings")
    assert "页面结构缺失" in both and services._plain(script.points) in both
    text = page.inner_text("main")
    assert not any(secret in text for secret in secrets)
    page.screenshot(path=str(tmp_path / "arbitration.png"), full_page=True)
    given = [c.points / 2 for c in criteria]  # whole points in the sample bank: halves are steps
    for n, score in enumerate(given, 1):
        page.fill(f"input[name=score_{n}]", str(score))
    page.click(".marking-form button[type=submit]")
    page.wait_for_selector("#done")
    assert script.marking_number in page.inner_text("#done")
    page.context.close()

    db.session.expire_all()
    script = db.session.get(Script, script.id)
    assert script is not None and script.final == sum(given, Decimal(0))
