"""The candidate's paper for one part, as plain data for the exam page.

Built from the candidate's own paper: items in position order, stems and options rendered to
safe HTML, options in the candidate's shuffled order under the labels shown (A, B, C …), the
materials of practical items as download links of the exam page. The answer key, the
explanation and the rubric never enter it: only the fields of ``_Content`` are copied from an
item version, so nothing else can reach the page.

What an item version shows is rendered once per process and kept (``_contents``): a version on
a published paper never changes, and 2,000 candidates loading their papers at the start of an
exam would otherwise render the same few hundred stems and options thousands of times over.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from markupsafe import Markup
from sqlalchemy import bindparam, select

from ..assembly.models import PaperItem
from ..bank.convert import version_data
from ..bank.model import OPTION_KEYS, TYPE_NAMES
from ..bank.models import Attachment, Item, ItemVersion
from ..bank.render import to_html
from ..extensions import db
from ..kept import keep, per_app
from ..registration.models import Registration
from .answers import PART_NAMES, ItemView
from .services import paper_of
from .signed import SignedIn

NUMERALS = "一二三四五六七八九十"
# The editor of a practical answer by its answer form; "none" (upload only) has no editor.
LANGUAGES = {"html": "html", "css": "css", "javascript": "javascript", "text": "text"}
# Rendered versions kept per process: a bank's worth several times over (a few MB at most).
CACHE_SIZE = 4096
CACHE = "examsvc.exam_paper_contents"


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
    version_id: int = 0  # what is shown comes from this item version (kept per version)

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

    @property
    def has_editor(self) -> bool:
        """Whether an item of the part is answered in the code editor."""
        return any(i.language for s in self.sections for i in s.items)


@dataclass(frozen=True)
class _Content:
    """What a candidate is shown of one item version, whoever the candidate: no key, no
    explanation, no rubric. Options by their bank key; each paper shows them in its own order."""

    type: str
    stem: Markup
    options: dict[str, Markup]
    title: str
    materials: tuple[tuple[str, str], ...]
    language: str
    upload_types: tuple[str, ...] | None


@dataclass(frozen=True)
class _File:
    id: int
    name: str
    kind: str  # material | image


class _Row(Protocol):
    """One item of the candidate's paper: where it is and how it is shown there (a row of
    ``_ROWS`` as read: building an object of each cost as much as reading it)."""

    position: int
    version_id: int
    option_order: str
    points: Decimal


def _rows(reg: Registration | SignedIn, part: str) -> list[_Row]:
    """The items of the candidate's ``part`` in position order: columns only, no versions."""
    # On the session's connection, not through the ORM session's execute: a plain read of
    # columns, at every exam page, whose ORM bookkeeping cost as much as the rows.
    rows = db.session.connection().execute(_ROWS, {"paper": paper_of(reg), "part": part})
    return rows.all()  # type: ignore[return-value]


_SLOT = PaperItem.__table__
_ROWS = (
    select(
        _SLOT.c.position,
        _SLOT.c.item_version_id.label("version_id"),
        _SLOT.c.option_order,
        _SLOT.c.points,
    )
    .where(_SLOT.c.paper_id == bindparam("paper"), _SLOT.c.part_kind == bindparam("part"))
    .order_by(_SLOT.c.position)
)


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


def _render(
    item: Item, version: ItemVersion, files: list[_File], file_url: Callable[[int], str]
) -> _Content:
    data = version_data(item, version)
    images = {a.name: a.id for a in files if a.kind == "image"}

    def image_url(name: str) -> str | None:
        return file_url(images[name]) if name in images else None

    form = data.answer_form
    return _Content(
        type=item.type,
        stem=to_html(data.stem, image_url),
        options={key: to_html(text, image_url, inline=True) for key, text in data.options},
        title=data.title if item.type == "practical" else "",
        materials=tuple((a.name, file_url(a.id)) for a in files if a.kind == "material"),
        language=LANGUAGES.get(form.editor, "") if form else "",
        upload_types=form.upload_types if form and form.upload else None,
    )


def _contents(
    version_ids: list[int], part: str, file_url: Callable[[int], str]
) -> dict[int, _Content]:
    """What each version shows on ``part``'s page, rendered only for versions not yet kept.
    Kept per app (one per process; tests make one per database) and by part, since the
    file URLs in a stem name the part's page."""
    cache: dict[tuple[int, str], _Content] = per_app(CACHE)
    out = {v: cache[v, part] for v in version_ids if (v, part) in cache}
    missing = [v for v in dict.fromkeys(version_ids) if v not in out]
    if missing:
        files = _attachments(missing)
        for version, item in db.session.execute(
            select(ItemVersion, Item)
            .join(Item, ItemVersion.item_id == Item.id)
            .where(ItemVersion.id.in_(missing))
        ).tuples():
            content = _render(item, version, files[version.id], file_url)
            out[version.id] = keep(cache, (version.id, part), content, CACHE_SIZE)
    return out


def candidate_paper(
    reg: Registration | SignedIn, part: str, file_url: Callable[[int], str], part_name: str = ""
) -> CandidatePaper:
    """The candidate's items of ``part`` as shown, grouped in sections of one item type."""
    rows = _rows(reg, part)
    contents = _contents([r.version_id for r in rows], part, file_url)
    sections: list[CandidateSection] = []
    for number, row in enumerate(rows, 1):
        content = contents[row.version_id]
        # The paper's item as the answer path sees it: its checks and its option order.
        view = ItemView(row.position, part, content.type, row.option_order, len(content.options))
        shown = CandidateItem(
            position=row.position,
            number=number,
            type=content.type,
            points=Decimal(row.points).normalize(),
            stem=content.stem,
            options=tuple(
                (OPTION_KEYS[k], content.options[key]) for k, key in enumerate(view.order)
            ),
            title=content.title,
            materials=content.materials,
            language=content.language,
            upload_types=content.upload_types,
            version_id=row.version_id,
        )
        if not sections or sections[-1].type != shown.type:
            sections.append(CandidateSection(NUMERALS[len(sections) % 10], shown.type))
        sections[-1].items.append(shown)
    return CandidatePaper(part, part_name or PART_NAMES.get(part, part), sections)


def paper_file(reg: Registration | SignedIn, part: str, att_id: int) -> Attachment | None:
    """An attachment of an item of this candidate's ``part``, or None (not theirs to fetch)."""
    version_ids = [r.version_id for r in _rows(reg, part)]
    return db.session.scalar(
        select(Attachment).where(Attachment.id == att_id, Attachment.version_id.in_(version_ids))
    )
