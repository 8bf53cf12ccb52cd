"""Eligibility: every 物流管理 route admits its minimal applicant and says what is missing."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from examsvc.catalog.standards import LEVELS
from examsvc.config import ROOT
from examsvc.registration.eligibility import (
    EDUCATION,
    Applicant,
    EligibilityError,
    RuleSet,
    evaluate,
    load_rules,
    parse_rules,
)

RULES_PATH = ROOT / "question_banks" / "eligibility" / "logistics.yaml"
RULES = load_rules(RULES_PATH)
KEYWORDS = "物流、供应链、采购、仓储、运输、冷链、快递、港口、报关"


def who(
    education: str,
    major: str = "",
    certificates: tuple[str, ...] = (),
    years: str = "0",
    trained: bool = False,
    graduating: bool = False,
) -> Applicant:
    return Applicant(education, major, certificates, Decimal(years), trained, graduating)


# (level, route number, minimal applicant, [(one condition taken away, why the route refuses)])
ROUTES = [
    ("初级", 1, who("中职", "物流服务与管理", graduating=True), [
        ({"education": "高中"}, "学历 高中，需为 中职"),
        ({"major": "计算机应用"}, f"专业「计算机应用」不属于物流类（专业名称需含 {KEYWORDS} 之一）"),
        ({"major": ""}, "未填写专业，需为物流类专业"),
    ]),
    ("初级", 2, who("中职", "计算机应用", trained=True), [
        ({"education": "初中"}, "学历 初中，需为 中职"),
        ({"trained": False}, "未经本级培训并取得合格证书"),
        ({"graduating": True}, "尚未毕业：本路径不含在校应届毕业生"),
    ]),
    ("初级", 3, who("高中", years="1"), [
        ({"education": "初中"}, "学历 初中，需要 高中 及以上"),
        ({"years_in_trade": Decimal("0.5")}, "相关工作年限 0.5 年，至少需要 1 年"),
        ({"graduating": True}, "尚未毕业：本路径不含在校应届毕业生"),
    ]),
    ("中级", 1, who("高职", "现代物流管理", graduating=True), [
        ({"education": "本科"}, "学历 本科，需为 高职或大专"),
        ({"major": "电子商务"}, f"专业「电子商务」不属于物流类（专业名称需含 {KEYWORDS} 之一）"),
    ]),
    ("中级", 2, who("大专", "会计", trained=True), [
        ({"education": "高中"}, "学历 高中，需为 高职或大专"),
        ({"trained": False}, "未经本级培训并取得合格证书"),
        ({"graduating": True}, "尚未毕业：本路径不含在校应届毕业生"),
    ]),
    ("中级", 3, who("高中", certificates=("物流管理（初级）",), years="3", trained=True), [
        ({"certificates": ("Web 前端开发 初级",)}, "未持有「物流管理 初级」证书"),
        ({"years_in_trade": Decimal("2.5")}, "相关工作年限 2.5 年，至少需要 3 年"),
        ({"trained": False}, "未经本级培训并取得合格证书"),
    ]),
    ("中级", 4, who("大专", "会计", years="5"), [
        ({"education": "高中"}, "学历 高中，需要 大专 及以上"),
        ({"years_in_trade": Decimal("4.5")}, "相关工作年限 4.5 年，至少需要 5 年"),
        ({"graduating": True}, "尚未毕业：本路径不含在校应届毕业生"),
    ]),
    ("高级", 1, who("本科", "物流管理", graduating=True), [
        ({"education": "大专"}, "学历 大专，需为 本科"),
        ({"major": "英语"}, f"专业「英语」不属于物流类（专业名称需含 {KEYWORDS} 之一）"),
    ]),
    ("高级", 2, who("本科", "英语", trained=True), [
        ({"education": "大专"}, "学历 大专，需为 本科"),
        ({"trained": False}, "未经本级培训并取得合格证书"),
        ({"graduating": True}, "尚未毕业：本路径不含在校应届毕业生"),
    ]),
    ("高级", 3, who("高中", certificates=("物流管理 中级",), years="5", trained=True), [
        ({"certificates": ("物流管理 初级",)}, "未持有「物流管理 中级」证书"),
        ({"years_in_trade": Decimal(4)}, "相关工作年限 4 年，至少需要 5 年"),
        ({"trained": False}, "未经本级培训并取得合格证书"),
    ]),
    ("高级", 4, who("硕士", "英语", years="5"), [
        ({"education": "大专"}, "学历 大专，需要 本科 及以上"),
        ({"years_in_trade": Decimal("4.99")}, "相关工作年限 4.99 年，至少需要 5 年"),
        ({"graduating": True}, "尚未毕业：本路径不含在校应届毕业生"),
    ]),
]  # fmt: skip


def test_shipped_rules_match_the_seed_and_the_scheme() -> None:
    assert (RULES.certificate, RULES.certificate_name) == ("logistics", "物流管理")
    scheme = yaml.safe_load((ROOT / "question_banks/schemes/logistics.yaml").read_text("utf-8"))
    assert list(RULES.levels) == scheme["levels"] == list(LEVELS)
    assert [r.name for r in RULES.levels.values()] == ["初级", "中级", "高级"]
    assert [len(r.routes) for r in RULES.levels.values()] == [3, 4, 4]
    assert "、".join(RULES.major_categories["物流"]) == KEYWORDS
    assert len(ROUTES) == 11  # every route of the seed is exercised below


@pytest.mark.parametrize(("level", "number", "applicant", "removals"), ROUTES)
def test_each_route_admits_its_minimal_applicant_and_names_what_is_missing(
    level: str, number: int, applicant: Applicant, removals: list[tuple[dict[str, object], str]]
) -> None:
    rules = RULES.level(level)
    assert rules is not None
    route = rules.routes[number - 1]
    verdict = evaluate(RULES, level, applicant)
    assert (verdict.eligible, verdict.route, verdict.reasons) == (True, route.text, [])
    for change, why in removals:
        refused = evaluate(RULES, level, replace(applicant, **change))  # type: ignore[arg-type]
        assert not refused.eligible, change
        assert refused.route is None
        assert len(refused.reasons) == len(rules.routes)
        assert refused.reasons[number - 1] == f"路径 {number}（{route.text}）：{why}", change


def test_a_refusal_lists_every_failed_condition_of_every_route() -> None:
    verdict = evaluate(RULES, "junior", who("高中", "计算机应用", years="0.5"))
    assert verdict.reasons == [
        "路径 1（中职物流类专业毕业生（含在校应届毕业生））：学历 高中，需为 中职；"
        f"专业「计算机应用」不属于物流类（专业名称需含 {KEYWORDS} 之一）",
        "路径 2（中职非物流类专业毕业生经本级培训并取得合格证书者）：学历 高中，需为 中职；"
        "未经本级培训并取得合格证书",
        "路径 3（高中及以上学历毕业且从事物流相关工作满 1 年以上（含 1 年）者）："
        "相关工作年限 0.5 年，至少需要 1 年",
    ]


def test_education_pairs_of_the_same_stage() -> None:
    # 中职 is 高中阶段 (“高中及以上” includes it); 大专 is what 高职 awards, so both count as 高职.
    assert evaluate(RULES, "初级", who("中职", "计算机应用", years="1")).route == (
        "高中及以上学历毕业且从事物流相关工作满 1 年以上（含 1 年）者"
    )
    assert evaluate(RULES, "中级", who("大专", "物流工程技术")).route == (
        "高职物流类专业毕业生（含在校应届毕业生）"
    )
    assert evaluate(RULES, "中级", who("高职", "会计", years="5")).eligible


def test_certificates_compare_without_spaces_brackets_or_the_word_certificate() -> None:
    for held in (
        "物流管理 初级",
        "物流管理（初级）",
        "物流管理职业技能等级证书(初级)",
        "物流管理初级证书",
    ):
        applicant = who("高中", certificates=(held,), years="3", trained=True)
        assert evaluate(RULES, "中级", applicant).eligible, held


def test_the_first_route_met_is_named() -> None:
    both = who("中职", "物流服务与管理", trained=True)
    assert evaluate(RULES, "初级", both).route == "中职物流类专业毕业生（含在校应届毕业生）"


def test_a_level_without_rules_is_unrestricted_and_a_bad_level_is_refused() -> None:
    junior_only = RuleSet(
        certificate=RULES.certificate,
        certificate_name=RULES.certificate_name,
        major_categories=RULES.major_categories,
        levels={"junior": RULES.levels["junior"]},
    )
    nobody = who("初中")
    assert not evaluate(junior_only, "初级", nobody).eligible
    for level in ("中级", "senior"):
        verdict = evaluate(junior_only, level, nobody)
        assert (verdict.eligible, verdict.route, verdict.reasons) == (True, None, [])
    with pytest.raises(ValueError, match="报考等级「初极」无效，应为 初级、中级、高级 之一"):
        evaluate(junior_only, "初极", nobody)


def test_applicant_values_are_checked() -> None:
    with pytest.raises(ValueError, match="学历「大学」无效"):
        who("大学")
    with pytest.raises(ValueError, match="相关工作年限 -1 不能为负数"):
        who("本科", years="-1")
    assert EDUCATION[0] == "初中" and EDUCATION[-1] == "博士"


def _problems(data: object) -> list[str]:
    with pytest.raises(EligibilityError) as raised:
        parse_rules(data, "x.yaml")
    assert str(raised.value) == "\n".join(raised.value.problems)
    return raised.value.problems


def test_malformed_rule_sets_list_every_problem_with_its_place() -> None:
    data = {
        "certificate": "logistics",
        "grade": 1,
        "major_categories": {"物流": ["物流"], "空": []},
        "levels": {
            "junior": {
                "name": "中级",
                "routes": [
                    {"text": "甲", "educaton_min": "高中"},
                    {"text": "乙", "education_in": ["中职", "中专"], "major_category": "财会"},
                    {"text": "丙", "education_min": "大学", "years_min": -1, "trained": False},
                    {"education_in": "中职"},
                    {"text": "丁", "years_min": "三年", "graduated": "yes"},
                ],
            },
            "intermediate": {"name": "中级", "routes": []},
            "expert": {"name": "专家", "routes": []},
        },
    }
    assert _problems(data) == [
        "x.yaml：未知的键 grade（可用：certificate、certificate_name、source、notes、"
        "major_categories、levels）",
        "x.yaml：major_categories.空：应为非空的关键词列表",
        "x.yaml：初级（junior）：名称应为 初级，现为 中级",
        "x.yaml：初级（junior）路径 1：未知的键 educaton_min（可用：text、education_in、"
        "education_min、major_category、certificate、years_min、trained、graduated）",
        "x.yaml：初级（junior）路径 1：没有任何条件；若该等级不限报考条件，请删去该等级",
        "x.yaml：初级（junior）路径 2 education_in：学历「中专」无效，应为 初中、中职、高中、高职、"
        "大专、本科、硕士、博士 之一",
        "x.yaml：初级（junior）路径 2：专业类别「财会」未定义（已定义：物流）",
        "x.yaml：初级（junior）路径 3 education_min：学历「大学」无效，应为 初中、中职、高中、高职、"
        "大专、本科、硕士、博士 之一",
        "x.yaml：初级（junior）路径 3：years_min 应为不小于 0 的年数，现为「-1」",
        "x.yaml：初级（junior）路径 3：trained 只能写 true；不要求时删去该项",
        "x.yaml：初级（junior）路径 4：text（原文）应为非空文字",
        "x.yaml：初级（junior）路径 4：education_in 应为学历列表，如 [中职]",
        "x.yaml：初级（junior）路径 5：years_min 应为不小于 0 的年数，现为「三年」",
        "x.yaml：初级（junior）路径 5：graduated 只能写 true；不要求时删去该项",
        "x.yaml：中级（intermediate）：没有任何报考路径（routes）；若该等级不限报考条件，请删去该等级",
        "x.yaml：未知等级 expert（可用：junior、intermediate、senior）",
    ]


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ([1, 2], "x.yaml：应为键值映射，现为 list"),
        ({"certificate": "logistics"}, "x.yaml：levels 应为按等级（junior、intermediate、senior）列出报考路径的映射"),
        ({"levels": {"junior": {"routes": [{"text": "甲", "trained": True}]}}}, "x.yaml：certificate（证书代码）应为非空文字"),
        ({"certificate": "c", "levels": {"junior": {"routes": ["甲"]}}}, "x.yaml：初级（junior）路径 1：应为键值映射，现为 str"),
        ({"certificate": "c", "major_categories": ["物流"], "levels": {"junior": {"routes": [{"text": "甲", "major_category": "物流"}]}}}, "x.yaml：major_categories：应为“类别: [关键词, …]”的映射"),
    ],
)  # fmt: skip
def test_structural_problems(data: object, problem: str) -> None:
    assert problem in _problems(data)


def test_yaml_syntax_error_is_an_eligibility_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("levels: [unclosed\n", encoding="utf-8")
    with pytest.raises(EligibilityError, match="不是有效的 YAML"):
        load_rules(path)


def test_level_rules_are_found_by_key_or_name() -> None:
    assert RULES.level("junior") is RULES.level("初级") is RULES.levels["junior"]
    assert RULES.level("expert") is None
