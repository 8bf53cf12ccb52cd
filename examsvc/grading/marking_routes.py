"""Marking pages for raters (阅卷): their plans, their queue by marking number, the script.

A rater sees a script only under its marking number (密号): the task, its materials, the
candidate's answer and the rubric, never a name, ticket number, seat or ID number. The first
two raters mark independently and never see each other's marks; the arbiter (a senior rater)
sees both, with their comments. Scripts of other raters are 404.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..auth.roles import Role, roles_required
from ..bank.models import Attachment
from ..bank.render import to_html
from ..errors import DomainError
from ..extensions import db
from ..files import file_response
from . import practical, services
from .forms import marking_form
from .models import Script

bp = Blueprint("marking", __name__, url_prefix="/marking")


@bp.route("/")
@roles_required(Role.RATER)
def index() -> ResponseReturnValue:
    """The plans the user rates, with how many scripts wait for them."""
    rows = []
    for plan in services.plans_rated_by(current_user):
        mine = practical.queue(current_user, plan)
        rows.append((plan, len(mine.to_mark), len(mine.to_arbitrate), len(mine.done)))
    return render_template("grading/marking_index.html", rows=rows)


@bp.route("/plans/<int:plan_id>")
@roles_required(Role.RATER)
def queue(plan_id: int) -> ResponseReturnValue:
    """The rater's scripts in a plan by marking number: to mark, to arbitrate, marked."""
    plan = services.rated_plan(current_user, plan_id)
    return render_template(
        "grading/queue.html",
        plan=plan,
        queue=practical.queue(current_user, plan),
        role_names=practical.ROLE_NAMES,
        senior=current_user.id in practical.senior_ids(plan),
    )


def _page(
    script: Script, role: str, status: int = 200, error: DomainError | None = None
) -> ResponseReturnValue:
    task = practical.task_of(script)

    def image_url(name: str) -> str | None:
        if name not in task.images:
            return None
        return url_for("marking.file", script_id=script.id, att_id=task.images[name])

    settings = services.settings_of(script.registration.plan)
    mine = practical._mark(script, current_user.id)
    others = []
    if role == "arbiter":  # the arbiter sees both first markings; the first two see neither
        for other_role, rater_id in (
            ("first", script.first_rater_id),
            ("second", script.second_rater_id),
        ):
            mark = practical._mark(script, rater_id)
            if mark is not None:
                others.append((other_role, mark))
    return render_template(
        "grading/script.html",
        script=script,
        plan=script.registration.plan,
        role=role,
        role_names=practical.ROLE_NAMES,
        task=task,
        stem=to_html(task.stem, image_url),
        guides=[to_html(c.guide) for c in task.rubric],
        answer=practical.answer_text(script),
        files=[
            (f, practical.shown_name(script, n, f.name))
            for n, f in enumerate(practical.answer_files(script), 1)
        ],
        step=services._plain(settings.rubric_step),
        threshold=services._plain(settings.threshold_ratio * script.points),
        mine=mine,
        others=others,
        error=error,
        form=request.form,
    ), status


@bp.route("/scripts/<int:script_id>", methods=["GET", "POST"])
@roles_required(Role.RATER)
def script(script_id: int) -> ResponseReturnValue:
    """Mark a script criterion by criterion, with comments; a submitted marking is final."""
    row, role = practical.script_for(current_user, script_id)
    if request.method == "GET":
        return _page(row, role)
    criteria = len(practical.task_of(row).rubric)
    scores, comments = marking_form(request.form, criteria)
    try:
        practical.record_marking(current_user, row.id, scores, comments, services.now_utc())
    except DomainError as exc:
        db.session.rollback()
        row, role = practical.script_for(current_user, script_id)
        return _page(row, role, exc.status, exc)
    flash(_("Marking of %(number)s submitted.", number=row.marking_number), "success")
    return redirect(url_for("marking.queue", plan_id=row.plan_id))


@bp.route("/scripts/<int:script_id>/files/<int:att_id>")
@roles_required(Role.RATER)
def file(script_id: int, att_id: int) -> ResponseReturnValue:
    """A material or image of the script's item, for its raters only."""
    row, _role = practical.script_for(current_user, script_id)
    att = db.session.scalar(
        select(Attachment).where(
            Attachment.id == att_id, Attachment.version_id == row.item_version_id
        )
    )
    if att is None:
        abort(404)
    return file_response(
        att.data, att.name, att.content_type, att.kind == "image", "private, max-age=3600"
    )


@bp.route("/scripts/<int:script_id>/answer-files/<int:file_id>")
@roles_required(Role.RATER)
def answer_file(script_id: int, file_id: int) -> ResponseReturnValue:
    """A file the candidate uploaded for the script's item, under a name that hides theirs."""
    row, _role = practical.script_for(current_user, script_id)
    files = practical.answer_files(row)
    found = next(((n, f) for n, f in enumerate(files, 1) if f.id == file_id), None)
    if found is None:
        abort(404)
    number, upload = found
    return file_response(upload.content, practical.shown_name(row, number, upload.name))
