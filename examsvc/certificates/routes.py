"""Certificate pages for organization admins: issue a plan's certificates, revoke one, download
them (one PDF/PNG, a zip per plan), the national-platform export with credits, and the
settings (issuer parts of the number, sites, credits and validity per level, layouts).

Every page is the organization's own: plans, certificates and catalog entries of another
organization answer 404.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from ..auth.roles import Role, roles_required
from ..errors import DomainError, NotFound
from ..extensions import db
from ..plans.documents import cjk_font, file_name
from ..plans.models import ExamPlan
from ..plans.services import managed_plan
from . import services, settings
from .exports import national_csv, national_xlsx
from .keystore import KeyStoreError
from .models import IssuedCertificate
from .render import FORMATS, CertificateData, render_pdf, render_png, render_zip
from .token import verify_url

bp = Blueprint("certificates", __name__, url_prefix="/certificates")
ADMIN = Role.ORG_ADMIN
MIMETYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "zip": "application/zip",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _now() -> datetime:
    return datetime.now(UTC)


def _font() -> Path:
    return cjk_font(current_app.config.get("EXAMSVC_CJK_FONT"))


def _send(data: bytes, kind: str, name: str) -> ResponseReturnValue:
    return send_file(
        io.BytesIO(data), mimetype=MIMETYPES[kind], as_attachment=True, download_name=name
    )


def _attempt(action: Callable[[], str], back: str) -> ResponseReturnValue:
    """Run a change; flash its outcome or its problems (nothing stored) and go back."""
    try:
        message = action()
    except DomainError as exc:
        db.session.rollback()
        flash(" ".join([exc.message, *exc.details]), "error")
    else:
        flash(message, "success")
    return redirect(back)


@bp.route("/")
@roles_required(ADMIN)
def index() -> ResponseReturnValue:
    """The organization's plans with their released passes and certificates, and the keys."""
    plans = list(
        db.session.scalars(
            select(ExamPlan)
            .where(ExamPlan.organization_id == current_user.organization_id)
            .order_by(ExamPlan.id.desc())
        )
    )
    counts = dict(
        db.session.execute(
            select(IssuedCertificate.plan_id, func.count(IssuedCertificate.id))
            .where(IssuedCertificate.organization_id == current_user.organization_id)
            .group_by(IssuedCertificate.plan_id)
        ).all()
    )
    passes = {plan.id: len(services.released_passes(plan)) for plan in plans}
    try:
        keys = services.key_store().list_keys()
        key_problem = ""
    except KeyStoreError as exc:
        keys, key_problem = [], str(exc)
    issuer = settings.issuer_settings(current_user.organization)
    return render_template(
        "certificates/index.html",
        plans=plans,
        counts=counts,
        passes=passes,
        keys=keys,
        key_problem=key_problem,
        issuer=issuer,
    )


@bp.route("/plans/<int:plan_id>")
@roles_required(ADMIN)
def plan(plan_id: int) -> ResponseReturnValue:
    """A plan's certificates: issue the missing ones, revoke, download, export."""
    row = managed_plan(current_user, plan_id)
    certs = services.certificates_of(row)
    passes = services.released_passes(row)
    issued = {c.registration_id for c in certs}
    return render_template(
        "certificates/plan.html",
        plan=row,
        certs=certs,
        passes=len(passes),
        missing=[r for r in passes if r.id not in issued],
        events=services.events_of(row),
        base=services.base_url(),
        verify_url=verify_url,
        china_day=services.china_day,
        issuer=settings.issuer_settings(row.organization),
    )


@bp.route("/plans/<int:plan_id>/issue", methods=["POST"])
@roles_required(ADMIN)
def issue(plan_id: int) -> ResponseReturnValue:
    """Issue a certificate for every released pass that has none (idempotent)."""
    row = managed_plan(current_user, plan_id)

    def run() -> str:
        report = services.issue_plan(row, current_user, _now())
        for problem in report.skipped:
            flash(_("Not issued: %(problem)s", problem=problem), "warning")
        return _(
            "%(issued)s certificates issued; %(already)s passes had theirs already.",
            issued=len(report.issued),
            already=report.already,
        )

    return _attempt(run, url_for(".plan", plan_id=row.id))


@bp.route("/<int:cert_id>/revoke", methods=["POST"])
@roles_required(ADMIN)
def revoke(cert_id: int) -> ResponseReturnValue:
    """Revoke one certificate with a reason; the verify page shows it at once."""
    cert = services.managed_certificate(current_user, cert_id)

    def run() -> str:
        services.revoke(cert, request.form.get("reason", ""), current_user, _now())
        return _("Certificate %(number)s revoked.", number=cert.number)

    return _attempt(run, url_for(".plan", plan_id=cert.plan_id) + f"#cert-{cert.id}")


@bp.route("/<int:cert_id>.<any(pdf,png):kind>")
@roles_required(ADMIN)
def download(cert_id: int, kind: str) -> ResponseReturnValue:
    """One certificate as an A4 landscape PDF or PNG."""
    cert = services.managed_certificate(current_user, cert_id)
    layout = settings.layout_for(cert.level.certificate)
    data = services.certificate_data(cert)
    if kind == "pdf":
        body = render_pdf([data], layout, _font())
    else:
        body = render_png(data, layout, _font())
    return _send(body, kind, f"{cert.number}.{kind}")


def _valid_certificates(plan: ExamPlan) -> list[IssuedCertificate]:
    certs = [c for c in services.certificates_of(plan) if not c.revoked]
    if not certs:
        raise NotFound("本计划还没有有效的证书")
    return certs


@bp.route("/plans/<int:plan_id>/certificates.pdf")
@roles_required(ADMIN)
def plan_pdf(plan_id: int) -> ResponseReturnValue:
    """Every valid certificate of the plan in one PDF, a page each: for printing (the font is
    embedded once, so a page costs a tenth of a PDF of its own)."""
    row = managed_plan(current_user, plan_id)
    certs = _valid_certificates(row)
    layout = settings.layout_for(row.level.certificate)
    body = render_pdf(services.certificate_datas(certs), layout, _font())
    return _send(body, "pdf", file_name(row, "证书", ".pdf"))


@bp.route("/plans/<int:plan_id>/certificates.zip")
@roles_required(ADMIN)
def plan_zip(plan_id: int) -> ResponseReturnValue:
    """Every certificate of the plan in a zip: ``<number>.pdf`` (and ``.png`` when asked)."""
    row = managed_plan(current_user, plan_id)
    certs = _valid_certificates(row)
    formats = [f for f in request.args.getlist("format") if f in FORMATS] or ["pdf"]
    layout = settings.layout_for(row.level.certificate)
    body = render_zip(services.certificate_datas(certs), layout, _font(), formats)
    return _send(body, "zip", file_name(row, "证书", ".zip"))


@bp.route("/plans/<int:plan_id>/national.<any(csv,xlsx):fmt>")
@roles_required(ADMIN)
def national(plan_id: int, fmt: str) -> ResponseReturnValue:
    """The plan's issued certificates for the national platform, with credits."""
    row = managed_plan(current_user, plan_id)
    rows = services.export_rows(row)
    body = national_csv(rows) if fmt == "csv" else national_xlsx(rows)
    return _send(body, fmt, file_name(row, "证书信息", f".{fmt}"))


@bp.route("/settings", methods=["GET", "POST"])
@roles_required(ADMIN)
def settings_page() -> ResponseReturnValue:
    """The issuer parts of the number, the sites' provinces and serials, and per level the
    credit recommendation and validity."""
    org = current_user.organization
    if request.method == "POST":
        form = request.form.get("form", "")
        back = url_for(".settings_page") + f"#{form}"
        if form == "issuer":
            return _attempt(
                lambda: _saved(settings.save_issuer(org, request.form, current_user)), back
            )
        if form == "site":
            site = next(
                (s for s in settings.sites_of(org) if str(s.id) == request.form.get("site_id")),
                None,
            )
            if site is None:
                raise NotFound("考点不存在或不属于您的机构")
            return _attempt(
                lambda: _saved(settings.save_site(site, request.form, current_user)), back
            )
        if form == "level":
            level = next(
                (
                    lv
                    for lv in settings.levels_of(org)
                    if str(lv.id) == request.form.get("level_id")
                ),
                None,
            )
            if level is None:
                raise NotFound("证书等级不存在或不属于您的机构")
            return _attempt(
                lambda: _saved(settings.save_level(level, request.form, current_user)), back
            )
        raise DomainError("未知的设置表单")
    sites = settings.sites_of(org)
    levels = settings.levels_of(org)
    return render_template(
        "certificates/settings.html",
        issuer=settings.issuer_settings(org),
        sites=[(s, settings.site_settings(s)) for s in sites],
        levels=[(lv, settings.level_settings(lv)) for lv in levels],
        certificates=settings.certificates_of(org),
        provinces=settings.PROVINCES,
    )


def _saved(_row: object) -> str:
    return _("Saved. Certificates issued from now on use these settings.")


@bp.route("/layouts/<int:certificate_id>", methods=["GET", "POST"])
@roles_required(ADMIN)
def layout(certificate_id: int) -> ResponseReturnValue:
    """The printed layout of one certificate, with a preview."""
    certificate = settings.managed_certificate_type(current_user, certificate_id)
    if request.method == "POST":
        back = url_for(".layout", certificate_id=certificate.id)
        return _attempt(
            lambda: _saved(settings.save_layout(certificate, request.form, current_user)), back
        )
    return render_template(
        "certificates/layout.html",
        certificate=certificate,
        layout=settings.layout_for(certificate),
    )


def sample(certificate_name: str, organization: str) -> CertificateData:
    """A made-up holder for layout previews; the QR points at a token that verifies as
    malformed, never at a real certificate."""
    from datetime import date

    return CertificateData(
        number="S000011000001255000001",
        check_code="0000-0000",
        name="张三（样例）",
        id_number="110101200001011234",
        certificate=certificate_name,
        level="初级",
        issued=date(2025, 6, 30),
        organization=organization,
        verify_url=services.base_url() + "/v/SAMPLE",
    )


@bp.route("/layouts/<int:certificate_id>/preview.png")
@roles_required(ADMIN)
def layout_preview(certificate_id: int) -> ResponseReturnValue:
    """The stored layout printed with a made-up holder."""
    certificate = settings.managed_certificate_type(current_user, certificate_id)
    data = sample(certificate.name, certificate.organization.name)
    body = render_png(data, settings.layout_for(certificate), _font())
    return send_file(io.BytesIO(body), mimetype="image/png")
