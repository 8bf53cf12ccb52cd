"""The pool an assembly draws from: approved item versions, reduced to what the engine needs."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from ..bank.model import ItemData
from ..catalog.standards import Standard


@dataclass(frozen=True)
class Candidate:
    """One approved item version as the engine sees it.

    ``covers`` holds the coverage keys the item counts towards: ``field:<work field>``,
    ``code:<task, skill or requirement code>`` for each tag and the task and skill above it,
    and ``task_kind:<kind>`` for practical items.
    """

    item: str  # the item's code in its bank, e.g. WFJ-H-001
    version: int
    type: str
    difficulty: int
    covers: frozenset[str]
    points: Decimal | None = None  # practical items carry their own points
    options: tuple[str, ...] = ()  # option keys in bank order, for permutations


def covers(skills: Iterable[str], task_kind: str, standard: Standard | None) -> frozenset[str]:
    keys: set[str] = set()
    for code in skills:
        keys.add(f"code:{code}")
        info = standard.lookup(code) if standard else None
        if info is not None:
            keys.add(f"field:{info.field}")
            keys.add(f"code:{info.task}")
            if info.skill:
                keys.add(f"code:{info.skill}")
    if task_kind:
        keys.add(f"task_kind:{task_kind}")
    return frozenset(keys)


def candidate(item: ItemData, version: int, standard: Standard | None) -> Candidate:
    return Candidate(
        item=item.id,
        version=version,
        type=item.type,
        difficulty=item.difficulty,
        covers=covers(item.skills, item.task_kind, standard),
        points=item.points if item.type == "practical" else None,
        options=tuple(k for k, _ in item.options),
    )


def pool_from_items(items: Iterable[ItemData], standard: Standard | None) -> list[Candidate]:
    """Approved items of a bank file (version 1 each: files carry no history)."""
    return [candidate(i, 1, standard) for i in items if i.status == "approved"]


def pool_digest(pool: Iterable[Candidate]) -> str:
    """SHA-256 over the pool in a canonical order: two pools with one digest give equal papers."""
    rows = sorted(
        [
            c.item,
            c.version,
            c.type,
            c.difficulty,
            sorted(c.covers),
            None if c.points is None else str(c.points),
            list(c.options),
        ]
        for c in pool
    )
    blob = json.dumps(rows, ensure_ascii=False, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()
