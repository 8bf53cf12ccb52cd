"""Catalog pages: certificates and levels, standard trees, exam schemes and their fee caps."""

from __future__ import annotations

import yaml
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.roles import BANK_READERS, Role, roles_required
from ..errors import DomainError
from ..extensions import db
from ..i18n import per_locale
from ..yaml_text import safe_load
from .models import CertificateLevel
from .scheme_rules import FEE_CAPS, SchemeError, fee_cap, parse_scheme
from .services import all_levels, scheme_spec, store_scheme

bp = Blueprint("catalog", __name__, url_prefix="/catalog")
READERS = BANK_READERS | {Role.SITE_ADMIN}


@bp.app_context_processor
def names() -> dict[str, object]:
    return per_locale("catalog_names", _names)


def _names() -> dict[str, object]:
    return {
        "MC_POLICY_NAMES": {
            "all_or_nothing": _("all or nothing"),
            "partial": _("partial credit for a correct subset"),
            "per_option": _("per-option weights"),
        },
        "EXAM_FORM_NAMES": {
            "paper": _("paper"),
            "computer": _("computer-based"),
            "practical_general": _("practical, general equipment"),
            "practical_special": _("practical, special equipment"),
        },
    }


def _level(level_id: int) -> CertificateLevel:
    level = db.session.get(CertificateLevel, level_id)
    if level is None:
        abort(404)
    return level


def _own(level: CertificateLevel) -> None:
    if level.certificate.organization_id != current_user.organization_id:
        raise DomainError("只能修改本机构证书的考核方案")


@bp.route("/")
@roles_required(READERS)
def index() -> ResponseReturnValue:
    """Every certificate level with its standard and scheme."""
    return render_template("catalog/index.html", levels=all_levels())


@bp.route("/levels/<int:level_id>/standard")
@roles_required(READERS)
def standard(level_id: int) -> ResponseReturnValue:
    """The skill standard of a level as a tree of codes."""
    level = _level(level_id)
    if level.standard is None:
        abort(404)
    return render_template("catalog/standard.html", level=level, nodes=level.standard.nodes)


@bp.route("/levels/<int:level_id>/scheme")
@roles_required(READERS)
def scheme(level_id: int) -> ResponseReturnValue:
    """The exam scheme of a level: parts, sections, pass lines and the fee cap."""
    level = _level(level_id)
    if level.scheme is None:
        abort(404)
    spec = scheme_spec(level.scheme)
    return render_template(
        "catalog/scheme.html", level=level, spec=spec, cap=fee_cap(spec.parts), caps=FEE_CAPS
    )


def _as_yaml(level: CertificateLevel) -> str:
    spec = scheme_spec(level.scheme) if level.scheme else None
    if spec is None:
        return ""
    doc = {
        "name": spec.name,
        "certificate": spec.certificate,
        "levels": [level.level],
        "mc_policy": spec.mc_policy,
        "mc_partial_ratio": float(spec.mc_partial_ratio),
        "notes": spec.notes,
        "parts": [
            {
                "kind": p.kind,
                "name": p.name,
                "duration_minutes": p.duration_minutes,
                "total_points": float(p.total_points),
                "pass_line": float(p.pass_line),
                "exam_form": p.exam_form,
                "sections": [
                    {"type": s.item_type, "count_min": s.count_min, "count_max": s.count_max}
                    | ({} if s.points_each is None else {"points_each": float(s.points_each)})
                    for s in p.sections
                ],
            }
            for p in spec.parts
        ],
    }
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


@bp.route("/levels/<int:level_id>/scheme/edit", methods=["GET", "POST"])
@roles_required(Role.ORG_ADMIN)
def edit_scheme(level_id: int) -> ResponseReturnValue:
    """Edit a level's scheme as YAML; every rule is checked before anything is stored."""
    level = _level(level_id)
    _own(level)
    text = request.form.get("document", "") if request.method == "POST" else _as_yaml(level)
    problems: list[str] = []
    if request.method == "POST":
        try:
            spec = parse_scheme(safe_load(text), _("Scheme"))
            if spec.certificate != level.certificate.code:
                raise SchemeError(f"certificate 应为 {level.certificate.code}")
            store_scheme(level, spec)
            flash(_("Scheme saved."), "success")
            return redirect(url_for("catalog.scheme", level_id=level.id))
        except (SchemeError, yaml.YAMLError, AttributeError, TypeError) as exc:
            problems = [str(exc)]
    status = 422 if problems else 200
    return render_template(
        "catalog/edit_scheme.html", level=level, document=text, problems=problems
    ), status
