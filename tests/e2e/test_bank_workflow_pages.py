"""The rest of the bank UI: practical items with rubric and materials, versions, zip import, schemes."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

from flask.testing import FlaskClient
from sqlalchemy import select

from examsvc.auth.roles import Role
from examsvc.bank.models import Item
from examsvc.catalog.services import find_level
from examsvc.config import ROOT
from examsvc.extensions import db

Client = Callable[..., FlaskClient]
PRACTICAL = {
    "external_id": "WF-P-9",
    "title": "制作个人简介页面",
    "task_kind": "web_page",
    "stem": "使用语义化标签制作个人简介页面，见素材 `start.html`。",
    "editor": "html",
    "rubric": "语义化结构 | 6 | header/main/footer 各 2 分\n样式 | 4 | 字体与颜色符合要求",
    "explanation": "参考答案：……",
    "difficulty": "2",
    "skills": "1-1-1, 1-2-2",
    "points": "10",
}


def _only_item() -> Item:
    item = db.session.scalar(select(Item))
    assert item is not None
    return item


def test_practical_item_with_rubric_and_material(client_as: Client, bank_id: int) -> None:
    author = client_as(Role.AUTHOR)
    data = PRACTICAL | {
        "materials": (io.BytesIO(b"<!doctype html><title>start</title>"), "start.html")
    }
    response = author.post(
        f"/bank/{bank_id}/items/new?type=practical", data=data, content_type="multipart/form-data"
    )
    assert response.status_code == 302, response.get_data(as_text=True)[-800:]
    item = _only_item()
    assert item.latest.practical is not None
    assert [c["points"] for c in item.latest.practical["rubric"]] == ["6", "4"]
    preview = author.get(f"/bank/items/{item.id}/preview").get_data(as_text=True)
    assert "start.html" in preview and "<textarea" in preview
    assert (
        "header/main/footer" not in preview and "参考答案" not in preview
    )  # rubric and key stay hidden
    page = author.get(f"/bank/items/{item.id}").get_data(as_text=True)
    assert "header/main/footer 各 2 分" in page  # staff see the rubric

    bad = PRACTICAL | {"external_id": "WF-P-10", "stem": "另一题", "points": "12"}
    response = author.post(f"/bank/{bank_id}/items/new?type=practical", data=bad)
    assert response.status_code == 422
    assert "评分细则各项分值合计 10，与本题分值 12 不一致" in response.get_data(as_text=True)


def test_editing_an_approved_item_through_the_page_makes_a_version(
    client_as: Client, bank_id: int
) -> None:
    author, reviewer = client_as(Role.AUTHOR), client_as(Role.REVIEWER)
    created = author.post(f"/bank/{bank_id}/items/new?type=practical", data=PRACTICAL)
    assert created.status_code == 302, created.get_data(as_text=True)[-600:]
    item = _only_item()
    assert author.post(f"/bank/items/{item.id}/submit").status_code == 302
    assert (
        reviewer.post(f"/bank/items/{item.id}/review", data={"decision": "approve"}).status_code
        == 302
    )
    form = author.get(f"/bank/items/{item.id}/edit").get_data(as_text=True)
    assert "制作个人简介页面" in form and "语义化结构 | 6 |" in form
    edited = PRACTICAL | {"difficulty": "3", "material_names": ""}
    assert author.post(f"/bank/items/{item.id}/edit", data=edited).status_code == 302
    db.session.expire_all()
    assert [(v.number, v.status, v.difficulty) for v in item.versions] == [
        (1, "approved", 2),
        (2, "draft", 3),
    ]
    assert (
        reviewer.post(f"/bank/items/{item.id}/review", data={"decision": "approve"}).status_code
        == 409
    )


def test_zip_of_a_yaml_bank_imports(client_as: Client, bank_id: int) -> None:
    source = ROOT / "question_banks" / "web-frontend-junior"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.write(source / "bank.yaml", "bank/bank.yaml")
        archive.write(source / "theory" / "html.yaml", "bank/theory/html.yaml")
    buffer.seek(0)
    admin = client_as(Role.ORG_ADMIN)
    response = admin.post(
        f"/bank/{bank_id}/import",
        data={"file": (buffer, "bank.zip")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)[-800:]
    items = list(db.session.scalars(select(Item)))
    assert len(items) > 50 and {i.latest.status for i in items} == {"approved"}

    evil = io.BytesIO()
    with zipfile.ZipFile(evil, "w") as archive:
        archive.writestr("../escape/bank.yaml", "code: x")
    evil.seek(0)
    response = admin.post(
        f"/bank/{bank_id}/import",
        data={"file": (evil, "evil.zip")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422 and "压缩包内路径无效" in response.get_data(as_text=True)


def test_scheme_edit_checks_every_rule(client_as: Client, bank_id: int) -> None:
    level = find_level("web-frontend", "junior")
    admin = client_as(Role.ORG_ADMIN)
    document = admin.get(f"/catalog/levels/{level.id}/scheme/edit").get_data(as_text=True)
    assert "count_min: 30" in document
    text = document.split('spellcheck="false">')[1].split("</textarea>")[0]
    import html

    text = html.unescape(text)
    broken = text.replace("duration_minutes: 90", "duration_minutes: 0")
    response = admin.post(f"/catalog/levels/{level.id}/scheme/edit", data={"document": broken})
    assert response.status_code == 422 and "考试时长必须大于 0 分钟" in response.get_data(
        as_text=True
    )
    longer = text.replace("duration_minutes: 90", "duration_minutes: 100")
    assert (
        admin.post(f"/catalog/levels/{level.id}/scheme/edit", data={"document": longer}).status_code
        == 302
    )
    page = admin.get(f"/catalog/levels/{level.id}/scheme").get_data(as_text=True)
    assert "100 分钟" in page and "400.00 元/人次" in page
    other = client_as(Role.ORG_ADMIN, org="cflp")
    assert (
        other.post(f"/catalog/levels/{level.id}/scheme/edit", data={"document": longer}).status_code
        == 422
    )
