"""Score histograms as inline SVG (成绩分布图) for report pages and exports.

The SVG is self-contained: no script, no external font, image or style sheet, so it works on an
offline exam LAN and in a saved report. For screen readers it is one image (``role="img"``)
named by its ``<title>`` and described by a ``<desc>`` listing every bar's count; each bar also
has its own ``<title>`` (a tooltip on hover). Every text is escaped, so a plan or site name
cannot inject markup into the page.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from xml.sax.saxutils import escape

from .scoring import GradingError
from .statistics import Bin, plain_number

CHART_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
# Characters XML 1.0 forbids; a name pasted from elsewhere could carry one and break the page.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
BAR = "#2f5d8c"  # contrast 6.9:1 on white, above WCAG's 3:1 for graphics
INK = "#222222"
GRID = "#d8d8d8"
FONT = "sans-serif"  # the reader's own CJK font; nothing is downloaded


def _text(value: str) -> str:
    return escape(_NOT_XML.sub("", value), {'"': "&quot;"})


def _n(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _y_step(peak: int) -> int:
    """A round step (1, 2, 5, 10, 20, …) giving at most five gridlines up to ``peak``."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if peak <= 5 * step * factor:
                return step * factor
        step *= 10


def histogram_svg(
    bins: Sequence[Bin],
    title: str,
    x_label: str = "分数",
    y_label: str = "人数",
    chart_id: str = "histogram",
    width: int = 640,
    height: int = 360,
) -> str:
    """An accessible SVG bar chart of ``bins`` (``statistics.histogram``) as a string.

    ``chart_id`` prefixes the ids ``<title>`` and ``<desc>`` carry: give each chart on a page
    its own.
    """
    if not bins:
        raise GradingError("分数段为空，无法绘图：请先用 histogram() 统计分数")
    if not CHART_ID.match(chart_id):
        raise GradingError(
            f"图表编号“{chart_id}”无效：应以字母开头，只含字母、数字、“-”和“_”，最长 64 个字符"
        )
    if any(b.count < 0 for b in bins):
        raise GradingError("分数段人数不能为负：请用 histogram() 统计分数")
    if width < 200 or height < 150:
        raise GradingError(f"图表尺寸 {width}×{height} 太小：宽至少 200，高至少 150")
    left, right, top, bottom = 56, 16, 40, 56
    plot_w, plot_h = width - left - right, height - top - bottom
    base = top + plot_h
    peak = max(b.count for b in bins)
    step = _y_step(peak)
    y_max = max(step, -(-peak // step) * step)
    bar_w = plot_w / len(bins)
    total = sum(b.count for b in bins)
    summary = "；".join(f"{b.label} 分：{b.count} 人" for b in bins) + f"。共 {total} 人。"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" font-family="{FONT}" font-size="12">',
        f'<title id="{chart_id}-title">{_text(title)}</title>',
        f'<desc id="{chart_id}-desc">{_text(f"{x_label}分布：{summary}")}</desc>',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="{_n(width / 2)}" y="24" text-anchor="middle" font-size="15" '
        f'fill="{INK}" aria-hidden="true">{_text(title)}</text>',
        '<g aria-hidden="true">',
    ]
    for tick in range(0, y_max + 1, step):
        y = base - plot_h * tick / y_max
        out.append(
            f'<line x1="{left}" y1="{_n(y)}" x2="{left + plot_w}" y2="{_n(y)}" stroke="{GRID}"/>'
        )
        out.append(
            f'<text x="{left - 6}" y="{_n(y + 4)}" text-anchor="end" fill="{INK}">{tick}</text>'
        )
    # Edges rather than ranges under the bars: they stay legible however many bins there are.
    every = 1 if bar_w >= 28 else 2
    for i in range(len(bins) + 1):
        if i % every and i != len(bins):
            continue
        edge = bins[i].low if i < len(bins) else bins[-1].high
        x = left + bar_w * i
        out.append(
            f'<text x="{_n(x)}" y="{base + 18}" text-anchor="middle" fill="{INK}">'
            f"{_text(plain_number(edge))}</text>"
        )
    out.append("</g>")
    for i, b in enumerate(bins):
        h = plot_h * b.count / y_max
        x = left + bar_w * i + 1
        out.append(
            f'<rect x="{_n(x)}" y="{_n(base - h)}" width="{_n(max(bar_w - 2, 1))}" '
            f'height="{_n(h)}" fill="{BAR}"><title>{_text(f"{b.label} 分：{b.count} 人")}'
            "</title></rect>"
        )
        if b.count:
            out.append(
                f'<text x="{_n(x + bar_w / 2 - 1)}" y="{_n(base - h - 4)}" text-anchor="middle" '
                f'fill="{INK}" aria-hidden="true">{b.count}</text>'
            )
    out += [
        f'<line x1="{left}" y1="{base}" x2="{left + plot_w}" y2="{base}" stroke="{INK}" '
        'aria-hidden="true"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{base}" stroke="{INK}" aria-hidden="true"/>',
        f'<text x="{_n(left + plot_w / 2)}" y="{height - 14}" text-anchor="middle" '
        f'fill="{INK}" aria-hidden="true">{_text(x_label)}</text>',
        f'<text x="16" y="{_n(top + plot_h / 2)}" text-anchor="middle" fill="{INK}" '
        f'transform="rotate(-90 16 {_n(top + plot_h / 2)})" aria-hidden="true">'
        f"{_text(y_label)}</text>",
        "</svg>",
    ]
    return "\n".join(out)
