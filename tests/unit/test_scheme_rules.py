"""Exam schemes: the shipped schemes hold, broken ones say what is wrong, fee caps weigh parts."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
import yaml

from examsvc.catalog.scheme_rules import (
    SchemeError,
    fee_cap,
    parse_scheme,
    validate_scheme,
)
from examsvc.config import ROOT


def web_scheme():  # type: ignore[no-untyped-def]
    path = ROOT / "question_banks" / "schemes" / "web-frontend.yaml"
    return parse_scheme(yaml.safe_load(path.read_text(encoding="utf-8")), str(path))


def test_web_scheme_is_the_seed_30_15_5_plus_3_to_5_practical() -> None:
    scheme = web_scheme()
    theory, practical = scheme.parts
    counts = {s.item_type: (s.count_min, s.points_each) for s in theory.sections}
    assert counts == {
        "single": (30, Decimal(2)),
        "multiple": (15, Decimal(2)),
        "truefalse": (5, Decimal(2)),
    }
    assert theory.total_points == practical.total_points == Decimal(100)
    assert theory.pass_line == practical.pass_line == Decimal(60)
    (section,) = practical.sections
    assert (section.count_min, section.count_max, section.points_each) == (3, 5, None)


def test_mixed_exam_cap_is_weighted_by_points() -> None:
    # domain.md: theory 100 computer-based + practical 100 general equipment → 400
    assert fee_cap(web_scheme().parts) == Decimal("400.00")
    theory = web_scheme().parts[0]
    assert fee_cap((theory,)) == Decimal("300.00")


def test_theory_points_must_add_up_to_full_marks() -> None:
    scheme = web_scheme()
    theory = scheme.parts[0]
    short = replace(theory, sections=theory.sections[:2])
    problems = validate_scheme(replace(scheme, parts=(short, scheme.parts[1])))
    assert problems == ["理论考试（theory）：各题型分值合计 90，应等于满分 100"]


def test_pass_line_above_full_marks_and_bad_policy_are_refused() -> None:
    scheme = web_scheme()
    bad = replace(scheme.parts[0], pass_line=Decimal(120))
    problems = validate_scheme(replace(scheme, parts=(bad,), mc_policy="lucky"))
    assert any("合格线 120" in p for p in problems)
    assert any("多选评分规则 'lucky'" in p for p in problems)


def test_missing_fields_name_the_file() -> None:
    with pytest.raises(SchemeError, match=r"broken\.yaml: missing or malformed field"):
        parse_scheme({"name": "x"}, "broken.yaml")
