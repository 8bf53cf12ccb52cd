"""Plan pages (考核计划, 报名): plans, their rooms and staff, rosters, fees and the life cycle.

Who may do what:

* the organization admin manages the organization's plans: creates and edits drafts, adds
  rooms, assigns staff, publishes, starts and closes them, and registers for every site;
* a site admin sees the plans that use rooms of their site and registers candidates there only;
* invigilators and raters see the plans they are staffed on, read-only.

Each view parses the form, calls one use case and answers. A broken rule shows the page again
with every problem next to the form that caused it; the request's transaction is then rolled
back (see db.py), so nothing is partly saved.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.roles import REGISTRARS, Role, roles_required
from ..errors import DomainError
from ..extensions import db
from ..registration import roster_format
from ..registration import services as registration
from ..registration.eligibility import EDUCATION
from ..registration.models import Registration
from ..registration.roster_format import GENDERS, LEVEL_NAMES, row_from_fields
from ..sites.services import sites_of
from . import services
from .forms import PlanForm, candidate_fields, scheme_rows
from .models import ExamPlan

bp = Blueprint("plans", __name__, url_prefix="/plans")
VIEWERS = REGISTRARS | {Role.INVIGILATOR, Role.RATER}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TEMPLATE_NAME = "报名表模板.xlsx"


@bp.app_context_processor
def names() -> dict[str, object]:
    return {"STATE_NAMES": services.STATE_NAMES}


# ---- plans -----------------------------------------------------------------------------------


@bp.route("/")
@roles_required(VIEWERS)
def index() -> ResponseReturnValue:
    """The plans one manages, registers for at one's site, or is staffed on."""
    return render_template("plans/index.html", plans=services.plans_of(current_user))


@bp.route("/new", methods=["GET", "POST"])
@roles_required(Role.ORG_ADMIN)
def new() -> ResponseReturnValue:
    """A new draft plan of one of the organization's levels."""
    return _plan_form(None)


@bp.route("/<int:plan_id>/edit", methods=["GET", "POST"])
@roles_required(Role.ORG_ADMIN)
def edit(plan_id: int) -> ResponseReturnValue:
    """Change a draft plan: level, batch, session starts and fees."""
    row = services.managed_plan(current_user, plan_id)
    services.require_state(row, "draft")
    return _plan_form(row)


def _plan_form(row: ExamPlan | None) -> ResponseReturnValue:
    levels = services.levels_of(current_user)
    if request.method == "GET":
        form = PlanForm.from_plan(row) if row else PlanForm()
        form.level_id = request.args.get("level", type=int) or form.level_id
    else:
        form = PlanForm.from_request(request.form)
    level = next((lv for lv in levels if lv.id == form.level_id), levels[0] if levels else None)
    if request.method == "GET" and level is not None:
        form.level_id = level.id
    rows = scheme_rows(level)  # a level not offered is refused by save_plan

    def page(status: int = 200, message: str = "", problems: list[str] | None = None) -> Any:
        return render_template(
            "plans/edit.html",
            row=row,
            form=form,
            levels=levels,
            scheme=rows,
            message=message,
            problems=problems or [],
        ), status

    if request.method == "GET" or "reload" in request.form:
        return page()
    data, problems = form.data(rows)
    if data is None:
        return page(422, _("Nothing was saved:"), problems)
    try:
        saved = services.save_plan(current_user, data, row)
    except DomainError as exc:
        db.session.rollback()
        return page(exc.status, exc.message, exc.details)
    flash(_("Plan saved."), "success")
    return redirect(url_for("plans.plan", plan_id=saved.id))


@dataclass
class Failure:
    """What went wrong on the plan page and in which section, to show beside its form."""

    section: str
    message: str
    problems: list[str] = field(default_factory=list)


@bp.route("/<int:plan_id>")
@roles_required(VIEWERS)
def plan(plan_id: int) -> ResponseReturnValue:
    """Sessions, state and next steps, rooms, staff, registrations, fees and documents."""
    return _page(services.get_plan(current_user, plan_id))


def _visible_registrations(row: ExamPlan) -> list[Registration]:
    """Registrars see those of their sites; invigilators those of their rooms; raters none
    (practical answers are scored blind)."""
    if current_user.has_any(REGISTRARS):
        regs = registration.registrations_of(row, current_user)
    else:
        rooms = {s.room_id for s in row.staff if s.user_id == current_user.id and s.room_id}
        regs = [r for r in row.registrations if r.room_id in rooms]
    return sorted(regs, key=lambda r: (r.ticket_number or "~", r.id))


def _page(
    row: ExamPlan,
    status: int = 200,
    failed: Failure | None = None,
    candidate: dict[str, str] | None = None,
) -> ResponseReturnValue:
    manager = services.is_manager(current_user, row)
    registrar = current_user.has_any(REGISTRARS)
    draft = row.state == "draft"
    used = {pr.room_id for pr in row.rooms}
    free_rooms = (
        [room for site in sites_of(current_user) for room in site.rooms if room.id not in used]
        if manager and draft
        else []
    )
    sites = registration.sites_in(row, current_user) if registrar else []
    registrations = _visible_registrations(row)
    shown = {"state", "rooms", "staff"}
    shown |= {"registrations"} if registrar or registrations else set()
    shown |= {"register", "roster"} if registrar and draft and sites else set()
    if failed is not None and failed.section not in shown:
        failed.section = "top"  # e.g. registering once the plan is published
    return render_template(
        "plans/plan.html",
        plan=row,
        manager=manager,
        registrar=registrar,
        draft=draft,
        next_states=services.TRANSITIONS.get(row.state, ()),
        seated=Counter(r.room_id for r in row.registrations),
        free_rooms=free_rooms,
        warnings=services.staff_warnings(row) if manager or registrar else [],
        invigilators=services.staff_candidates(row, "invigilator") if manager else [],
        raters=services.staff_candidates(row, "rater") if manager else [],
        registrations=registrations,
        sites=sites,
        fee_rows=registration.fee_summary(row, current_user) if registrar else [],
        blueprints=services.blueprints_for(row) if manager and draft else [],
        seed=request.form.get("seed", f"plan-{row.id}"),
        blueprint_id=request.form.get("blueprint_id", type=int),
        failed=failed,
        candidate=candidate or candidate_fields(None, row.level.name),
        genders=GENDERS,
        level_names=LEVEL_NAMES,
        education=EDUCATION,
    ), status


def _act(
    row: ExamPlan,
    section: str,
    action: Callable[[], object],
    done: str,
    candidate: dict[str, str] | None = None,
) -> ResponseReturnValue:
    """Run one use case; on success back to the plan's section, else the page with why."""
    try:
        action()
    except DomainError as exc:
        return _failed(row, section, exc, candidate)
    flash(done, "success")
    return _back(row, section)


def _failed(
    row: ExamPlan, section: str, exc: DomainError, candidate: dict[str, str] | None = None
) -> ResponseReturnValue:
    db.session.rollback()  # show the plan as stored, without what the use case changed
    return _page(row, exc.status, Failure(section, exc.message, exc.details), candidate)


def _back(row: ExamPlan, section: str) -> ResponseReturnValue:
    return redirect(url_for("plans.plan", plan_id=row.id, _anchor=section))


def _chosen(name: str, what: str) -> int:
    value = request.form.get(name, type=int)
    if value is None:
        raise DomainError(what)
    return value


# ---- rooms and staff -------------------------------------------------------------------------


@bp.route("/<int:plan_id>/rooms", methods=["POST"])
@roles_required(Role.ORG_ADMIN)
def add_room(plan_id: int) -> ResponseReturnValue:
    """Add one of the organization's rooms; a room busy with another plan then is refused."""
    row = services.managed_plan(current_user, plan_id)
    return _act(
        row,
        "rooms",
        lambda: services.add_room(row, _chosen("room_id", "请选择要加入计划的考场")),
        _("Room added."),
    )


@bp.route("/<int:plan_id>/rooms/<int:room_id>/remove", methods=["POST"])
@roles_required(Role.ORG_ADMIN)
def remove_room(plan_id: int, room_id: int) -> ResponseReturnValue:
    """Take a room out of a draft plan; its candidates lose their seats."""
    row = services.managed_plan(current_user, plan_id)
    return _act(row, "rooms", lambda: services.remove_room(row, room_id), _("Room removed."))


@bp.route("/<int:plan_id>/staff", methods=["POST"])
@roles_required(Role.ORG_ADMIN)
def add_staff(plan_id: int) -> ResponseReturnValue:
    """An invigilator for one room, or a rater for the whole plan."""
    row = services.managed_plan(current_user, plan_id)
    role = request.form.get("role", "")
    room_id = request.form.get("room_id", type=int) if role == "invigilator" else None

    def assign() -> object:
        user_id = _chosen("user_id", "请选择要安排的人员")
        return services.assign_staff(row, user_id, role, room_id)

    return _act(row, "staff", assign, _("Staff assigned."))


@bp.route("/<int:plan_id>/staff/<int:assignment_id>/remove", methods=["POST"])
@roles_required(Role.ORG_ADMIN)
def remove_staff(plan_id: int, assignment_id: int) -> ResponseReturnValue:
    row = services.managed_plan(current_user, plan_id)
    return _act(
        row, "staff", lambda: services.remove_staff(row, assignment_id), _("Staff removed.")
    )


# ---- registrations ---------------------------------------------------------------------------


@bp.route("/<int:plan_id>/registrations", methods=["POST"])
@roles_required(REGISTRARS)
def register(plan_id: int) -> ResponseReturnValue:
    """Register one candidate, checked like a roster row, for eligibility and a free seat."""
    row = services.get_plan(current_user, plan_id)
    fields = candidate_fields(request.form, row.level.name)

    def store() -> object:
        site = registration.site_for(row, current_user, request.form.get("site_id", type=int))
        applicant, problems = row_from_fields(fields)
        if applicant is None:
            raise registration.RosterProblems("考生信息有误，未报名", problems)
        return registration.register(row, site, applicant, current_user)

    return _act(row, "register", store, _("Candidate registered."), fields)


@bp.route("/<int:plan_id>/roster", methods=["POST"])
@roles_required(REGISTRARS)
def import_roster(plan_id: int) -> ResponseReturnValue:
    """Register every row of an Excel roster, or nobody when any row has a problem."""
    row = services.get_plan(current_user, plan_id)
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise DomainError("请选择填好的报名表（.xlsx）")
        site = registration.site_for(row, current_user, request.form.get("site_id", type=int))
        regs = registration.import_roster(row, site, upload.read(), upload.filename, current_user)
    except DomainError as exc:
        return _failed(row, "roster", exc)
    flash(_("%(n)s candidates registered from the roster.", n=len(regs)), "success")
    return _back(row, "registrations")


@bp.route("/roster-template.xlsx")
@roles_required(REGISTRARS)
def roster_template() -> ResponseReturnValue:
    """The blank roster (报名表) with drop-downs and a text ID column, to fill in and upload."""
    return send_file(
        io.BytesIO(roster_format.roster_template()),
        mimetype=XLSX,
        as_attachment=True,
        download_name=TEMPLATE_NAME,
    )


@bp.route("/<int:plan_id>/registrations/<int:registration_id>/withdraw", methods=["POST"])
@roles_required(REGISTRARS)
def withdraw(plan_id: int, registration_id: int) -> ResponseReturnValue:
    """Withdraw a registration of one's own sites while the plan is a draft."""
    row = services.get_plan(current_user, plan_id)
    return _act(
        row,
        "registrations",
        lambda: registration.withdraw(row, registration_id, current_user),
        _("Registration withdrawn."),
    )


@bp.route("/<int:plan_id>/registrations/<int:registration_id>/photo", methods=["POST"])
@roles_required(REGISTRARS)
def photo(plan_id: int, registration_id: int) -> ResponseReturnValue:
    """Upload a candidate's photograph (JPG or PNG), printed on the ticket and shown at the door."""
    row = services.get_plan(current_user, plan_id)
    upload = request.files.get("photo")
    data = upload.read() if upload else b""
    return _act(
        row,
        "registrations",
        lambda: registration.set_photo(row, registration_id, current_user, data),
        _("Photo saved."),
    )


# ---- life cycle ------------------------------------------------------------------------------


@bp.route("/<int:plan_id>/publish", methods=["POST"])
@roles_required(Role.ORG_ADMIN)
def publish(plan_id: int) -> ResponseReturnValue:
    """Seat everyone, fix ticket numbers and give each candidate a paper of the blueprint."""
    row = services.managed_plan(current_user, plan_id)

    def go() -> None:
        blueprint_id = _chosen("blueprint_id", "请选择本证书等级考核方案的一份细目表")
        seed = request.form.get("seed", "").strip()
        services.publish(row, blueprint_id, seed, current_user)

    return _act(row, "state", go, _("Plan published: every candidate has a seat and a paper."))


@bp.route("/<int:plan_id>/advance", methods=["POST"])
@roles_required(Role.ORG_ADMIN)
def advance(plan_id: int) -> ResponseReturnValue:
    """Start a published plan, or close one in progress."""
    row = services.managed_plan(current_user, plan_id)
    state = request.form.get("state", "")
    return _act(
        row,
        "state",
        lambda: services.advance(row, state),
        _("Plan is now %(state)s.", state=services.STATE_NAMES.get(state, state)),
    )
