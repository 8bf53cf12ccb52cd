"""Candidate pages and the HTTP fallback of the exam protocol (docs/protocol.md).

Candidates are not staff: they sign in with ticket number and ID number, and their sign-in is
kept in the session cookie as ``candidate_login``. The views are ``public`` for the staff role
check and require a live candidate sign-in themselves (``candidate_required``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue

from ..auth.roles import public
from ..extensions import limiter
from ..files import file_response
from ..registration.models import Registration
from . import arrival, services, signed
from .lifecycle import STATE_NAMES
from .services import DeliveryError
from .signed import SignedIn
from .uploads import MAX_FILE_BYTES

bp = Blueprint("exam", __name__, url_prefix="/exam")
SESSION_KEY = "candidate_login"


def _login_limit() -> str:
    return str(current_app.config["LOGIN_RATE_LIMIT"])


def candidate_required(
    view: Callable[..., ResponseReturnValue],
) -> Callable[..., ResponseReturnValue]:
    """Let the request through with ``g.signed`` set (the sign-in, its registration and
    sittings: ``signed.SignedIn``), or send the candidate to sign in."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        reg = signed.by_login(session.get(SESSION_KEY))
        if reg is None:
            if request.path.startswith("/exam/api/"):
                message = "请先用准考证号和身份证号登录"
                return jsonify(ok=False, error="unauthenticated", message=message), 401
            return redirect(url_for("exam.login"))
        g.signed = reg
        return view(*args, **kwargs)

    return wrapped


def registration() -> Registration:
    """The signed-in candidate's ORM registration, for the requests that are not the start
    of an exam (submit, uploads, anomalies): they use the ORM services."""
    if "registration" not in g:
        g.registration = services.registration_of(g.signed)
    reg: Registration = g.registration
    return reg


def _now() -> datetime:
    return datetime.now(UTC)


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(_login_limit, methods=["POST"])
def login() -> ResponseReturnValue:
    """Candidate sign-in at the seat: ticket number (准考证号) and ID number (身份证号)."""
    error, status = "", 200
    if request.method == "POST":
        try:
            row = services.sign_in(
                request.form.get("ticket_number", ""),
                request.form.get("id_number", ""),
                request.remote_addr or "",
                request.headers.get("User-Agent", ""),
                request.form.get("start_code", ""),
            )
        except DeliveryError as exc:
            error, status = exc.message, exc.status
        else:
            login_id, pending = row.id, row.state == "pending"
            _tell_the_board(row.registration, pending=pending)
            session[SESSION_KEY] = login_id
            if pending:
                return redirect(url_for("exam.pending"))
            return redirect(url_for("exam.home"))
    return render_template("exam/login.html", error=error), status


@bp.route("/pending")
@public
def pending() -> ResponseReturnValue:
    """A sign-in on a second PC waits here until the invigilator approves or refuses it."""
    state = services.login_state(session.get(SESSION_KEY))
    if state == "live":
        return redirect(url_for("exam.home"))
    if state != "pending":
        session.pop(SESSION_KEY, None)
        return redirect(url_for("exam.login"))
    return render_template("exam/pending.html"), 202


def _tell_the_board(reg: SignedIn, pending: bool) -> None:
    """The sign-in is stored; the room's board shows the candidate (or the pending switch,
    with its anomaly)."""
    from ..proctoring.pushes import seat_push
    from .sockets import push_anomaly

    pushes = [seat_push(reg)]
    if pending:
        found = services.latest_anomaly(services.registration_of(reg), "second_sign_in")
        if found is not None:
            pushes.append(lambda: push_anomaly(found))
    services.commit()
    _run(pushes)


def _run(pushes: list[Callable[[], None]]) -> None:
    """Pushes follow the commit and are best effort: the change is stored whatever they do."""
    for push in pushes:
        try:
            push()
        except Exception:
            current_app.logger.exception("push failed")


@bp.route("/logout", methods=["POST"])
@public
def logout() -> ResponseReturnValue:
    session.pop(SESSION_KEY, None)
    return redirect(url_for("exam.login"))


@bp.route("/")
@public
@candidate_required
def home() -> ResponseReturnValue:
    """The waiting room: instructions (考生须知), the parts, their times and states."""
    from ..proctoring.pushes import seat_push

    reg: SignedIn = g.signed
    try:
        sittings, moved = arrival.enter(reg)
    except DeliveryError as exc:  # a part moved on meanwhile (another tab): show it as it is
        services.rollback()
        flash(exc.message, "error")
        return redirect(url_for("exam.home"))
    sessions = {s.part_kind: s for s in reg.plan.sessions}
    if moved:  # checked in: the board shows them waiting
        services.commit()
        _run([seat_push(reg)])
    return render_template(
        "exam/home.html",
        reg=reg,
        sittings=sittings,
        sessions=sessions,
        state_names=STATE_NAMES,
    )


# ---- the HTTP fallback of the protocol ---------------------------------------------------------


Pushes = list[Callable[[], None]]


def _answer(action: Callable[[Pushes], dict[str, Any]]) -> ResponseReturnValue:
    """Run one protocol action; commit before acknowledging, refuse with code and message.
    What the action queues in ``pushes`` (the candidate's other tabs, the board) follows the
    commit, as over Socket.IO."""
    pushes: Pushes = []
    try:
        body = action(pushes)
    except DeliveryError as exc:
        services.rollback()
        return jsonify(ok=False, error=exc.code, message=exc.message), exc.status
    services.commit()
    _run(pushes)
    return jsonify(body)


@bp.route("/api/state")
@public
@candidate_required
def state() -> ResponseReturnValue:
    """Every part's state, deadline and saved answers (what a reconnecting browser needs)."""
    return _answer(lambda _: {"ok": True} | services.snapshot(g.signed, _now()))


@bp.route("/api/<part>/start", methods=["POST"])
@public
@candidate_required
def start(part: str) -> ResponseReturnValue:
    from .sockets import start_pushes

    def act(pushes: Pushes) -> dict[str, Any]:
        now, reg = _now(), g.signed
        arrival.start(reg, part, now)
        body = {"ok": True} | services.snapshot(reg, now)
        pushes += start_pushes(reg, part, body)
        return body

    return _answer(act)


@bp.route("/api/<part>/answers", methods=["POST"])
@public
@candidate_required
def save(part: str) -> ResponseReturnValue:
    """One answer change ``{seq, position, value, flagged}``, acknowledged once stored."""
    from ..proctoring.pushes import progress_push

    payload = request.get_json(silent=True)

    def act(pushes: Pushes) -> dict[str, Any]:
        ack = services.save_answer(registration(), part, payload, _now())
        if ack["outcome"] == "saved":
            pushes.append(progress_push(registration(), part, ack["answered"]))
        return ack

    return _answer(act)


@bp.route("/api/<part>/submit", methods=["POST"])
@public
@candidate_required
def submit(part: str) -> ResponseReturnValue:
    from .sockets import submit_pushes

    def act(pushes: Pushes) -> dict[str, Any]:
        now, reg = _now(), registration()
        sitting = services.sitting_of(reg, part)
        services.submit(sitting, now)
        pushes += submit_pushes(reg, sitting, now)
        return {"ok": True, "state": "submitted"}

    return _answer(act)


@bp.route("/api/<part>/files/<int:position>", methods=["POST"])
@public
@candidate_required
def upload(part: str, position: int) -> ResponseReturnValue:
    """A file for a practical item (multipart field ``file``), acknowledged once stored."""
    if (request.content_length or 0) > MAX_FILE_BYTES + 64 * 1024:
        limit = MAX_FILE_BYTES // 1024 // 1024
        message = f"文件超过 {limit} MB：请压缩或删减后再上传"
        return jsonify(ok=False, error="too_large", message=message), 413
    sent = request.files.get("file")
    if sent is None or not sent.filename:
        message = "没有收到文件：请选择文件后再上传"
        return jsonify(ok=False, error="malformed", message=message), 422
    data = sent.read(MAX_FILE_BYTES + 1)
    name = sent.filename
    return _answer(lambda _: services.save_file(registration(), part, position, name, data, _now()))


@bp.route("/api/<part>/files/<int:position>/delete", methods=["POST"])
@public
@candidate_required
def delete_upload(part: str, position: int) -> ResponseReturnValue:
    payload = request.get_json(silent=True)
    name = payload.get("name") if isinstance(payload, dict) else None
    if not isinstance(name, str):
        return jsonify(ok=False, error="malformed", message='应为 {"name": 文件名}'), 422
    return _answer(lambda _: services.delete_file(registration(), part, position, name, _now()))


@bp.route("/api/<part>/files/<int:position>/<path:name>")
@public
@candidate_required
def own_upload(part: str, position: int, name: str) -> ResponseReturnValue:
    """The candidate's own uploaded file, to check what the server has."""
    row = services.own_file(registration(), part, position, name)
    if row is None:
        return jsonify(ok=False, error="unknown_file", message="没有这个文件"), 404
    return file_response(row.content, row.name)


@bp.route("/api/anomaly", methods=["POST"])
@public
@candidate_required
def anomaly() -> ResponseReturnValue:
    """A browser-observed anomaly ``{kind, at, detail}``: stored, then pushed to invigilators."""
    from .sockets import push_anomaly

    def act(pushes: Pushes) -> dict[str, Any]:
        kind, at, detail = services.parse_anomaly(request.get_json(silent=True))
        found = services.record_anomaly(registration(), kind, at, detail, _now())
        pushes.append(lambda: push_anomaly(found))
        return {"ok": True}

    return _answer(act)
