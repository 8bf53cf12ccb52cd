"""Certificates as PNG and PDF on A4 landscape, with real Chinese text and the verify QR.

The page is laid out once, in millimetres, as the drawing operations of the admission tickets
(``plans.admission_ticket``: ``Page``, ``fit``, ``Text``/``Box``/``Picture``), and painted by
the tickets' painters (``paint_png`` and ``pdf_document``, told the page is A4 landscape), so
certificates and tickets share fonts, line breaking and the PDF text layer (names and numbers
can be searched and copied).

The QR is error-correction level Q (25 % of the code may be lost to a stain or a seal's edge)
with its 4-module quiet zone, about ``qr_size`` mm including that zone: whole pixels per module
at 150 dpi, as for tickets, so the PNG and the PDF show the same square. Under it: the
certificate number and the check code, for people without a scanner.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import qrcode
import qrcode.constants
from PIL import Image

from ..plans.admission_ticket import (
    DPI,
    PAGE_H,
    PAGE_W,
    PT,
    Box,
    Measure,
    Op,
    Page,
    Picture,
    find_cjk_font,
    fit,
    measure_for,
    paint_png,
    pdf_document,
)

WIDTH, HEIGHT = PAGE_H, PAGE_W  # A4 landscape, mm
PLACEHOLDERS = ("name", "certificate", "level", "organization")
FORMATS = ("pdf", "png")


@dataclass(frozen=True)
class CertificateData:
    """What one certificate shows; every text is as printed."""

    number: str
    check_code: str
    name: str
    id_number: str
    certificate: str  # certificate name, e.g. Web前端开发
    level: str  # e.g. 初级
    issued: date
    organization: str  # issuing evaluation organization
    verify_url: str  # what the QR holds
    expires: date | None = None


@dataclass(frozen=True)
class CertificateLayout:
    """The configurable parts of the page; sizes in mm, type sizes in points."""

    title: str = "职业技能等级证书"
    subtitle: str = "VOCATIONAL SKILL LEVEL CERTIFICATE"
    # {name}, {certificate}, {level} and {organization} are filled in.
    statement: str = "{name}参加{certificate}职业技能等级（{level}）考核，成绩合格，特发此证。"
    margin: float = 10.0
    frame: bool = True
    title_size: float = 32.0
    text_size: float = 14.0
    show_id_number: bool = True
    qr_size: float = 30.0
    qr_caption: str = "扫码验证证书真伪"
    seal_label: str = "（盖章）"

    def __post_init__(self) -> None:
        if not 5 <= self.margin <= 30:
            raise ValueError(f"页边距 {self.margin} mm 无效：应在 5–30 mm 之间")
        if not 20 <= self.qr_size <= 60:
            raise ValueError(
                f"二维码边长 {self.qr_size} mm 无效：应在 20–60 mm 之间（建议约 30 mm）"
            )
        if not 8 <= self.text_size <= 24 or not 16 <= self.title_size <= 60:
            raise ValueError(
                f"字号无效：正文应为 8–24 磅（现为 {self.text_size}），"
                f"标题应为 16–60 磅（现为 {self.title_size}）"
            )
        try:
            self.statement.format(**dict.fromkeys(PLACEHOLDERS, ""))
        except (KeyError, IndexError, ValueError) as exc:
            allowed = "、".join(f"{{{p}}}" for p in PLACEHOLDERS)
            raise ValueError(
                f"证书正文模板“{self.statement}”无效（{exc}）：只能使用占位符 {allowed}"
            ) from exc


def _day(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def qr_image(payload: str) -> Image.Image:
    """The QR of ``payload`` (level Q, quiet zone of 4), one pixel per module."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_Q, border=4)
    code.add_data(payload)
    code.make(fit=True)
    matrix = code.get_matrix()
    image = Image.new("1", (len(matrix), len(matrix)), 1)
    image.putdata([0 if dark else 1 for row in matrix for dark in row])
    return image


def page_ops(cert: CertificateData, layout: CertificateLayout, measure: Measure) -> list[Op]:
    """The certificate as drawing operations on an A4 landscape page, in mm (top-left origin)."""
    page = Page(measure)
    m = layout.margin
    if layout.frame:
        page.ops.append(Box(m, m, WIDTH - 2 * m, HEIGHT - 2 * m, line=1.2))
        page.ops.append(Box(m + 2.5, m + 2.5, WIDTH - 2 * m - 5, HEIGHT - 2 * m - 5, line=0.3))
    inner_left, inner_width = m + 25, WIDTH - 2 * (m + 25)

    y = m + 14
    size, title = fit(layout.title, inner_width, layout.title_size, measure, 1, 16)
    page.lines(title, inner_left, y, inner_width, size * PT * 1.4, size, "center", bold=True)
    y += size * PT * 1.4 + 1
    if layout.subtitle:
        page.lines([layout.subtitle], inner_left, y, inner_width, 6, 10, "center")
        y += 8

    y += 8
    values = {
        "name": cert.name,
        "certificate": cert.certificate,
        "level": cert.level,
        "organization": cert.organization,
    }
    size, statement = fit(
        layout.statement.format(**values), inner_width, layout.text_size + 2, measure, 3, 10
    )
    step = size * PT * 1.6
    page.lines(statement, inner_left, y, inner_width, step * len(statement), size)
    y += step * len(statement) + 8

    rows = [("姓　　名", cert.name)]
    if layout.show_id_number:
        rows.append(("身份证号", cert.id_number))
    rows += [
        ("证书名称", cert.certificate),
        ("等　　级", cert.level),
        ("证书编号", cert.number),
        ("发证日期", _day(cert.issued)),
    ]
    if cert.expires is not None:
        rows.append(("有效期至", _day(cert.expires)))
    qr = qr_image(cert.verify_url)
    # Whole pixels per module at 150 dpi, so the PNG and the PDF show the same square.
    side = max(1, round(layout.qr_size / 25.4 * DPI) // qr.width) * qr.width * 25.4 / DPI
    qr_x = WIDTH - m - 25 - max(side, 50) / 2 - side / 2
    label_w, value_w = 30.0, qr_x - inner_left - 30 - 8
    table_top, row_h = y, max(9.0, layout.text_size * PT * 1.9)
    for label, value in rows:
        s, lines = fit(value, value_w - 4, layout.text_size, measure, 2, 9)
        height = max(row_h, len(lines) * s * PT * 1.35 + 2)
        page.lines([label + "："], inner_left, y, label_w, height, layout.text_size)
        page.lines(lines, inner_left + label_w, y, value_w, height, s)
        y += height

    page.ops.append(Picture(qr_x, table_top, side, side, qr, crisp=True))
    under = table_top + side
    block_x, block_w = qr_x + side / 2 - 30, 60.0
    for text, size in (
        (layout.qr_caption, 9.0),
        (f"证书编号 {cert.number}", 8.0),
        (f"校验码 {cert.check_code}", 10.0),
    ):
        if text:
            page.lines([text], block_x, under, block_w, size * PT * 1.5, size, "center")
            under += size * PT * 1.5

    bottom = HEIGHT - m - 14
    sign_w = 110.0
    sign_x = WIDTH - m - 25 - sign_w
    s, org = fit(f"发证机构：{cert.organization}", sign_w, layout.text_size, measure, 2, 9)
    lines = [*org, *([layout.seal_label] if layout.seal_label else []), _day(cert.issued)]
    height = len(lines) * s * PT * 1.5
    page.lines(lines, sign_x, bottom - height, sign_w, height, s, "right")
    return page.ops


def render_png(
    cert: CertificateData, layout: CertificateLayout | None = None, font: Path | None = None
) -> bytes:
    """The certificate as an A4 landscape PNG at 150 dpi (1754 × 1240 px)."""
    path = font or find_cjk_font()
    ops = page_ops(cert, layout or CertificateLayout(), measure_for(path))
    out = io.BytesIO()
    paint_png(ops, path, (WIDTH, HEIGHT)).save(out, "PNG", dpi=(DPI, DPI))
    return out.getvalue()


def render_pdf(
    certs: Sequence[CertificateData],
    layout: CertificateLayout | None = None,
    font: Path | None = None,
) -> bytes:
    """The certificates as one PDF, an A4 landscape page each, text embedded as text."""
    if not certs:
        raise ValueError("没有要打印的证书")
    chosen = layout or CertificateLayout()
    return pdf_document(
        "职业技能等级证书",
        font,
        lambda measure: (page_ops(cert, chosen, measure) for cert in certs),
        landscape=True,
    )


def render_zip(
    certs: Sequence[CertificateData],
    layout: CertificateLayout | None = None,
    font: Path | None = None,
    formats: Sequence[str] = FORMATS,
) -> bytes:
    """A zip with ``<number>.pdf`` and/or ``<number>.png`` for each certificate."""
    if not certs:
        raise ValueError("没有要打印的证书")
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ValueError(f"证书文件格式“{'、'.join(unknown)}”无效：应为 pdf 和/或 png")
    numbers = [c.number for c in certs]
    if repeated := sorted({n for n in numbers if numbers.count(n) > 1}):
        raise ValueError(f"证书编号 {'、'.join(repeated)} 出现了不止一次：每张证书只应打印一份")
    path = font or find_cjk_font()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for cert in certs:
            stamp = (cert.issued.year, cert.issued.month, cert.issued.day, 0, 0, 0)
            for fmt in formats:
                data = (
                    render_pdf([cert], layout, path)
                    if fmt == "pdf"
                    else render_png(cert, layout, path)
                )
                info = zipfile.ZipInfo(f"{cert.number}.{fmt}", date_time=stamp)
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, data)
    return out.getvalue()
