"""Admission tickets (准考证) as PNG (Pillow) and PDF (fpdf2): plain data in, bytes out.

The layout is computed once, in millimetres on an A4 page, as a list of drawing operations; the
PNG painter (150 dpi, 1240 × 1754 px) and the PDF painter both paint that list, so the picture a
candidate downloads and the page a site prints are the same ticket. PDF text is real text in an
embedded subset of the font: names, ticket numbers and rooms can be searched and copied. The
sign-in sheets of ``exports`` are laid out with the same ``Page`` and ``fit`` and printed by
``pdf_document``.

Fonts: one CJK font file serves both painters, and it must have TrueType outlines (WenQuanYi
Micro Hei from Debian's fonts-wqy-microhei by default). fpdf2 embeds CFF-flavoured OpenType such
as Noto CJK since 2.8.6, but as of 2.8.9 it gives such a font an /Encoding that is a CMap
dictionary instead of Identity-H, and strict readers (pypdf) then extract garbage; a CFF font is
therefore refused with a message. Nothing is fetched from the network: exam LANs are offline.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, time
from functools import lru_cache
from pathlib import Path

import qrcode
import qrcode.constants
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError

FONT_SETTING = "EXAMSVC_CJK_FONT"
FONT_PACKAGE = "fonts-wqy-microhei"
# Debian's TrueType-outline CJK fonts, best first (package in the comment).
FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),  # fonts-wqy-microhei
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),  # fonts-wqy-zenhei
    Path("/usr/share/fonts/truetype/arphic/uming.ttc"),  # fonts-arphic-uming
    Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"),  # fonts-droid-fallback
)
TRUETYPE_TAGS = (b"\x00\x01\x00\x00", b"true")

PAGE_W, PAGE_H = 210.0, 297.0  # A4, mm
MARGIN = 15.0
DPI = 150
PT = 25.4 / 72  # mm per point
PHOTO_W, PHOTO_H = 30.0, 40.0  # 3:4
QR_SIZE = 34.0
WEEKDAYS = "一二三四五六日"
# Chinese line breaking: these never start a line.
NO_LINE_START = frozenset("，。、；：？！）》」』”’,.;:?!)%")


class FontMissing(RuntimeError):
    """No usable CJK TrueType font; the message says which package to install or what to set."""


@dataclass(frozen=True)
class TicketSession:
    part: str  # e.g. 理论考试
    date: date
    start: time
    end: time


@dataclass(frozen=True)
class TicketData:
    ticket_number: str
    name: str
    id_number: str
    gender: str
    institution: str
    certificate: str
    level: str
    batch: str
    sessions: tuple[TicketSession, ...]
    site: str
    address: str
    room: str
    seat: str
    qr_payload: str
    photo: bytes | None = None
    notes: tuple[str, ...] = ()


# ---- fonts -------------------------------------------------------------------------------------


def find_cjk_font(configured: str | None = None) -> Path:
    """The configured font file (setting EXAMSVC_CJK_FONT), else the first installed candidate."""
    install = f"apt-get install {FONT_PACKAGE}"
    if configured:
        path = Path(configured)
        if not path.is_file():
            raise FontMissing(
                f"{FONT_SETTING} 指向的字体文件 {path} 不存在：请改正该设置，"
                f"或删除该设置并安装 Debian 软件包（{install}）"
            )
        _require_truetype(path)
        return path
    for path in FONT_CANDIDATES:
        if path.is_file():
            return path
    raise FontMissing(
        f"找不到打印准考证所需的中文 TrueType 字体：请安装 Debian 软件包（{install}），"
        f"或把 {FONT_SETTING} 设为一个中文 TrueType 字体文件（.ttf/.ttc）的路径"
    )


def _require_truetype(path: Path) -> None:
    """Refuse fonts without TrueType outlines (read from the sfnt header of the first face)."""
    with path.open("rb") as f:
        tag = f.read(4)
        if tag == b"ttcf":  # a collection: the offset of the first face follows the header
            f.seek(12)
            f.seek(int.from_bytes(f.read(4), "big"))
            tag = f.read(4)
    if tag in TRUETYPE_TAGS:
        return
    fix = f"请改用一个中文 TrueType 字体（.ttf/.ttc），或删除该设置并安装 {FONT_PACKAGE}"
    fix += f"（apt-get install {FONT_PACKAGE}）"
    if tag == b"OTTO":
        raise FontMissing(
            f"{FONT_SETTING} 指向的 {path} 是 CFF 轮廓的 OpenType 字体（如 Noto CJK），"
            f"用它生成的 PDF 文字无法正确复制和检索：{fix}"
        )
    raise FontMissing(f"{FONT_SETTING} 指向的 {path} 不是 TrueType 字体：{fix}")


class Measure:
    """Text widths in mm, measured with the font both painters use."""

    REFERENCE = 1000  # px per em of the measuring font; large enough that hinting is negligible

    def __init__(self, path: Path) -> None:
        self.path = path
        self._font = ImageFont.truetype(
            str(path), self.REFERENCE, layout_engine=ImageFont.Layout.BASIC
        )
        self._advances: dict[str, float] = {}

    def width(self, text: str, size: float) -> float:
        """Width in mm of text at size points: the sum of the advances, as the PDF sets it."""
        return sum(self._advance(ch) for ch in text) * size * PT

    def _advance(self, ch: str) -> float:
        if ch not in self._advances:
            self._advances[ch] = self._font.getlength(ch) / self.REFERENCE
        return self._advances[ch]


@lru_cache(maxsize=4)
def measure_for(path: Path) -> Measure:
    return Measure(path)


def _tokens(text: str) -> list[str]:
    """Break opportunities: a run of Latin letters/digits stays whole, any other character alone."""
    tokens: list[str] = []
    for ch in text:
        if _latin(ch) and tokens and _latin(tokens[-1][-1]):
            tokens[-1] += ch
        else:
            tokens.append(ch)
    return tokens


def _latin(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def wrap(text: str, width: float, size: float, measure: Measure) -> list[str]:
    """Lines of text no wider than width mm at size pt, broken the Chinese way.

    A closing punctuation mark never starts a line: when it does not fit, the character before
    it moves down with it. A Latin run stays whole unless it is wider than a line by itself.
    """
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line: list[str] = []
        for token in _tokens(paragraph):
            if line and measure.width("".join(line) + token, size) > width:
                carry = [line.pop()] if token in NO_LINE_START and len(line) > 1 else []
                lines.append("".join(line).rstrip())
                line = carry
                if not line:
                    token = token.lstrip()
            line.append(token)
            while len(line) == 1 and len(line[0]) > 1 and measure.width(line[0], size) > width:
                run = line[0]
                cut = len(run) - 1
                while cut > 1 and measure.width(run[:cut], size) > width:
                    cut -= 1
                lines.append(run[:cut])
                line = [run[cut:]]
        lines.append("".join(line))
    return lines


def fit(
    text: str, width: float, size: float, measure: Measure, max_lines: int = 1, min_size: float = 8
) -> tuple[float, list[str]]:
    """The largest size down to min_size at which text wraps into max_lines; more lines below."""
    while True:
        lines = wrap(text, width, size, measure)
        if len(lines) <= max_lines or size <= min_size:
            return size, lines
        size = max(min_size, size - 0.5)


# ---- layout ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    x: float
    baseline: float
    text: str
    size: float  # pt
    bold: bool = False


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float
    line: float = 0.3  # mm; 0 draws no outline
    fill: int | None = None  # grey level 0–255


@dataclass(frozen=True)
class Picture:
    x: float
    y: float
    w: float
    h: float
    image: Image.Image
    crisp: bool = False  # QR codes: whole pixels per module, never smoothed; else a photograph


Op = Text | Box | Picture


def _baseline(top: float, height: float, size: float) -> float:
    """Baseline that centres a line of CJK text (ideographs sit about 0.38 em above it)."""
    return top + height / 2 + 0.36 * size * PT


class Page:
    """Drawing operations of one page, with text helpers; exports lay out their pages with it."""

    def __init__(self, measure: Measure) -> None:
        self.measure = measure
        self.ops: list[Op] = []

    def lines(
        self,
        lines: Sequence[str],
        x: float,
        top: float,
        width: float,
        height: float,
        size: float,
        align: str = "left",
        bold: bool = False,
    ) -> None:
        """Lines centred vertically in the box, aligned left or right (2 mm in) or centred."""
        step = size * PT * 1.35
        first = top + (height - step * len(lines)) / 2
        for n, line in enumerate(lines):
            if align == "center":
                left = x + (width - self.measure.width(line, size)) / 2
            elif align == "right":
                left = x + width - 2.0 - self.measure.width(line, size)
            else:
                left = x + 2.0
            self.ops.append(Text(left, _baseline(first + n * step, step, size), line, size, bold))

    def cell(
        self,
        x: float,
        top: float,
        width: float,
        height: float,
        lines: Sequence[str],
        size: float,
        label: bool = False,
    ) -> None:
        """A bordered cell; labels are shaded and centred."""
        self.ops.append(Box(x, top, width, height, fill=242 if label else None))
        self.lines(lines, x, top, width, height, size, "center" if label else "left")


def _date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日（星期{WEEKDAYS[day.weekday()]}）"


def _photo(data: bytes, ticket_number: str) -> Image.Image:
    """The photograph cropped to 3:4 around its centre, at 300 dpi for the box."""
    size = (round(PHOTO_W / 25.4 * 300), round(PHOTO_H / 25.4 * 300))
    try:
        with Image.open(io.BytesIO(data)) as raw:
            raw.draft("RGB", (size[0] * 2, size[1] * 2))  # JPEG: decode a phone photo smaller
            image = ImageOps.exif_transpose(raw).convert("RGB")
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as exc:
        raise ValueError(f"准考证 {ticket_number} 的照片无法读取（{exc}）") from exc
    return ImageOps.fit(image, size, Image.Resampling.LANCZOS)


def qr_matrix(payload: str) -> list[list[bool]]:
    """QR modules of payload (level M, quiet zone of 4 included); True is dark."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(payload)
    code.make(fit=True)
    return code.get_matrix()


def qr_image(payload: str) -> Image.Image:
    """One pixel per module, black on white; painters scale it by whole pixels per module."""
    matrix = qr_matrix(payload)
    image = Image.new("1", (len(matrix), len(matrix)), 1)
    image.putdata([0 if dark else 1 for row in matrix for dark in row])
    return image


def layout(ticket: TicketData, measure: Measure) -> list[Op]:
    """The ticket as drawing operations on an A4 page, in mm (top-left origin)."""
    page = Page(measure)
    left, width = MARGIN, PAGE_W - 2 * MARGIN
    y = MARGIN + 4

    size, title = fit(f"{ticket.certificate}职业技能等级证书考核", width - 10, 18, measure, 1, 13)
    height = len(title) * size * PT * 1.35
    page.lines(title, left, y, width, height, size, align="center", bold=True)
    y += height + 1
    page.lines(["准考证"], left, y, width, 13, 26, align="center", bold=True)
    y += 17

    label_w = 24.0
    photo_col = PHOTO_W + 8
    inner = width - photo_col  # the rows beside the photograph
    rows_top = y

    def pair_row(top: float, span: float, pairs: Sequence[tuple[str, str]], size: float) -> float:
        value_w = (span - label_w * len(pairs)) / len(pairs)
        fitted = [fit(value, value_w - 4, size, measure, 2, 8) for _, value in pairs]
        height = max(10.0, *(len(lines) * s * PT * 1.35 + 3 for s, lines in fitted))
        x = left
        for (label, _), (s, lines) in zip(pairs, fitted, strict=True):
            page.cell(x, top, label_w, height, [label], 11, label=True)
            page.cell(x + label_w, top, value_w, height, lines, s)
            x += label_w + value_w
        return top + height

    y = pair_row(y, inner, [("姓名", ticket.name), ("性别", ticket.gender)], 14)
    y = pair_row(y, inner, [("准考证号", ticket.ticket_number)], 14)
    y = pair_row(y, inner, [("身份证号", ticket.id_number)], 12)
    y = pair_row(y, inner, [("院校", ticket.institution)], 12)
    y = pair_row(y, inner, [("报考等级", ticket.level), ("考核批次", ticket.batch)], 12)
    photo_rows = max(y - rows_top, PHOTO_H + 6)
    y = rows_top + photo_rows  # the last row beside the photograph grows if the rows are short
    page.ops.append(Box(left + inner, rows_top, photo_col, photo_rows))
    px, py = left + inner + (photo_col - PHOTO_W) / 2, rows_top + (photo_rows - PHOTO_H) / 2
    if ticket.photo is not None:
        page.ops.append(
            Picture(px, py, PHOTO_W, PHOTO_H, _photo(ticket.photo, ticket.ticket_number))
        )
    else:
        page.ops.append(Box(px, py, PHOTO_W, PHOTO_H, line=0.2, fill=248))
        page.lines(["照片"], px, py, PHOTO_W, PHOTO_H, 12, align="center")
    y = pair_row(y, width, [("考点", ticket.site)], 12)
    y = pair_row(y, width, [("地址", ticket.address)], 11)
    y = pair_row(y, width, [("考场", ticket.room), ("座位号", ticket.seat)], 16)

    y += 6
    page.lines(["考试安排"], left, y, width, 8, 13, bold=True)
    y += 9
    columns = ((left, 56.0, "科目"), (left + 56, 74.0, "日期"), (left + 130, 50.0, "时间"))
    for x, w, head in columns:
        page.cell(x, y, w, 9, [head], 11, label=True)
    y += 9
    for session in ticket.sessions:
        cells = (session.part, _date(session.date), f"{session.start:%H:%M}–{session.end:%H:%M}")
        for (x, w, _), text in zip(columns, cells, strict=True):
            s, lines = fit(text, w - 4, 12, measure, 2, 8)
            page.cell(x, y, w, 10, lines, s)
        y += 10

    y += 6
    code = qr_image(ticket.qr_payload)
    # Whole pixels per module at 150 dpi, so the PNG and the PDF show the same square.
    side = max(1, round(QR_SIZE / 25.4 * DPI) // code.width) * code.width * 25.4 / DPI
    qr_x = left + width - (QR_SIZE + side) / 2
    page.ops.append(Picture(qr_x, y, side, side, code, crisp=True))
    page.lines(["入场签到"], qr_x, y + side, side, 6, 10, align="center")
    bottom = y + side + 6
    if ticket.notes:
        bottom = max(bottom, _notes(page, ticket.notes, left, y, width - QR_SIZE - 6))
    page.ops.insert(0, Box(MARGIN - 3, MARGIN - 3, width + 6, bottom - MARGIN + 6, line=0.6))
    return page.ops


def _notes(page: Page, notes: Sequence[str], left: float, top: float, width: float) -> float:
    """考生须知 below the sessions, shrunk to fit the page; returns the bottom edge."""
    page.lines(["考生须知"], left, top, width, 7, 12, bold=True)
    top += 8
    room = PAGE_H - MARGIN - 2 - top
    numbers = [f"{n}. " for n in range(1, len(notes) + 1)]
    size = 10.5
    while True:
        step = size * PT * 1.45
        indent = page.measure.width(numbers[-1], size)
        items = [wrap(note, width - indent - 2, size, page.measure) for note in notes]
        if sum(len(lines) for lines in items) * step <= room or size <= 7.5:
            break
        size -= 0.5
    rows = [
        (number if n == 0 else "", line)
        for number, lines in zip(numbers, items, strict=True)
        for n, line in enumerate(lines)
    ]
    fits = int(room // step)
    if len(rows) > fits:  # even the smallest size does not hold them: show that some are cut
        rows = [*rows[: fits - 1], ("", "……")]
    y = top
    for number, line in rows:
        if number:
            page.ops.append(Text(left + 2, _baseline(y, step, size), number, size))
        page.ops.append(Text(left + 2 + indent, _baseline(y, step, size), line, size))
        y += step
    return y


# ---- painters ----------------------------------------------------------------------------------


def _scaled(
    image: Image.Image, width: int, height: int, crisp: bool
) -> tuple[Image.Image, int, int]:
    """The image at the box size in pixels, and its offset; crisp images by whole pixels."""
    if not crisp:
        return image.resize((width, height), Image.Resampling.LANCZOS), 0, 0
    factor = max(1, round(min(width / image.width, height / image.height)))
    scaled = image.resize((image.width * factor, image.height * factor), Image.Resampling.NEAREST)
    return scaled, (width - scaled.width) // 2, (height - scaled.height) // 2


def paint_png(
    ops: Sequence[Op], font: Path, page: tuple[float, float] = (PAGE_W, PAGE_H)
) -> Image.Image:
    """The operations painted at 150 dpi on a white page of ``page`` (width, height) mm: A4
    portrait unless told (certificates are A4 landscape, ``(PAGE_H, PAGE_W)``)."""
    scale = DPI / 25.4
    canvas = Image.new("RGB", (round(page[0] * scale), round(page[1] * scale)), "white")
    draw = ImageDraw.Draw(canvas)
    fonts: dict[float, ImageFont.FreeTypeFont] = {}

    def px(mm: float) -> int:
        return round(mm * scale)

    for op in ops:
        if isinstance(op, Text):
            size = op.size * DPI / 72
            if size not in fonts:
                fonts[size] = ImageFont.truetype(str(font), size)
            stroke = max(1, round(size / 40)) if op.bold else 0
            draw.text(
                (op.x * scale, op.baseline * scale),
                op.text,
                fill="black",
                font=fonts[size],
                anchor="ls",
                stroke_width=stroke,
                stroke_fill="black",
            )
        elif isinstance(op, Box):
            fill = None if op.fill is None else (op.fill, op.fill, op.fill)
            outline = "black" if op.line else None
            width = max(1, px(op.line)) if op.line else 0
            draw.rectangle(
                (px(op.x), px(op.y), px(op.x + op.w), px(op.y + op.h)),
                fill=fill,
                outline=outline,
                width=width,
            )
        else:
            w, h = px(op.x + op.w) - px(op.x), px(op.y + op.h) - px(op.y)
            image, dx, dy = _scaled(op.image, w, h, op.crisp)
            canvas.paste(image.convert("RGB"), (px(op.x) + dx, px(op.y) + dy))
    return canvas


def _paint_pdf(pdf: FPDF, ops: Sequence[Op]) -> None:
    """The operations on a new page of ``pdf``."""
    pdf.add_page()
    for op in ops:
        if isinstance(op, Text):
            pdf.set_font("cjk", size=op.size)
            if op.bold:  # the font has no bold face: fill and stroke the outlines
                with pdf.local_context(text_mode="FILL_STROKE", line_width=op.size * PT / 40):
                    pdf.text(op.x, op.baseline, op.text)
            else:
                pdf.text(op.x, op.baseline, op.text)
        elif isinstance(op, Box):
            pdf.set_line_width(op.line)
            if op.fill is not None:
                pdf.set_fill_color(op.fill)
            style = ("F" if op.fill is not None else "") + ("D" if op.line else "")
            if style:
                pdf.rect(op.x, op.y, op.w, op.h, style=style)
        elif op.crisp:
            # Ten image pixels per module: viewers that smooth enlarged images keep edges sharp.
            image = op.image.resize((op.image.width * 10, op.image.height * 10))
            pdf.image(image, op.x, op.y, op.w, op.h)
        else:
            data = io.BytesIO()
            op.image.save(data, "JPEG", quality=90)
            pdf.image(data, op.x, op.y, op.w, op.h)


def render_png(ticket: TicketData, font: Path | None = None) -> bytes:
    """The ticket as an A4 PNG at 150 dpi (1240 × 1754 px)."""
    path = font or find_cjk_font()
    out = io.BytesIO()
    paint_png(layout(ticket, measure_for(path)), path).save(out, "PNG", dpi=(DPI, DPI))
    return out.getvalue()


def pdf_document(
    title: str,
    font: Path | None,
    pages: Callable[[Measure], Iterable[Sequence[Op]]],
    landscape: bool = False,
) -> bytes:
    """An A4 PDF in mm, one page per item of ``pages`` (laid out with the font's measure), text
    embedded as text in the CJK font; portrait unless ``landscape`` (297 × 210 mm pages)."""
    path = font or find_cjk_font()
    pdf = FPDF(orientation="L" if landscape else "P", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margin(0)
    pdf.add_font("cjk", "", path)
    pdf.set_creator("examsvc")
    pdf.set_title(title)
    for ops in pages(measure_for(path)):
        _paint_pdf(pdf, ops)
    return bytes(pdf.output())


def render_pdf(tickets: Sequence[TicketData], font: Path | None = None) -> bytes:
    """The tickets as one PDF, one A4 page each, text embedded as text."""
    if not tickets:
        raise ValueError("没有要打印的准考证")
    return pdf_document("准考证", font, lambda measure: (layout(t, measure) for t in tickets))
