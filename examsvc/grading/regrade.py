"""Key corrections (更正答案): a dry run that lists every score that would change, then confirm.

A used item version never changes, so a corrected key is stored for the plan
(``KeyCorrection``) and applies to every paper of the plan that holds the item. The dry run and
the confirmation compute the same list (``scoring.regrade``); the confirmation carries a digest
of the list staff saw and is refused if anything changed since, so what is stored is exactly
what was reviewed. Both are audited, and every changed score too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from ..assembly.models import PaperItem
from ..auth.models import User
from ..bank.model import OPTION_KEYS, TYPE_NAMES
from ..bank.models import Item, ItemVersion
from ..errors import Conflict, DomainError
from ..extensions import db
from ..plans.models import ExamPlan
from ..registration.models import Registration
from . import services
from .models import KeyCorrection, PartScore
from .results import part_score
from .scoring import ObjectiveKey, ScoreChange, Sheet, regrade, scale_to_hundred

TRUE_WORDS = {"true": "true", "对": "true", "正确": "true", "t": "true", "√": "true"}
FALSE_WORDS = {"false": "false", "错": "false", "错误": "false", "f": "false", "×": "false"}


@dataclass(frozen=True)
class ObjectiveItem:
    """An objective item on the plan's theory papers, with the key in force."""

    version_id: int
    external_id: str
    type: str
    key: str
    bank_key: str
    options: int
    stem: str

    @property
    def label(self) -> str:
        stem = " ".join(self.stem.split())
        short = stem[:30] + ("…" if len(stem) > 30 else "")
        return f"{self.external_id}（{TYPE_NAMES[self.type]}，答案 {self.key}）{short}"


def objective_items(plan: ExamPlan) -> list[ObjectiveItem]:
    corrected = services.corrections_of(plan)
    rows = db.session.execute(
        select(ItemVersion, Item)
        .join(Item, ItemVersion.item_id == Item.id)
        .where(
            ItemVersion.id.in_(
                select(PaperItem.item_version_id)
                .join(Registration, Registration.paper_id == PaperItem.paper_id)
                .where(Registration.plan_id == plan.id, PaperItem.part_kind == "theory")
            )
        )
        .order_by(Item.external_id)
    ).all()
    return [
        ObjectiveItem(
            v.id,
            item.external_id,
            item.type,
            corrected.get(v.id, v.answer),
            v.answer,
            len(v.options or ()),
            v.stem,
        )
        for v, item in rows
    ]


def parse_correction(plan: ExamPlan, version_id: int | None, answer: str) -> tuple[int, str]:
    """The item and its new key as typed (B, ACD, 对/错 …), checked against the item's options."""
    items = {i.version_id: i for i in objective_items(plan)}
    item = items.get(version_id or -1)
    if item is None:
        raise DomainError("请选择本计划理论试卷上的一道客观题")
    text = answer.strip()
    if item.type == "truefalse":
        key = TRUE_WORDS.get(text.lower()) or FALSE_WORDS.get(text.lower())
        if key is None:
            raise DomainError(f"题目 {item.external_id} 是判断题：新答案应为“对”或“错”")
    else:
        key = "".join(sorted(text.upper().replace(",", "").replace("，", "").replace(" ", "")))
        letters = OPTION_KEYS[: item.options]
        wrong = [x for x in key if x not in letters]
        if wrong:
            raise DomainError(
                f"题目 {item.external_id} 只有选项 {letters}：新答案中的 {'、'.join(wrong)} 不是它的选项"
            )
    with services.rules():
        ObjectiveKey(item.external_id, item.type, key, Decimal(1))
    if key == item.key:
        raise DomainError(f"题目 {item.external_id} 的答案已经是 {key}：无需更正")
    return item.version_id, key


@dataclass(frozen=True)
class Preview:
    corrections: tuple[tuple[int, str], ...]
    changes: tuple[tuple[Registration, ScoreChange], ...]
    digest: str

    @property
    def pass_changes(self) -> int:
        return sum(c.pass_changed for _, c in self.changes)


def _sheets(plan: ExamPlan) -> tuple[list[Sheet], dict[str, Registration]]:
    scored = {
        row.registration_id
        for row in db.session.scalars(
            select(PartScore)
            .join(Registration)
            .where(
                Registration.plan_id == plan.id,
                PartScore.part_kind == "theory",
                PartScore.status == "scored",
                PartScore.carried.is_(False),
            )
        )
    }
    sittings = services.sittings_by_registration(plan, "theory")
    regs = {r.id: r for r in plan.registrations if r.id in scored and r.id in sittings}
    answers = services.answers_of([sittings[r].id for r in regs])
    papers = services.objective_keys(plan)
    sheets = []
    for reg_id, reg in sorted(regs.items(), key=lambda kv: kv[1].ticket_number or ""):
        keys = papers[reg.paper_id or -1]
        by_position = answers[sittings[reg_id].id]
        sheets.append(
            Sheet(str(reg_id), tuple(k.item for _, k in keys.keys), keys.answers(by_position))
        )
    return sheets, {str(k): v for k, v in regs.items()}


def _keys(plan: ExamPlan) -> dict[str, ObjectiveKey]:
    keys: dict[str, ObjectiveKey] = {}
    for paper in services.objective_keys(plan).values():
        for _, key in paper.keys:
            if key.item in keys and keys[key.item].points != key.points:
                raise DomainError(f"题目版本 {key.item} 在不同试卷上分值不同，不能统一更正")
            keys[key.item] = key
    return keys


def dry_run(plan: ExamPlan, corrections: Sequence[tuple[int, str]], actor: User) -> Preview:
    """The dry run staff ask for: the list of changes, logged with who looked at it."""
    result = preview(plan, corrections)
    services.audit(
        plan,
        "regrade_dry_run",
        actor,
        corrections=[{"item_version": v, "answer": a} for v, a in corrections],
        would_change=len(result.changes),
        pass_changes=result.pass_changes,
        digest=result.digest,
    )
    return result


def preview(plan: ExamPlan, corrections: Sequence[tuple[int, str]]) -> Preview:
    """The dry run: every candidate whose theory score would change, and nobody else."""
    if not corrections:
        raise DomainError("请至少更正一道题的答案")
    keys = _keys(plan)
    new = []
    for version_id, answer in corrections:
        old = keys.get(str(version_id))
        if old is None:
            raise DomainError("所选题目不在本计划已评分的理论试卷上")
        with services.rules():
            new.append(ObjectiveKey(old.item, old.item_type, answer, old.points))
    sheets, regs = _sheets(plan)
    policy = services.mc_policy(services.settings_of(plan))
    line = services.pass_line(plan, "theory")
    with services.rules():
        changes = regrade(sheets, keys, new, policy, line)
    pairs = tuple((regs[c.candidate], c) for c in changes)
    return Preview(tuple(corrections), pairs, _digest(corrections, changes))


def _digest(corrections: Sequence[tuple[int, str]], changes: Sequence[ScoreChange]) -> str:
    text = repr((sorted(corrections), [(c.candidate, c.old_score, c.new_score) for c in changes]))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def confirm(
    plan: ExamPlan, corrections: Sequence[tuple[int, str]], digest: str, actor: User, reason: str
) -> Preview:
    """Store the corrected keys and exactly the scores the dry run listed."""
    services.lock(plan)
    result = preview(plan, corrections)
    if digest != result.digest:
        raise Conflict("成绩或答案在试运行之后有变化：请重新试运行，核对新的变化清单后再确认")
    if not reason.strip():
        raise DomainError("请写明更正原因，例如“第 12 题原答案有误，经命题组复核改为 C”")
    for version_id, answer in corrections:
        row = db.session.scalar(
            select(KeyCorrection).where(
                KeyCorrection.plan_id == plan.id, KeyCorrection.item_version_id == version_id
            )
        )
        if row is None:
            row = KeyCorrection(plan_id=plan.id, item_version_id=version_id, answer=answer)
            db.session.add(row)
        row.answer, row.corrected_by_id = answer, actor.id
    db.session.flush()
    papers = services.objective_keys(plan)
    for reg, change in result.changes:
        row = services.part_scores(reg)["theory"]
        keys = papers[reg.paper_id or -1]
        items = dict(row.items or {})
        by_item = {k.item: pos for pos, k in keys.keys}
        for item in change.items:
            items[str(by_item[item.item])] = services._plain(item.new)
        with services.rules():
            on_hundred = scale_to_hundred(change.new_raw, Decimal(row.paper_points or 0))
            part = part_score("theory", on_hundred, row.taken_on, Decimal(row.pass_line))
        services.store_part(
            reg, part, actor, f"更正答案：{reason.strip()}",
            raw=change.new_raw, paper_points=row.paper_points, items=items,
        )  # fmt: skip
    services.audit(
        plan,
        "regrade",
        actor,
        reason=reason.strip(),
        corrections=[{"item_version": v, "answer": a} for v, a in corrections],
        changed=[
            {"registration": reg.id, "old": c.old_score, "new": c.new_score}
            for reg, c in result.changes
        ],
    )
    return result
