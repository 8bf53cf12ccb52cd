"""Grading forms, read from the request into what the services take (text as typed: the
services check it and name every problem)."""

from __future__ import annotations

from collections.abc import Mapping

SETTINGS_FIELDS = (
    "mc_policy",
    "mc_partial_ratio",
    "threshold_percent",
    "arbitrated_rule",
    "rubric_step",
    "retake_months",
    "appeal_days",
)
MAX_CORRECTIONS = 3  # key corrections per dry run


def settings_form(form: Mapping[str, str]) -> dict[str, str]:
    """The settings fields present in the form, as typed."""
    return {name: form[name] for name in SETTINGS_FIELDS if name in form}


def marking_form(form: Mapping[str, str], criteria: int) -> tuple[list[str], list[str]]:
    """Each criterion's score (``score_1`` …) and comment (``comment_1`` …), in rubric order."""
    scores = [form.get(f"score_{n}", "") for n in range(1, criteria + 1)]
    comments = [form.get(f"comment_{n}", "") for n in range(1, criteria + 1)]
    return scores, comments


def corrections_form(form: Mapping[str, str]) -> list[tuple[int | None, str]]:
    """The rows of the key-correction form that name an item (``item_1``/``answer_1`` …)."""
    rows: list[tuple[int | None, str]] = []
    for n in range(1, MAX_CORRECTIONS + 1):
        item, answer = form.get(f"item_{n}", "").strip(), form.get(f"answer_{n}", "")
        if item:
            rows.append((int(item) if item.isdigit() else None, answer))
    return rows
