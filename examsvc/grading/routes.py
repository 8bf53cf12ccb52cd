"""Results pages for organization staff (成绩): grading rules, theory scoring, the marking board,
arbiters, results, release, key corrections, appeals, statistics and exports.

Only the organization admin of the plan's organization reaches them (other plans are 404).
Each view parses the form, calls one use case and answers; a broken rule shows the page again
with the problem next to the section that caused it, and the request's transaction is rolled
back (see db.py), so nothing is partly saved.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.roles import Role, roles_required
from ..errors import DomainError, NotFound
from ..extensions import db
from ..i18n import per_locale
from ..plans.models import ExamPlan
from ..plans.services import plans_of
from ..registration.models import Registration
from . import appeals, exports, practical, regrade, reports, services
from .forms import MAX_CORRECTIONS, corrections_form, settings_form
from .marking import ARBITRATED_RULE_NAMES
from .models import Appeal
from .results import OVERALL_STATUS_NAMES, PART_NAMES, PART_STATUS_NAMES
from .scoring import MC_POLICY_NAMES

bp = Blueprint("grading", __name__, url_prefix="/grading")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"


@bp.app_context_processor
def names() -> dict[str, object]:
    return per_locale("grading_names", _names)


def _names() -> dict[str, object]:
    return {
        "PART_NAMES": PART_NAMES,
        "PART_STATUS_NAMES": PART_STATUS_NAMES,
        "OVERALL_STATUS_NAMES": OVERALL_STATUS_NAMES,
        "ACTION_NAMES": {
            "settings": _("rules changed"),
            "score_theory": _("theory scored"),
            "prepare_marking": _("scripts made"),
            "senior_rater": _("senior raters changed"),
            "assign_arbiter": _("arbiter assigned"),
            "send_to_arbitration": _("sent to arbitration"),
            "score_change": _("score changed"),
            "release": _("results released"),
            "regrade": _("key corrected"),
            "regrade_dry_run": _("key correction tried (dry run)"),
            "appeal": _("appeal received"),
            "appeal_review": _("appeal under review"),
            "appeal_closed": _("appeal closed"),
        },
    }


@bp.app_template_filter("points")
def points(value: object) -> str:
    """A score or points as people write them: 6, 4.5, 92.25 (no trailing zeros)."""
    if value is None:
        return ""
    return services._plain(Decimal(str(value)))


@dataclass
class Failure:
    section: str
    message: str
    problems: list[str] = field(default_factory=list)


def _send(data: bytes, mimetype: str, name: str) -> ResponseReturnValue:
    return send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=name)


# ---- the plans -------------------------------------------------------------------------------


@bp.route("/")
@roles_required(Role.ORG_ADMIN)
def index() -> ResponseReturnValue:
    """The organization's plans that have started, with how far their grading is."""
    rows = []
    for plan in plans_of(current_user):
        if plan.state not in services.GRADABLE_PLAN_STATES:
            continue
        statuses = Counter(result.status for _, result, _ in services.results_of(plan))
        rows.append((plan, statuses, services.released(plan)))
    return render_template("grading/index.html", rows=rows)


@bp.route("/plans/<int:plan_id>")
@roles_required(Role.ORG_ADMIN)
def plan(plan_id: int) -> ResponseReturnValue:
    """The plan's results page: rules, scoring runs, marking board, results and release."""
    return _page(services.graded_plan(current_user, plan_id))


def _page(row: ExamPlan, status: int = 200, failed: Failure | None = None) -> ResponseReturnValue:
    settings = services.settings_of(row)
    results = services.results_of(row)
    seniors = set(practical.senior_ids(row))
    raters = {s.user_id: s.user for s in row.staff if s.role == "rater"}
    released = services.released(row)
    return render_template(
        "grading/plan.html",
        plan=row,
        settings=settings,
        threshold_percent=services._plain(settings.threshold_ratio * 100),
        mc_policies=MC_POLICY_NAMES,
        rules=ARBITRATED_RULE_NAMES,
        results=results,
        counts={
            kind: Counter(parts[kind].status if kind in parts else "" for _, _, parts in results)
            for kind in PART_NAMES
        },
        overall=Counter(result.status for _, result, _ in results),
        progress=practical.progress(row),
        raters=sorted(raters.items(), key=lambda kv: kv[1].display_name),
        seniors=seniors,
        released=released,
        window=services.appeal_window(row),
        problems=[] if released else services.release_problems(row),
        open_appeals=sum(a.state != "closed" for a in appeals.plan_appeals(row)),
        log=services.audit_log(row, 30),
        failed=failed,
    ), status


def _act(
    row: ExamPlan, section: str, action: Callable[[], object], done: Callable[[Any], str]
) -> ResponseReturnValue:
    """Run one use case; on success back to the plan's section, else the page with why."""
    try:
        outcome = action()
    except DomainError as exc:
        db.session.rollback()
        return _page(row, exc.status, Failure(section, exc.message, exc.details))
    flash(done(outcome), "success")
    return redirect(url_for("grading.plan", plan_id=row.id, _anchor=section))


@bp.route("/plans/<int:plan_id>/settings", methods=["POST"])
@roles_required(Role.ORG_ADMIN)
def settings(plan_id: int) -> ResponseReturnValue:
    """Change the plan's grading rules (each locked once the work it governs has begun)."""
    row = services.graded_plan(current_user, plan_id)
    return _act(
        row,
        "settings",
        lambda: services.update_settings(row, settings_form(request.form), current_user),
        lambda _: _("Grading rules saved."),
    )


@bp.route("/plans/<int:plan_id>/theory", methods=["POST"])
@roles_required(Role.ORG_ADMIN)
def score_theory(plan_id: int) -> ResponseReturnValue:
    """Score every theory sitting against the keys (again: only changes are stored)."""
    row = services.graded_plan(current_user, plan_id)
    return _act(
        row,
        "progress",
        lambda: services.score_theory(row, current_user, services.now_utc()),
        lambda r: _(
            "Theory scored: %(scored)s scored, %(absent)s absent, %(carried)s carried, "
            "%(voided)s voided; %(changed)s changed.",
            scored=r.scored,
            absent=r.absent,
            carried=r.carried,
            voided=r.voided,
            changed=r.changed,
        ),
    )


@bp.route("/plans/<int:plan_id>/practical", methods=["POST"])
@roles_required(Role.ORG_ADMIN)
def prepare(plan_id: int) -> ResponseReturnValue:
    """Make the practical scripts under marking numbers and give each two raters."""
    row = services.graded_plan(current_user, plan_id)
    return _act(
        row,
        "progress",
        lambda: practical.prepare_marking(row, current_user, services.now_utc()),
        lambda r: _(
            "%(n)s scripts made (%(blank)s unanswered, scored 0); %(absent)s absent, "
            "%(voided)s voided.",
            n=r.scripts,
            blank=r.blank,
            absent=r.absent,
            voided=r.voided,
        ),
    )


@bp.route("/plans/<int:plan_id>/seniors", methods=["POST"])
@roles_required(Role.ORG_ADMIN)
def senior(plan_id: int) -> ResponseReturnValue:
    """Make a rater of the plan a senior rater (arbiter), or no longer one."""
    row = services.graded_plan(current_user, plan_id)
    user_id = request.form.get("user_id", type=int) or 0
    on = request.form.get("senior") == "1"
    return _act(
        row,
        "raters",
        lambda: practical.set_senior(row, user_id, on, current_user),
        lambda _r: _("Senior raters updated."),
    )


@bp.route("/plans/<int:plan_id>/scripts/<int:script_id>/arbiter", methods=["POST"])
@roles_required(Role.ORG_ADMIN)
def arbiter(plan_id: int, script_id: int) -> ResponseReturnValue:
    """Name the senior rater who arbitrates a script (never one of its first two raters)."""
    row = services.graded_plan(current_user, plan_id)
    user_id = request.form.get("user_id", type=int) or 0
    return _act(
        row,
        "progress",
        lambda: practical.assign_arbiter(row, script_id, user_id, current_user),
        lambda s: _("Arbiter assigned to %(number)s.", number=s.marking_number),
    )


@bp.route("/plans/<int:plan_id>/release", methods=["POST"])
@roles_required(Role.ORG_ADMIN)
def release(plan_id: int) -> ResponseReturnValue:
    """Release the results to candidates; refused while any script or result is open."""
    row = services.graded_plan(current_user, plan_id)
    return _act(
        row,
        "release",
        lambda: services.release(row, current_user, services.now_utc()),
        lambda n: _("%(n)s results released.", n=n),
    )


@bp.route("/plans/<int:plan_id>/registrations/<int:registration_id>")
@roles_required(Role.ORG_ADMIN)
def candidate(plan_id: int, registration_id: int) -> ResponseReturnValue:
    """One candidate's result in detail: item scores, scripts with every marking, appeals."""
    row = services.graded_plan(current_user, plan_id)
    reg = db.session.get(Registration, registration_id)
    if reg is None or reg.plan_id != row.id:
        raise NotFound("该考生不在本计划中")
    scripts = practical.scripts_of(reg)
    return render_template(
        "grading/candidate.html",
        plan=row,
        reg=reg,
        result=services.candidate_result(reg),
        parts=services.part_scores(reg),
        scripts=[(s, practical.resolution(s)) for s in scripts],
        appeals=appeals.appeals_of(reg),
        log=[e for e in services.audit_log(row, 1000) if e.registration_id == reg.id],
        role_names=practical.ROLE_NAMES,
    )


# ---- key corrections -------------------------------------------------------------------------


@bp.route("/plans/<int:plan_id>/regrade", methods=["GET", "POST"])
@roles_required(Role.ORG_ADMIN)
def regrade_page(plan_id: int) -> ResponseReturnValue:
    """Correct keys: a dry run lists every score that would change; confirming stores them."""
    row = services.graded_plan(current_user, plan_id)
    items = regrade.objective_items(row)
    typed = corrections_form(request.form) if request.method == "POST" else []
    context: dict[str, Any] = {
        "plan": row, "items": items, "typed": typed, "rows": MAX_CORRECTIONS,
        "preview": None, "error": None, "reason": request.form.get("reason", ""),
    }  # fmt: skip
    if request.method == "GET":
        return render_template("grading/regrade.html", **context)
    try:
        corrections = [regrade.parse_correction(row, v, a) for v, a in typed]
        if request.form.get("action") == "confirm":
            done = regrade.confirm(
                row, corrections, request.form.get("digest", ""), current_user,
                request.form.get("reason", ""),
            )  # fmt: skip
            flash(_("Keys corrected; %(n)s theory scores changed.", n=len(done.changes)), "success")
            return redirect(url_for("grading.plan", plan_id=row.id, _anchor="results"))
        context["preview"] = regrade.dry_run(row, corrections, current_user)
    except DomainError as exc:
        db.session.rollback()
        context["error"] = exc
        return render_template("grading/regrade.html", **context), exc.status
    return render_template("grading/regrade.html", **context)


# ---- appeals ---------------------------------------------------------------------------------


@bp.route("/plans/<int:plan_id>/appeals")
@roles_required(Role.ORG_ADMIN)
def appeal_list(plan_id: int) -> ResponseReturnValue:
    """Candidates' requests for review (成绩复核) and their outcomes."""
    row = services.graded_plan(current_user, plan_id)
    return _appeals_page(row)


def _appeals_page(
    row: ExamPlan, status: int = 200, error: DomainError | None = None
) -> ResponseReturnValue:
    items = appeals.plan_appeals(row)
    return render_template(
        "grading/appeals.html",
        plan=row,
        appeals=[(a, services.part_scores(a.registration).get(a.part_kind)) for a in items],
        state_names=appeals.STATE_NAMES,
        outcome_names=appeals.OUTCOME_NAMES,
        window=services.appeal_window(row),
        error=error,
    ), status


def _appeal_action(appeal_id: int, action: Callable[[Appeal], str]) -> ResponseReturnValue:
    appeal = appeals.managed_appeal(current_user, appeal_id)
    row = appeal.registration.plan
    try:
        message = action(appeal)
    except DomainError as exc:
        db.session.rollback()
        return _appeals_page(row, exc.status, exc)
    flash(message, "success")
    return redirect(url_for("grading.appeal_list", plan_id=row.id, _anchor=f"appeal-{appeal_id}"))


@bp.route("/appeals/<int:appeal_id>/review", methods=["POST"])
@roles_required(Role.ORG_ADMIN)
def review_appeal(appeal_id: int) -> ResponseReturnValue:
    """Start a review: re-check the theory, or send the practical scripts to a new arbiter."""
    return _appeal_action(appeal_id, lambda a: appeals.review(a, current_user))


@bp.route("/appeals/<int:appeal_id>/close", methods=["POST"])
@roles_required(Role.ORG_ADMIN)
def close_appeal(appeal_id: int) -> ResponseReturnValue:
    """Record the outcome and the reply to the candidate."""

    def close(a: Appeal) -> str:
        appeals.close(a, current_user, request.form.get("note", ""), services.now_utc())
        return str(_("Appeal closed: %(outcome)s.", outcome=appeals.OUTCOME_NAMES[a.outcome]))

    return _appeal_action(appeal_id, close)


# ---- statistics and exports ------------------------------------------------------------------


@bp.route("/plans/<int:plan_id>/statistics")
@roles_required(Role.ORG_ADMIN)
def statistics(plan_id: int) -> ResponseReturnValue:
    """Attendance, pass rates, means and score distributions per plan, site, room, institution;
    rater agreement."""
    row = services.graded_plan(current_user, plan_id)
    stats = reports.statistics(row)
    return render_template(
        "grading/statistics.html",
        plan=row,
        stats=stats,
        charts=reports.charts(row, stats.plan),
        agreement=reports.agreement_rows(row),
        percent=exports.percent,
        number=exports.number,
        released=services.released(row),
    )


@bp.route("/plans/<int:plan_id>/statistics.xlsx")
@roles_required(Role.ORG_ADMIN)
def statistics_xlsx(plan_id: int) -> ResponseReturnValue:
    """The statistics workbook: one sheet per grouping, score bands and rater agreement."""
    row = services.graded_plan(current_user, plan_id)
    stats = reports.statistics(row)
    dimensions = [("计划", [(row.batch, stats.plan)])] + [
        (title, groups) for _, title, groups in stats.groups
    ]
    histograms = [(row.batch, stats.plan)] + [
        (f"{title} {name}", s) for _, title, groups in stats.groups for name, s in groups
    ]
    data = exports.statistics_xlsx(dimensions, histograms, reports.agreement_rows(row))
    return _send(data, XLSX, reports.file_name(row, "成绩统计", ".xlsx"))


@bp.route("/plans/<int:plan_id>/results.<any(xlsx, csv):fmt>")
@roles_required(Role.ORG_ADMIN)
def results_file(plan_id: int, fmt: str) -> ResponseReturnValue:
    """Every candidate's result (also before release, marked as such in the page)."""
    row = services.graded_plan(current_user, plan_id)
    rows = reports.result_rows(row)
    name = reports.file_name(row, "成绩单", f".{fmt}")
    if fmt == "csv":
        return _send(exports.results_csv(rows), CSV, name)
    return _send(exports.results_xlsx(rows), XLSX, name)


@bp.route("/plans/<int:plan_id>/platform-results.<any(xlsx, csv):fmt>")
@roles_required(Role.ORG_ADMIN)
def platform(plan_id: int, fmt: str) -> ResponseReturnValue:
    """The exam-result file for the national 1+X platform; only released results are reported."""
    row = services.graded_plan(current_user, plan_id)
    if services.released(row) is None:
        return _page(row, 409, Failure("exports", "成绩发布后才能导出上报国家平台的考核结果文件"))
    rows = reports.result_rows(row)
    name = reports.file_name(row, "平台考核结果", f".{fmt}")
    if fmt == "csv":
        return _send(exports.platform_results_csv(rows), CSV, name)
    return _send(exports.platform_results_xlsx(rows), XLSX, name)
