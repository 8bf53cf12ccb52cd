"""Bank pages: list and search items, author, review, preview, coverage, import and export."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.roles import BANK_READERS, BANK_WRITERS, Role, roles_required
from ..catalog.services import scheme_spec
from ..errors import DomainError
from ..files import file_response
from . import imports
from .convert import version_data
from .coverage import PoolItem, check_scheme, coverage_table
from .forms import ItemForm, data_to_form, form_to_data
from .model import TYPE_NAMES, TYPES, BankData, BankFormatError, ItemData
from .models import Attachment, Item, ItemVersion, QuestionBank
from .render import to_html
from .services import (
    STATUS_NAMES,
    ItemFilter,
    bank_standard,
    create_item,
    edit_item,
    get_bank,
    get_item,
    retire_item,
    review_item,
    search_items,
    submit_item,
    visible_banks,
)
from .xlsx_format import write_workbook

bp = Blueprint("bank", __name__, url_prefix="/bank")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.app_context_processor
def names() -> dict[str, object]:
    return {"TYPE_NAMES": TYPE_NAMES, "STATUS_NAMES": STATUS_NAMES}


@bp.route("/")
@roles_required(BANK_READERS)
def index() -> ResponseReturnValue:
    """The banks of the user's organization."""
    return render_template("bank/index.html", banks=visible_banks(current_user))


@bp.route("/<int:bank_id>")
@roles_required(BANK_READERS)
def items(bank_id: int) -> ResponseReturnValue:
    """Search and filter a bank's items by type, status, skill code, difficulty and text."""
    bank = get_bank(current_user, bank_id)
    args = request.args
    difficulty = args.get("difficulty", type=int)
    f = ItemFilter(
        type=args.get("type", "") if args.get("type") in TYPES else "",
        status=args.get("status", "") if args.get("status") in STATUS_NAMES else "",
        skill=args.get("skill", "").strip(),
        difficulty=difficulty if difficulty in range(1, 6) else None,
        text=args.get("q", "").strip()[:100],
    )
    page = max(args.get("page", 1, type=int), 1)
    found, total = search_items(bank, f, page)
    return render_template(
        "bank/items.html", bank=bank, items=found, total=total, page=page, f=f, per_page=50
    )


def _pool(bank: QuestionBank) -> list[PoolItem]:
    out = []
    for item in bank.items:
        v = item.approved
        if v is not None:
            out.append(PoolItem(item.type, tuple(v.skills), v.difficulty))
    return out


@bp.route("/<int:bank_id>/coverage")
@roles_required(BANK_READERS)
def coverage(bank_id: int) -> ResponseReturnValue:
    """Approved items by type × work field × difficulty, and whether the scheme can be met."""
    bank = get_bank(current_user, bank_id)
    standard = bank_standard(bank)
    if standard is None:
        raise DomainError("该等级还没有技能标准，无法统计覆盖情况")
    pool = _pool(bank)
    table = coverage_table(pool, standard)
    scheme = bank.level.scheme
    checks = check_scheme(pool, scheme_spec(scheme).parts) if scheme else []
    return render_template(
        "bank/coverage.html", bank=bank, table=table, checks=checks, standard=standard
    )


def image_urls(attachments: Iterable[Attachment]) -> Callable[[str], str | None]:
    """Map image names used in an item's Markdown to the URLs of these attachments."""
    names = {a.name: a.id for a in attachments}

    def url(name: str) -> str | None:
        return url_for("bank.attachment", att_id=names[name]) if name in names else None

    return url


def _requested_version(item_id: int) -> tuple[Item, ItemVersion, ItemData]:
    """The item of the user's organization and the version asked for (?version=N, else latest)."""
    it = get_item(current_user, item_id)
    number = request.args.get("version", it.latest.number, type=int)
    if not 1 <= number <= len(it.versions):
        abort(404)
    version = it.versions[number - 1]
    return it, version, version_data(it, version)


@bp.route("/items/<int:item_id>")
@roles_required(BANK_READERS)
def item(item_id: int) -> ResponseReturnValue:
    """An item with its key, explanation, rubric, every version and the review trail."""
    it, version, data = _requested_version(item_id)
    images = image_urls(version.attachments)
    return render_template(
        "bank/item.html",
        item=it,
        version=version,
        data=data,
        stem_html=to_html(data.stem, images),
        explanation_html=to_html(data.explanation, images),
    )


@bp.route("/items/<int:item_id>/preview")
@roles_required(BANK_READERS)
def preview(item_id: int) -> ResponseReturnValue:
    """The item exactly as a candidate sees it: no key, no explanation, no rubric."""
    it, version, data = _requested_version(item_id)
    options = [(k, to_html(t, inline=True)) for k, t in data.options]
    return render_template(
        "bank/preview.html",
        item=it,
        data=data,
        stem_html=to_html(data.stem, image_urls(version.attachments)),
        options=options,
        materials=[a for a in version.attachments if a.kind == "material"],
    )


@bp.route("/attachments/<int:att_id>")
@roles_required(BANK_READERS)
def attachment(att_id: int) -> ResponseReturnValue:
    """Download a material or image of an item of the user's organization."""
    att = current_app.extensions["sqlalchemy"].session.get(Attachment, att_id)
    if att is None:
        abort(404)
    get_item(current_user, att.version.item_id)
    return file_response(att.data, att.name, att.content_type, att.kind == "image", "private")


def _uploads(form: ItemForm, kept: dict[str, list[str]]) -> dict[str, bytes]:
    """Uploaded materials and images, checked for size and type; adds their names to ``kept``."""
    files: dict[str, bytes] = {}
    limit = current_app.config["ATTACHMENT_MAX_BYTES"]
    for kind, field in (("materials", form.materials), ("images", form.images)):
        for upload in field.data or []:
            if not getattr(upload, "filename", ""):
                continue
            data = imports.checked_upload(upload, kind, limit)
            files[upload.filename] = data
            if upload.filename not in kept.setdefault(kind, []):
                kept[kind].append(upload.filename)
    return files


def _kept_names(form: ItemForm) -> dict[str, list[str]]:
    split = lambda s: [n.strip() for n in (s or "").split(",") if n.strip()]  # noqa: E731
    return {"images": split(form.image_names.data), "materials": split(form.material_names.data)}


@bp.route("/<int:bank_id>/items/new", methods=["GET", "POST"])
@roles_required(BANK_WRITERS)
def new_item(bank_id: int) -> ResponseReturnValue:
    """Write a new item; it starts as a draft."""
    bank = get_bank(current_user, bank_id)
    type_ = request.args.get("type", "single")
    if type_ not in TYPES:
        abort(404)
    form = ItemForm()
    ident = request.form.get("external_id", "").strip()
    if form.validate_on_submit():
        kept = _kept_names(form)
        try:
            files = _uploads(form, kept)
            data = form_to_data(form, ident, type_, kept)
        except ValueError as exc:
            raise DomainError(str(exc)) from exc
        it = create_item(bank, data, current_user, files)
        flash(_("Item saved as a draft."), "success")
        return redirect(url_for("bank.item", item_id=it.id))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "bank/edit.html", bank=bank, form=form, type_=type_, item=None, ident=ident
    ), status


@bp.route("/items/<int:item_id>/edit", methods=["GET", "POST"])
@roles_required(BANK_WRITERS)
def edit(item_id: int) -> ResponseReturnValue:
    """Edit an item: drafts change in place, approved or used versions get a new version."""
    it = get_item(current_user, item_id)
    form = ItemForm()
    if form.validate_on_submit():
        kept = _kept_names(form)
        try:
            files = _uploads(form, kept)
            data = form_to_data(form, it.external_id, it.type, kept)
        except ValueError as exc:
            raise DomainError(str(exc)) from exc
        version = edit_item(it, data, current_user, files)
        flash(_("Saved as version %(n)s (draft).", n=version.number), "success")
        return redirect(url_for("bank.item", item_id=it.id))
    if request.method == "GET":
        data = version_data(it, it.latest)
        data_to_form(form, data)
        form.image_names.data = ", ".join(data.images)
        form.material_names.data = ", ".join(data.materials)
    status = 422 if request.method == "POST" else 200
    return render_template(
        "bank/edit.html", bank=it.bank, form=form, type_=it.type, item=it, ident=it.external_id
    ), status


@bp.route("/items/<int:item_id>/submit", methods=["POST"])
@roles_required(BANK_WRITERS)
def submit(item_id: int) -> ResponseReturnValue:
    """Send a draft to review."""
    it = get_item(current_user, item_id)
    submit_item(it, current_user)
    flash(_("Sent to review."), "success")
    return redirect(url_for("bank.item", item_id=it.id))


@bp.route("/items/<int:item_id>/review", methods=["POST"])
@roles_required(Role.REVIEWER)
def review(item_id: int) -> ResponseReturnValue:
    """Approve the version under review, or return it to the author with a reason."""
    it = get_item(current_user, item_id)
    approve = request.form.get("decision") == "approve"
    review_item(it, current_user, approve, request.form.get("comment", ""))
    flash(_("Approved.") if approve else _("Returned to the author."), "success")
    return redirect(url_for("bank.item", item_id=it.id))


@bp.route("/items/<int:item_id>/retire", methods=["POST"])
@roles_required(Role.ORG_ADMIN, Role.REVIEWER)
def retire(item_id: int) -> ResponseReturnValue:
    """Retire an item so no new paper uses it; papers that used it keep their version."""
    it = get_item(current_user, item_id)
    retire_item(it, current_user, request.form.get("comment", ""))
    flash(_("Item retired."), "success")
    return redirect(url_for("bank.item", item_id=it.id))


@bp.route("/review")
@roles_required(Role.REVIEWER)
def review_queue() -> ResponseReturnValue:
    """Items waiting for review in the reviewer's organization, other authors' work first."""
    waiting = [
        i for bank in visible_banks(current_user) for i in bank.items if i.latest.status == "review"
    ]
    return render_template("bank/review.html", items=waiting)


@bp.route("/<int:bank_id>/import", methods=["GET", "POST"])
@roles_required(BANK_WRITERS)
def import_items(bank_id: int) -> ResponseReturnValue:
    """Import a workbook (.xlsx) or a zipped YAML bank into this bank, all or nothing."""
    bank = get_bank(current_user, bank_id)
    if request.method == "GET":
        return render_template("bank/import.html", bank=bank, issues=[])
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise DomainError("请选择要导入的 .xlsx 或 .zip 文件")
    try:
        report = imports.import_upload(bank, upload, current_user)
    except BankFormatError as exc:
        return render_template("bank/import.html", bank=bank, issues=exc.issues), 422
    flash(
        _(
            "Imported: %(c)s new, %(u)s changed, %(s)s unchanged.",
            c=report.created,
            u=report.updated,
            s=report.unchanged,
        ),
        "success",
    )
    return redirect(url_for("bank.items", bank_id=bank.id))


@bp.route("/<int:bank_id>/export.xlsx")
@roles_required(Role.ORG_ADMIN)
def export_xlsx(bank_id: int) -> ResponseReturnValue:
    """Download the bank, keys included, as a workbook in the import layout."""
    bank = get_bank(current_user, bank_id)
    data = write_workbook(imports.export_for_download(bank))
    return _download(data, f"{bank.code}.xlsx")


@bp.route("/template.xlsx")
@roles_required(BANK_WRITERS)
def template() -> ResponseReturnValue:
    """The empty import workbook with every column in place."""
    return _download(write_workbook(BankData("", "", "", "")), "question-bank-template.xlsx")


def _download(data: bytes, name: str) -> Response:
    return Response(
        data,
        mimetype=XLSX,
        headers={"Content-Disposition": f"attachment; filename={name}"},
    )
