"""Group statistics and rater agreement against hand-computed values; the histogram SVG."""

from __future__ import annotations

import re
import statistics
import xml.etree.ElementTree as ET
from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from examsvc.grading.charts import histogram_svg
from examsvc.grading.marking import Resolution
from examsvc.grading.results import CandidateResult, PartResult, part_score
from examsvc.grading.scoring import GradingError
from examsvc.grading.statistics import (
    Bin,
    group_stats,
    histogram,
    pearson,
    rate,
    rater_agreement,
)

SETTINGS = settings(max_examples=100, deadline=None, derandomize=True)
DAY = date(2026, 6, 13)
SVG = "{http://www.w3.org/2000/svg}"


def part(kind: str, state: str) -> PartResult:
    if state == "absent":
        return PartResult(kind, "absent", DAY)
    if state == "voided":
        return PartResult(kind, "voided", DAY, reason="违纪：使用手机")
    if state == "pending":
        return PartResult(kind, "pending", DAY)
    if state.startswith("carried "):
        return PartResult(kind, "scored", date(2025, 12, 1), D(state.split()[1]), carried=True)
    return part_score(kind, D(state), DAY)


def result(name: str, theory: str, practical: str) -> CandidateResult:
    return CandidateResult(name, part("theory", theory), part("practical", practical))


GROUP = [
    result("c1", "80", "70"),  # passed
    result("c2", "55", "90"),  # failed
    result("c3", "absent", "absent"),  # absent
    result("c4", "60", "voided"),  # voided
    result("c5", "carried 75", "65"),  # retake, passed
    result("c6", "95", "pending"),  # pending
]


# --- group statistics -------------------------------------------------------------------------


def test_overall_figures_count_every_candidate_and_include_retakes() -> None:
    stats = group_stats(GROUP)
    assert (stats.registered, stats.sat, stats.passed, stats.pending, stats.retakes) == (
        6,
        5,
        2,
        1,
        1,
    )
    assert stats.sat_rate == D("0.8333")  # 5 / 6
    assert stats.pass_rate == D("0.4000")  # 2 / 5


def test_theory_figures_leave_out_the_carried_part() -> None:
    theory = group_stats(GROUP).theory
    assert (theory.registered, theory.sat, theory.absent, theory.voided, theory.pending) == (
        5,
        4,
        1,
        0,
        0,
    )
    assert theory.passed == 3  # 80, 60, 95
    assert (theory.sat_rate, theory.pass_rate) == (D("0.8000"), D("0.7500"))
    assert theory.mean == D("72.50")  # (80 + 55 + 60 + 95) / 4
    assert theory.std == D("16.01")  # √(1025 / 4), population
    assert {b.label: b.count for b in theory.histogram if b.count} == {
        "50–60": 1,
        "60–70": 1,
        "80–90": 1,
        "90–100": 1,
    }


def test_practical_figures_keep_voided_and_pending_in_the_denominator() -> None:
    practical = group_stats(GROUP).practical
    assert (practical.registered, practical.sat, practical.absent) == (6, 5, 1)
    assert (practical.voided, practical.pending, practical.passed) == (1, 1, 3)
    assert (practical.sat_rate, practical.pass_rate) == (D("0.8333"), D("0.6000"))
    assert (practical.mean, practical.std) == (D("75.00"), D("10.80"))  # 70, 90, 65


def test_an_empty_group_has_no_rates_rather_than_zero() -> None:
    stats = group_stats([])
    assert (stats.registered, stats.sat_rate, stats.pass_rate) == (0, None, None)
    assert (stats.theory.mean, stats.theory.std) == (None, None)
    assert sum(b.count for b in stats.theory.histogram) == 0
    absent_only = group_stats([result("c1", "absent", "absent")])
    assert (absent_only.sat_rate, absent_only.pass_rate) == (D(0), None)


def test_a_candidate_counts_once() -> None:
    with pytest.raises(GradingError, match="考生“c1”在这组成绩中出现了两次"):
        group_stats([GROUP[0], GROUP[0]])


@SETTINGS
@given(st.lists(st.integers(0, 1000).map(lambda n: D(n) / 10), max_size=40))
def test_mean_and_deviation_agree_with_the_standard_library(scores: list[D]) -> None:
    results = [
        CandidateResult(
            f"c{i}", part_score("theory", s, DAY), PartResult("practical", "absent", DAY)
        )
        for i, s in enumerate(scores)
    ]
    theory = group_stats(results).theory
    if not scores:
        assert theory.mean is None
        return
    assert abs(float(theory.mean or 0) - statistics.fmean(map(float, scores))) <= 0.005 + 1e-9
    assert abs(float(theory.std or 0) - statistics.pstdev(map(float, scores))) <= 0.005 + 1e-9
    assert sum(b.count for b in theory.histogram) == len(scores)


def test_rates_round_half_up_to_four_places() -> None:
    assert rate(1, 3) == D("0.3333")
    assert rate(2, 3) == D("0.6667")
    assert rate(1, 8) == D("0.1250")
    assert rate(0, 0) is None


# --- histogram --------------------------------------------------------------------------------


def test_histogram_bins_are_half_open_but_the_last_holds_100() -> None:
    bins = histogram([D(0), D("9.9"), D(10), D("59.9"), D(60), D(100)])
    assert [b.label for b in bins][:2] == ["0–10", "10–20"] and bins[-1].label == "90–100"
    assert [b.count for b in bins] == [2, 1, 0, 0, 0, 1, 1, 0, 0, 1]
    assert bins[-1].closed and not bins[0].closed
    fives = histogram([D("92.5"), D(95)], width=D(5))
    assert len(fives) == 20 and fives[18].label == "90–95" and fives[19].count == 1
    assert histogram([D("2.5")], width=D("2.5"))[1].label == "2.5–5"


def test_histogram_refuses_bad_widths_and_scores() -> None:
    with pytest.raises(GradingError, match="分数段宽度 7 无效：应为正数，且能整除分数范围 0–100"):
        histogram([], width=D(7))
    with pytest.raises(GradingError, match=re.escape("分数 100.5、-1 超出统计范围 0–100")):
        histogram([D("100.5"), D(-1)])


# --- rater agreement --------------------------------------------------------------------------


def resolution(first: str, second: str, points: str = "10") -> Resolution:
    a, b, p = D(first), D(second), D(points)
    needed = abs(a - b) > p * D("0.15")
    return Resolution("s", p, a, b, None, needed, None if needed else (a + b) / 2)


def test_agreement_by_hand() -> None:
    pairs = [resolution("5", "5"), resolution("6", "8"), resolution("3", "7"), resolution("9", "9")]
    agreement = rater_agreement(pairs)
    assert agreement.scripts == 4
    assert agreement.exact_rate == D("0.5000")
    assert agreement.mean_abs_difference == D("1.50")  # (0 + 2 + 4 + 0) / 4
    assert agreement.arbitration_rate == D("0.5000")  # 2 and 4 exceed 1.5
    assert agreement.pearson == D("0.6441")  # 8.25 / √(18.75 × 8.75)


def test_pearson_pools_items_of_different_points_by_share() -> None:
    pairs = [resolution("5", "6"), resolution("10", "12", "20"), resolution("2", "1")]
    assert rater_agreement(pairs).pearson == D(
        "1.0000"
    )  # shares (.5, .6) twice and (.2, .1): a line
    assert pearson([D(1), D(2), D(3)], [D(3), D(2), D(1)]) == D(-1)


def test_pearson_is_none_where_it_is_undefined() -> None:
    assert rater_agreement([]).pearson is None
    assert rater_agreement([]).exact_rate is None
    assert rater_agreement([resolution("5", "6")]).pearson is None  # one pair
    assert rater_agreement([resolution("5", "6"), resolution("5", "8")]).pearson is None  # constant
    with pytest.raises(GradingError, match="两组分数数量不同"):
        pearson([D(1)], [D(1), D(2)])


@SETTINGS
@given(
    st.lists(
        st.tuples(st.integers(0, 20), st.integers(0, 20)).map(lambda t: (D(t[0]) / 2, D(t[1]) / 2)),
        min_size=2,
        max_size=30,
    )
)
def test_pearson_agrees_with_the_standard_library(pairs: list[tuple[D, D]]) -> None:
    xs, ys = [x for x, _ in pairs], [y for _, y in pairs]
    r = pearson(xs, ys)
    if len(set(xs)) < 2 or len(set(ys)) < 2:
        assert r is None
    else:
        assert r is not None
        assert (
            abs(float(r) - statistics.correlation(list(map(float, xs)), list(map(float, ys))))
            < 6e-5
        )


# --- the SVG histogram ------------------------------------------------------------------------


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # raises on anything that is not well-formed XML
    assert root.tag == f"{SVG}svg"
    return root


def test_the_chart_is_well_formed_accessible_svg() -> None:
    bins = group_stats(GROUP).theory.histogram
    root = parse(histogram_svg(bins, "2026 年 6 月 理论考试成绩分布", chart_id="theory-chart"))
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "theory-chart-title theory-chart-desc"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and title.get("id") == "theory-chart-title"
    assert title.text == "2026 年 6 月 理论考试成绩分布"
    assert desc is not None and desc.get("id") == "theory-chart-desc"
    assert desc.text is not None and "50–60 分：1 人" in desc.text and "共 4 人" in desc.text
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "分数" in texts and "人数" in texts  # axis labels in Chinese
    bars = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert len(bars) == 10
    assert [bar.findtext(f"{SVG}title") for bar in bars][5] == "50–60 分：1 人"


def test_the_chart_has_no_script_and_loads_nothing() -> None:
    svg = histogram_svg(histogram([D(70)]), "成绩")
    root = parse(svg)
    assert not [e for e in root.iter() if e.tag in (f"{SVG}script", f"{SVG}image", f"{SVG}style")]
    assert not [k for e in root.iter() for k in e.attrib if k.startswith("on") or "href" in k]
    assert re.findall(r"https?://[^\"]+", svg) == ["http://www.w3.org/2000/svg"]


def test_every_text_is_escaped() -> None:
    hostile = '</title><script>alert("x")</script> & 考点\x01\ufffe'
    root = parse(histogram_svg(histogram([]), hostile, x_label="<分>", y_label='"人"'))
    assert root.findtext(f"{SVG}title") == '</title><script>alert("x")</script> & 考点'
    assert not list(root.iter(f"{SVG}script"))
    assert {"<分>", '"人"'} <= {t.text for t in root.iter(f"{SVG}text")}


def bar_heights(root: ET.Element) -> list[float]:
    return [
        float(r.get("height", "0"))
        for r in root.iter(f"{SVG}rect")
        if r.find(f"{SVG}title") is not None
    ]


@SETTINGS
@given(st.lists(st.integers(0, 5000), min_size=1, max_size=100))
def test_bars_are_proportional_to_the_counts(counts: list[int]) -> None:
    bins = [Bin(D(i), D(i + 1), c, closed=i == len(counts) - 1) for i, c in enumerate(counts)]
    heights = bar_heights(parse(histogram_svg(bins, "分布")))
    peak = max(counts)
    assert len(heights) == len(counts)
    if peak:
        scale = heights[counts.index(peak)] / peak
        assert all(abs(h - c * scale) <= 0.1 for h, c in zip(heights, counts, strict=True))
        assert 0 < heights[counts.index(peak)] <= 264  # the plot area's height
    else:
        assert set(heights) == {0.0}


def test_bad_chart_input_is_refused() -> None:
    with pytest.raises(GradingError, match="分数段为空，无法绘图"):
        histogram_svg([], "成绩")
    with pytest.raises(GradingError, match="图表编号“1 chart”无效"):
        histogram_svg(histogram([]), "成绩", chart_id="1 chart")
    with pytest.raises(GradingError, match="图表尺寸 100×100 太小"):
        histogram_svg(histogram([]), "成绩", width=100, height=100)
