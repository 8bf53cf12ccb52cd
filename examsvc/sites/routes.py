"""Site pages (考核站点) and their rooms (考场) with seat maps.

Who may do what:

* the organization admin sees every site of the organization, creates sites and changes their
  number, name, address and institution;
* a site admin sees only the site named on the account (any other site answers 404) and, like
  the organization admin, adds, changes and deletes its rooms.

A form that breaks a rule answers 422 (409 for a number already taken) with the message next to
the typed values, and nothing is stored: the request's transaction is rolled back.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.roles import REGISTRARS, Role, roles_required
from ..errors import DomainError
from .forms import RoomForm, SiteForm, format_seat_list
from .models import Room, Site
from .seatmap import SeatMap, validate_seatmap
from .services import delete_room as delete_unused_room
from .services import (
    get_room,
    get_site,
    save_room,
    save_site,
    sites_of,
)

bp = Blueprint("sites", __name__, url_prefix="/sites")
# Organization admins and site admins; the services narrow a site admin to one site.
MANAGERS = REGISTRARS


@bp.route("/")
@roles_required(MANAGERS)
def index() -> ResponseReturnValue:
    """The organization's sites (organization admin) or one's own site (site admin)."""
    return render_template("sites/index.html", sites=sites_of(current_user))


@bp.route("/new", methods=["GET", "POST"])
@roles_required(Role.ORG_ADMIN)
def new_site() -> ResponseReturnValue:
    """Register a site approved by the organization."""
    return _site_editor(None)


@bp.route("/<int:site_id>/edit", methods=["GET", "POST"])
@roles_required(Role.ORG_ADMIN)
def edit_site(site_id: int) -> ResponseReturnValue:
    """Change a site's number, name, address or institution."""
    return _site_editor(get_site(current_user, site_id))


def _site_editor(site: Site | None) -> ResponseReturnValue:
    form = SiteForm(data=SiteForm.values(site) if site and request.method == "GET" else None)
    error: DomainError | None = None
    if form.validate_on_submit():
        try:
            saved = save_site(current_user, form.to_data(), site)
        except DomainError as exc:
            error = exc
        else:
            flash(_("Site saved."), "success")
            return redirect(url_for("sites.site", site_id=saved.id))
    status = error.status if error else (422 if request.method == "POST" else 200)
    return render_template("sites/edit_site.html", form=form, site=site, error=error), status


@bp.route("/<int:site_id>")
@roles_required(MANAGERS)
def site(site_id: int) -> ResponseReturnValue:
    """A site with its rooms and how many candidates they seat."""
    row = get_site(current_user, site_id)
    return render_template("sites/site.html", site=row)


@bp.route("/<int:site_id>/rooms/new", methods=["GET", "POST"])
@roles_required(MANAGERS)
def new_room(site_id: int) -> ResponseReturnValue:
    """Add a room to a site, with its seat map."""
    return _room_editor(get_site(current_user, site_id), None)


@bp.route("/rooms/<int:room_id>")
@roles_required(MANAGERS)
def room(room_id: int) -> ResponseReturnValue:
    """A room's seat map as the room is: front at the top, spare and blocked seats marked."""
    row = get_room(current_user, room_id)
    return render_template("sites/room.html", room=row, site=row.site)


@bp.route("/rooms/<int:room_id>/edit", methods=["GET", "POST"])
@roles_required(MANAGERS)
def edit_room(room_id: int) -> ResponseReturnValue:
    """Change a room or its seat map; seats given to candidates cannot be taken away."""
    row = get_room(current_user, room_id)
    return _room_editor(row.site, row)


def _room_editor(site: Site, room: Room | None) -> ResponseReturnValue:
    """The room form; "preview" draws the typed seat map without storing anything."""
    form = RoomForm(data=RoomForm.values(room) if room and request.method == "GET" else None)
    error: DomainError | None = None
    preview: SeatMap | None = None
    if form.validate_on_submit():
        data = form.to_data()
        if request.form.get("action") == "preview":
            seatmap = SeatMap(data.rows, data.columns, data.spare, data.blocked)
            problems = validate_seatmap(seatmap)
            if problems:
                error = DomainError(_("The seat map cannot be drawn:"), problems)
            else:
                preview = seatmap
        else:
            try:
                saved = save_room(site, data, room)
            except DomainError as exc:
                error = exc
            else:
                flash(_("Room saved."), "success")
                return redirect(url_for("sites.room", room_id=saved.id))
    status = error.status if error else (422 if request.method == "POST" and not preview else 200)
    return render_template(
        "sites/edit_room.html",
        form=form,
        site=site,
        room=room,
        error=error,
        preview=preview,
        saved=room.seatmap if room else None,
    ), status


@bp.route("/rooms/<int:room_id>/delete", methods=["POST"])
@roles_required(MANAGERS)
def delete_room(room_id: int) -> ResponseReturnValue:
    """Delete a room no plan uses; a room a plan uses answers 409 with how many."""
    row = get_room(current_user, room_id)
    site_id, name = row.site_id, row.name
    delete_unused_room(row)
    flash(_("Room “%(name)s” deleted.", name=name), "success")
    return redirect(url_for("sites.site", site_id=site_id))


@bp.app_template_filter("seat_list")
def seat_list(seats: list[int] | None) -> str:
    """Seats as staff type them: runs shown as ranges ("34-36, 40"), "—" when there are none."""
    return format_seat_list(seats or ()) or "—"
