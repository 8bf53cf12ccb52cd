"""Assembly against a real database: blueprints checked before storing, the pool of newest
approved versions, freezing with use counts, and audits that regenerate the stored papers."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from examsvc.assembly.engine import ENGINE_VERSION
from examsvc.assembly.models import Blueprint, PaperItem, PaperSet
from examsvc.assembly.services import (
    AssemblyProblems,
    audit_paper_set,
    freeze_papers,
    load_blueprint_file,
    pool_for,
    save_blueprint,
    stored_papers,
)
from examsvc.auth.models import User
from examsvc.auth.roles import Role
from examsvc.bank.convert import version_data
from examsvc.bank.models import Item, ItemVersion
from examsvc.bank.services import edit_item, import_bank, retire_item, review_item, submit_item
from examsvc.bank.yaml_format import read_bank_dir
from examsvc.catalog.models import ExamScheme
from examsvc.catalog.services import find_level
from examsvc.config import ROOT
from examsvc.extensions import db

BANKS = ROOT / "question_banks"
BLUEPRINTS = BANKS / "blueprints"


def _load(name: str, certificate: str) -> ExamScheme:
    data, _ = read_bank_dir(BANKS / name, BANKS)
    import_bank(data, None)
    scheme = find_level(certificate, "junior").scheme
    assert scheme is not None
    db.session.commit()
    return scheme


@pytest.fixture
def web(catalog: object) -> ExamScheme:
    return _load("web-frontend-junior", "web-frontend")


def _sample(name: str = "web-frontend-junior") -> str:
    return (BLUEPRINTS / f"{name}.yaml").read_text(encoding="utf-8")


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_blueprints_are_checked_against_scheme_and_standard_before_storing(
    web: ExamScheme, make_user: Callable[..., User]
) -> None:
    author = make_user(Role.AUTHOR)
    wrong = _sample().replace("{code: 1-5-2, min: 1}", "{code: 7-7-7, min: 1}")
    with pytest.raises(AssemblyProblems) as caught:
        save_blueprint(web, "", wrong, author)
    assert any("代码 7-7-7 不在" in p for p in caught.value.problems)
    assert caught.value.message == "\n".join(caught.value.problems)
    logistics = _sample("logistics-junior")
    with pytest.raises(AssemblyProblems) as caught:
        save_blueprint(web, "", logistics, author)  # another certificate's blueprint
    assert any("细目表属于 logistics/junior" in p for p in caught.value.problems)
    db.session.rollback()
    assert _count(Blueprint) == 0

    row = save_blueprint(web, "", _sample(), author)
    renamed = save_blueprint(web, "第二份", _sample(), author)
    db.session.commit()
    assert (row.name, renamed.name, row.updated_by_id) == (
        "Web 前端开发（初级）双向细目表（2026 版）",
        "第二份",
        author.id,
    )
    with pytest.raises(AssemblyProblems, match="已有名为“第二份”"):
        save_blueprint(web, "第二份", _sample(), author, row)
    # replacing a blueprint keeps its row
    edited = save_blueprint(
        web, "", _sample().replace("max_exposure: 0.4", "max_exposure: 0.5"), author, row
    )
    assert edited.id == row.id and "max_exposure: 0.5" in edited.document


def test_the_pool_is_the_newest_approved_version_of_each_item(
    web: ExamScheme, make_user: Callable[..., User]
) -> None:
    author, reviewer = make_user(Role.AUTHOR), make_user(Role.REVIEWER)
    level = web.level_ref
    pool, versions = pool_for(level)
    assert len(pool) == 258 and [c.item for c in pool] == sorted(versions)
    item = db.session.scalar(
        select(Item).where(Item.external_id == versions[pool[0].item].item.external_id)
    )
    assert item is not None
    # a new approved version replaces the old one; a retired item leaves the pool
    data = version_data(item, item.latest)
    edit_item(item, replace(data, difficulty=5 if data.difficulty != 5 else 4), author)
    submit_item(item, author)
    review_item(item, reviewer, approve=True)
    other = db.session.scalar(select(Item).where(Item.external_id == pool[1].item))
    assert other is not None
    retire_item(other, reviewer, "过时")
    db.session.commit()
    pool, versions = pool_for(level)
    assert len(pool) == 257 and other.external_id not in versions
    assert versions[item.external_id].number == 2
    assert pool[0].version == 2 and pool[0].difficulty == item.latest.difficulty


def test_freezing_stores_the_plan_counts_uses_and_the_audit_regenerates_it(
    web: ExamScheme, make_user: Callable[..., User]
) -> None:
    admin = make_user(Role.ORG_ADMIN)
    row = save_blueprint(web, "", _sample(), admin)
    paper_set = freeze_papers(row, 6, "2026-spring", admin)
    db.session.commit()
    db.session.expire_all()

    paper_set = db.session.get(PaperSet, paper_set.id)
    assert paper_set is not None
    assert (paper_set.count, paper_set.engine_version, len(paper_set.pool)) == (
        6,
        ENGINE_VERSION,
        258,
    )
    assert [p.number for p in paper_set.papers] == [1, 2, 3, 4, 5, 6]
    assert [s["kind"] for s in paper_set.stats["parts"]] == ["theory", "practical"]
    items = db.session.scalars(select(PaperItem)).all()
    uses = Counter(i.item_version_id for i in items)
    stored_uses = dict(
        db.session.execute(
            select(ItemVersion.id, ItemVersion.used_count).where(ItemVersion.used_count > 0)
        ).all()
    )
    assert stored_uses == dict(uses)
    papers = stored_papers(paper_set).papers
    for paper in papers:
        theory, practical = paper.parts
        assert (len(theory.items), theory.points, practical.points) == (
            50,
            Decimal(100),
            Decimal(100),
        )
        assert all(len(i.options) >= 4 for i in theory.items if i.type in ("single", "multiple"))
    assert audit_paper_set(paper_set) == []

    # the same blueprint, pool, count and seed give the same papers again
    again = freeze_papers(row, 6, "2026-spring", admin)
    db.session.commit()
    assert stored_papers(again).papers == papers
    twice = dict(db.session.execute(select(ItemVersion.id, ItemVersion.used_count)).all())
    assert all(twice[k] == 2 * n for k, n in uses.items())

    # an audit notices a changed paper, and an engine of another version
    stored = db.session.scalar(
        select(PaperItem).where(PaperItem.part_kind == "theory").order_by(PaperItem.id)
    )
    assert stored is not None
    stored.points = Decimal(3)
    paper_set.engine_version = "0"
    db.session.commit()
    found = audit_paper_set(paper_set)
    assert found[0] == f"组卷引擎版本已从 0 变为 {ENGINE_VERSION}，重新生成的试卷可能不同"
    assert any(p.startswith("第 1 份试卷：理论考试第 1 题存储为") for p in found)
    assert any("分值应为 2" in p for p in found)  # the independent checker agrees


def test_an_infeasible_blueprint_freezes_nothing(
    web: ExamScheme, make_user: Callable[..., User]
) -> None:
    admin = make_user(Role.ORG_ADMIN)
    impossible = _sample().replace("{code: 1-2-1, min: 1}", "{code: 1-2-1, type: multiple, min: 9}")
    row = save_blueprint(web, "", impossible, admin)
    db.session.commit()
    with pytest.raises(AssemblyProblems) as caught:
        freeze_papers(row, 3, "x", admin)
    assert "理论考试 · 多选 · 技能 1-2-1：至少需要 9 道，已审核的只有 4 道" in caught.value.problems
    db.session.rollback()
    assert _count(PaperSet) == 0 and _count(PaperItem) == 0
    assert not db.session.scalar(select(func.sum(ItemVersion.used_count)))


def test_sample_blueprints_load_once_and_logistics_papers_audit_clean(
    catalog: object, make_user: Callable[..., User]
) -> None:
    _load("logistics-junior", "logistics")
    loaded = [load_blueprint_file(p) for p in sorted(BLUEPRINTS.glob("*.yaml"))]
    assert [created for _, created in loaded] == [True, True]
    again = [load_blueprint_file(p) for p in sorted(BLUEPRINTS.glob("*.yaml"))]
    assert [created for _, created in again] == [False, False]
    assert [r.id for r, _ in again] == [r.id for r, _ in loaded]  # type: ignore[union-attr]
    db.session.commit()
    assert _count(Blueprint) == 2

    logistics = next(r for r, _ in loaded if r is not None and "物流" in r.name)
    paper_set = freeze_papers(logistics, 4, " 7 ", make_user(Role.ORG_ADMIN))
    db.session.commit()
    assert paper_set.seed == "7"
    practical = [p.parts[1] for p in stored_papers(paper_set).papers]
    assert all(p.points == 100 and 3 <= len(p.items) <= 5 for p in practical)
    assert audit_paper_set(paper_set) == []
