"""Uploaded files of practical answers: checked, stored with the answers, listed on reconnect,
downloadable by their owner only; every refusal stores nothing."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from examsvc.auth.models import User
from examsvc.auth.roles import Role
from examsvc.bank.convert import version_data
from examsvc.catalog.models import Organization
from examsvc.delivery import services
from examsvc.delivery.models import AnswerFile
from examsvc.delivery.uploads import MAX_FILE_BYTES, MAX_FILES_PER_ITEM
from examsvc.extensions import db
from examsvc.registration.models import Registration
from tests.conftest import open_demo_plan

NOW = datetime.now(UTC)


def _zip(text: str = "<h1>作品</h1>") -> bytes:
    # A fixed date: writestr stamps the current second, so two archives built a second apart differ.
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(zipfile.ZipInfo("index.html", (2026, 1, 1, 0, 0, 0)), text)
    return out.getvalue()


class Uploader:
    """A candidate of the demo plan whose paper has a practical item taking .zip uploads."""

    def __init__(self, reg: Registration, position: int, other: int) -> None:
        self.reg, self.position, self.other = reg, position, other

    def send(self, name: str, data: bytes, position: int | None = None) -> dict[str, object]:
        ack = services.save_file(self.reg, "practical", position or self.position, name, data, NOW)
        services.commit()
        return ack

    def refused(self, code: str, name: str, data: bytes, position: int | None = None) -> str:
        before = db.session.scalar(select(func.count()).select_from(AnswerFile))
        with pytest.raises(services.DeliveryError) as caught:
            self.send(name, data, position)
        services.rollback()
        assert caught.value.code == code, caught.value.message
        assert db.session.scalar(select(func.count()).select_from(AnswerFile)) == before
        return caught.value.message


@pytest.fixture
def uploader(catalog: dict[str, Organization], make_user: Callable[..., User]) -> Uploader:
    make_user(Role.ORG_ADMIN, username="admin")
    plan = open_demo_plan()
    for reg in plan.registrations:
        practical = [i for i in services.paper_items(reg) if i.view.part == "practical"]
        takes = [
            i
            for i in practical
            if (form := version_data(i.version.item, i.version).answer_form) and form.upload
        ]
        if takes:
            other = next(i for i in practical if i not in takes)
            services.start(services.sitting_of(reg, "practical"), NOW)
            services.commit()
            return Uploader(reg, takes[0].view.position, other.view.position)
    raise AssertionError("no demo paper has a practical item that takes uploads (WFJ-P-05)")


def test_a_file_is_stored_listed_and_replaced_by_the_same_name(uploader: Uploader) -> None:
    ack = uploader.send("作品.zip", _zip())
    assert ack["ok"] and [f["name"] for f in ack["files"]] == ["作品.zip"]  # type: ignore[index]
    again = uploader.send("C:\\Users\\考生\\作品.zip", _zip("<h1>第二版</h1>"))
    (only,) = again["files"]  # type: ignore[misc]
    assert only["size"] == len(_zip("<h1>第二版</h1>"))
    practical = services.snapshot(uploader.reg, NOW)["parts"][1]
    assert practical["files"] == [only]
    stored = services.own_file(uploader.reg, "practical", uploader.position, "作品.zip")
    assert (
        stored is not None
        and zipfile.ZipFile(io.BytesIO(stored.content)).read("index.html").decode()
        == "<h1>第二版</h1>"
    )
    services.delete_file(uploader.reg, "practical", uploader.position, "作品.zip", NOW)
    services.commit()
    assert services.snapshot(uploader.reg, NOW)["parts"][1]["files"] == []


def test_bad_files_are_refused_with_what_to_do(uploader: Uploader) -> None:
    assert "只接受 .zip" in uploader.refused("bad_file", "作品.exe", b"MZ")
    assert "与扩展名 .zip 不符" in uploader.refused("bad_file", "作品.zip", b"not a zip")
    assert "空文件" in uploader.refused("bad_file", "作品.zip", b"")
    assert "MB" in uploader.refused("too_large", "大.zip", b"0" * (MAX_FILE_BYTES + 1))
    assert "文件名" in uploader.refused("bad_file", "a\x00b.zip", _zip())
    assert "不需要上传" in uploader.refused("no_upload", "x.zip", _zip(), uploader.other)
    assert "实操题" in uploader.refused("no_upload", "x.zip", _zip(), 1)
    assert "没有第" in uploader.refused("unknown_item", "x.zip", _zip(), 999)
    for n in range(MAX_FILES_PER_ITEM):
        uploader.send(f"{n}.zip", _zip())
    assert "最多上传" in uploader.refused("too_many", "one-more.zip", _zip())
    uploader.send("0.zip", _zip("replacing is not one more"))


def test_no_upload_after_the_deadline_or_submission(uploader: Uploader) -> None:
    sitting = services.sitting_of(uploader.reg, "practical")
    late = NOW + timedelta(hours=5)
    with pytest.raises(services.DeliveryError) as caught:
        services.save_file(uploader.reg, "practical", uploader.position, "a.zip", _zip(), late)
    assert caught.value.code == "time_up"
    services.rollback()
    services.submit(sitting, NOW)
    services.commit()
    assert "已交卷" in uploader.refused("not_in_progress", "a.zip", _zip())


def _client_of(app: Flask, reg: Registration) -> FlaskClient:
    client = app.test_client()
    data = {"ticket_number": reg.ticket_number, "id_number": reg.candidate.id_number}
    assert client.post("/exam/login", data=data).status_code == 302
    return client


def test_the_http_routes_upload_list_download_and_keep_files_private(
    app: Flask, uploader: Uploader
) -> None:
    owner = _client_of(app, uploader.reg)
    url = f"/exam/api/practical/files/{uploader.position}"
    work = _zip()
    sent = owner.post(url, data={"file": (io.BytesIO(work), "网页.zip")})
    assert sent.status_code == 200 and sent.json["files"][0]["name"] == "网页.zip"
    assert owner.post(url, data={}).json["error"] == "malformed"
    download = owner.get(f"{url}/网页.zip")
    assert download.status_code == 200 and download.data == work
    plan_regs = uploader.reg.plan.registrations
    stranger = next(r for r in plan_regs if r.id != uploader.reg.id)
    other = _client_of(app, stranger)
    assert other.get(f"{url}/网页.zip").status_code == 404  # not in their sitting
    gone = owner.post(f"{url}/delete", json={"name": "网页.zip"})
    assert gone.status_code == 200 and gone.json["files"] == []
    assert owner.post(f"{url}/delete", json={"name": "网页.zip"}).json["error"] == "unknown_file"
