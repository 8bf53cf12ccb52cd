"""The candidate's exam page for one part, its files, and the candidate's own photograph.

The page is rendered on the server from the candidate's own paper (``paper.candidate_paper``):
nothing in the URL says whose paper it is, so a candidate can only ever reach their own. The
answering itself runs in ``static/js/exam.js`` over the protocol of docs/protocol.md (Socket.IO
``/exam``, or the HTTP fallback under /exam/api).
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from ..auth.roles import public
from ..extensions import db
from ..files import file_response
from ..i18n import per_locale
from ..kept import keep, per_app
from ..registration.models import Candidate
from . import services
from .paper import CandidateItem, CandidatePaper, candidate_paper, paper_file
from .routes import candidate_required
from .services import DeliveryError
from .signed import SignedIn, SittingRow

bp = Blueprint("exam_paper", __name__, url_prefix="/exam")
OPEN_STATES = ("in_progress", "paused")


def _sitting(reg: SignedIn, part: str) -> SittingRow | None:
    """The candidate's sitting of ``part``: 404 for a part they do not sit, None while their
    sittings are not made yet (the waiting room makes them)."""
    if part not in {s.part_kind for s in reg.sessions()}:
        abort(404)
    sittings = reg.sittings()
    return None if sittings is None else next(s for s in sittings if s.part_kind == part)


@bp.route("/paper/<part>")
@public
@candidate_required
def paper(part: str) -> ResponseReturnValue:
    """The part being answered: header, 题号面板, the items, and the client that saves them."""
    reg: SignedIn = g.signed
    sitting = _sitting(reg, part)
    if sitting is None or sitting.state not in OPEN_STATES:
        return redirect(url_for("exam.home"))
    session = next(s for s in reg.plan.sessions if s.part_kind == part)
    try:
        sheet = candidate_paper(
            reg,
            part,
            lambda att_id: url_for(".file", part=part, att_id=att_id),
            session.part_name,
        )
        now = datetime.now(UTC)
        # Only this part's state, as the snapshot has it: the page answers no other part, and
        # the whole snapshot read every part's answers and files again.
        initial = services.part_state(sitting, now)
    except DeliveryError as exc:
        flash(exc.message, "error")
        return redirect(url_for("exam.home"))
    client = {
        "registration": reg.id,
        "csrf": generate_csrf(),
        "part": part,
        "server_time": services.ms(now),
        "initial": initial,
        "items": [i.client() for i in sheet.items],
        "urls": {
            "page": url_for(".paper", part=part),
            "state": url_for("exam.state"),
            "answers": url_for("exam.save", part=part),
            "submit": url_for("exam.submit", part=part),
            "anomaly": url_for("exam.anomaly"),
            "home": url_for("exam.home"),
            "login": url_for("exam.login"),
        },
        "strings": per_locale("strings", _strings),
    }
    return render_template(
        "exam/paper.html",
        reg=reg,
        sheet=sheet,
        session=session,
        client=client,
        words=per_locale("items", item_words),
        items_html=items_html(sheet),
    )


@bp.route("/paper/<part>/files/<int:att_id>")
@public
@candidate_required
def file(part: str, att_id: int) -> ResponseReturnValue:
    """A material or image of an item of the candidate's part, while the part is open."""
    reg: SignedIn = g.signed
    sitting = _sitting(reg, part)
    if sitting is None or sitting.state not in OPEN_STATES:
        abort(404)
    att = paper_file(reg, part, att_id)
    if att is None:
        abort(404)
    return file_response(
        att.data, att.name, att.content_type, att.kind == "image", "private, max-age=3600"
    )


@bp.route("/photo")
@public
@candidate_required
def photo() -> ResponseReturnValue:
    """The signed-in candidate's own photograph, for the header of the exam page."""
    candidate = db.session.get(Candidate, g.signed.candidate_id)
    data = candidate.photo if candidate is not None else None
    if not data:
        abort(404)
    return Response(data, mimetype="image/jpeg", headers={"Cache-Control": "private"})


# Stand-ins for what differs between two papers showing the same item version. Private-use
# characters: escaping leaves them alone, and no stem or option is written with them.
POSITION, NUMBER, POINTS = "\ue000p\ue001", "\ue000n\ue001", "\ue000s\ue001"
OPTION = "\ue000o{}\ue001"
STAND_IN = re.compile("(\ue000(?:[pns]|o[0-9]+)\ue001)")  # a capture: split keeps them
FRAGMENTS = "examsvc.exam_item_fragments"
FRAGMENTS_SIZE = 8192  # items by version, part and language: a bank's worth several times over


def items_html(sheet: CandidatePaper) -> Markup:
    """The page's items, in order. A choice item is rendered once per version, part and
    language with stand-ins (``_fragment``), and each page puts its own position, number,
    points and option texts in their places: rendering fifty items through Jinja for every
    candidate was a sixth of the page (6.9 → 5.8 ms in one process, bench/README.md)."""
    words = per_locale("items", item_words)
    kept: dict[tuple[int, str, str], tuple[str, ...]] = per_app(FRAGMENTS)
    locale = str(get_locale())
    out: list[str] = []
    for item in sheet.items:
        if item.type == "practical":  # few, and their upload address holds the position
            out.append(
                _render_item(
                    item, str(item.position), str(item.number), _points(item), sheet.part, words
                )
            )
            continue
        key = (item.version_id, sheet.part, locale)
        pieces = kept.get(key)
        if pieces is None:
            pieces = keep(kept, key, _fragment(item, sheet.part, words), FRAGMENTS_SIZE)
        values = {POSITION: str(item.position), NUMBER: str(item.number), POINTS: _points(item)}
        for k, shown in enumerate(item.options):
            values[OPTION.format(k)] = str(shown[1])
        # Literal HTML at even places, a stand-in at odd ones: one pass over the fragment. A
        # str.replace for each stand-in scanned and copied the whole fragment every time: a
        # tenth of the worker in the start storm (py-spy).
        out.extend(piece if i % 2 == 0 else values[piece] for i, piece in enumerate(pieces))
    return Markup("".join(out))  # every part came out of the autoescaping template


def _points(item: CandidateItem) -> str:
    return "%g" % item.points  # noqa: UP031 (as the template's '%g'|format wrote it)


def _render_item(
    item: CandidateItem, pos: str, num: str, pts: str, part: str, words: dict[str, Markup]
) -> str:
    return render_template(
        "exam/_item.html", i=item, pos=pos, num=num, pts=pts, part=part, words=words
    )


def _fragment(item: CandidateItem, part: str, words: dict[str, Markup]) -> tuple[str, ...]:
    """A choice item of this version as ``_item.html`` renders it, with stand-ins for its
    position, number, points and the texts of its options in the order shown (their labels,
    A, B, C …, are the same on every paper), cut at the stand-ins: literal HTML and stand-ins
    alternate, the literal first."""
    stand_in = replace(
        item,
        options=tuple(
            (label, Markup(OPTION.format(k))) for k, (label, _html) in enumerate(item.options)
        ),
    )
    html = _render_item(stand_in, POSITION, NUMBER, POINTS, part, words)
    return tuple(STAND_IN.split(html))


def item_words() -> dict[str, Markup]:
    """The UI text of each item on the page (``exam/_item.html``), looked up once per language
    (``per_locale``) instead of once per item. Markup like the template's own ``_()``: the translation is
    trusted, the values put into ``item_n`` and ``points`` with ``%`` are escaped."""
    words = {
        "item_n": _("Item %(n)s"),
        "points": _("%(p)s points"),
        "flag": _("Flag for review"),
        "task_and_materials": _("Task and materials"),
        "task": _("Task"),
        "maximise": _("Maximise"),
        "materials": _("Materials"),
        "your_answer": _("Your answer"),
        "preview": _("Preview"),
        "editor_hint": _(
            "Tab leaves the editor; indent with Ctrl+] and outdent with Ctrl+[. "
            "Your code is saved a second after you stop typing."
        ),
        "preview_title": _("Preview of your page"),
        "upload_files": _("Upload files"),
        "upload_hint": _(
            "At most 5 files of 10 MB each. A file with the same name replaces the earlier one."
        ),
        "previous": _("Previous item"),
        "next": _("Next item"),
    }
    return {key: Markup(text) for key, text in words.items()}


def _strings() -> dict[str, str]:
    """The client's UI text, through the catalog like every template string."""
    return {
        "saved": _("Saved"),
        "saving": _("Saving…"),
        "stored": _("Stored on this PC"),
        "not_saved": _("Not saved"),
        "online": _("Connected"),
        "connecting": _("Connecting…"),
        "offline": _(
            "Offline: your answers are stored on this PC and will be sent when the network is back"
        ),
        "back_online": _("Back online: every stored answer has been sent"),
        "answered": _("answered"),
        "unanswered": _("unanswered"),
        "flagged": _("flagged"),
        "item_n": _("Item %(n)s", n="{n}"),
        "confirm": _(
            "%(unanswered)s items unanswered, %(flagged)s flagged. Submit now?",
            unanswered="{u}",
            flagged="{f}",
        ),
        "confirm_all": _("All %(n)s items answered. Submit now?", n="{n}"),
        "unsent": _(
            "%(n)s answers have not reached the server yet: wait until the network is back, "
            "then submit again",
            n="{n}",
        ),
        "submitting": _("Submitting…"),
        "warn_10": _("10 minutes left"),
        "warn_5": _("5 minutes left"),
        "warn_1": _("1 minute left: answers are saved automatically and submitted when time is up"),
        "time_up": _("Time is up: answering is locked and your saved answers are submitted"),
        "paused": _("The exam is paused by the invigilator: please wait"),
        "submitted": _("This part has been submitted"),
        "voided": _("This sitting has been voided: please see the invigilator"),
        "replaced": _("You signed in on another PC: answering on this page has stopped"),
        "pending": _("Waiting for the invigilator to approve this PC"),
        "notice": _("Message from the invigilator"),
        "too_large": _("The answer is too long to be saved: shorten it"),
        "expired": _("This page has expired: reload it (your answers are kept)"),
        "back_home": _("Back to the waiting room"),
        "uploading": _("Uploading %(name)s…", name="{name}"),
        "uploaded": _("%(name)s is stored on the server", name="{name}"),
        "upload_offline": _(
            "Files cannot be uploaded while offline: try again when the network is back"
        ),
        "delete_file": _("Delete"),
        "no_files": _("No file uploaded yet"),
    }
