"""Assembly pages through HTTP: blueprints from YAML, feasibility, candidate previews without
secrets, freezing and the audit of frozen papers."""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from examsvc.assembly.models import Blueprint, PaperItem, PaperSet
from examsvc.assembly.services import audit_paper_set, plan
from examsvc.auth.roles import Role
from examsvc.bank.convert import version_data
from examsvc.bank.models import ItemVersion
from examsvc.bank.render import to_html
from examsvc.bank.services import import_bank
from examsvc.bank.yaml_format import read_bank_dir
from examsvc.catalog.models import ExamScheme
from examsvc.catalog.services import find_level
from examsvc.config import ROOT
from examsvc.extensions import db

Client = Callable[..., FlaskClient]
BANKS = ROOT / "question_banks"
SAMPLE = (BANKS / "blueprints" / "web-frontend-junior.yaml").read_text(encoding="utf-8")


@pytest.fixture
def scheme_id(app: Flask, catalog: object) -> int:
    """The Web 前端开发 初级 scheme, with the sample bank (258 approved items) imported."""
    data, _ = read_bank_dir(BANKS / "web-frontend-junior", BANKS)
    import_bank(data, None)
    scheme = find_level("web-frontend", "junior").scheme
    assert scheme is not None
    db.session.commit()
    return int(scheme.id)


def _create(client: FlaskClient, scheme_id: int, document: str = SAMPLE) -> int:
    response = client.post(
        f"/assembly/blueprints/new?scheme={scheme_id}", data={"document": document}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return int(response.headers["Location"].rsplit("/", 1)[-1])


def _blueprints() -> int:
    return db.session.scalar(select(func.count()).select_from(Blueprint)) or 0


def test_author_creates_a_blueprint_and_sees_it_as_a_table_with_feasibility(
    client_as: Client, scheme_id: int
) -> None:
    author = client_as(Role.AUTHOR)
    index = author.get("/assembly/").get_data(as_text=True)
    assert f"/assembly/blueprints/new?scheme={scheme_id}" in index
    start = author.get(f"/assembly/blueprints/new?scheme={scheme_id}").get_data(as_text=True)
    assert "certificate: web-frontend" in start and "points_each: 2" in start

    blueprint_id = _create(author, scheme_id)
    row = db.session.get(Blueprint, blueprint_id)
    assert row is not None and row.name == "Web 前端开发（初级）双向细目表（2026 版）"
    assert row.document == SAMPLE

    page = author.get(f"/assembly/blueprints/{blueprint_id}").get_data(as_text=True)
    assert "理论考试" in page and "工作领域“静态网站搭建”" in page and "45%–70%" in page
    assert "2.5 ± 0.3" in page and "40%" in page  # difficulty target, exposure cap
    assert "30 份试卷可以组成" in page  # default: 30 papers, seed "preview"
    assert "预览第 1 份试卷" in page and "/freeze" not in page  # authors do not freeze
    assert "已审核试题与所需题量" in page and "248" in page  # supply: theory pool

    # the blueprint list and the scheme page lead to it
    assert row.name in author.get("/assembly/").get_data(as_text=True)
    scheme = db.session.get(ExamScheme, scheme_id)
    assert scheme is not None
    scheme_page = author.get(f"/catalog/levels/{scheme.level_id}/scheme").get_data(as_text=True)
    assert f"/assembly/?scheme={scheme_id}" in scheme_page

    # the starting text of a new blueprint is valid as it is
    textarea = re.search(r'<textarea name="document"[^>]*>(.*?)</textarea>', start, re.S)
    assert textarea is not None
    start_id = _create(author, scheme_id, html.unescape(textarea.group(1)))
    assert start_id != blueprint_id

    # a second blueprint of the same name is refused
    again = author.post(f"/assembly/blueprints/new?scheme={scheme_id}", data={"document": SAMPLE})
    assert again.status_code == 422 and "已有名为" in again.get_data(as_text=True)
    assert _blueprints() == 2


def test_invalid_yaml_or_rules_are_refused_and_nothing_is_saved(
    client_as: Client, scheme_id: int
) -> None:
    author = client_as(Role.AUTHOR)
    url = f"/assembly/blueprints/new?scheme={scheme_id}"
    broken = author.post(url, data={"document": "name: [unclosed\nparts: 1"})
    assert broken.status_code == 422
    assert "YAML 语法错误" in broken.get_data(as_text=True)
    wrong = SAMPLE.replace("{code: 1-1-1, min: 2}", "{code: 9-9-9, min: 2}").replace(
        "{field: 静态网站搭建,", "{field: 网站运营,"
    )
    response = author.post(url, data={"document": wrong})
    text = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert "代码 9-9-9 不在" in text and "工作领域“网站运营”不在" in text  # all problems at once
    assert "<textarea" in text and "9-9-9" in text  # the text comes back for fixing
    too_many = SAMPLE.replace("{type: single, count: 30,", "{type: single, count: 31,")
    response = author.post(url, data={"document": too_many})
    assert response.status_code == 422
    assert "单选 31×2 + 多选 15×2 + 判断 5×2 = 102" in response.get_data(as_text=True)
    assert _blueprints() == 0

    # editing: the stored text stays as it was
    blueprint_id = _create(author, scheme_id)
    response = author.post(f"/assembly/blueprints/{blueprint_id}/edit", data={"document": wrong})
    assert response.status_code == 422
    row = db.session.get(Blueprint, blueprint_id)
    assert row is not None
    db.session.refresh(row)
    assert row.document == SAMPLE


def test_feasibility_names_the_shortfall(client_as: Client, scheme_id: int) -> None:
    author = client_as(Role.AUTHOR)
    impossible = SAMPLE.replace(
        "{code: 1-1-3, type: multiple, min: 1, max: 4}", "{code: 1-2-1, type: multiple, min: 9}"
    )
    blueprint_id = _create(author, scheme_id, impossible)
    page = author.get(f"/assembly/blueprints/{blueprint_id}?count=10").get_data(as_text=True)
    assert "10 份试卷无法组成" in page
    assert "理论考试 · 多选 · 技能 1-2-1：至少需要 9 道，已审核的只有 4 道" in page
    assert "预览第 1 份试卷" not in page
    preview = author.get(f"/assembly/blueprints/{blueprint_id}/preview/1?count=10")
    assert preview.status_code == 422 and "至少需要 9 道" in preview.get_data(as_text=True)


def _candidate_area(page: str) -> str:
    """The paper without the staff-only side notes."""
    paper = page[page.index('<div class="paper">') :]
    return re.sub(r'<aside class="staff-note".*?</aside>', "", paper, flags=re.S)


def test_preview_is_the_paper_a_candidate_sees_without_any_secret(
    app: Flask, client_as: Client, scheme_id: int
) -> None:
    reviewer, author = client_as(Role.REVIEWER), client_as(Role.AUTHOR)
    blueprint_id = _create(author, scheme_id)
    response = reviewer.get(f"/assembly/blueprints/{blueprint_id}/preview/2?count=5&seed=s")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    area = _candidate_area(page)

    row = db.session.get(Blueprint, blueprint_id)
    assert row is not None
    with app.test_request_context():
        result, versions = plan(row, 5, "s")
    paper = result.papers[1]
    assert [p.name for p in paper.parts] == ["理论考试", "实操考试"]
    assert area.count('class="candidate-item"') == sum(len(p.items) for p in paper.parts)
    assert "一、单选题（共 30 题，每题 2 分，共 60 分）" in area
    shuffled = 0
    for part in paper.parts:
        for item in part.items:
            v = versions[item.item]
            data = version_data(v.item, v)
            assert item.item not in area  # item codes only in the staff note
            assert f"<code>{item.item}</code> v{item.version}" in page
            if data.explanation.strip():
                assert str(to_html(data.explanation)) not in area
            for c in data.rubric:  # scoring guides (criteria names may echo the task)
                assert html.escape(c.guide, quote=False) not in area
            if item.options:
                # shown A, B, C … are the original options in the shuffled order
                texts = [str(to_html(data.option_map[k], inline=True)) for k in item.options]
                start = area.index(str(to_html(data.stem)))
                spots = [
                    area.index(f"<b>{label}.</b> {t}", start)
                    for label, t in zip("ABCDEFGH", texts, strict=False)
                ]
                assert spots == sorted(spots)
                shuffled += item.options != "".join(sorted(item.options))
    assert shuffled > 0
    assert "参考答案" not in area and "评分说明" not in area and "难度" not in area
    assert "✔" not in area and "correct" not in area
    assert not re.search(r"<input[^>]*\bchecked", area)  # no option preselected


def test_freeze_counts_uses_and_the_audit_finds_no_difference(
    app: Flask, client_as: Client, scheme_id: int
) -> None:
    author, admin = client_as(Role.AUTHOR), client_as(Role.ORG_ADMIN)
    blueprint_id = _create(author, scheme_id)
    url = f"/assembly/blueprints/{blueprint_id}/freeze"
    assert author.post(url, data={"count": 4, "seed": "exam-1"}).status_code == 403
    response = admin.post(url, data={"count": 4, "seed": "exam-1"})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    paper_set = db.session.scalar(select(PaperSet))
    assert paper_set is not None and response.headers["Location"].endswith(
        f"/assembly/paper-sets/{paper_set.id}"
    )
    assert (paper_set.count, paper_set.seed, len(paper_set.papers)) == (4, "exam-1", 4)

    rows = db.session.scalars(select(PaperItem)).all()
    per_version = Counter(r.item_version_id for r in rows)
    used = dict(db.session.execute(select(ItemVersion.id, ItemVersion.used_count)).all())
    assert {k: v for k, v in used.items() if v} == dict(per_version)
    assert sum(used.values()) == len(rows)
    assert sum(1 for r in rows if r.part_kind == "theory") == 4 * 50

    page = admin.get(f"/assembly/paper-sets/{paper_set.id}").get_data(as_text=True)
    assert "完全相同" in page and paper_set.pool_digest in page
    assert audit_paper_set(paper_set) == []

    # the frozen paper is the one previewed with the same count and seed
    frozen = _candidate_area(
        admin.get(f"/assembly/paper-sets/{paper_set.id}/papers/3").get_data(as_text=True)
    )
    preview = admin.get(f"/assembly/blueprints/{blueprint_id}/preview/3?count=4&seed=exam-1")
    assert frozen == _candidate_area(preview.get_data(as_text=True))

    # a changed option order is found by the audit
    first = rows[0]
    first.option_order = first.option_order[::-1] if len(first.option_order) > 1 else "X"
    db.session.commit()
    page = admin.get(f"/assembly/paper-sets/{paper_set.id}").get_data(as_text=True)
    assert "第 1 份试卷" in page and "完全相同" not in page


def test_infeasible_freeze_stores_nothing_and_other_organizations_see_nothing(
    client_as: Client, scheme_id: int
) -> None:
    admin = client_as(Role.ORG_ADMIN)
    impossible = SAMPLE.replace("{code: 1-2-1, min: 1}", "{code: 1-2-1, type: multiple, min: 9}")
    blueprint_id = _create(admin, scheme_id, impossible)
    response = admin.post(
        f"/assembly/blueprints/{blueprint_id}/freeze", data={"count": 2, "seed": "x"}
    )
    assert response.status_code == 422 and "至少需要 9 道" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(PaperSet)) == 0
    assert not db.session.scalar(select(func.sum(ItemVersion.used_count)))

    other = client_as(Role.ORG_ADMIN, org="cflp")
    for url in (
        f"/assembly/blueprints/{blueprint_id}",
        f"/assembly/blueprints/{blueprint_id}/edit",
        f"/assembly/blueprints/{blueprint_id}/preview/1",
        f"/assembly/blueprints/new?scheme={scheme_id}",
    ):
        assert other.get(url).status_code == 404, url
    assert "Web 前端" not in other.get("/assembly/").get_data(as_text=True)
