"""Skill standards: the shipped files parse, codes resolve, malformed files are named."""

from __future__ import annotations

import pytest

from examsvc.catalog.standards import StandardError, load_standards, parse_standard
from examsvc.config import ROOT

STANDARDS = ROOT / "question_banks" / "standards"


def test_all_six_standards_load() -> None:
    found = load_standards(STANDARDS)
    assert set(found) == {
        (cert, level)
        for cert in ("web-frontend", "logistics")
        for level in ("junior", "intermediate", "senior")
    }


def test_web_junior_has_every_skill_of_the_seed_table() -> None:
    web = load_standards(STANDARDS)[("web-frontend", "junior")]
    # seed 000: lines 383–396, the 初级 table
    assert web.skill_codes() == [
        "1-1-1", "1-1-2", "1-1-3", "1-1-4", "1-2-1", "1-2-2", "1-3-1",
        "1-4-1", "1-4-2", "1-4-3", "1-5-1", "1-5-2",
    ]  # fmt: skip
    info = web.lookup("1-1-2-S5")
    assert info is not None
    assert (info.kind, info.skill, info.task, info.field) == (
        "requirement",
        "1-1-2",
        "1-1",
        "静态网站搭建",
    )


def test_logistics_junior_numbering_follows_the_documented_scheme() -> None:
    logistics = load_standards(STANDARDS)[("logistics", "junior")]
    tasks = [t.code for f in logistics.fields for t in f.tasks]
    assert tasks[:9] == [f"0-{n}" for n in range(1, 10)]
    assert tasks[9:] == [f"1-{n}" for n in range(1, 13)]
    knowledge = logistics.lookup("1-5-K1")
    assert knowledge is not None and "ABC" in knowledge.text


def _doc(**overrides: object) -> dict[str, object]:
    doc: dict[str, object] = {
        "certificate": "c",
        "certificate_name": "C",
        "level": "junior",
        "fields": [{"name": "F", "tasks": [{"code": "1-1", "name": "T", "skills": [
            {"code": "1-1-1", "name": "S", "requirements": [{"code": "1-1-1-S1", "text": "R"}]}
        ]}]}],
    }  # fmt: skip
    doc.update(overrides)
    return doc


def test_a_child_code_must_start_with_its_parent() -> None:
    doc = _doc()
    doc["fields"][0]["tasks"][0]["skills"][0]["code"] = "1-2-1"  # type: ignore[index]
    with pytest.raises(
        StandardError, match=r"fields\[1\]\.tasks\[1\]\.skills\[1\].*'1-2-1'.*'1-1'"
    ):
        parse_standard(doc, "x.yaml")


def test_duplicate_codes_and_unknown_levels_are_refused() -> None:
    with pytest.raises(StandardError, match="level 'expert'"):
        parse_standard(_doc(level="expert"), "x.yaml")
    doc = _doc()
    task = doc["fields"][0]["tasks"][0]  # type: ignore[index]
    task["skills"].append(dict(task["skills"][0]))
    with pytest.raises(StandardError, match="'1-1-1' appears twice"):
        parse_standard(doc, "x.yaml")
