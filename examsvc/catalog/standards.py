"""Skill standards (职业技能等级标准) as pure trees: parse, validate, look codes up.

A standard is 工作领域 → 工作任务 (``1-1``) → 职业技能 (``1-1-1``) → 技能/知识要求 (``1-1-1-S1``);
tasks may also carry knowledge lines of their own (``1-3-K1``, the 物流管理 layout).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..yaml_text import safe_load

LEVELS = {"junior": "初级", "intermediate": "中级", "senior": "高级"}
CODE = re.compile(r"^\d+(-\d+)*(-[SK]\d+)?$")


class StandardError(ValueError):
    """A standard file is malformed; the message names the file and the place."""


@dataclass(frozen=True)
class Requirement:
    code: str
    text: str


@dataclass(frozen=True)
class Skill:
    code: str
    name: str
    requirements: tuple[Requirement, ...] = ()


@dataclass(frozen=True)
class Task:
    code: str
    name: str
    skills: tuple[Skill, ...] = ()
    knowledge: tuple[Requirement, ...] = ()


@dataclass(frozen=True)
class WorkField:
    name: str
    tasks: tuple[Task, ...] = ()


@dataclass(frozen=True)
class CodeInfo:
    """Where a code sits in the tree: its kind, its text and the work field, task and skill above."""

    code: str
    kind: str  # task | skill | requirement | knowledge
    text: str
    field: str
    task: str
    skill: str | None


@dataclass(frozen=True)
class Standard:
    certificate: str
    certificate_name: str
    level: str
    fields: tuple[WorkField, ...]
    source: str = ""
    notes: str = ""
    index: dict[str, CodeInfo] = field(default_factory=dict, compare=False, repr=False)

    @property
    def level_name(self) -> str:
        return LEVELS[self.level]

    def lookup(self, code: str) -> CodeInfo | None:
        return self.index.get(code)

    def skill_codes(self) -> list[str]:
        return [s.code for f in self.fields for t in f.tasks for s in t.skills]


def _text(node: dict[str, Any], key: str, where: str) -> str:
    value = node.get(key)
    if not isinstance(value, str) or not value.strip():
        raise StandardError(f"{where}: '{key}' must be a non-empty text")
    return value.strip()


def _code(node: dict[str, Any], where: str, parent: str) -> str:
    code = str(node.get("code", "")).strip()
    if not CODE.match(code):
        raise StandardError(f"{where}: code '{code}' is not like 1-1, 1-1-1 or 1-1-1-S1")
    if parent and not code.startswith(parent + "-"):
        raise StandardError(f"{where}: code '{code}' must start with its parent's code '{parent}'")
    return code


def _requirements(items: Any, where: str, parent: str) -> tuple[Requirement, ...]:
    if items is None:
        return ()
    if not isinstance(items, list):
        raise StandardError(f"{where}: expected a list")
    out = []
    for i, node in enumerate(items, 1):
        spot = f"{where}[{i}]"
        out.append(Requirement(_code(node, spot, parent), _text(node, "text", spot)))
    return tuple(out)


def parse_standard(data: Any, origin: str = "<standard>") -> Standard:
    """Build a Standard from its YAML mapping; raise StandardError naming the bad place."""
    if not isinstance(data, dict):
        raise StandardError(f"{origin}: expected a mapping at the top")
    level = _text(data, "level", origin)
    if level not in LEVELS:
        raise StandardError(f"{origin}: level '{level}' must be one of {', '.join(LEVELS)}")
    fields = []
    for fi, fnode in enumerate(data.get("fields") or [], 1):
        fwhere = f"{origin}: fields[{fi}]"
        tasks = []
        for ti, tnode in enumerate(fnode.get("tasks") or [], 1):
            twhere = f"{fwhere}.tasks[{ti}]"
            tcode = _code(tnode, twhere, "")
            skills = []
            for si, snode in enumerate(tnode.get("skills") or [], 1):
                swhere = f"{twhere}.skills[{si}]"
                scode = _code(snode, swhere, tcode)
                reqs = _requirements(snode.get("requirements"), f"{swhere}.requirements", scode)
                skills.append(Skill(scode, _text(snode, "name", swhere), reqs))
            knowledge = _requirements(tnode.get("knowledge"), f"{twhere}.knowledge", tcode)
            tasks.append(Task(tcode, _text(tnode, "name", twhere), tuple(skills), knowledge))
        fields.append(WorkField(_text(fnode, "name", fwhere), tuple(tasks)))
    if not fields:
        raise StandardError(f"{origin}: no work fields")
    standard = Standard(
        certificate=_text(data, "certificate", origin),
        certificate_name=_text(data, "certificate_name", origin),
        level=level,
        fields=tuple(fields),
        source=str(data.get("source") or ""),
        notes=str(data.get("notes") or ""),
    )
    _build_index(standard, origin)
    return standard


def _build_index(standard: Standard, origin: str) -> None:
    def add(info: CodeInfo) -> None:
        if info.code in standard.index:
            raise StandardError(f"{origin}: code '{info.code}' appears twice")
        standard.index[info.code] = info

    for wf in standard.fields:
        for task in wf.tasks:
            add(CodeInfo(task.code, "task", task.name, wf.name, task.code, None))
            for k in task.knowledge:
                add(CodeInfo(k.code, "knowledge", k.text, wf.name, task.code, None))
            for skill in task.skills:
                add(CodeInfo(skill.code, "skill", skill.name, wf.name, task.code, skill.code))
                for r in skill.requirements:
                    add(CodeInfo(r.code, "requirement", r.text, wf.name, task.code, skill.code))


def load_standard(path: Path) -> Standard:
    """Read and parse one standard file."""
    try:
        data = safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise StandardError(f"{path}: not valid YAML: {exc}") from exc
    return parse_standard(data, str(path))


def load_standards(directory: Path) -> dict[tuple[str, str], Standard]:
    """Every standard below ``directory``, keyed by (certificate, level)."""
    found: dict[tuple[str, str], Standard] = {}
    for path in sorted(directory.glob("*/*.yaml")):
        standard = load_standard(path)
        found[(standard.certificate, standard.level)] = standard
    return found
