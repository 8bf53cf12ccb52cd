"""Admission tickets: real text in the PDF, an A4 PNG whose QR is the payload's, long names fit.

These tests need a CJK TrueType font and fail (never skip) without one: CI installs
fonts-wqy-microhei, and EXAMSVC_CJK_FONT points elsewhere when set.
"""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date, time
from pathlib import Path

import pytest
import qrcode
import qrcode.constants
from PIL import Image
from pypdf import PdfReader

from examsvc.plans.admission_ticket import (
    DPI,
    MARGIN,
    PAGE_H,
    PAGE_W,
    PHOTO_H,
    PHOTO_W,
    Box,
    FontMissing,
    Picture,
    Text,
    TicketData,
    TicketSession,
    find_cjk_font,
    layout,
    measure_for,
    qr_matrix,
    render_pdf,
    render_png,
    wrap,
)

LONG_INSTITUTION = (
    "新疆维吾尔自治区伊犁哈萨克自治州奎屯市天北新区职业技术教育与继续教育联合培训学院"
)


def ticket(**changes: object) -> TicketData:
    base = TicketData(
        ticket_number="25000100010215",
        name="欧阳明轩",
        id_number="11010519491231002X",
        gender="男",
        institution="北京信息职业技术学院",
        certificate="Web前端开发",
        level="初级",
        batch="2025年第一批",
        sessions=(
            TicketSession("理论考试", date(2025, 6, 14), time(9, 0), time(10, 30)),
            TicketSession("实操考试", date(2025, 6, 14), time(13, 30), time(16, 0)),
        ),
        site="北京信息职业技术学院考核站点",
        address="北京市朝阳区望京东园七区人民路56号",
        room="第02考场",
        seat="15",
        qr_payload="https://exam.example/checkin/25000100010215?t=0f3a",
        notes=("考生须凭本准考证和本人身份证原件入场", "考试开始15分钟后不得入场"),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def jpeg(color: tuple[int, int, int], size: tuple[int, int] = (120, 160)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG")
    return out.getvalue()


def page_texts(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def test_pdf_has_one_page_per_ticket_with_the_fields_as_text(font: Path) -> None:
    second = ticket(name="王芳", ticket_number="25000100010216", room="第03考场", seat="16")
    pdf = render_pdf([ticket(), second], font)
    first_page, second_page = page_texts(pdf)
    for text in ("欧阳明轩", "25000100010215", "第02考场", "11010519491231002X", "准考证"):
        assert text in first_page
    for text in ("王芳", "25000100010216", "第03考场"):
        assert text in second_page
    assert "欧阳明轩" not in second_page
    assert "2025年6月14日（星期六）" in first_page and "09:00–10:30" in first_page
    assert "入场签到" in first_page and "考生须知" in first_page


def test_pdf_embeds_the_photo_and_the_qr_code_as_images(font: Path) -> None:
    with_photo, without = PdfReader(
        io.BytesIO(render_pdf([ticket(photo=jpeg((200, 30, 30))), ticket()], font))
    ).pages
    assert len(with_photo.images) == 2
    assert len(without.images) == 1  # the QR code; the placeholder is drawn
    assert "照片" in without.extract_text()


def test_empty_batch_is_refused(font: Path) -> None:
    with pytest.raises(ValueError, match="没有要打印的准考证"):
        render_pdf([], font)


def test_png_is_a4_at_150_dpi(font: Path) -> None:
    image = Image.open(io.BytesIO(render_png(ticket(), font)))
    assert image.format == "PNG"
    assert image.size == (1240, 1754)
    assert round(image.info["dpi"][0]) == DPI


def test_qr_code_is_the_payload_and_the_png_shows_it_module_for_module(font: Path) -> None:
    payload = ticket().qr_payload
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(payload)
    code.make(fit=True)
    expected = code.get_matrix()
    assert qr_matrix(payload) == expected

    (qr,) = [op for op in layout(ticket(), measure_for(font)) if isinstance(op, Picture)]
    assert qr.crisp
    image = Image.open(io.BytesIO(render_png(ticket(), font))).convert("L")
    scale = DPI / 25.4
    left, top = round(qr.x * scale), round(qr.y * scale)
    width = round((qr.x + qr.w) * scale) - left
    modules = len(expected)
    step = round(width / modules)
    assert step >= 3  # at least 3 pixels per module at 150 dpi
    offset = (width - step * modules) // 2
    seen = [
        [
            image.getpixel(
                (left + offset + c * step + step // 2, top + offset + r * step + step // 2)
            )
            == 0
            for c in range(modules)
        ]
        for r in range(modules)
    ]
    assert seen == expected


def test_photo_is_placed_in_a_3_by_4_box_and_the_placeholder_says_照片(font: Path) -> None:
    measure = measure_for(font)
    red = layout(ticket(photo=jpeg((200, 30, 30), (300, 300))), measure)
    (photo,) = [op for op in red if isinstance(op, Picture) and not op.crisp]
    assert (photo.w, photo.h) == (PHOTO_W, PHOTO_H)
    assert photo.image.width * 4 == photo.image.height * 3  # a square photo is cropped to 3:4
    png = Image.open(io.BytesIO(render_png(ticket(photo=jpeg((200, 30, 30))), font)))
    centre = ((photo.x + photo.w / 2) * DPI / 25.4, (photo.y + photo.h / 2) * DPI / 25.4)
    r, g, b = png.convert("RGB").getpixel((round(centre[0]), round(centre[1])))  # type: ignore[misc]
    assert r > 150 and g < 80 and b < 80

    empty = layout(ticket(), measure)
    assert not [op for op in empty if isinstance(op, Picture) and not op.crisp]
    assert any(isinstance(op, Text) and op.text == "照片" for op in empty)


def test_unreadable_photo_names_the_ticket(font: Path) -> None:
    with pytest.raises(ValueError, match="准考证 25000100010215 的照片无法读取"):
        render_png(ticket(photo=b"not an image"), font)


def _inside_boxes(ops: list[Box | Text | Picture], font: Path) -> None:
    """Every text ends inside the smallest box around its start, and on the page."""
    measure = measure_for(font)
    boxes = [op for op in ops if isinstance(op, Box)]
    for op in ops:
        if not isinstance(op, Text):
            continue
        right = op.x + measure.width(op.text, op.size)
        assert op.x >= MARGIN - 3 and right <= PAGE_W - MARGIN + 3, op.text
        assert op.baseline <= PAGE_H - MARGIN, op.text
        around = [
            b
            for b in boxes
            if b.x <= op.x <= b.x + b.w and b.y <= op.baseline <= b.y + b.h and b.line < 0.5
        ]
        if around:
            box = min(around, key=lambda b: b.w * b.h)
            assert right <= box.x + box.w, (op.text, box)


def test_a_40_character_institution_and_long_address_wrap_inside_their_cells(font: Path) -> None:
    assert len(LONG_INSTITUTION) == 40
    long = ticket(
        institution=LONG_INSTITUTION,
        address="广西壮族自治区南宁市西乡塘区大学东路一百八十八号广西职业技术学院实训楼B座五层",
        name="阿卜杜热合曼·买买提艾力·阿不都瓦依提",
        certificate="工业机器人集成应用与智能制造生产线运维管理",
        room="第12考场（计算机与信息工程学院实训中心机房A区）",
    )
    ops = layout(long, measure_for(font))
    _inside_boxes(ops, font)  # type: ignore[arg-type]
    institution_lines = [
        op.text for op in ops if isinstance(op, Text) and op.text and op.text in LONG_INSTITUTION
    ]
    assert "".join(institution_lines) == LONG_INSTITUTION
    assert len(institution_lines) >= 2
    text = page_texts(render_pdf([long], font))[0].replace("\n", "").replace(" ", "")
    assert LONG_INSTITUTION in text


def test_many_notes_shrink_and_are_cut_at_the_page_end(font: Path) -> None:
    notes = tuple(
        f"第{n}条须知：考生应当遵守考场规则，服从监考人员的安排和管理。" for n in range(60)
    )
    ops = layout(ticket(notes=notes), measure_for(font))
    _inside_boxes(ops, font)  # type: ignore[arg-type]
    texts = [op for op in ops if isinstance(op, Text)]
    assert texts[-1].text == "……"
    assert min(op.size for op in texts) >= 7.5


def test_wrap_keeps_latin_runs_whole_and_punctuation_off_the_line_start(font: Path) -> None:
    measure = measure_for(font)
    width = measure.width("测试测试测", 12)
    lines = wrap("测试测试测，Web前端", width, 12, measure)
    assert lines[:2] == ["测试测试", "测，Web"]  # the comma takes the character before it along
    assert all(measure.width(line, 12) <= width for line in lines)
    assert wrap("", 50, 12, measure) == [""]
    long = wrap("A" * 40, width, 12, measure)  # a Latin run wider than the line is cut
    assert "".join(long) == "A" * 40 and len(long) > 1
    assert all(measure.width(line, 12) <= width for line in long)


def test_configured_font_that_does_not_exist_says_what_to_install_and_set() -> None:
    with pytest.raises(FontMissing) as caught:
        find_cjk_font("/nonexistent/fonts/simhei.ttf")
    message = str(caught.value)
    assert "/nonexistent/fonts/simhei.ttf" in message
    assert "EXAMSVC_CJK_FONT" in message
    assert "apt-get install fonts-wqy-microhei" in message


def test_cff_font_collections_are_refused(tmp_path: Path) -> None:
    # A collection header whose first face is CFF-flavoured ("OTTO"), as Noto CJK's .ttc.
    fake = tmp_path / "NotoSansCJK-Regular.ttc"
    fake.write_bytes(b"ttcf\x00\x01\x00\x00\x00\x00\x00\x01\x00\x00\x00\x10OTTO" + bytes(64))
    with pytest.raises(FontMissing, match="CFF"):
        find_cjk_font(str(fake))
    other = tmp_path / "readme.ttf"
    other.write_bytes(b"hello, not a font")
    with pytest.raises(FontMissing, match="不是 TrueType 字体"):
        find_cjk_font(str(other))


def test_configured_font_is_used(font: Path) -> None:
    assert find_cjk_font(str(font)) == font
