"""A site admin uploads a candidate's photograph; it is stored re-encoded and printed on the
ticket, and a file that is not a photograph changes nothing."""

from __future__ import annotations

import io

from flask import Flask
from PIL import Image

from examsvc.extensions import db
from examsvc.registration.models import Candidate
from tests.e2e.conftest import Demo, client_of


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (600, 800), (40, 90, 160)).save(out, "PNG")
    return out.getvalue()


def test_a_photo_is_stored_and_printed_on_the_ticket(app: Flask, demo: Demo) -> None:
    reg = demo.regs()[0]
    url = f"/plans/{demo.plan_id}/registrations/{reg.id}/photo"
    client = client_of(app, demo.site_admin)
    answer = client.post(url, data={"photo": (io.BytesIO(_png()), "me.png")})
    assert answer.status_code == 302
    db.session.expire_all()
    stored = db.session.get(Candidate, reg.candidate_id)
    assert stored is not None and stored.photo is not None
    with Image.open(io.BytesIO(stored.photo)) as photo:
        assert (photo.format, photo.size) == ("JPEG", (360, 480))
    ticket = client.get(f"/plans/{demo.plan_id}/tickets/{reg.id}.png")
    assert ticket.status_code == 200


def test_a_file_that_is_not_a_photo_changes_nothing(app: Flask, demo: Demo) -> None:
    reg = demo.regs()[1]
    url = f"/plans/{demo.plan_id}/registrations/{reg.id}/photo"
    answer = client_of(app, demo.site_admin).post(
        url, data={"photo": (io.BytesIO(b"%PDF-1.4 not a photo"), "scan.pdf")}
    )
    assert answer.status_code == 422
    assert "不是可读取的图片" in answer.get_data(as_text=True)
    db.session.expire_all()
    candidate = db.session.get(Candidate, reg.candidate_id)
    assert candidate is not None and candidate.photo is None
