"""Blueprint rules and feasibility reports: bad input names the constraint and the gap."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from examsvc.assembly.blueprint import BlueprintError, parse_blueprint, validate_blueprint
from examsvc.assembly.feasibility import check_feasibility
from examsvc.assembly.pool import Candidate, pool_from_items
from examsvc.bank.yaml_format import read_bank_dir
from examsvc.catalog.scheme_rules import parse_scheme
from examsvc.catalog.standards import load_standards

BANKS = Path(__file__).resolve().parents[2] / "question_banks"


def _sample(name: str) -> dict[str, Any]:
    data = yaml.safe_load((BANKS / "blueprints" / f"{name}.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _web_pool() -> list[Candidate]:
    bank, _ = read_bank_dir(BANKS / "web-frontend-junior", BANKS)
    standard = load_standards(BANKS / "standards")[("web-frontend", "junior")]
    return pool_from_items(bank.items, standard)


@pytest.mark.parametrize("name", ["web-frontend-junior", "logistics-junior"])
def test_sample_blueprints_meet_their_scheme_and_standard(name: str) -> None:
    blueprint = parse_blueprint(_sample(name), name)
    scheme_file = BANKS / "schemes" / f"{blueprint.certificate}.yaml"
    scheme = parse_scheme(yaml.safe_load(scheme_file.read_text(encoding="utf-8")))
    standard = load_standards(BANKS / "standards")[(blueprint.certificate, blueprint.level)]
    assert validate_blueprint(blueprint, scheme, standard) == []


def _problems(data: dict[str, Any]) -> str:
    with pytest.raises(BlueprintError) as caught:
        parse_blueprint(data, "bp.yaml")
    return "\n".join(caught.value.problems)


def test_points_that_do_not_add_up_are_refused_with_the_sum() -> None:
    data = _sample("web-frontend-junior")
    data["parts"][0]["sections"][2]["count"] = 6
    assert "判断 6×2 = 102，应等于满分 100" in _problems(data)


def test_contradictory_and_impossible_bounds_are_named() -> None:
    data = _sample("web-frontend-junior")
    data["parts"][0]["coverage"] = [
        {"code": "1-1-1", "min": 5, "max": 2},
        {"field": "静态网站搭建", "min_share": 0.7, "max_share": 0.3},
        {"code": "1-1-2", "type": "truefalse", "min": 9},
    ]
    text = _problems(data)
    assert "技能 1-1-1：至少 5 道却至多 2 道，互相矛盾" in text
    assert "分值占比下限 0.7 高于上限 0.3" in text
    assert "判断 · 技能 1-1-2：至少 9 道，但相关题型最多只有 5 道" in text


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"max_exposure": 0}, "最大曝光率 0 应大于 0"),
        ({"difficulty": {"target": 7, "tolerance": 0.2}}, "难度目标 7 应在 1 到 5 之间"),
        ({"sections": [{"type": "essay", "count": 50, "points_each": 2}]}, "题型“essay”无效"),
        (
            {"coverage": [{"field": "x", "code": "1-1"}]},
            "field、code、task_kind 三者必须恰好写一个",
        ),
        ({"coverage": [{"code": "1-1", "minimum": 2}]}, "不认识的字段 minimum"),
    ],
)
def test_malformed_parts_say_what_and_where(change: dict[str, Any], expected: str) -> None:
    data = _sample("web-frontend-junior")
    data["parts"][0].update(change)
    assert expected in _problems(data)


def test_unknown_codes_and_fields_are_checked_against_the_standard() -> None:
    data = _sample("web-frontend-junior")
    data["parts"][0]["coverage"] = [{"code": "9-9-9", "min": 1}, {"field": "后端开发", "min": 1}]
    blueprint = parse_blueprint(data)
    standard = load_standards(BANKS / "standards")[("web-frontend", "junior")]
    text = "\n".join(validate_blueprint(blueprint, None, standard))
    assert "代码 9-9-9 不在Web 前端开发（初级）标准中" in text
    assert "工作领域“后端开发”不在" in text and "可选：静态网站搭建" in text


def test_sections_must_match_the_scheme() -> None:
    data = _sample("web-frontend-junior")
    data["parts"][0]["sections"] = [
        {"type": "single", "count": 40, "points_each": 2},
        {"type": "truefalse", "count": 10, "points_each": 2},
    ]
    data["parts"][0]["coverage"] = []
    blueprint = parse_blueprint(data)
    scheme = parse_scheme(yaml.safe_load((BANKS / "schemes" / "web-frontend.yaml").read_text()))
    text = "\n".join(validate_blueprint(blueprint, scheme, None))
    assert "单选：题量 40–40 超出考核方案规定的 30–30" in text
    assert "考核方案要求多选题，细目表没有这一节" in text


def test_the_sample_bank_meets_the_sample_blueprint_for_a_class() -> None:
    report = check_feasibility(parse_blueprint(_sample("web-frontend-junior")), _web_pool(), 30)
    assert report.ok, report.problems
    assert report.trial is not None and len(report.trial.papers) == 30
    assert [s.available for s in report.supply] == [149, 64, 35, 10]


def test_a_shortfall_names_the_constraint_and_the_numbers() -> None:
    data = _sample("web-frontend-junior")
    data["parts"][0]["coverage"].append({"code": "1-2-1", "type": "multiple", "min": 9})
    report = check_feasibility(parse_blueprint(data), _web_pool(), 30)
    assert not report.ok
    assert "理论考试 · 多选 · 技能 1-2-1：至少需要 9 道，已审核的只有 4 道" in report.problems


def test_an_empty_bank_is_refused() -> None:
    report = check_feasibility(parse_blueprint(_sample("web-frontend-junior")), [], 1)
    assert report.problems == ["题库中没有已审核的试题，无法组卷；请先审核通过试题"]


def test_exposure_supply_and_small_pools() -> None:
    data = _sample("web-frontend-junior")
    data["parts"][0]["max_exposure"] = 0.05
    report = check_feasibility(parse_blueprint(data), _web_pool(), 100)
    assert any(
        "100 份试卷共需 3000 题次" in p and "最多提供 745 题次" in p for p in report.problems
    )


def test_a_pool_too_small_to_randomize_is_warned_about() -> None:
    bank, _ = read_bank_dir(BANKS / "logistics-junior", BANKS)
    standard = load_standards(BANKS / "standards")[("logistics", "junior")]
    blueprint = parse_blueprint(_sample("logistics-junior"))
    report = check_feasibility(blueprint, pool_from_items(bank.items, standard), 30)
    assert report.ok, report.problems
    assert (
        "实操考试 · 实操：每份需要 5 道，已审核的只有 6 道（1.2 倍），各份试卷会大量重复；建议至少 2 倍"
        in report.warnings
    )


def test_practical_points_that_cannot_reach_100() -> None:
    data = _sample("web-frontend-junior")
    pool = [c for c in _web_pool() if c.type != "practical" or c.points == Decimal(35)]
    report = check_feasibility(parse_blueprint(data), pool, 1)
    assert any("找不到 3–5 道分值合计为 100 分的组合（现有分值：35）" in p for p in report.problems)


def test_an_unreachable_difficulty_target() -> None:
    data = _sample("web-frontend-junior")
    data["parts"][0]["difficulty"] = {"target": 4.8, "tolerance": 0.1}
    report = check_feasibility(parse_blueprint(data), _web_pool(), 1)
    assert any("平均难度目标 4.8±0.1 无法达到" in p for p in report.problems)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.integers(0, 12), st.integers(0, 12))
def test_coverage_minimums_are_diagnosed_exactly(have: int, need: int) -> None:
    """The report refuses exactly when fewer items touch the code than the minimum asks."""
    pool = [
        Candidate(f"S-{i}", 1, "single", 3, frozenset({"code:1-1-1" if i < have else "code:1-1-2"}))
        for i in range(40)
    ]
    data = {
        "name": "t",
        "certificate": "c",
        "level": "junior",
        "parts": [
            {
                "kind": "theory",
                "sections": [{"type": "single", "count": 20, "points_each": 5}],
                "coverage": [{"code": "1-1-1", "min": need}],
            }
        ],
    }
    report = check_feasibility(parse_blueprint(data), pool, 1)
    shortfall = f"理论考试 · 技能 1-1-1：至少需要 {need} 道，已审核的只有 {have} 道"
    assert (shortfall in report.problems) == (have < need)
    assert report.ok == (have >= need)
