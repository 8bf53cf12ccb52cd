"""Public verification: ``/v/<token>`` (the QR's landing page), the lookup by certificate number
and check code, the JWK set at ``/.well-known/examsvc-keys.json`` and the signed status lists.

Open to everyone and rate-limited (``CERT_VERIFY_RATE_LIMIT``, ``CERT_LOOKUP_RATE_LIMIT``).
Every token gets a verdict page, never an error: an altered, truncated or foreign token is a
verdict too. There is no lookup by number alone: serials are consecutive, so that would hand
out every holder's name; the check code printed under the QR is asked for as well.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from ..auth.roles import public
from ..catalog.models import Certificate
from ..errors import DomainError
from ..extensions import db, limiter
from .keys import CHINA
from .number import level_label
from .services import china_day
from .token import STATUS_NAMES, Status
from .verification import Checked, check_token, lookup, public_keys, status_list

bp = Blueprint("verify", __name__)
DEFAULT_VERIFY_LIMIT = "60 per minute"
DEFAULT_LOOKUP_LIMIT = "10 per minute"
TRUSTED = (Status.VALID, Status.REVOKED, Status.EXPIRED)
# The token names its holder: keep it out of other sites' logs, search engines and caches.
PRIVATE = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
}


def verify_limit() -> str:
    return str(current_app.config.get("CERT_VERIFY_RATE_LIMIT") or DEFAULT_VERIFY_LIMIT)


def lookup_limit() -> str:
    return str(current_app.config.get("CERT_LOOKUP_RATE_LIMIT") or DEFAULT_LOOKUP_LIMIT)


def _now() -> datetime:
    return datetime.now(UTC)


def masked_id(last4: str) -> str:
    """An 18-character ID number shown by its last four characters only."""
    return "*" * 14 + last4


def _certificate_name(checked: Checked) -> str:
    claims = checked.result.claims
    if checked.record is not None:
        return checked.record.certificate_name
    if claims is None:
        return ""
    row = db.session.scalar(select(Certificate).where(Certificate.code == claims.certificate))
    return row.name if row is not None else claims.certificate


def facts(checked: Checked) -> dict[str, Any] | None:
    """What the page and the JSON show of a certificate whose signature held (else None)."""
    result, record = checked.result, checked.record
    claims = result.claims
    if result.status not in TRUSTED or claims is None:
        return None
    revoked = None
    if record is not None and record.revoked_at is not None:
        revoked = {
            "date": china_day(record.revoked_at).isoformat(),
            "reason": record.revoked_reason,
        }
    return {
        "number": claims.number,
        "name": claims.name,
        "id_number_masked": masked_id(claims.id_last4),
        "id_last4": claims.id_last4,
        "certificate": claims.certificate,
        "certificate_name": _certificate_name(checked),
        "level": claims.level,
        "level_name": claims.level_name,
        "issued": claims.issued.isoformat(),
        "expires": claims.expires.isoformat() if claims.expires else None,
        "issuer": record.issuer_name if record is not None else None,
        "status_list": claims.status_list,
        "status_index": claims.status_index,
        "revocation": revoked,
    }


def verification_json(checked: Checked) -> dict[str, Any]:
    """The answer of /api/v1/verify/<token>; ``status`` is one of the six verdicts."""
    result = checked.result
    return {
        "status": result.status.value,
        "status_name": STATUS_NAMES[result.status],
        "message": result.message,
        "kid": result.kid,
        "check_code": result.check_code if result.status in TRUSTED else None,
        "revocation_checked": result.revocation_checked,
        "certificate": facts(checked),
    }


def _page(checked: Checked, status: int = 200) -> ResponseReturnValue:
    return (
        render_template(
            "certificates/verify.html",
            result=checked.result,
            facts=facts(checked),
            status_names=STATUS_NAMES,
            level_label=level_label,
            checked_at=_now().astimezone(CHINA),
        ),
        status,
        PRIVATE,
    )


@bp.route("/v/<token>")
@public
@limiter.limit(verify_limit)
def page(token: str) -> ResponseReturnValue:
    """The verdict on a scanned certificate, in Chinese first, for a phone."""
    return _page(check_token(token, _now()))


@bp.route("/v/", methods=["GET", "POST"])
@public
@limiter.limit(lookup_limit, methods=["POST"])
def find() -> ResponseReturnValue:
    """For people without a scanner: certificate number and check code give the same page."""
    error, status = "", 200
    if request.method == "POST":
        try:
            cert = lookup(request.form.get("number", ""), request.form.get("check_code", ""))
        except DomainError as exc:
            error, status = exc.message, exc.status
        else:
            return _page(check_token(cert.token, _now()))
    return render_template("certificates/lookup.html", error=error), status, PRIVATE


@bp.route("/.well-known/examsvc-keys.json")
@public
def keys() -> ResponseReturnValue:
    """The public keys (JWK set) that verify certificates and status lists offline."""
    response = jsonify(public_keys().to_jwks())
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.route("/v/status/<list_id>.cbor")
@public
def status(list_id: str) -> ResponseReturnValue:
    """A signed status list (revocations) for offline verifiers: ``examsvc cert verify
    --status-list``."""
    data = status_list(list_id, _now())
    return (
        data,
        200,
        {
            "Content-Type": "application/cbor",
            "Content-Disposition": f'attachment; filename="{list_id}.cbor"',
            "Cache-Control": "no-cache",
            "Access-Control-Allow-Origin": "*",
        },
    )
