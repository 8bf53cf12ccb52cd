"""The candidate's paper for one part, as plain data for the exam page.

Built from the candidate's own paper (``services.paper_items``): items in position order, stems
and options rendered to safe HTML, options in the candidate's shuffled order under the labels
shown (A, B, C …), the materials of practical items as download links of the exam page. The
answer key, the explanation and the rubric never enter it: only the fields below are copied
from an item version, so nothing else can reach the page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from markupsafe import Markup
from sqlalchemy import select

from ..assembly.models import PaperItem
from ..bank.convert import version_data
from ..bank.model import OPTION_KEYS, TYPE_NAMES
from ..bank.models import Attachment
from ..bank.render import to_html
from ..extensions import db
from ..registration.models import Registration
from .answers import PART_NAMES
from .services import ShownItem, paper_items

NUMERALS = "一二三四五六七八九十"
# The editor of a practical answer by its answer form; "none" (upload only) has no editor.
LANGUAGES = {"html": "html", "css": "css", "javascript": "javascript", "text": "text"}


@dataclass(frozen=True)
class CandidateItem:
    position: int  # the protocol's address of the item (1…N over the whole paper)
    number: int  # the number shown, 1…n within the part
    type: str  # single | multiple | truefalse | practical
    points: Decimal
    stem: Markup
    options: tuple[tuple[str, Markup], ...] = ()  # (label shown, HTML) in the order shown
    title: str = ""
    materials: tuple[tuple[str, str], ...] = ()  # (file name, download URL)
    language: str = ""  # the editor's language for practical answers; "" for none
    upload_types: tuple[str, ...] | None = None  # None: no upload; () any type the server knows

    @property
    def type_name(self) -> str:
        return TYPE_NAMES[self.type]

    def client(self) -> dict[str, object]:
        """What the page's script needs to know about the item (no content, no key)."""
        return {
            "position": self.position,
            "number": self.number,
            "type": self.type,
            "labels": [label for label, _ in self.options],
            "language": self.language,
        }


@dataclass
class CandidateSection:
    numeral: str
    type: str
    items: list[CandidateItem] = field(default_factory=list)

    @property
    def name(self) -> str:
        return TYPE_NAMES[self.type]

    @property
    def points(self) -> Decimal:
        return sum((i.points for i in self.items), Decimal(0))


@dataclass
class CandidatePaper:
    part: str
    part_name: str
    sections: list[CandidateSection]

    @property
    def items(self) -> list[CandidateItem]:
        return [i for s in self.sections for i in s.items]

    @property
    def points(self) -> Decimal:
        return sum((s.points for s in self.sections), Decimal(0))


def _part_items(reg: Registration, part: str) -> list[ShownItem]:
    return [i for i in paper_items(reg) if i.view.part == part]


@dataclass(frozen=True)
class _File:
    id: int
    name: str
    kind: str  # material | image


def _attachments(version_ids: list[int]) -> dict[int, list[_File]]:
    """Name and kind (not the bytes) of the attachments of these versions, by version id."""
    out: dict[int, list[_File]] = {v: [] for v in version_ids}
    rows = db.session.execute(
        select(Attachment.id, Attachment.version_id, Attachment.name, Attachment.kind)
        .where(Attachment.version_id.in_(version_ids))
        .order_by(Attachment.name)
    )
    for att_id, version_id, name, kind in rows:
        out[version_id].append(_File(att_id, name, kind))
    return out


def candidate_paper(
    reg: Registration, part: str, file_url: Callable[[int], str], part_name: str = ""
) -> CandidatePaper:
    """The candidate's items of ``part`` as shown, grouped in sections of one item type."""
    shown = _part_items(reg, part)
    points: dict[int, Decimal] = {
        position: value
        for position, value in db.session.execute(
            select(PaperItem.position, PaperItem.points).where(PaperItem.paper_id == reg.paper_id)
        )
    }
    files = _attachments([i.version.id for i in shown])
    sections: list[CandidateSection] = []
    for number, item in enumerate(shown, 1):
        version = item.version
        data = version_data(version.item, version)
        images = {a.name: a.id for a in files[version.id] if a.kind == "image"}

        def image_url(name: str, images: dict[str, int] = images) -> str | None:
            return file_url(images[name]) if name in images else None

        text = data.option_map
        form = data.answer_form
        shown_item = CandidateItem(
            position=item.view.position,
            number=number,
            type=item.view.item_type,
            points=Decimal(points.get(item.view.position, 0)).normalize(),
            stem=to_html(data.stem, image_url),
            options=tuple(
                (OPTION_KEYS[k], to_html(text[key], image_url, inline=True))
                for k, key in enumerate(item.view.order)
            ),
            title=data.title if item.view.item_type == "practical" else "",
            materials=tuple(
                (a.name, file_url(a.id)) for a in files[version.id] if a.kind == "material"
            ),
            language=LANGUAGES.get(form.editor, "") if form else "",
            upload_types=form.upload_types if form and form.upload else None,
        )
        if not sections or sections[-1].type != shown_item.type:
            sections.append(CandidateSection(NUMERALS[len(sections) % 10], shown_item.type))
        sections[-1].items.append(shown_item)
    return CandidatePaper(part, part_name or PART_NAMES.get(part, part), sections)


def paper_file(reg: Registration, part: str, att_id: int) -> Attachment | None:
    """An attachment of an item of this candidate's ``part``, or None (not theirs to fetch)."""
    version_ids = [i.version.id for i in _part_items(reg, part)]
    return db.session.scalar(
        select(Attachment).where(Attachment.id == att_id, Attachment.version_id.in_(version_ids))
    )
