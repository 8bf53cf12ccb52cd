"""A practical task answered with a file, in Chromium: upload, see it listed, reload and find
it again, replace it, and check what the server stored."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from examsvc.auth.models import User
from examsvc.auth.roles import Role
from examsvc.bank.convert import version_data
from examsvc.catalog.models import Organization
from examsvc.delivery.models import AnswerFile
from examsvc.delivery.services import paper_items
from examsvc.extensions import db
from examsvc.registration.models import Registration
from tests.conftest import open_demo_plan
from tests.e2e.test_browser import browser, live_server  # noqa: F401 (fixtures)
from tests.e2e.test_exam_browser import _ready, _shot, _sign_in_and_start, context  # noqa: F401

pytestmark = pytest.mark.browser


def _takes_files(reg: Registration) -> int | None:
    for shown in paper_items(reg):
        form = version_data(shown.version.item, shown.version).answer_form
        if shown.view.part == "practical" and form is not None and form.upload:
            return shown.view.position
    return None


@pytest.fixture
def uploader(
    catalog: dict[str, Organization], make_user: Callable[..., User]
) -> tuple[Registration, int]:
    make_user(Role.ORG_ADMIN, username="admin")
    for reg in open_demo_plan().registrations:
        position = _takes_files(reg)
        if position is not None:
            return reg, position
    raise AssertionError("no demo paper has a practical item that takes uploads (WFJ-P-05)")


def _zip(text: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("index.html", text)
    return out.getvalue()


def test_a_practical_file_is_uploaded_listed_after_reload_and_replaced(
    context: Any,  # noqa: F811
    live_server: str,  # noqa: F811
    uploader: tuple[Registration, int],
    tmp_path: Path,
) -> None:
    reg, position = uploader
    page = _sign_in_and_start(context, live_server, reg, "practical")
    _ready(page, "socket")
    page.click(f"#qbtn-{position}")
    box = page.locator(f"#q-{position} .uploads")
    first = tmp_path / "网页作品.zip"
    first.write_bytes(_zip("<h1>第一版</h1>"))
    box.locator("input[type=file]").set_input_files(str(first))
    box.locator(".file-list a", has_text="网页作品.zip").wait_for()
    assert "已保存到服务器" in box.locator(".upload-status").inner_text()
    wrong = tmp_path / "说明.txt"
    wrong.write_text("不是压缩包", encoding="utf-8")
    box.locator("input[type=file]").set_input_files(str(wrong))
    page.wait_for_function(
        f"document.querySelector('#q-{position} .upload-status').textContent.includes('.zip')"
    )
    _shot(page, tmp_path, "exam-upload")

    page.reload()
    _ready(page, "socket")
    page.click(f"#qbtn-{position}")
    box.locator(".file-list a", has_text="网页作品.zip").wait_for()
    first.write_bytes(_zip("<h1>第二版</h1>"))
    box.locator("input[type=file]").set_input_files(str(first))
    page.wait_for_function(  # "网页作品.zip 已保存到服务器", not the "正在上传" before it
        f"document.querySelector('#q-{position} .upload-status').textContent.includes('已保存')"
    )
    assert box.locator(".file-list li").count() == 1  # the same name replaced the first
    assert page.errors == []
    db.session.expire_all()
    (stored,) = db.session.scalars(select(AnswerFile).where(AnswerFile.position == position))
    assert stored.name == "网页作品.zip"
    assert zipfile.ZipFile(io.BytesIO(stored.content)).read("index.html").decode() == (
        "<h1>第二版</h1>"
    )
