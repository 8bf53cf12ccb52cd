"""Assembly pages (组卷): blueprints, feasibility, papers as candidates see them, frozen sets.

Who may do what, within their own organization:

* reading blueprints, feasibility reports, paper previews and frozen paper sets: every bank
  reader (organization admin, item author, item reviewer);
* writing blueprints (new, edit): the bank writers (organization admin, item author), as a
  blueprint is authored like items are;
* freezing a paper set: the organization admin only. Freezing fixes the papers an exam will use
  and marks item versions as used for good, so it stays apart from those who write the items.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.roles import BANK_READERS, BANK_WRITERS, Role, roles_required
from ..bank.convert import version_data
from ..bank.model import OPTION_KEYS
from ..bank.models import ItemVersion
from ..bank.render import to_html
from ..bank.routes import image_urls
from ..catalog.models import ExamScheme
from ..catalog.services import scheme_spec
from . import engine
from .engine import ENGINE_VERSION
from .models import Blueprint as BlueprintRow
from .services import (
    MAX_PAPERS,
    AssemblyProblems,
    attachments_of,
    audit_paper_set,
    blueprints_of,
    exposure,
    feasibility_of,
    freeze_papers,
    get_blueprint,
    get_paper_set,
    get_scheme,
    loose_spec,
    plan,
    save_blueprint,
    schemes_of,
    starting_document,
    stored_papers,
)

bp = Blueprint("assembly", __name__, url_prefix="/assembly")
DEFAULT_COUNT = 30
DEFAULT_SEED = "preview"
NUMERALS = "一二三四五六七八九十"


def _plan_args() -> tuple[int, str]:
    count = request.args.get("count", DEFAULT_COUNT, type=int)
    return count, request.args.get("seed", DEFAULT_SEED).strip() or DEFAULT_SEED


@bp.route("/")
@roles_required(BANK_READERS)
def index() -> ResponseReturnValue:
    """Blueprints of the organization's schemes, and a new blueprint per scheme."""
    scheme_id = request.args.get("scheme", type=int)
    return render_template(
        "assembly/index.html",
        blueprints=blueprints_of(current_user, scheme_id),
        schemes=schemes_of(current_user),
        scheme_id=scheme_id,
    )


@bp.route("/blueprints/<int:blueprint_id>")
@roles_required(BANK_READERS)
def blueprint(blueprint_id: int) -> ResponseReturnValue:
    """The blueprint as a 双向细目表 and whether the approved items can meet it for N papers."""
    row = get_blueprint(current_user, blueprint_id)
    count, seed = _plan_args()
    report, problems = None, []
    try:
        report = feasibility_of(row, count, seed)
    except AssemblyProblems as exc:
        problems = exc.problems  # the blueprint no longer fits its scheme or standard
    spec = report.spec if report else loose_spec(row.document)
    trial = report.feasibility.trial if report else None
    return render_template(
        "assembly/blueprint.html",
        row=row,
        spec=spec,
        scheme=scheme_spec(row.scheme),
        report=report,
        problems=problems,
        trial=trial,
        exposures=exposure(report.spec, trial) if report and trial else [],
        count=count,
        seed=seed,
        max_papers=MAX_PAPERS,
    )


@bp.route("/blueprints/new", methods=["GET", "POST"])
@roles_required(BANK_WRITERS)
def new() -> ResponseReturnValue:
    """Write a new blueprint for a scheme, starting from the scheme's sections."""
    scheme_id = request.args.get("scheme", type=int)
    if scheme_id is None:
        abort(404)
    scheme = get_scheme(current_user, scheme_id)
    return _editor(scheme, None, starting_document(scheme))


@bp.route("/blueprints/<int:blueprint_id>/edit", methods=["GET", "POST"])
@roles_required(BANK_WRITERS)
def edit(blueprint_id: int) -> ResponseReturnValue:
    """Edit a blueprint as YAML; every rule is checked before anything is stored."""
    row = get_blueprint(current_user, blueprint_id)
    return _editor(row.scheme, row, row.document)


def _editor(scheme: ExamScheme, row: BlueprintRow | None, document: str) -> ResponseReturnValue:
    problems: list[str] = []
    if request.method == "POST":
        document = request.form.get("document", "")
        try:
            row = save_blueprint(scheme, "", document, current_user, row)
        except AssemblyProblems as exc:
            problems = exc.problems
        else:
            flash(_("Blueprint saved."), "success")
            return redirect(url_for("assembly.blueprint", blueprint_id=row.id))
    return render_template(
        "assembly/edit.html", scheme=scheme, row=row, document=document, problems=problems
    ), (422 if problems else 200)


@bp.route("/blueprints/<int:blueprint_id>/preview/<int:number>")
@roles_required(BANK_READERS)
def preview(blueprint_id: int, number: int) -> ResponseReturnValue:
    """Paper ``number`` of the plan for ``count`` and ``seed``, exactly as a candidate sees it."""
    row = get_blueprint(current_user, blueprint_id)
    count, seed = _plan_args()
    if not 1 <= number <= count:
        abort(404)
    result, versions = plan(row, count, seed)
    return render_template(
        "assembly/paper.html",
        title=row.name,
        sheet=_sheet(result.papers[number - 1], versions),
        number=number,
        count=count,
        page=lambda n: url_for(
            "assembly.preview", blueprint_id=row.id, number=n, count=count, seed=seed
        ),
        back=url_for("assembly.blueprint", blueprint_id=row.id, count=count, seed=seed),
    )


@bp.route("/blueprints/<int:blueprint_id>/freeze", methods=["POST"])
@roles_required(Role.ORG_ADMIN)
def freeze(blueprint_id: int) -> ResponseReturnValue:
    """Generate the plan for (count, seed) and store its papers for good."""
    row = get_blueprint(current_user, blueprint_id)
    count = request.form.get("count", 0, type=int)
    try:
        paper_set = freeze_papers(row, count, request.form.get("seed", ""), current_user)
    except AssemblyProblems as exc:
        return render_template(
            "errors/error.html",
            status=422,
            message=_("No papers were frozen: the blueprint cannot be met."),
            details=exc.problems,
        ), 422
    flash(_("%(n)s papers frozen.", n=paper_set.count), "success")
    return redirect(url_for("assembly.paper_set", paper_set_id=paper_set.id))


@bp.route("/paper-sets/<int:paper_set_id>")
@roles_required(BANK_READERS)
def paper_set(paper_set_id: int) -> ResponseReturnValue:
    """A frozen set: seed, engine, pool digest, its papers and the audit (regenerate, compare)."""
    row = get_paper_set(current_user, paper_set_id)
    stored = stored_papers(row)
    return render_template(
        "assembly/paper_set.html",
        row=row,
        papers=stored.papers,
        audit=audit_paper_set(row, stored),
        engine_version=ENGINE_VERSION,
    )


@bp.route("/paper-sets/<int:paper_set_id>/papers/<int:number>")
@roles_required(BANK_READERS)
def paper(paper_set_id: int, number: int) -> ResponseReturnValue:
    """A frozen paper exactly as a candidate sees it."""
    row = get_paper_set(current_user, paper_set_id)
    stored = stored_papers(row, number)
    if not stored.papers:
        abort(404)
    return render_template(
        "assembly/paper.html",
        title=row.blueprint.name,
        sheet=_sheet(stored.papers[0], stored.versions),
        number=number,
        count=row.count,
        page=lambda n: url_for("assembly.paper", paper_set_id=row.id, number=n),
        back=url_for("assembly.paper_set", paper_set_id=row.id),
    )


# ---- the candidate's sheet: only what a candidate may see -----------------------------------


@dataclass
class SheetItem:
    number: int
    type: str
    points: Decimal
    stem: str  # safe HTML
    options: list[tuple[str, str]]  # (label shown, safe HTML) in the shuffled order
    title: str = ""
    materials: list[tuple[str, str]] = field(default_factory=list)  # (name, URL)
    editor: str = "none"
    upload_types: tuple[str, ...] | None = None  # None: no upload
    code: str = ""  # staff side note only
    version: int = 0
    item_id: int = 0


@dataclass
class SheetSection:
    numeral: str
    type: str
    items: list[SheetItem]

    @property
    def points(self) -> Decimal:
        return sum((i.points for i in self.items), Decimal(0))

    @property
    def points_each(self) -> Decimal | None:
        values = {i.points for i in self.items}
        return values.pop() if len(values) == 1 and self.type != "practical" else None


@dataclass
class SheetPart:
    name: str
    kind: str
    sections: list[SheetSection]

    @property
    def points(self) -> Decimal:
        return sum((s.points for s in self.sections), Decimal(0))


def _sheet(paper: engine.Paper, versions: dict[str, ItemVersion]) -> list[SheetPart]:
    """The paper with stems and options rendered, options relabelled A, B, C … in the order
    shown. Keys, explanations, rubrics, difficulty and skill codes never enter it."""
    used = [versions[i.item] for part in paper.parts for i in part.items]
    files = attachments_of(used)
    parts = []
    for part in paper.parts:
        sections: list[SheetSection] = []
        for n, i in enumerate(part.items, 1):
            v = versions[i.item]
            data = version_data(v.item, v)
            images = image_urls(a for a in files[v.id] if a.kind == "image")
            text = data.option_map
            order = i.options or "".join(k for k, _ in data.options)
            form = data.answer_form
            item = SheetItem(
                number=n,
                type=i.type,
                points=i.points,
                stem=to_html(data.stem, images),
                options=[
                    (OPTION_KEYS[k], to_html(text[key], images, inline=True))
                    for k, key in enumerate(order)
                ],
                title=data.title,
                materials=[
                    (a.name, url_for("bank.attachment", att_id=a.id))
                    for a in files[v.id]
                    if a.kind == "material"
                ],
                editor=form.editor if form else "none",
                upload_types=tuple(form.upload_types) if form and form.upload else None,
                code=i.item,
                version=i.version,
                item_id=v.item_id,
            )
            if not sections or sections[-1].type != i.type:
                sections.append(SheetSection(NUMERALS[len(sections) % 10], i.type, []))
            sections[-1].items.append(item)
        parts.append(SheetPart(part.name, part.kind, sections))
    return parts
