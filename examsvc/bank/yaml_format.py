"""The YAML directory format of a bank (docs/banks.md): read into BankData, write back out."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from ..catalog.standards import Standard, StandardError, load_standard
from ..yaml_text import safe_load
from .model import (
    AnswerForm,
    BankData,
    BankFormatError,
    Criterion,
    Issue,
    ItemData,
    Location,
    parse_points,
    validate_bank,
)

CHOICE_FIELDS = ("id", "type", "stem", "options", "answer", "explanation", "difficulty", "skills")


def _load_yaml(path: Path, issues: list[Issue]) -> Any:
    try:
        return safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        issues.append(Issue(Location(str(path)), f"不是有效的 UTF-8 YAML：{exc}"))
        return None


def _str_list(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def _answer(raw: Any, type_: str) -> str:
    if type_ == "truefalse":
        if isinstance(raw, bool):
            return "true" if raw else "false"
        return {"对": "true", "错": "false"}.get(str(raw).strip(), str(raw).strip().lower())
    return "" if raw is None else str(raw).strip().upper()


def item_from_mapping(node: Any, where: Location) -> ItemData:
    """Build one item from its YAML mapping; raise ValueError for shapes that cannot be read."""
    if not isinstance(node, dict):
        raise ValueError("每道题必须是一个映射（key: value）")
    type_ = str(node.get("type", "")).strip()
    options = node.get("options") or {}
    if not isinstance(options, dict):
        raise ValueError("options 必须写成 A: …、B: … 的映射")
    form = node.get("answer_form")
    rubric = node.get("rubric") or []
    if not isinstance(rubric, list):
        raise ValueError("rubric 必须是评分项列表")
    points = node.get("points")
    try:
        difficulty = int(node.get("difficulty", 0))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"难度“{node.get('difficulty')}”不是整数") from exc
    return ItemData(
        id=str(node.get("id", "")).strip(),
        type=type_,
        stem=str(node.get("stem") or "").strip("\n"),
        explanation=str(node.get("explanation") or "").strip("\n"),
        difficulty=difficulty,
        skills=_str_list(node.get("skills")),
        options=tuple((str(k).strip(), str(v).strip()) for k, v in options.items()),
        answer=_answer(node.get("answer"), type_),
        tags=_str_list(node.get("tags")),
        points=None if points is None else parse_points(points),
        status=str(node.get("status", "approved")),
        images=_str_list(node.get("images")),
        title=str(node.get("title") or ""),
        task_kind=str(node.get("task_kind") or ""),
        answer_form=(
            AnswerForm(
                editor=str(form.get("editor", "text")),
                upload=bool(form.get("upload", False)),
                upload_types=_str_list(form.get("upload_types")),
            )
            if isinstance(form, dict)
            else None
        ),
        materials=_str_list(node.get("materials")),
        rubric=tuple(
            Criterion(
                criterion=str(c.get("criterion", "")),
                points=parse_points(c.get("points")),
                guide=str(c.get("guide") or "").strip("\n"),
            )
            for c in rubric
        ),
    )


def _read_files(folder: Path, names: tuple[str, ...]) -> dict[str, bytes]:
    return {n: (folder / n).read_bytes() for n in names if (folder / n).is_file()}


def read_bank_dir(
    path: Path, standards_root: Path | None = None, standard: Standard | None = None
) -> tuple[BankData, Standard | None]:
    """Read and validate a bank directory; raise BankFormatError listing every problem."""
    issues: list[Issue] = []
    meta = _load_yaml(path / "bank.yaml", issues) if (path / "bank.yaml").is_file() else None
    if not isinstance(meta, dict):
        issues.append(Issue(Location(str(path / "bank.yaml")), "缺少题库信息文件或格式不对"))
        raise BankFormatError(issues)
    bank = BankData(
        code=str(meta.get("code", path.name)),
        name=str(meta.get("name", "")),
        certificate=str(meta.get("certificate", "")),
        level=str(meta.get("level", "")),
        standard=str(meta.get("standard", "")),
    )
    if standard is None and bank.standard:
        root = standards_root or path.parent
        try:
            standard = load_standard(root / bank.standard)
        except (StandardError, OSError) as exc:
            issues.append(Issue(Location(str(path / "bank.yaml")), f"无法读取技能标准：{exc}"))
    locations: dict[str, Location] = {}

    def take(node: Any, where: Location, folder: Path | None) -> None:
        try:
            item = item_from_mapping(node, where)
        except ValueError as exc:
            issues.append(Issue(where, str(exc)))
            return
        bank.items.append(item)
        locations.setdefault(item.id, where)
        if folder is not None:
            bank.files[item.id] = _read_files(folder, item.materials)
        images = _read_files(path / "images", item.images)
        if images:
            bank.files.setdefault(item.id, {}).update(images)

    for file in sorted((path / "theory").glob("*.yaml")):
        nodes = _load_yaml(file, issues)
        if nodes is None:
            continue
        if not isinstance(nodes, list):
            issues.append(Issue(Location(str(file)), "理论题文件必须是题目列表"))
            continue
        for n, node in enumerate(nodes, 1):
            ident = node.get("id", "?") if isinstance(node, dict) else "?"
            take(node, Location(str(file), column=f"第 {n} 题（{ident}）"), None)
    for file in sorted((path / "practical").glob("*/item.yaml")):
        take(_load_yaml(file, issues), Location(str(file)), file.parent / "materials")
    issues += validate_bank(bank, standard, locations)
    if issues:
        raise BankFormatError(issues)
    return bank, standard


def _plain(value: Decimal | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral() else float(value)


def item_to_mapping(item: ItemData) -> dict[str, Any]:
    """The YAML mapping of an item, keys in the documented order, empty fields left out."""
    node: dict[str, Any] = {"id": item.id, "type": item.type}
    if item.type == "practical":
        node["title"] = item.title
        node["task_kind"] = item.task_kind
    node["stem"] = item.stem
    if item.options:
        node["options"] = dict(item.options)
    if item.type == "truefalse":
        node["answer"] = item.answer == "true"
    elif item.answer:
        node["answer"] = item.answer
    if item.answer_form is not None:
        form = item.answer_form
        node["answer_form"] = {"editor": form.editor, "upload": form.upload}
        if form.upload_types:
            node["answer_form"]["upload_types"] = list(form.upload_types)
    if item.materials:
        node["materials"] = list(item.materials)
    if item.images:
        node["images"] = list(item.images)
    node["explanation"] = item.explanation
    node["difficulty"] = item.difficulty
    node["skills"] = list(item.skills)
    if item.tags:
        node["tags"] = list(item.tags)
    if item.points is not None:
        node["points"] = _plain(item.points)
    if item.status != "approved":
        node["status"] = item.status
    if item.rubric:
        node["rubric"] = [
            {"criterion": c.criterion, "points": _plain(c.points), "guide": c.guide}
            for c in item.rubric
        ]
    return node


class _Dumper(yaml.SafeDumper):
    pass


def _str_presenter(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str_presenter)


def dump_yaml(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)


def write_bank_dir(bank: BankData, path: Path) -> None:
    """Write a bank as a YAML directory: theory in one file per type, one folder per practical."""
    path.mkdir(parents=True, exist_ok=True)
    meta = {"code": bank.code, "name": bank.name, "certificate": bank.certificate}
    meta |= {"level": bank.level, "standard": bank.standard}
    (path / "bank.yaml").write_text(dump_yaml(meta), encoding="utf-8")
    theory = [i for i in bank.items if i.type != "practical"]
    if theory:
        (path / "theory").mkdir(exist_ok=True)
        (path / "theory" / "items.yaml").write_text(
            dump_yaml([item_to_mapping(i) for i in theory]), encoding="utf-8"
        )
    for item in bank.items:
        files = bank.files.get(item.id, {})
        for name in item.images:
            (path / "images").mkdir(exist_ok=True)
            (path / "images" / name).write_bytes(files[name])
        if item.type != "practical":
            continue
        folder = path / "practical" / item.id
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "item.yaml").write_text(dump_yaml(item_to_mapping(item)), encoding="utf-8")
        for name in item.materials:
            target = folder / "materials" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(files[name])
