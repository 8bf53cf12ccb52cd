"""What a process keeps between requests: per-app dictionaries, bounded where they could grow.

Kept per app rather than per module, so each test's app (and database) starts with its own.
What is kept here must not change while the process runs (rendered item versions, a frozen
paper's item counts, translated UI text), with one exception that says how it stays current:
``delivery/kept_plan.py``, whose copies of a plan are dropped when they change and after a
second.
"""

from __future__ import annotations

from typing import Any, TypeVar

from flask import current_app

K = TypeVar("K")
V = TypeVar("V")


def per_app(name: str) -> dict[Any, Any]:
    """The current app's dictionary ``name``, made empty on first use."""
    kept: dict[Any, Any] = current_app.extensions.setdefault(name, {})
    return kept


def keep(kept: dict[K, V], key: K, value: V, size: int) -> V:
    """Store ``value``; once ``kept`` holds ``size`` entries the oldest go first (dicts keep
    insertion order)."""
    while len(kept) >= size:
        del kept[next(iter(kept))]
    kept[key] = value
    return value
