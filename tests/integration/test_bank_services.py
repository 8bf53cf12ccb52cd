"""Item workflow against a real database: drafts, review by another person, frozen versions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from examsvc.auth.models import User
from examsvc.auth.roles import Role
from examsvc.bank.model import ItemData
from examsvc.bank.services import (
    ItemFilter,
    create_item,
    edit_item,
    ensure_bank,
    retire_item,
    review_item,
    search_items,
    submit_item,
)
from examsvc.catalog.services import find_level
from examsvc.errors import Conflict, DomainError, PermissionDenied
from examsvc.extensions import db

ITEM = ItemData(
    id="WF-1",
    type="single",
    stem="在 HTML 中，哪个标签定义段落？",
    explanation="`<p>` 定义段落。",
    difficulty=1,
    skills=("1-1-1",),
    options=(("A", "`<p>`"), ("B", "`<br>`"), ("C", "`<hr>`"), ("D", "`<a>`")),
    answer="A",
    status="draft",
)


@pytest.fixture
def bank(catalog: object):  # type: ignore[no-untyped-def]
    return ensure_bank("wf", "Web 初级", find_level("web-frontend", "junior"))


def test_author_writes_reviewer_approves_and_edits_make_versions(
    bank,
    make_user: Callable[..., User],  # type: ignore[no-untyped-def]
) -> None:
    author, reviewer = make_user(Role.AUTHOR), make_user(Role.REVIEWER)
    item = create_item(bank, ITEM, author)
    submit_item(item, author)
    review_item(item, reviewer, approve=True)
    db.session.commit()
    assert (item.latest.status, item.latest.reviewed_by_id) == ("approved", reviewer.id)

    # Editing an approved version never changes it: a new draft version appears.
    version = edit_item(item, replace(ITEM, answer="A", difficulty=2), author)
    db.session.commit()
    assert [v.status for v in item.versions] == ["approved", "draft"]
    assert (item.versions[0].difficulty, version.difficulty) == (1, 2)
    assert item.approved is item.versions[0]

    submit_item(item, author)
    review_item(item, reviewer, approve=True)
    db.session.commit()
    assert [v.status for v in item.versions] == ["superseded", "approved"]
    assert [e.action for e in item.events] == [
        "created", "submitted", "approved", "new_version", "submitted", "approved",
    ]  # fmt: skip


def test_a_used_version_is_never_edited_in_place(bank, make_user) -> None:  # type: ignore[no-untyped-def]
    author = make_user(Role.AUTHOR)
    item = create_item(bank, ITEM, author)
    item.latest.used_count = 1  # a paper references it
    edit_item(item, replace(ITEM, stem="在 HTML 中，哪个标签定义一个段落？"), author)
    db.session.commit()
    assert [v.stem for v in item.versions] == [ITEM.stem, "在 HTML 中，哪个标签定义一个段落？"]


def test_reviewer_cannot_approve_own_item(bank, make_user) -> None:  # type: ignore[no-untyped-def]
    both = make_user(Role.AUTHOR, Role.REVIEWER)
    item = create_item(bank, ITEM, both)
    submit_item(item, both)
    with pytest.raises(PermissionDenied, match="审核人不能审核自己编写的试题"):
        review_item(item, both, approve=True)
    assert item.latest.status == "review"


def test_returning_needs_a_reason_and_retire_is_final(bank, make_user) -> None:  # type: ignore[no-untyped-def]
    author, reviewer = make_user(Role.AUTHOR), make_user(Role.REVIEWER)
    item = create_item(bank, ITEM, author)
    submit_item(item, author)
    with pytest.raises(DomainError, match="退回修改时请写明原因"):
        review_item(item, reviewer, approve=False)
    review_item(item, reviewer, approve=False, comment="选项 B 表述不清")
    assert item.latest.status == "draft"
    retire_item(item, reviewer, "知识点已过时")
    with pytest.raises(Conflict, match="已停用的试题不能再修改"):
        edit_item(item, ITEM, author)


def test_bad_items_and_duplicates_change_nothing(bank, make_user) -> None:  # type: ignore[no-untyped-def]
    author = make_user(Role.AUTHOR)
    with pytest.raises(DomainError) as caught:
        create_item(bank, replace(ITEM, answer="E", skills=("9-9",)), author)
    assert any("不是已有选项" in d for d in caught.value.details)
    assert any("技能代码 9-9 不在" in d for d in caught.value.details)
    create_item(bank, ITEM, author)
    with pytest.raises(Conflict, match="题干与本题库中的“WF-1”重复"):
        create_item(bank, replace(ITEM, id="WF-2"), author)
    with pytest.raises(Conflict, match="编号“WF-1”在本题库中已存在"):
        create_item(bank, replace(ITEM, stem="另一道题"), author)


def test_search_by_type_status_skill_difficulty_and_text(bank, make_user) -> None:  # type: ignore[no-untyped-def]
    author = make_user(Role.AUTHOR)
    create_item(bank, ITEM, author)
    create_item(
        bank,
        replace(
            ITEM, id="WF-2", stem="CSS 中哪个属性设置文字颜色？", skills=("1-1-2-S3",), difficulty=3
        ),
        author,
    )
    tf = replace(
        ITEM, id="WF-3", type="truefalse", stem="`<br>` 是空元素。", options=(), answer="true"
    )
    create_item(bank, tf, author)
    db.session.commit()

    def ids(**f: object) -> list[str]:
        found, _ = search_items(bank, ItemFilter(**f))  # type: ignore[arg-type]
        return [i.external_id for i in found]

    assert ids(type="truefalse") == ["WF-3"]
    assert ids(skill="1-1-2") == ["WF-2"]
    assert ids(difficulty=3) == ["WF-2"]
    assert ids(text="文字颜色") == ["WF-2"]
    assert ids(text="wf-3") == ["WF-3"]
    assert ids(status="draft") == ["WF-1", "WF-2", "WF-3"]
    assert ids(status="approved") == []
