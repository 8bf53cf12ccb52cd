"""Bank pages through HTTP: authoring, preview without secrets, uploads, coverage, export."""

from __future__ import annotations

import io
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select

from examsvc.auth.roles import Role
from examsvc.bank.models import Item, QuestionBank
from examsvc.bank.xlsx_format import THEORY_COLUMNS
from examsvc.extensions import db

Client = Callable[..., FlaskClient]
FORM = {
    "external_id": "WF-9",
    "stem": "下列哪个 CSS 属性设置文字颜色？",
    "option_a": "`color`",
    "option_b": "`font-color`",
    "option_c": "`text-color`",
    "option_d": "`background`",
    "answer": "a",
    "explanation": "`color` 设置前景色（文字颜色）；其余不是有效属性或不设置文字颜色。",
    "difficulty": "1",
    "skills": "1-1-2",
    "tags": "CSS",
}


def _item(external_id: str) -> Item:
    item = db.session.scalar(select(Item).where(Item.external_id == external_id))
    assert item is not None
    return item


def test_author_creates_and_preview_hides_key_and_explanation(
    client_as: Client, bank_id: int
) -> None:
    author = client_as(Role.AUTHOR)
    response = author.post(f"/bank/{bank_id}/items/new?type=single", data=FORM)
    assert response.status_code == 302, response.get_data(as_text=True)
    item = _item("WF-9")
    assert (item.latest.answer, item.latest.status) == ("A", "draft")
    page = author.get(f"/bank/items/{item.id}/preview").get_data(as_text=True)
    assert "<code>color</code>" in page and 'type="radio"' in page
    assert "前景色" not in page  # explanation
    assert "correct" not in page and "✔" not in page  # no key marks


def test_invalid_form_says_what_and_changes_nothing(client_as: Client, bank_id: int) -> None:
    author = client_as(Role.AUTHOR)
    response = author.post(
        f"/bank/{bank_id}/items/new?type=single", data=FORM | {"answer": "E", "skills": "8-8-8"}
    )
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "答案中的 E 不是已有选项（ABCD）" in text and "技能代码 8-8-8 不在" in text
    assert db.session.scalar(select(Item)) is None


def test_wrong_type_or_oversized_attachment_is_refused(
    app: Flask, client_as: Client, bank_id: int
) -> None:
    author = client_as(Role.AUTHOR)
    data = FORM | {"images": (io.BytesIO(b"MZ\x90\x00"), "virus.exe")}
    response = author.post(
        f"/bank/{bank_id}/items/new?type=single", data=data, content_type="multipart/form-data"
    )
    assert response.status_code == 422 and "virus.exe" in response.get_data(as_text=True)
    fake = FORM | {"images": (io.BytesIO(b"not a png"), "a.png")}
    response = author.post(
        f"/bank/{bank_id}/items/new?type=single", data=fake, content_type="multipart/form-data"
    )
    assert response.status_code == 422 and "不是 .png 图片" in response.get_data(as_text=True)
    app.config["ATTACHMENT_MAX_BYTES"] = 10
    big = FORM | {"images": (io.BytesIO(b"\x89PNG" + b"0" * 20), "a.png")}
    response = author.post(
        f"/bank/{bank_id}/items/new?type=single", data=big, content_type="multipart/form-data"
    )
    assert response.status_code == 422 and "超过" in response.get_data(as_text=True)
    assert db.session.scalar(select(Item)) is None


def _upload(rows: list[list[object]]) -> io.BytesIO:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "理论题"
    ws.append(THEORY_COLUMNS)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    return out


def _row(ident: str, stem: str, answer: str) -> list[object]:
    cells = {"编号": ident, "题型": "单选", "题干": stem, "选项A": "甲", "选项B": "乙", "答案": answer,
             "解析": "因为……", "难度": 2, "技能代码": "1-1-1"}  # fmt: skip
    return [cells.get(c) for c in THEORY_COLUMNS]


def test_upload_is_all_or_nothing_and_authors_uploads_go_to_review(
    client_as: Client, bank_id: int
) -> None:
    author = client_as(Role.AUTHOR)
    bad = _upload([_row("U-1", "第一题", "A"), _row("U-2", "第二题", "C")])
    response = author.post(
        f"/bank/{bank_id}/import",
        data={"file": (bad, "bank.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "bank.xlsx，工作表“理论题”，第 3 行：答案中的 C 不是已有选项（AB）" in response.get_data(
        as_text=True
    )
    assert db.session.scalar(select(Item)) is None

    good = _upload([_row("U-1", "第一题", "A"), _row("U-2", "第二题", "B")])
    response = author.post(
        f"/bank/{bank_id}/import",
        data={"file": (good, "bank.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert [i.latest.status for i in db.session.scalars(select(Item))] == ["review", "review"]

    junk = author.post(
        f"/bank/{bank_id}/import",
        data={"file": (io.BytesIO(b"x"), "bank.docx")},
        content_type="multipart/form-data",
    )
    assert junk.status_code == 422 and "只能导入 .xlsx" in junk.get_data(as_text=True)


def test_template_and_export_download(client_as: Client, bank_id: int) -> None:
    author = client_as(Role.AUTHOR)
    author.post(f"/bank/{bank_id}/items/new?type=single", data=FORM)
    template = author.get("/bank/template.xlsx")
    assert load_workbook(io.BytesIO(template.data)).sheetnames == [
        "题库信息",
        "理论题",
        "实操题",
        "评分细则",
    ]
    admin = client_as(Role.ORG_ADMIN)
    export = admin.get(f"/bank/{bank_id}/export.xlsx")
    sheet = load_workbook(io.BytesIO(export.data))["理论题"]
    assert [c.value for c in sheet[2]][:3] == ["WF-9", "单选", FORM["stem"]]


def test_coverage_names_the_shortfall(app: Flask, client_as: Client, bank_id: int) -> None:
    reviewer = client_as(Role.REVIEWER)
    page = reviewer.get(f"/bank/{bank_id}/coverage").get_data(as_text=True)
    assert "理论考试 · 单选：至少需要 30 道，已审核的只有 0 道" in page
    assert "1-1-1" in page  # uncovered skills are listed


def test_demo_bank_covers_the_web_scheme(app: Flask, client_as: Client) -> None:
    from examsvc.demo import load_demo

    load_demo()
    bank = db.session.scalar(select(QuestionBank).where(QuestionBank.code == "web-frontend-junior"))
    assert bank is not None
    page = client_as(Role.REVIEWER).get(f"/bank/{bank.id}/coverage").get_data(as_text=True)
    assert "至少需要" not in page
    assert "实操考试 · 实操：需要 5 道" in page
    assert "标准中的每项技能都至少有一道已审核试题。" in page
