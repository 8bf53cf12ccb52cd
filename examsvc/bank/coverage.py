"""Coverage of a bank against its standard and scheme: can approved items fill a paper?"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from ..catalog.scheme_rules import Part
from ..catalog.standards import Standard
from .model import TYPE_NAMES


@dataclass(frozen=True)
class PoolItem:
    """What coverage needs to know of an approved item version."""

    type: str
    skills: tuple[str, ...]
    difficulty: int


@dataclass(frozen=True)
class CoverageTable:
    fields: list[str]
    # counts[(type, field, difficulty)]: an item tagged in several fields counts once in each
    counts: Counter[tuple[str, str, int]]
    uncovered_skills: list[str]

    def total(self, type_: str, field: str | None = None) -> int:
        return sum(
            n
            for (t, f, _), n in self.counts.items()
            if t == type_ and (field is None or f == field)
        )


@dataclass(frozen=True)
class SectionCheck:
    part: str
    type: str
    needed: int
    available: int

    @property
    def ok(self) -> bool:
        return self.available >= self.needed

    @property
    def message(self) -> str:
        name = TYPE_NAMES.get(self.type, self.type)
        if self.ok:
            return f"{self.part} · {name}：需要 {self.needed} 道，已审核 {self.available} 道"
        return f"{self.part} · {name}：至少需要 {self.needed} 道，已审核的只有 {self.available} 道"


def coverage_table(items: list[PoolItem], standard: Standard) -> CoverageTable:
    """Approved items by type × work field × difficulty, and the skills no item touches."""
    counts: Counter[tuple[str, str, int]] = Counter()
    touched: set[str] = set()
    for item in items:
        fields = set()
        for code in item.skills:
            info = standard.lookup(code)
            if info is None:
                continue
            fields.add(info.field)
            touched.add(info.skill or code)
        for f in fields:
            counts[(item.type, f, item.difficulty)] += 1
    field_names = [f.name for f in standard.fields]
    uncovered = [c for c in standard.skill_codes() if c not in touched]
    return CoverageTable(field_names, counts, uncovered)


def check_scheme(items: list[PoolItem], parts: tuple[Part, ...]) -> list[SectionCheck]:
    """For every section of every part: items needed (the largest count) against approved ones."""
    available = Counter(i.type for i in items)
    return [
        SectionCheck(part.name, s.item_type, s.count_max, available[s.item_type])
        for part in parts
        for s in part.sections
    ]
