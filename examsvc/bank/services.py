"""Bank use cases: author, review, version, search, import and export items.

Services flush; the caller (request or CLI command) commits once or rolls back.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import Select, func, or_, select

from ..auth.models import User
from ..auth.roles import Role
from ..catalog.models import CertificateLevel
from ..catalog.services import find_level, standard_of
from ..catalog.standards import Standard
from ..errors import Conflict, DomainError, NotFound, PermissionDenied
from ..extensions import db
from .convert import fill_version, version_data, version_files
from .model import BankData, ItemData, Location, normalize_stem, validate_item
from .models import Item, ItemEvent, ItemVersion, QuestionBank

STATUS_NAMES = {
    "draft": "草稿",
    "review": "待审核",
    "approved": "已审核",
    "retired": "已停用",
    "superseded": "已被新版本取代",
}


def visible_banks(user: User) -> list[QuestionBank]:
    """Banks of the user's organization; staff never see another organization's bank."""
    query = select(QuestionBank).order_by(QuestionBank.id)
    query = query.where(QuestionBank.organization_id == user.organization_id)
    return list(db.session.scalars(query))


def get_bank(user: User, bank_id: int) -> QuestionBank:
    bank = db.session.get(QuestionBank, bank_id)
    if bank is None or bank.organization_id != user.organization_id:
        raise NotFound("题库不存在或不属于您的机构")
    return bank


def get_item(user: User, item_id: int) -> Item:
    item = db.session.get(Item, item_id)
    if item is None or item.bank.organization_id != user.organization_id:
        raise NotFound("试题不存在或不属于您的机构")
    return item


def bank_standard(bank: QuestionBank) -> Standard | None:
    return standard_of(bank.level)


def _check(data: ItemData, standard: Standard | None, where: str) -> None:
    problems = validate_item(data, standard, Location(where))
    if problems:
        raise DomainError("试题未通过校验，请按提示修改", problems)


def _event(item: Item, version: int, action: str, actor: User | None, comment: str = "") -> None:
    item.events.append(
        ItemEvent(
            version_number=version, action=action, actor_id=actor and actor.id, comment=comment
        )
    )


def create_item(
    bank: QuestionBank, data: ItemData, author: User | None, files: dict[str, bytes] | None = None
) -> Item:
    """Create an item with its first version as a draft (imports may set another status)."""
    _check(data, bank_standard(bank), data.id)
    if db.session.scalar(select(Item).where(Item.bank_id == bank.id, Item.external_id == data.id)):
        raise Conflict(f"编号“{data.id}”在本题库中已存在，请换一个编号")
    _refuse_duplicate_stem(bank, data)
    item = Item(bank=bank, external_id=data.id, type=data.type, author_id=author and author.id)
    version = ItemVersion(number=1, status=data.status, created_by_id=author and author.id)
    fill_version(version, data, files or {})
    item.versions.append(version)
    _event(item, 1, "created", author)
    db.session.add(item)
    db.session.flush()
    return item


def _refuse_duplicate_stem(bank: QuestionBank, data: ItemData, own_id: int | None = None) -> None:
    if data.type == "practical":
        return
    stem = normalize_stem(data.stem)
    for other in bank.items:
        if other.id == own_id or other.type == "practical":
            continue
        if normalize_stem(other.latest.stem) == stem:
            raise Conflict(f"题干与本题库中的“{other.external_id}”重复")


def edit_item(
    item: Item, data: ItemData, actor: User, files: dict[str, bytes] | None = None
) -> ItemVersion:
    """Save new content: in place while the latest version is a draft, else as a new version."""
    if data.type != item.type:
        raise DomainError("不能修改题型；请新建一道题")
    data = replace(data, id=item.external_id, status="draft")
    _check(data, bank_standard(item.bank), item.external_id)
    _refuse_duplicate_stem(item.bank, data, item.id)
    latest = item.latest
    if latest.status == "retired":
        raise Conflict("已停用的试题不能再修改")
    merged = version_files(latest) | (files or {})
    if latest.frozen or latest.status == "review":
        version = ItemVersion(number=latest.number + 1, status="draft", created_by_id=actor.id)
        fill_version(version, data, merged)
        item.versions.append(version)
        _event(item, version.number, "new_version", actor)
    else:
        version = latest
        fill_version(version, data, merged)
        _event(item, version.number, "edited", actor)
    db.session.flush()
    return version


def submit_item(item: Item, actor: User) -> None:
    """Send the latest draft to review."""
    latest = item.latest
    if latest.status != "draft":
        raise Conflict(f"只有草稿可以提交审核（当前状态：{STATUS_NAMES[latest.status]}）")
    latest.status = "review"
    _event(item, latest.number, "submitted", actor)


def review_item(item: Item, reviewer: User, approve: bool, comment: str = "") -> None:
    """Approve or send back the version under review; a reviewer never approves their own work."""
    latest = item.latest
    if latest.status != "review":
        raise Conflict(f"该试题不在待审核状态（当前：{STATUS_NAMES[latest.status]}）")
    if Role.REVIEWER not in reviewer.role_set:
        raise PermissionDenied("只有审核员可以审核试题")
    if latest.created_by_id == reviewer.id:
        raise PermissionDenied("审核人不能审核自己编写的试题；请交给另一位审核员")
    if not approve and not comment.strip():
        raise DomainError("退回修改时请写明原因")
    if approve:
        for older in item.versions[:-1]:
            if older.status == "approved":
                older.status = "superseded"
        latest.status = "approved"
        latest.reviewed_by_id = reviewer.id
    else:
        latest.status = "draft"
    _event(item, latest.number, "approved" if approve else "returned", reviewer, comment)


def retire_item(item: Item, actor: User, comment: str) -> None:
    """Take an item out of use for new papers; versions already used stay as they are."""
    if not comment.strip():
        raise DomainError("停用试题时请写明原因")
    changed = False
    for version in item.versions:
        if version.status in ("approved", "draft", "review"):
            version.status = "retired"
            changed = True
    if not changed:
        raise Conflict("该试题已停用")
    _event(item, item.latest.number, "retired", actor, comment)


@dataclass(frozen=True)
class ItemFilter:
    type: str = ""
    status: str = ""
    skill: str = ""
    difficulty: int | None = None
    text: str = ""


def search_items(
    bank: QuestionBank, f: ItemFilter, page: int = 1, per_page: int = 50
) -> tuple[list[Item], int]:
    """Items of a bank matching the filter on their latest version, newest first, paginated."""
    latest = (
        select(ItemVersion.item_id, func.max(ItemVersion.number).label("number"))
        .group_by(ItemVersion.item_id)
        .subquery()
    )
    query: Select[tuple[Item]] = (
        select(Item)
        .join(latest, latest.c.item_id == Item.id)
        .join(
            ItemVersion,
            (ItemVersion.item_id == Item.id) & (ItemVersion.number == latest.c.number),
        )
        .where(Item.bank_id == bank.id)
    )
    if f.type:
        query = query.where(Item.type == f.type)
    if f.status:
        query = query.where(ItemVersion.status == f.status)
    if f.difficulty:
        query = query.where(ItemVersion.difficulty == f.difficulty)
    if f.text:
        like = f"%{f.text}%"
        query = query.where(or_(ItemVersion.stem.ilike(like), Item.external_id.ilike(like)))
    items = list(db.session.scalars(query.order_by(Item.id)))
    if f.skill:
        items = [
            i
            for i in items
            if any(s == f.skill or s.startswith(f.skill + "-") for s in i.latest.skills)
        ]
    total = len(items)
    start = (max(page, 1) - 1) * per_page
    return items[start : start + per_page], total


def ensure_bank(code: str, name: str, level: CertificateLevel) -> QuestionBank:
    bank = db.session.scalar(select(QuestionBank).where(QuestionBank.code == code))
    if bank is None:
        org_id = level.certificate.organization_id
        bank = QuestionBank(code=code, name=name, level_id=level.id, organization_id=org_id)
        db.session.add(bank)
        db.session.flush()
    elif bank.level_id != level.id:
        raise Conflict(f"题库“{code}”已属于 {bank.level.title}，不能导入另一等级的试题")
    return bank


@dataclass
class ImportReport:
    bank: QuestionBank
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def import_bank(data: BankData, actor: User | None, status: str | None = None) -> ImportReport:
    """Bring a validated bank into the database: new items, new versions, unchanged items.

    All or nothing: the first problem raises and the caller rolls the whole import back.
    ``status`` overrides the status written in the file (authors' uploads go to review).
    """
    level = find_level(data.certificate, data.level)
    bank = ensure_bank(data.code, data.name or data.code, level)
    if actor is not None and actor.organization_id != bank.organization_id:
        raise PermissionDenied("不能向其他机构的题库导入试题")
    report = ImportReport(bank)
    existing = {i.external_id: i for i in bank.items}
    for item_data in data.items:
        if status is not None:
            item_data = replace(item_data, status=status)
        files = data.files.get(item_data.id, {})
        item = existing.get(item_data.id)
        if item is None:
            create_item(bank, item_data, actor, files)
            report.created += 1
            continue
        if item.type != item_data.type:
            raise Conflict(f"“{item_data.id}”的题型与库中不同，不能用导入修改题型")
        current = item.latest
        if version_data(item, current) == item_data and version_files(current) == files:
            report.unchanged += 1
            continue
        _check(item_data, bank_standard(bank), item_data.id)
        version = ItemVersion(
            number=current.number + 1, status=item_data.status, created_by_id=actor and actor.id
        )
        fill_version(version, item_data, files)
        if version.status == "approved":
            for older in item.versions:
                if older.status == "approved":
                    older.status = "superseded"
        item.versions.append(version)
        _event(item, version.number, "imported", actor)
        report.updated += 1
    db.session.flush()
    return report


def export_bank(bank: QuestionBank) -> BankData:
    """The latest version of every item, with its attachments, as a BankData."""
    standard = bank.level.standard
    out = BankData(
        code=bank.code,
        name=bank.name,
        certificate=bank.level.certificate.code,
        level=bank.level.level,
        standard=f"standards/{bank.level.certificate.code}/{bank.level.level}.yaml"
        if standard
        else "",
    )
    for item in bank.items:
        out.items.append(version_data(item, item.latest))
        files = version_files(item.latest)
        if files:
            out.files[item.external_id] = files
    return out
