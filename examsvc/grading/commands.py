"""``examsvc grading``: score, prepare marking, show progress, release and export from the shell.

The same use cases as the results page, run as the system (the log names no user). Each
command commits once, or changes nothing and exits non-zero with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click
from flask.cli import with_appcontext

from ..errors import DomainError
from ..extensions import db
from ..plans.models import ExamPlan


def _plan(plan_id: int) -> ExamPlan:
    from ..cli import _fail

    plan = db.session.get(ExamPlan, plan_id)
    if plan is None:
        _fail(f"没有编号为 {plan_id} 的考核计划")
    return plan


def _run(action: Callable[[], str]) -> None:
    """Commit what the use case did, or roll back and exit with its message."""
    from ..cli import _fail

    try:
        message = action()
    except DomainError as exc:
        db.session.rollback()
        _fail("\n".join([exc.message, *exc.details]) + "\n未作任何修改。")
    db.session.commit()
    click.echo(message)


@click.group()
def grading() -> None:
    """Grading and results of exam plans (评分与成绩)."""


@grading.command("score-theory")
@click.argument("plan_id", type=int)
@with_appcontext
def score_theory(plan_id: int) -> None:
    """Score every theory sitting of PLAN_ID against the keys (again: only changes stored)."""
    from .services import now_utc
    from .services import score_theory as run

    plan = _plan(plan_id)

    def act() -> str:
        r = run(plan, None, now_utc())
        return (
            f"理论成绩：已评 {r.scored}，缺考 {r.absent}，沿用 {r.carried}，取消成绩 {r.voided}；"
            f"变化 {r.changed}"
        )

    _run(act)


@grading.command("prepare-marking")
@click.argument("plan_id", type=int)
@with_appcontext
def prepare_marking(plan_id: int) -> None:
    """Make the practical scripts of PLAN_ID under marking numbers, two raters each."""
    from .practical import prepare_marking as run
    from .services import now_utc

    plan = _plan(plan_id)

    def act() -> str:
        r = run(plan, None, now_utc())
        return (
            f"实操答卷：新增 {r.scripts}（未作答 {r.blank}），缺考 {r.absent}，取消成绩 {r.voided}"
        )

    _run(act)


@grading.command("status")
@click.argument("plan_id", type=int)
@with_appcontext
def status(plan_id: int) -> None:
    """Marking progress of PLAN_ID and what still stands in the way of release."""
    from .practical import progress
    from .services import release_problems, released

    plan = _plan(plan_id)
    p = progress(plan)
    click.echo(
        f"{plan.title}：答卷 {p.scripts}（未作答 {p.blank}），已双评 {p.marked_twice}，"
        f"待仲裁 {p.arbitration}（未指派 {len(p.unassigned)}），已定分 {p.final}"
    )
    for load in p.raters:
        click.echo(
            f"  {load.user.display_name}{'（高级）' if load.senior else ''}：分配 {load.assigned}，"
            f"已评 {load.marked}，仲裁 {load.arbitrated}/{load.arbitrations}，剩余 {load.remaining}"
        )
    moment = released(plan)
    if moment is not None:
        click.echo(f"成绩已于 {moment:%Y-%m-%d %H:%M} (UTC) 发布")
    for problem in release_problems(plan) if moment is None else []:
        click.echo(f"  未能发布：{problem}")


@grading.command("release")
@click.argument("plan_id", type=int)
@with_appcontext
def release(plan_id: int) -> None:
    """Release the results of PLAN_ID (refused while any script or result is open)."""
    from .services import now_utc
    from .services import release as run

    plan = _plan(plan_id)
    _run(lambda: f"已发布 {run(plan, None, now_utc())} 名考生的成绩")


@grading.command("export")
@click.argument("plan_id", type=int)
@click.option(
    "--kind",
    type=click.Choice(["platform", "results"]),
    default="platform",
    show_default=True,
    help="platform: the exam-result file for the national platform; results: the result list.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv", show_default=True
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@with_appcontext
def export(plan_id: int, kind: str, fmt: str, output: Path) -> None:
    """Write the results of PLAN_ID to a file."""
    from ..cli import _fail
    from . import exports
    from .reports import result_rows
    from .services import released

    plan = _plan(plan_id)
    if kind == "platform" and released(plan) is None:
        _fail("成绩发布后才能导出上报国家平台的考核结果文件")
    rows = result_rows(plan)
    writers = {
        ("platform", "csv"): exports.platform_results_csv,
        ("platform", "xlsx"): exports.platform_results_xlsx,
        ("results", "csv"): exports.results_csv,
        ("results", "xlsx"): exports.results_xlsx,
    }
    output.write_bytes(writers[(kind, fmt)](rows))
    click.echo(f"已写出 {len(rows)} 名考生：{output}")
