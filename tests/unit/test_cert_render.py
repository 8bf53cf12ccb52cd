"""Certificate pages: the QR decodes (zxing-cpp) to the verify URL, the PDF's text is the
certificate's, Chinese really renders (distinct glyphs, not blank and not tofu), and a batch
comes as a zip.

These tests need a CJK TrueType font and fail (never skip) without one, as the ticket tests do.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image, ImageChops
from pypdf import PdfReader

from examsvc.certificates.render import (
    CertificateData,
    CertificateLayout,
    page_ops,
    render_pdf,
    render_png,
    render_zip,
)
from examsvc.certificates.token import sign, verify_url
from examsvc.plans.admission_ticket import DPI, PT, Picture, Text, measure_for

from .test_cert_support import BASE, make_claims, make_key

NON_CJK_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")  # fonts-dejavu-core


def certificate(**changes: object) -> CertificateData:
    signer, _ = make_key()
    signed = sign(make_claims(), signer)
    base = CertificateData(
        number="S000137000123255000001",
        check_code=signed.check_code,
        name="欧阳明轩",
        id_number="11010519491231002X",
        certificate="Web前端开发",
        level="初级",
        issued=date(2025, 6, 30),
        organization="工业和信息化部教育与考试中心",
        verify_url=verify_url(BASE, signed.token),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


CERT = certificate()


def test_png_is_a4_landscape_at_150_dpi(font: Path) -> None:
    image = Image.open(io.BytesIO(render_png(CERT, font=font)))
    assert image.format == "PNG" and image.size == (1754, 1240)
    assert round(image.info["dpi"][0]) == DPI


def test_the_qr_of_the_png_decodes_to_the_verify_url_at_level_q(font: Path) -> None:
    image = Image.open(io.BytesIO(render_png(CERT, font=font)))
    (code,) = zxingcpp.read_barcodes(image)
    assert code.format == zxingcpp.BarcodeFormat.QRCode
    assert code.text == CERT.verify_url
    assert code.ec_level == "Q"


def test_the_qr_is_about_30_mm_with_its_quiet_zone(font: Path) -> None:
    (qr,) = [
        op
        for op in page_ops(CERT, CertificateLayout(), measure_for(font))
        if isinstance(op, Picture)
    ]
    assert qr.crisp and 25 <= qr.w <= 31 and qr.w == qr.h
    matrix = qr.image.convert("L")
    quiet = [matrix.getpixel((x, y)) for x in range(4) for y in range(matrix.height)]
    assert set(quiet) == {255}  # four light modules on the left edge, likewise all round
    bigger = page_ops(CERT, CertificateLayout(qr_size=45), measure_for(font))
    (large,) = [op for op in bigger if isinstance(op, Picture)]
    assert large.w > qr.w


def test_the_pdf_is_landscape_with_the_certificate_as_text(font: Path) -> None:
    reader = PdfReader(io.BytesIO(render_pdf([CERT, certificate(name="王芳")], font=font)))
    first, second = reader.pages
    assert float(first.mediabox.width) > float(first.mediabox.height)
    assert round(float(first.mediabox.width) / 72 * 25.4) == 297
    text = first.extract_text()
    for expected in (
        "欧阳明轩",
        "11010519491231002X",
        "Web前端开发",
        "初级",
        "S000137000123255000001",
        CERT.check_code,
        "2025年6月30日",
        "工业和信息化部教育与考试中心",
        "职业技能等级证书",
    ):
        assert expected in text
    assert "王芳" in second.extract_text() and "欧阳明轩" not in second.extract_text()
    assert len(first.images) == 1  # the QR


def _glyph_cells(png: bytes, ops: list[object], name: str, font: Path) -> list[Image.Image]:
    """Each character of ``name`` as drawn, cropped to its ink and scaled to 16 × 16."""
    (op,) = [o for o in ops if isinstance(o, Text) and o.text == name]
    measure = measure_for(font)
    image = Image.open(io.BytesIO(png)).convert("L")
    scale = DPI / 25.4
    cells, x = [], op.x
    for char in name:
        width = measure.width(char, op.size)
        top, bottom = op.baseline - op.size * PT, op.baseline + op.size * PT * 0.25
        box = (
            round(x * scale),
            round(top * scale),
            round((x + width) * scale),
            round(bottom * scale),
        )
        ink = image.crop(box).point(lambda v: 255 if v < 128 else 0)
        bounds = ink.getbbox()
        assert bounds is not None, f"“{char}” left no ink"
        cells.append(ink.crop(bounds).resize((16, 16)))
        x += width
    return cells


def _share_differing(a: Image.Image, b: Image.Image) -> float:
    return sum(ImageChops.difference(a, b).histogram()[128:]) / 256


def _distinct_glyphs(font: Path, name: str = "欧阳明轩") -> bool:
    cert = certificate(name=name)
    ops = page_ops(cert, CertificateLayout(), measure_for(font))
    cells = _glyph_cells(render_png(cert, font=font), ops, name, font)
    pairs = [(a, b) for i, a in enumerate(cells) for b in cells[i + 1 :]]
    return all(_share_differing(a, b) > 0.15 for a, b in pairs)


def test_chinese_characters_render_as_distinct_glyphs(font: Path) -> None:
    assert _distinct_glyphs(font)


def test_the_glyph_check_tells_tofu_from_chinese() -> None:
    # A font without CJK glyphs draws the same empty box for every character.
    if not NON_CJK_FONT.is_file():
        pytest.skip(f"the control needs {NON_CJK_FONT} (fonts-dejavu-core)")
    assert not _distinct_glyphs(NON_CJK_FONT)


def test_long_names_and_organizations_fit_and_stay_text(font: Path) -> None:
    cert = certificate(
        name="阿卜杜热合曼·买买提依明",
        organization="新疆维吾尔自治区伊犁哈萨克自治州奎屯市天北新区职业技术教育与继续教育联合培训评价中心",
        expires=date(2030, 6, 30),
    )
    text = PdfReader(io.BytesIO(render_pdf([cert], font=font))).pages[0].extract_text()
    assert "阿卜杜热合曼·买买提依明" in text and "2030年6月30日" in text
    assert "有效期至" in text and "联合培训评价中心" in text
    for op in page_ops(cert, CertificateLayout(), measure_for(font)):
        if isinstance(op, Text):
            right = op.x + measure_for(font).width(op.text, op.size)
            assert op.x > 12.5 and right < 297 - 12.5  # inside the inner frame


def test_the_layout_is_configurable(font: Path) -> None:
    layout = CertificateLayout(
        title="职业技能等级证书（电子版）",
        subtitle="",
        statement="经{organization}考核，{name}达到{certificate}（{level}）要求。",
        show_id_number=False,
        frame=False,
    )
    text = PdfReader(io.BytesIO(render_pdf([CERT], layout, font))).pages[0].extract_text()
    assert "（电子版）" in text and "经工业和信息化部教育与考试中心考核，欧阳明轩达到" in text
    assert "11010519491231002X" not in text and "VOCATIONAL" not in text


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"qr_size": 10}, "二维码边长 10 mm 无效"),
        ({"margin": 2}, "页边距 2 mm 无效"),
        ({"statement": "{holder}考核合格"}, "只能使用占位符"),
        ({"text_size": 40}, "字号无效"),
    ],
)
def test_a_bad_layout_says_what_to_change(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CertificateLayout(**changes)  # type: ignore[arg-type]


def test_a_batch_is_a_zip_of_one_pdf_and_one_png_per_certificate(font: Path) -> None:
    second = certificate(name="王芳", number="S000137000123255000002")
    data = render_zip([CERT, second], font=font)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        assert names == [
            "S000137000123255000001.pdf",
            "S000137000123255000001.png",
            "S000137000123255000002.pdf",
            "S000137000123255000002.png",
        ]
        pdf = archive.read("S000137000123255000002.pdf")
        assert "王芳" in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
        assert archive.read(names[1]).startswith(b"\x89PNG")
    only_pdf = render_zip([CERT], font=font, formats=["pdf"])
    assert zipfile.ZipFile(io.BytesIO(only_pdf)).namelist() == ["S000137000123255000001.pdf"]


def test_a_batch_that_cannot_be_printed_is_refused(font: Path) -> None:
    with pytest.raises(ValueError, match="没有要打印的证书"):
        render_zip([], font=font)
    with pytest.raises(ValueError, match="出现了不止一次"):
        render_zip([CERT, CERT], font=font)
    with pytest.raises(ValueError, match="“svg”无效"):
        render_zip([CERT], font=font, formats=["svg"])
    with pytest.raises(ValueError, match="没有要打印的证书"):
        render_pdf([], font=font)
